"""Who may do what: the auditors and engineers groups, and the one list of configuration models.

Auditors may view every model of every evidence app and nothing else. Engineers may view the same and
add/change/delete only the configuration models below (never evidence), and start harvests. Neither
group holds any permission on who may do what (users, groups, sessions, API tokens): only superusers
manage access, so a reader can never see a credential or widen their own rights.
Permissions are granted per app on every `post_migrate`, so a model added later is covered the
next time migrations run; the data migration `evidence.0006_groups` did the same on first setup.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db.models import Q

from .permissions import AUDITORS, ENGINEERS

# "app_label.model_name" -> the actions engineers get on it besides view. The one source of truth:
# nothing else grants add/change/delete. Policies and risk acceptances are ledger entries: "add"
# records a new one through their write path (evidence.compliance.findings), rows are never changed.
CONFIGURATION_MODELS: dict[str, tuple[str, ...]] = {
    "sources.source": ("add", "change", "delete"),
    "compliance.policy": ("add",),  # a new policy version
    "compliance.riskacceptance": ("add",),  # accepting a finding's risk (who, why, until when)
    "exports.auditpack": ("add",),  # requesting a pack; a requested pack is part of the trail
}
# Apps whose models are access itself: no group is granted anything on them, not even view.
ACCESS_APPS = frozenset({"admin", "auth", "authtoken", "contenttypes", "knox", "sessions"})
# Custom permissions engineers hold: (app_label, codename).
ENGINEER_EXTRAS: tuple[tuple[str, str], ...] = (("sources", "harvest_source"),)


def engineer_codenames(app_label: str) -> set[str]:
    """Codenames besides view_* that engineers get in one app."""
    names = {
        f"{action}_{key.split('.')[1]}"
        for key, actions in CONFIGURATION_MODELS.items()
        if key.split(".")[0] == app_label
        for action in actions
    }
    return names | {codename for label, codename in ENGINEER_EXTRAS if label == app_label}


def grant_app_permissions(app_label: str, apps: Any = global_apps, using: str = "default") -> None:
    """(Re)grant the groups their permissions on one app's models; adds, never removes others' grants."""
    if app_label in ACCESS_APPS:
        return
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    auditors, _ = group_model.objects.using(using).get_or_create(name=AUDITORS)
    engineers, _ = group_model.objects.using(using).get_or_create(name=ENGINEERS)
    in_app = permission_model.objects.using(using).filter(content_type__app_label=app_label)
    views = list(in_app.filter(codename__startswith="view_"))
    auditors.permissions.add(*views)
    extras = engineer_codenames(app_label)
    engineer_perms = in_app.filter(Q(codename__startswith="view_") | Q(codename__in=extras))
    engineers.permissions.add(*engineer_perms)


def grant_all(apps: Any = global_apps, using: str = "default") -> None:
    """Create missing permissions for every installed app, then grant the groups theirs."""
    for app_config in apps.get_app_configs():
        stub = getattr(app_config, "models_module", None) is None
        if stub:
            app_config.models_module = True  # historical apps: make create_permissions look at them
        create_permissions(app_config, verbosity=0, apps=apps, using=using)
        if stub:
            app_config.models_module = None
        grant_app_permissions(app_config.label, apps, using)


def revoke_access_permissions(apps: Any = global_apps, using: str = "default") -> None:
    """Take every permission on the access apps away from both groups (older grants gave views)."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    on_access = permission_model.objects.using(using).filter(content_type__app_label__in=ACCESS_APPS)
    for group in group_model.objects.using(using).filter(name__in=(AUDITORS, ENGINEERS)):
        group.permissions.remove(*on_access)


def on_post_migrate(
    sender: Any, app_config: Any, using: str = "default", apps: Any = global_apps, **kwargs: Any
) -> None:
    """After each app migrates (auth has created its permissions first): grant the groups theirs."""
    try:
        apps.get_model("auth", "Group")
    except LookupError:
        return
    grant_app_permissions(app_config.label, apps, using)
