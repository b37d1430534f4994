from django.apps import AppConfig


class ReadModelsConfig(AppConfig):
    """Rows projected from ledger entries (pull requests, approvals, protection, artifacts,
    deployments), each citing the entry seq behind it."""

    name = "evidence.readmodels"
    label = "readmodels"
    verbose_name = "Read models"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ledger.signals import sequenced

        from .projectors import load_projectors
        from .tasks import on_sequenced

        load_projectors()
        sequenced.connect(on_sequenced, dispatch_uid="evidence-project-on-sequenced")
