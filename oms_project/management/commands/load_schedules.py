from django.core.management.base import BaseCommand

from oms_project import schedules


class Command(BaseCommand):
    help = "Write the periodic tasks defined in oms_project/schedules.py to the beat scheduler's tables."

    def handle(self, *args, **options):
        counts = schedules.load()
        self.stdout.write(f"schedules: {counts['created']} created, {counts['updated']} updated, {counts['disabled']} disabled")
