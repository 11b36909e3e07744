"""seed_demo's cooperation part: every state, some overdue, both cities and another province; idempotent."""

import pytest
from django.utils import timezone

from cooperation import demo
from cooperation.models import AssistRequest, Coordination
from core import demo as core_demo

pytestmark = pytest.mark.django_db


def test_demo_covers_every_state_and_runs_twice_without_adding():
    core_demo.seed()
    demo.seed()
    assert set(AssistRequest.objects.values_list("status", flat=True)) == set(AssistRequest.Status.values)
    assert set(Coordination.objects.values_list("status", flat=True)) == set(Coordination.Status.values)
    assert {"320100", "320200"} <= set(AssistRequest.objects.values_list("treatment_region_id", flat=True))
    assert AssistRequest.objects.filter(cross_province=True).exists()
    today = timezone.localdate()
    assert AssistRequest.objects.filter(status="sent", answer_due__lt=today).exists()  # overdue in 无锡's queue
    assert AssistRequest.objects.filter(late_count__gt=0).exists()
    assert Coordination.objects.filter(status="open", reply_due__lt=today).exists()
    counts = (AssistRequest.objects.count(), Coordination.objects.count())
    demo.seed()
    assert (AssistRequest.objects.count(), Coordination.objects.count()) == counts
