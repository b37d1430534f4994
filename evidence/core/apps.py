from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every evidence app shares: time parsing, JSON values, digests, secrets, access groups."""

    name = "evidence.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .access import on_post_migrate

        post_migrate.connect(on_post_migrate, dispatch_uid="evidence-grant-group-permissions")

        from .access_evidence import connect

        connect()  # changes to users, groups and tokens become `access.*` ledger entries
