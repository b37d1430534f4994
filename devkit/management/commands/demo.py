"""The main job on the embedded default: a quarter of a made-up organisation, harvested from local
sandboxes through the production code path, then checkpointed, queried, packed and verified."""

from __future__ import annotations

import secrets
import shutil
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from devkit.demo.run import DemoSandboxes, digest_of, final_harvest, replay, report_incidents
from devkit.demo.seeded import judge_seeded
from devkit.demo.world import END, START, build_world
from devkit.sandbox.registry import SandboxError
from evidence.compliance.running import running_at
from evidence.readmodels.models import Deployment
from evidence.sources.models import HarvestRun
from ledger.checkpoints import sign_checkpoint_if_due
from ledger.keys import key_path, public_key_path
from ledger.models import Entry

CHOSEN_MOMENT = datetime(2026, 2, 25, 12, 0, tzinfo=UTC)
AUDITOR = "demo-auditor"


class Command(BaseCommand):
    help = "Run the main job on the embedded default (sandboxes, harvest, checkpoint, pack) and say what it did."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=Path(settings.BASE_DIR) / "var" / "demo", help="demo files")
        parser.add_argument("--no-registry", action="store_true", help="skip the OCI registry part")
        parser.add_argument("--no-pack", action="store_true", help="skip the audit pack (faster, for tests)")

    def handle(self, *args, dir: Path, no_registry: bool, no_pack: bool, **options):
        started = time.monotonic()
        say = self.stdout.write
        call_command("create_signing_key", "--if-missing", stdout=self.stdout)
        before = Entry.objects.count()
        last_seq = Entry.objects.order_by("-seq").values_list("seq", flat=True).first()
        world = build_world()
        say(
            f"world (seed {world.seed}): {len(world.changes)} merged changes in "
            f"{len({c.repository for c in world.changes})} repositories, {len(world.images)} images, "
            f"{len(world.deployments)} syncs, {START:%Y-%m-%d} to {END:%Y-%m-%d}"
        )
        try:
            with DemoSandboxes(world, dir, with_registry=not no_registry) as boxes:
                if boxes.registry is None:
                    say(f"OCI part skipped: {boxes.registry_note} (everything else runs)")
                else:
                    say(f"registry: {boxes.registry_used}")
                    pushed = boxes.publish_images()
                    say(f"registry {boxes.registry.url}: {pushed} images pushed with signatures and SLSA provenance")
                names = ["demo-github", "demo-gitlab", "demo-argocd", "demo-flux", "demo-pods", "demo-registry"]
                first = not HarvestRun.objects.filter(source__name__in=names).exists()
                if first:
                    with time_machine.travel(START - timedelta(hours=1), tick=True):
                        sources = boxes.load_sources()
                    say(f"sources: {dir / 'sources.yaml'} loaded ({', '.join(s.name for s in sources)})")
                    figures = replay(world, boxes, {s.name: s for s in sources}, say)
                    say(
                        f"replayed the quarter: {figures.moments} moments, {figures.runs} harvest runs, "
                        f"{figures.appended} new evidence entries ("
                        + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(figures.seconds.items()))
                        + ")"
                    )
                    for line in figures.failed[:5]:  # the seeded evidence gap shows here, as it should
                        say(f"  harvest reported: {line}")
                else:
                    sources = boxes.load_sources()
                    say("already replayed into this ledger: harvesting the final state only")
                boxes.set_time(END)  # the sandboxes as they stand at quarter end, on every run
                final = final_harvest(sources, say)
                say(f"harvested every source now (manage.py harvest's path): {final.runs} runs, {final.appended} new")
                for line in final.failed[:5]:
                    say(f"  harvest reported: {line}")
                reported = report_incidents(world)
                say(f"incidents reported to /hooks/incident/: {len(world.incidents)} ({reported} new)")
        except SandboxError as exc:
            raise CommandError(f"demo: {exc}") from None
        added = Entry.objects.all() if last_seq is None else Entry.objects.filter(seq__gt=last_seq)
        kinds = Counter(added.values_list("kind", flat=True))
        total = Entry.objects.count()
        say(
            f"appended {total - before} entries (ledger: {total}): "
            + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        )
        if first:
            say("run the demo again: a second run appends only harvest-run entries (every fact has its key)")
        else:
            only_runs = set(kinds) <= {"harvest.run"}
            verdict = "only harvest-run entries were appended" if only_runs else "new evidence appeared"
            say(f"second run: {verdict} (a pack written below is recorded as one more entry)")
        call_command("checkpoint", stdout=self.stdout)
        call_command("verify_ledger", stdout=self.stdout)
        self.print_running(say)
        self.print_custody(say)
        self.print_dora(world, say)
        if not no_pack:
            self.pack(dir, say)
        self.print_admin(say)  # on the first run, the account's creation is recorded (access.* entries)
        signed = sign_checkpoint_if_due(force=True)  # the packs' and the account's entries: no unsigned tail
        if signed is not None:
            say(f"checkpoint {signed.size} signed over the last entries (packs, access changes)")
        db = settings.DATABASES["default"]["NAME"]
        say(f"database: {db}\nsigning key: {key_path()}  public key for auditors: {public_key_path()}")
        say("seeded violations (what the world made on purpose):")
        for case in world.seeded:
            say(f"  {case.name:<20} {case.where}")
        say("each seeded violation, the deployment and the finding that caught it:")
        for line in judge_seeded(world).lines():
            say(line)
        say("seeded delivery events (what the DORA figures count, beside the rollback):")
        for what, where in sorted(world.delivery_events.items()):
            say(f"  {what:<20} {where}")
        say(f"demo finished in {time.monotonic() - started:.1f} s")

    def print_running(self, say) -> None:
        for label, at in ((f"at {CHOSEN_MOMENT:%Y-%m-%d %H:%M} UTC", CHOSEN_MOMENT), ("now", datetime.now(UTC))):
            state = running_at("prod", at)
            say(f"running in prod {label}:")
            for app in state.applications:
                revision = app.revision.rpartition(":")[2][:12]  # Flux says main@sha1:<commit>
                line = f"  {app.application:<10} {revision} {app.outcome:<11} since {app.since:%Y-%m-%d %H:%M}"
                line += f"  {', '.join(d[:19] for d in app.digests) or 'no digest known'}"
                if app.drift:
                    extra = sorted(set(app.observed_digests or []) - set(app.digests))
                    line += f"  DRIFT: pods also run {', '.join(d[:19] for d in extra)}"
                if app.gap:
                    line += "  (evidence gap around this deployment)"
                say(line)

    def print_custody(self, say) -> None:
        try:
            from evidence.compliance.custody import build_custody
        except ImportError:
            say("custody and findings: not installed in this build (evidence.compliance.custody)")
            return
        findings: Counter[tuple[str, str]] = Counter()
        verdicts: Counter[str] = Counter()
        deployments = list(Deployment.objects.filter(environment="prod").order_by("finished_at", "id"))
        for deployment in deployments:
            chain = build_custody(deployment)
            findings.update((f.severity, f.code) for f in chain.findings)
            verdicts[getattr(chain, "verdict", "")] += 1
        sample = next((d for d in deployments if d.outcome == "succeeded" and d.image_digests), None)
        if sample is not None:
            custody = build_custody(sample)
            say(f"custody of prod deployment {sample.pk} ({sample.application} {sample.revision[:12]}):")
            for link in custody.links:
                seqs = ", ".join(map(str, link.entry_seqs[:6]))
                say(f"  {link.name:<22} {link.status:<8} {link.explanation}  [seqs {seqs}]")
        say(f"findings over {len(deployments)} prod deployments:")
        for (severity, code), n in sorted(findings.items()):
            say(f"  {severity:<8} {code:<32} {n}")
        if verdicts.get("", 0) < len(deployments):
            say("verdicts of prod deployments: " + ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items())))

    def print_dora(self, world, say) -> None:
        """The quarter's five DORA figures in prod, and the gate asked about a good and a bad digest."""
        from evidence.compliance.dora import dora_figures
        from evidence.compliance.dora.text import figure_lines
        from evidence.compliance.gate import decide_release
        from evidence.compliance.models import DeploymentVerdict

        until = (END + timedelta(days=1)).replace(hour=0, minute=0)
        for line in figure_lines(dora_figures("prod", START, until, bucket="month")):
            say(line)
        good = (
            DeploymentVerdict.objects.filter(environment="prod", verdict="compliant")
            .exclude(deployment__image_digests=[])
            .order_by("-deployed_at")
            .values_list("deployment__image_digests", flat=True)
            .first()
        )
        unsigned = next(i for i in world.images if i.repository == "acme/web" and not i.signer)
        asks = [("compliant", good[0] if good else None), ("unsigned", digest_of(unsigned))]
        for label, digest in asks:
            if digest is None:
                say(f"gate: no {label} digest in prod to ask about")
                continue
            # Asked as of the quarter's end, like the rest of the story: a second run asks the same
            # question at the same moment, so it records nothing new.
            decision = decide_release("prod", digest=digest, asked_by="demo", now=until)
            why = "; ".join(f"{r['rule']} {r['status'].replace('_', ' ')}" for r in decision.reasons[:3])
            say(
                f"gate prod {digest[:19]} ({label}): {decision.answer}"
                + (f" ({why})" if why else "")
                + f"  [decision entry {decision.seq}]"
            )

    def pack(self, dir: Path, say) -> None:
        from exports.pack.providers import PROVIDERS

        call_command("create_pack_certificate", "--if-missing", stdout=self.stdout)
        packs = dir / "packs"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        # The headline pack: the change-management workpaper of prod over the quarter, with a sample
        # an auditor can redraw from its seed.
        out = packs / f"prod-workpaper-{stamp}.pdf"
        call_command(
            "audit_pack",
            "--scope=environment",
            "--environment=prod",
            f"--since={START.date().isoformat()}",
            f"--until={(END + timedelta(days=1)).date().isoformat()}",
            "--sample=5",
            "--seed=demo-2026-q1",
            "--as=demo (manage.py demo)",
            f"--out={out}",
            stdout=self.stdout,
        )
        made = [out]
        if "deployment" in PROVIDERS:
            sample = Deployment.objects.filter(environment="prod", outcome="succeeded").order_by("-finished_at").first()
            if sample is not None:
                one = packs / f"deployment-{sample.pk}-{stamp}.pdf"
                call_command(
                    "audit_pack", "--scope=deployment", f"--deployment={sample.pk}", f"--out={one}", stdout=self.stdout
                )
                made.append(one)
        for pdf in made:
            say(f"verify_pack {pdf}:")
            call_command("verify_pack", str(pdf), f"--ledger-key={public_key_path()}", stdout=self.stdout)
        latest = packs / "latest.pdf"
        shutil.copyfile(out, latest)
        say(f"audit pack (prod, the quarter's change-management workpaper): {out} (also {latest})")

    def print_admin(self, say) -> None:
        users = get_user_model()
        password = secrets.token_urlsafe(12)
        user, _ = users.objects.get_or_create(username=AUDITOR, defaults={"is_staff": True})
        user.is_staff = True
        user.set_password(password)
        user.save()
        group, _ = Group.objects.get_or_create(name="auditors")
        user.groups.add(group)
        say(
            f"admin on the same data: DJANGO_SETTINGS_MODULE=devkit.settings .venv/bin/python manage.py runserver,\n"
            f"  open http://127.0.0.1:8000/admin/ and sign in as {AUDITOR} / {password} (a new password each run),\n"
            "  or create your own: DJANGO_SETTINGS_MODULE=devkit.settings .venv/bin/python manage.py createsuperuser"
        )
