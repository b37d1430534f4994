from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evidence.sources.harvest import harvest_source
from evidence.sources.harvesters import HarvestError
from evidence.sources.models import Source
from evidence.sources.sources_file import SourcesFileError, load_sources_file


class Command(BaseCommand):
    help = "Harvest declared sources inline (all enabled ones, or --source NAME)."

    def add_arguments(self, parser):
        parser.add_argument("--source", help="name of one source")

    def handle(self, *args, source=None, **options):
        if settings.EVIDENCE_SOURCES_FILE:
            try:
                load_sources_file(settings.EVIDENCE_SOURCES_FILE)
            except SourcesFileError as exc:
                raise CommandError(str(exc)) from None
        sources = Source.objects.filter(enabled=True)
        if source:
            sources = Source.objects.filter(name=source)
            if not sources:
                raise CommandError(f"harvest: no source named {source!r}")
        failed = 0
        for item in sources:
            try:
                runs = harvest_source(item)
            except HarvestError as exc:
                raise CommandError(f"harvest: source {item.name}: {exc}") from None
            for run in runs:
                line = (
                    f"{item.name}:{run.target} {run.status}: {run.appended} new of {run.records} records, "
                    f"{run.requests} requests, {run.duration:.2f}s"
                )
                self.stdout.write(line)
                for error in run.errors:
                    self.stdout.write(f"  error: {error}")
                failed += run.status == "failed"
        if failed:
            raise CommandError(f"harvest: {failed} target(s) failed")
