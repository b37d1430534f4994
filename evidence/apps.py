from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from ledger.signals import sequenced

        from .access import on_post_migrate
        from .projections import load_projectors
        from .tasks import on_sequenced

        load_projectors()
        sequenced.connect(on_sequenced, dispatch_uid="evidence-project-on-sequenced")
        post_migrate.connect(on_post_migrate, dispatch_uid="evidence-grant-group-permissions")
