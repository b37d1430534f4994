from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ledger.signals import sequenced

        from .projections import load_projectors
        from .tasks import on_sequenced

        load_projectors()
        sequenced.connect(on_sequenced, dispatch_uid="evidence-project-on-sequenced")
