"""Without a broker there is no beat schedule: inline appends sign a checkpoint once the unsigned
tail is long or old, and each harvest signs its tail when it ends."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from evidence.sources.harvest import harvest_source
from ledger.append import append_entries
from ledger.checkpoints import sign_after_batch
from ledger.models import Checkpoint, Entry

from .helpers import records

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_five(settings, ledger_key):
    settings.LEDGER_CHECKPOINT_ENTRIES = 5
    settings.LEDGER_CHECKPOINT_INTERVAL = 300


def append(django_capture_on_commit_callbacks, *batch):
    with django_capture_on_commit_callbacks(execute=True):
        append_entries(list(batch))


def signed():
    return sorted(Checkpoint.objects.values_list("size", flat=True))


def test_it_signs_the_first_entries_at_once(every_five, django_capture_on_commit_callbacks):
    append(django_capture_on_commit_callbacks, *records(2))
    assert signed() == [2]


def test_it_signs_once_the_unsigned_tail_is_long_enough(every_five, django_capture_on_commit_callbacks):
    append(django_capture_on_commit_callbacks, *records(2))
    append(django_capture_on_commit_callbacks, *records(3, start=2))
    assert signed() == [2]  # a tail of 3 is neither long nor old
    append(django_capture_on_commit_callbacks, *records(2, start=5))
    assert signed() == [2, 7]


def test_it_signs_once_the_last_checkpoint_is_old(every_five, django_capture_on_commit_callbacks):
    append(django_capture_on_commit_callbacks, *records(2))
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        append(django_capture_on_commit_callbacks, records(1, start=2)[0])
    assert signed() == [2, 3]


def test_it_signs_nothing_when_a_broker_signs_on_schedule(every_five, settings):
    append_entries(records(2))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert sign_after_batch() is None and signed() == []


def test_it_signs_the_tail_when_a_harvest_ends(github_source, ledger_key):
    harvest_source(github_source)
    assert signed() == [Entry.objects.count()]
