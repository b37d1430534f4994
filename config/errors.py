"""What error reports may show: Django's filter, widened to URLs (which carry passwords, e.g.
redis://:pw@host) and authorisation headers (bearer tokens of Flux and Argo CD webhooks)."""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretsHiddenFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|URL|AUTH|COOKIE|CREDENTIAL|DSN", flags=re.I)
