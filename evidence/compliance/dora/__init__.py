"""DORA metrics from the same evidence as custody: every sample cites its ledger entries.

`dora_figures(environment, since, until, application=None, bucket="week")` is the selector the
API, `manage.py dora` and the admin dashboard call; docs/dora.md gives the rules.
"""

from evidence.compliance.dora.metrics import METRICS, DoraReport, dora_figures

__all__ = ["METRICS", "DoraReport", "dora_figures"]
