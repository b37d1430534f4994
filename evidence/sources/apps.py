from django.apps import AppConfig


class SourcesConfig(AppConfig):
    """Where evidence comes from: sources, harvesters (forges, controllers, OCI) and webhooks.
    Harvesters return records and read only the ledger; the harvest run appends them."""

    name = "evidence.sources"
    label = "sources"
    default_auto_field = "django.db.models.BigAutoField"
