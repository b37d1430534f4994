"""Every URL of the URLconf (GET) and every operation of the OpenAPI schema, called as each persona
(anonymous, outsider: staff in no group, auditor, engineer, superuser), answers as ONE table says.

The table is what each persona may do: "ok" passes access control (200, a redirect that is not to
the login page, or a 400/405 for the made-up ids and empty bodies used here; a 404 for an id that
names nothing passes too), "403" refused,
"401" asked to authenticate (API), "login" sent to the admin's login page. No answer may be a 5xx.
A URL or operation that no row matches fails the test, so a new view must be placed in the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.throttling import SimpleRateThrottle

from evidence.core.tokens import issue_api_token
from ledger.models import Entry

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "outsider", "auditor", "engineer", "superuser")
# "404" counts as passing: made-up ids name no object. HIDDEN is for an admin app page with nothing to show.
OK, NO, LOGIN, AUTH = frozenset({"ok", "404"}), frozenset({"403"}), frozenset({"login"}), frozenset({"401"})
HIDDEN = frozenset({"403", "404"})
PROBE = frozenset({"ok", "503"})  # /readyz answers 503 with its reasons when a check fails

# Admin model pages by kind of model. Access: users, groups, tokens (superusers only). Config: sources
# (engineers edit). Recorded: policies and risk acceptances (engineers propose: "add"). Export: audit
# packs (auditors and engineers request). Evidence: everything else (everyone in a group views).
MODEL_KINDS = {
    "auth.user": "access",
    "auth.group": "access",
    "knox.authtoken": "access",
    "sources.source": "config",
    "compliance.policy": "recorded",
    "compliance.riskacceptance": "recorded",
    "exports.auditpack": "export",
}
#                       anonymous outsider  auditor  engineer superuser
ADMIN_MODEL_PAGES: dict[tuple[str, str], tuple[frozenset[str], ...]] = {
    ("access", "list"): (LOGIN, NO, NO, NO, OK),
    ("access", "add"): (LOGIN, NO, NO, NO, OK),
    ("access", "change"): (LOGIN, NO, NO, NO, OK),
    ("access", "history"): (LOGIN, NO, NO, NO, OK),
    ("access", "delete"): (LOGIN, NO, NO, NO, OK),
    ("config", "list"): (LOGIN, NO, OK, OK, OK),
    ("config", "add"): (LOGIN, NO, NO, OK, OK),
    ("config", "change"): (LOGIN, NO, OK, OK, OK),
    ("config", "history"): (LOGIN, NO, OK, OK, OK),
    ("config", "delete"): (LOGIN, NO, NO, OK, OK),
    ("recorded", "list"): (LOGIN, NO, OK, OK, OK),
    ("recorded", "add"): (LOGIN, NO, NO, OK, OK),
    ("recorded", "change"): (LOGIN, NO, OK, OK, OK),
    ("recorded", "history"): (LOGIN, NO, OK, OK, OK),
    ("recorded", "delete"): (LOGIN, NO, NO, NO, NO),
    ("export", "list"): (LOGIN, NO, OK, OK, OK),
    ("export", "add"): (LOGIN, NO, OK, OK, OK),
    ("export", "change"): (LOGIN, NO, OK, OK, OK),
    ("export", "history"): (LOGIN, NO, OK, OK, OK),
    ("export", "delete"): (LOGIN, NO, NO, NO, NO),
    ("evidence", "list"): (LOGIN, NO, OK, OK, OK),
    ("evidence", "add"): (LOGIN, NO, NO, NO, NO),
    ("evidence", "change"): (LOGIN, NO, OK, OK, OK),
    ("evidence", "history"): (LOGIN, NO, OK, OK, OK),
    ("evidence", "delete"): (LOGIN, NO, NO, NO, NO),
}
# Every other URL and API operation: (method, path pattern) -> outcome per persona; first match wins.
#                                                      anonymous outsider auditor engineer superuser
TABLE: list[tuple[str, str, tuple[frozenset[str], ...]]] = [
    ("GET", r"(healthz|readyz|metrics)$", (PROBE, PROBE, PROBE, PROBE, PROBE)),  # probes and scrapes, open
    ("GET", r"hooks/", (OK, OK, OK, OK, OK)),  # webhooks check signatures, not personas (GET: 405)
    ("GET", r"admin/login/$", (OK, NO, OK, OK, OK)),
    ("GET", r"admin/logout/$", (LOGIN, OK, OK, OK, OK)),  # always possible (GET: 405, it wants POST)
    ("GET", r"admin/autocomplete/$", (LOGIN, NO, NO, NO, NO)),  # without a field to complete: refused
    ("GET", r"admin/(auth|knox)/$", (LOGIN, NO, HIDDEN, HIDDEN, OK)),
    ("GET", r"admin/", (LOGIN, NO, OK, OK, OK)),  # index, app pages, custom pages, password change
    ("POST", r"api/v1/packs/$", (AUTH, NO, OK, OK, OK)),  # auditors export too
    ("POST", r"api/v1/", (AUTH, NO, NO, OK, OK)),  # proposing, approving, policies: engineers only
    ("GET", r"api/v1/gate/$", (AUTH, NO, NO, OK, OK)),  # the gate records its decision: engineers only
    ("GET", r"api/", (AUTH, NO, OK, OK, OK)),  # every read, the schema and its UI
]


def walk(patterns: list, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def concrete(pattern: str, ids: dict[str, str]) -> list[str]:
    """Paths for one URL pattern: converters and named groups filled in, app lists expanded."""
    apps = re.search(r"\(\?P<app_label>([^)]*)\)", pattern)
    if apps:
        base = pattern.replace("^", "").replace("$", "")
        return ["/" + base.replace(apps.group(0), app) for app in apps.group(1).split("|")]
    if "(?P<url>" in pattern:
        return ["/admin/no-such-page/"]
    model = re.match(r"admin/(\w+)/(\w+)/", pattern)
    pk = ids.get(f"{model.group(1)}.{model.group(2)}", "1") if model else "1"
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: pk if m.group(1) in ("object_id", "id") else "1", pattern)
    return ["/" + path]


def operations() -> Iterator[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), re.sub(r"\{\w+\}", "1", path)


def expected(method: str, path: str) -> tuple[frozenset[str], ...]:
    page = re.match(r"/admin/(\w+)/(\w+)/(.*)$", path)
    if method == "GET" and page and f"{page.group(1)}.{page.group(2)}" in registered():
        rest = page.group(3)
        action = (
            "list"
            if rest == ""
            else "add"
            if rest == "add/"
            else "delete"
            if rest.endswith("/delete/")
            else "history"
            if rest.endswith("/history/")
            else "change"
        )
        kind = MODEL_KINDS.get(f"{page.group(1)}.{page.group(2)}", "evidence")
        return ADMIN_MODEL_PAGES[(kind, action)]
    for row_method, pattern, outcomes in TABLE:
        if row_method == method and re.match(pattern, path.lstrip("/")):
            return outcomes
    raise AssertionError(f"{method} {path}: no row of the persona table says who may call it")


def registered() -> set[str]:
    return {model._meta.label_lower for model in admin.site._registry}


def outcome(response) -> str:
    if any("/admin/login/" in url for url, _ in getattr(response, "redirect_chain", [])):
        return "login"
    code = response.status_code
    return str(code) if code in (401, 403, 404) or code >= 500 else "ok"


@pytest.fixture
def clients() -> dict[str, Client]:
    auditors = Group.objects.get_or_create(name="auditors")[0]
    engineers = Group.objects.get_or_create(name="engineers")[0]
    out = {"anonymous": Client()}
    for name, group in (("outsider", None), ("auditor", auditors), ("engineer", engineers)):
        user = User.objects.create_user(name, is_staff=True)
        if group:
            user.groups.add(group)
        out[name] = Client()
        out[name].force_login(user)
    root = User.objects.create_superuser("root", "root@example.test", None)
    issue_api_token(root)  # so token pages have an object to refuse
    out["superuser"] = Client()
    out["superuser"].force_login(root)
    return out


def object_ids() -> dict[str, str]:
    """An existing object per admin model where there is one (history pages redirect for a missing one
    before they check permissions)."""
    ids = {}
    for model in admin.site._registry:
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            ids[model._meta.label_lower] = str(first)
    return ids


@pytest.fixture
def unthrottled(monkeypatch):
    """Anonymous callers get 60 calls a minute, and the table makes hundreds: a rate none of them
    reaches, so the throttles still run on every call without refusing one. (Clearing the cache
    before each call did the same, but threw away the dashboard's charts with the throttles'
    history, and drawing those again made up half of this test's time.)"""
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "anon": "100000/minute"}
    )


def test_every_url_and_operation_answers_each_persona_as_the_table_says(clients, unthrottled):
    ids = object_ids()
    calls = {("GET", path) for pattern in walk(get_resolver().url_patterns) for path in concrete(pattern, ids)}
    calls |= set(operations())
    wrong = []
    for method, path in sorted(calls):
        want = expected(method, path)
        for persona, allowed in zip(PERSONAS, want, strict=True):
            client = clients[persona]
            if method == "GET":
                response = client.get(path, follow=True)
            else:
                response = client.generic(method, path, "{}", content_type="application/json")
            got = outcome(response)
            if got not in allowed:
                wrong.append(f"{method} {path} as {persona}: {got} ({response.status_code}), table says {set(allowed)}")
    assert len(calls) > 150  # the walk found the admin, the API and the hooks
    assert not Entry.objects.exists()  # the refused calls and the empty bodies wrote nothing
    assert wrong == [], "\n".join(wrong)
