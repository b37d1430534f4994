from django.apps import AppConfig


class EvidenceHistoryConfig(AppConfig):
    """The migrations of the evidence tables from before the split into sources, readmodels and
    compliance. It holds no models: its last migration hands every model's state to the new apps,
    which keep the same tables, so a database migrated before the split moves forward with no copy."""

    name = "evidence"
    label = "evidence"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Evidence (history)"
