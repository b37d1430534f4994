"""Static files in every mode: WhiteNoise serves them with DEBUG off, collected or straight from the apps,
and the API's browsable UI loads Swagger UI from our own static files, never from a CDN."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def stylesheets(html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)


def admin_css(client: Client) -> str:
    login = client.get("/admin/login/")
    assert login.status_code == 200
    css = [href for href in stylesheets(login.text) if href.endswith("/admin/css/base.css")]
    assert css == ["/static/admin/css/base.css"], stylesheets(login.text)
    return css[0]


def test_it_styles_the_admin_with_debug_off_before_collectstatic(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "not-collected"
    settings.WHITENOISE_USE_FINDERS = True  # what config.settings picks when STATIC_ROOT is absent
    client = Client()
    response = client.get(admin_css(client))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"--body-bg" in b"".join(response.streaming_content)


def test_it_styles_the_admin_with_debug_off_from_the_collected_files(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.WHITENOISE_USE_FINDERS = False  # the image: only what collectstatic wrote
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    css = admin_css(Client())
    assert Client().get(css).status_code == 404  # nothing collected yet: served from STATIC_ROOT only
    call_command("collectstatic", "--noinput", verbosity=0)
    response = Client().get(css)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


def test_it_serves_swagger_ui_from_its_own_static_files(settings, auditor):
    settings.DEBUG = False
    client = Client()
    client.force_login(auditor.user)
    page = client.get("/api/schema/ui/")
    assert page.status_code == 200
    html = page.text
    hosts = re.findall(r"(?:https?:)?//([a-z0-9.-]+\.[a-z]{2,})", html, flags=re.IGNORECASE)
    assert hosts == [], f"the schema UI loads from {sorted(set(hosts))}"
    assets = re.findall(r'(?:src|href)="(/static/drf_spectacular_sidecar/[^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
