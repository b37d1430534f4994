from django.core.management.base import BaseCommand

from evidence.readmodels.projectors import projection_models, rebuild_all


class Command(BaseCommand):
    help = "Clear every read model and rebuild it from the ledger."

    def handle(self, *args, **options):
        count = rebuild_all()
        names = ", ".join(m._meta.label for m in projection_models()) or "none registered"
        self.stdout.write(f"rebuilt projections from {count} entries ({names})")
