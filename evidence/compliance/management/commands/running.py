"""`manage.py running --environment prod --at 2026-03-01T12:00Z`: what ran there then."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from evidence.compliance.running import BadTime, RunningState, UnknownEnvironment, diff_running, resolve, running_at


class Command(BaseCommand):
    help = "What was running in an environment at a time (or how it differs from another time or environment)."

    def add_arguments(self, parser):
        parser.add_argument("query", nargs="?", help="prod, prod@{3.weeks.ago}, prod#42 or prod~2 (quote it)")
        parser.add_argument("--environment", help="e.g. prod (or give the query)")
        parser.add_argument(
            "--at",
            help="ISO time, 'now' (default), 'yesterday', '3 weeks ago', '2.months.ago', '~N' (N deployments "
            "back) or '#N' (the N-th snapshot); quote it in a shell",
        )
        parser.add_argument("--compare-at", help="diff against the state at this time")
        parser.add_argument("--compare-environment", help="diff against this environment (or a query: prod~1)")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON")

    def handle(self, *args, query, environment, at, compare_at, compare_environment, as_json: bool, **options):
        if bool(query) == bool(environment):
            raise CommandError("running: give an environment (prod, prod#42, prod~2) or --environment, not both")
        try:
            name, when = resolve(query or environment, at)
            state = running_at(name, when)
            if compare_at or compare_environment:
                # without --compare-at, the other side is read at the same moment
                other = running_at(*resolve(compare_environment or name, compare_at or when.isoformat()))
                self._diff(diff_running(state, other), as_json)
                return
        except (BadTime, UnknownEnvironment) as exc:
            raise CommandError(f"running: {exc}") from None
        if as_json:
            self.stdout.write(_dumps(state.as_dict()))
            return
        self._table(state)

    def _table(self, state: RunningState) -> None:
        say = self.stdout.write
        say(f"{state.environment} at {state.at.isoformat()}: {len(state.applications)} application(s)")
        for app in state.applications:
            flags = [f for f, on in (("DRIFT", app.drift), ("GAP", app.gap)) if on]
            since = app.since.isoformat() if app.since else "?"
            digests = ", ".join(app.digests) or "no digest known"
            line = f"  {app.application}  {short(app.revision)}  since {since}  {app.outcome}  {' '.join(flags)}"
            say(line.rstrip())
            say(f"    digests: {digests}")
            say(f"    deployment #{app.deployment}; entries {', '.join(map(str, app.entry_seqs))}")

    def _diff(self, diff: dict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(_dumps(diff))
            return
        say = self.stdout.write
        a, b = diff["from"], diff["to"]
        say(f"{a['environment']} at {a['at']} -> {b['environment']} at {b['at']}")
        for app in diff["added"]:
            say(f"  + {app['application']}  {short(app['revision'])}  {', '.join(app['digests'])}")
        for app in diff["removed"]:
            say(f"  - {app['application']}  {short(app['revision'])}  {', '.join(app['digests'])}")
        for change in diff["changed"]:
            old, new = change["from"], change["to"]
            say(f"  ~ {change['application']}  {short(old['revision'])} -> {short(new['revision'])}")
            for d in change["digests_added"]:
                say(f"      + {d}")
            for d in change["digests_removed"]:
                say(f"      - {d}")
            for container in change["containers"]:
                said = f"{', '.join(container['from']) or 'none'} -> {', '.join(container['to']) or 'none'}"
                say(f"      pods, container {container['container']}: {said}")
        say(f"  {diff['unchanged']} unchanged")


def short(revision: str) -> str:
    """A Git SHA to 12 characters, keeping Flux's `<ref>@sha1:` prefix."""
    prefix, colon, sha = revision.rpartition(":")
    return f"{prefix}{colon}{sha[:12]}" if revision else "-"


def _dumps(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
