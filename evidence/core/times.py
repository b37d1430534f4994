"""Times as upstreams and people write them (ISO 8601 / RFC 3339), read into aware datetimes.

Django-free. One reader for everything outside the ledger (whose envelope times have one exact
form: `ledger.envelope.parse_time`, kept there because ledger/ imports nothing of evidence).

Always: None and "" are no time (None); 'Z' means UTC, also after a bare date ('2026-03-01Z');
naive text (no offset) is taken as UTC; a datetime passes through under the same rules.
The two things callers really differ on are options:

- `to_utc=True`: convert to UTC; without it the offset the text gave is kept.
- `lenient=True`: unreadable text, or a value that is not a string, gives None instead of
  raising ValueError. (Without it, other values are read as their text.)

Who needs what:

- GitHub and GitLab harvesters, their projectors, policy/acceptance projections: times the
  forges (or our own `_stamp`) wrote, always with 'Z' or an offset; an unreadable one is a bug
  worth a loud error -> `to_utc=True`.
- Argo CD, Flux and Kubernetes harvesters, their webhooks and deployment projectors: a field may
  be absent, null, not a string or unreadable, and that means "no time", never a crash ->
  `lenient=True`.
- Policy input (`effective_at`, `until`) and the running-at API (`at`): typed by people; the
  caller turns ValueError into its 4xx message; the offset given is kept (the API echoes it) ->
  no option. (running-at's raw database rows: `lenient=True`, then Django's parse_datetime.)
- Audit pack scopes (`since`, `until`): typed by people, kept in UTC -> `to_utc=True`.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: object, *, to_utc: bool = False, lenient: bool = False) -> datetime | None:
    """An aware datetime from ISO 8601 text (or a datetime); None for None or ""."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            if lenient:
                return None
            raise
    elif lenient:
        return None
    else:
        return parse_time(str(value), to_utc=to_utc)  # a JSON number 20260301 reads as that date
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC) if to_utc else moment
