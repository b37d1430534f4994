"""Every admin page, for each persona: auditors view and never write, engineers edit sources but not
evidence, outsiders (staff without a group) get 403, and superusers cannot edit the ledger or projections."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse

from evidence.compliance.models import Policy, RiskAcceptance
from evidence.core.access import ACCESS_APPS
from evidence.readmodels.models import Deployment
from evidence.readmodels.projectors import projection_models
from evidence.sources.models import Source
from exports.models import AuditPack
from ledger.models import Checkpoint, Entry

CUSTOM_PAGES = ["admin:evidence_running", "admin:evidence_protection_timeline"]
# Requesting an audit pack is how auditors export (exports.admin offers its form to both groups);
# the request is recorded, and nobody changes or deletes it.
EXPORT_REQUESTS = {AuditPack}
# Policies and risk acceptances are ledger entries: "add" records a new one (engineers), rows never change.
RECORDED = {Policy, RiskAcceptance}


def registered() -> list[type]:
    """Every evidence page: the access models (users, groups, tokens) are for superusers only."""
    return sorted(
        (m for m in admin.site._registry if m._meta.app_label not in ACCESS_APPS), key=lambda m: m._meta.label
    )


def access_models() -> list[type]:
    return sorted((m for m in admin.site._registry if m._meta.app_label in ACCESS_APPS), key=lambda m: m._meta.label)


def url(model: type, action: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def an_object(model: type) -> object | None:
    return model._default_manager.order_by("pk").first()


def test_it_lets_the_auditor_view_every_page_and_write_nothing(client, world, auditor):
    client.force_login(auditor.user)
    for model in registered():
        assert client.get(url(model, "changelist")).status_code == 200, model
        assert client.get(url(model, "add")).status_code == (200 if model in EXPORT_REQUESTS else 403), model
        obj = an_object(model)
        if obj is None:
            continue
        assert client.get(url(model, "change", obj.pk)).status_code == 200, model
        assert client.post(url(model, "change", obj.pk), {}).status_code == 403, model
        assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, model
        assert model._default_manager.filter(pk=obj.pk).exists()
    for name in CUSTOM_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("admin:ledger_entry_verify", args=[0])).status_code == 200


def test_it_shows_neither_auditors_nor_engineers_a_user_group_or_token(client, world, auditor, engineer, superuser):
    assert {m._meta.label for m in access_models()} >= {"auth.User", "auth.Group", "knox.AuthToken"}
    root = superuser.user
    for persona in (auditor, engineer):
        client.force_login(persona.user)
        for model in access_models():
            assert client.get(url(model, "changelist")).status_code == 403, (persona.user, model)
        assert client.get(url(root.__class__, "change", root.pk)).status_code == 403, persona.user
        index = client.get(reverse("admin:index")).content.decode()
        assert "/admin/auth/" not in index and "/admin/knox/" not in index


def test_it_refuses_outsiders_every_model_page(client, world, outsider):
    client.force_login(outsider.user)
    for model in registered():
        assert client.get(url(model, "changelist")).status_code == 403, model
        obj = an_object(model)
        if obj is not None:
            assert client.get(url(model, "change", obj.pk)).status_code == 403, model
    for name in CUSTOM_PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(reverse("admin:ledger_entry_verify", args=[0])).status_code == 403


def test_it_lets_the_engineer_edit_sources(client, world, engineer):
    client.force_login(engineer.user)
    form = {"name": "gitlab-acme", "kind": "gitlab", "url": "https://gitlab.test", "credential_env": "GITLAB_TOKEN"}
    form |= {"environment": "", "config": "{}", "schedule": "600", "enabled": "on"}
    assert client.post(url(Source, "add"), form).status_code == 302
    added = Source.objects.get(name="gitlab-acme")
    assert client.post(url(Source, "change", added.pk), form | {"schedule": "900"}).status_code == 302
    assert Source.objects.get(pk=added.pk).schedule == 900
    assert client.post(url(Source, "delete", added.pk), {"post": "yes"}).status_code == 302
    assert not Source.objects.filter(pk=added.pk).exists()


def test_it_keeps_engineers_off_evidence(client, world, engineer):
    client.force_login(engineer.user)
    for model in [*projection_models(), Entry, Checkpoint]:
        if model not in admin.site._registry:
            continue
        assert client.get(url(model, "changelist")).status_code == 200, model
        assert client.get(url(model, "add")).status_code == (200 if model in RECORDED else 403), model
        obj = an_object(model)
        if obj is not None:
            assert client.post(url(model, "change", obj.pk), {}).status_code == 403, model
            assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, model


def test_it_refuses_the_superuser_any_edit_of_the_ledger_or_projections(client, world, superuser):
    client.force_login(superuser.user)
    evidence = [m for m in [*projection_models(), Entry, Checkpoint] if m in admin.site._registry]
    assert Deployment in evidence and Entry in evidence
    for model in evidence:
        assert client.get(url(model, "add")).status_code == (200 if model in RECORDED else 403), model
        obj = an_object(model)
        if obj is None:
            continue
        assert client.post(url(model, "change", obj.pk), {}).status_code == 403, model
        assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, model
        assert model._default_manager.filter(pk=obj.pk).exists()
    deployment = Deployment.objects.get()
    bulk = {"action": "delete_selected", "_selected_action": [deployment.pk], "post": "yes"}
    client.post(url(Deployment, "changelist"), bulk)
    assert Deployment.objects.filter(pk=deployment.pk).exists()


def test_it_flags_an_editable_admin_on_a_projection_model(monkeypatch):
    from evidence.readmodels.admin import check_projections_read_only

    assert check_projections_read_only() == []
    monkeypatch.setitem(admin.site._registry, Deployment, admin.ModelAdmin(Deployment, admin.site))
    errors = check_projections_read_only()
    assert [e.id for e in errors] == ["evidence.E001"] and "readmodels.Deployment" in errors[0].msg
