from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """Conclusions drawn from the read models: chain of custody, findings, policies, running-at,
    and the admin and API that show them."""

    name = "evidence.compliance"
    label = "compliance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import projectors  # noqa: F401  (registers the policy and acceptance projectors)
        from .custody.people import change_people
        from .findings.four_eyes import provide_change_people

        provide_change_people(change_people)
