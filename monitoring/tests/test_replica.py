"""A read replica for the monitoring pages (issue 15, several hosts): with DATABASE_REPLICA_URL
the monitoring selectors and read-only pages read from the `replica` alias, writes and
transactions stay on the primary; without it everything reads from the primary.

In tests the replica is a test mirror of the default database (config.settings sets
TEST MIRROR when the variable is set): the same test database through its own connection, so
the tests that expect replica reads commit their data (transaction=True)."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.db_routers import REPLICA, read_alias, replica_reads
from core.tests.test_settings import settings_value
from monitoring import rules, selectors, services
from monitoring.models import Indicator, Threshold
from monitoring.tests.conftest import settle


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup, django_db_blocker):
    """The `replica` alias as config.settings makes it with DATABASE_REPLICA_URL in a test run:
    a mirror of the (test) default database."""
    replica = copy.deepcopy(connections.settings["default"])
    replica["TEST"] = {**replica.get("TEST", {}), "MIRROR": "default"}
    connections.settings[REPLICA] = replica
    assert REPLICA in settings.DATABASES  # the router reads the same mapping
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


def _month():
    settle("2026-03", "320100", "320200", "1000.00", "700.00", institution="无锡市人民医院")
    settle("2026-03", "320200", "110000", "300.00", "200.00", institution="北京协和医院")
    services.summary_rebuild(periods=["2026-03"])


def _run(function):
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(connections[REPLICA]) as replica:
        result = function()
    return result, len(primary.captured_queries), len(replica.captured_queries)


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_with_a_replica_the_monitoring_selectors_read_from_it():
    _month()
    latest, on_primary, on_replica = _run(selectors.latest_period)
    assert latest == "2026-03"
    assert (on_primary, on_replica) == (0, 1)
    figures, on_primary, on_replica = _run(lambda: selectors.region_figures(rules.parse_period("2026-03")))
    assert figures["320100"].outflow["current"].total == 1000 and on_primary == 0 and on_replica > 0


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_writes_and_transactions_stay_on_the_primary_even_inside_replica_reads(clearing_officer):
    _month()
    with replica_reads():
        assert read_alias() == REPLICA
        _, on_primary, on_replica = _run(lambda: Threshold.objects.create(
            region_id="320100", indicator=Indicator.FUND_RATIO, direction="outflow", value=50))
        assert on_primary >= 1 and on_replica == 0  # the row (and its history row)
        with transaction.atomic():
            assert read_alias() == "default"  # a transaction sees its own writes
            _, on_primary, on_replica = _run(selectors.latest_period)
            assert on_primary == 1 and on_replica == 0
    assert read_alias() == "default"  # outside the monitoring reads


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_the_monitoring_page_reads_its_figures_from_the_replica(client, clearing_officer):
    _month()
    client.force_login(clearing_officer)
    with CaptureQueriesContext(connections["default"]) as primary, CaptureQueriesContext(connections[REPLICA]) as replica:
        page = client.get(reverse("monitoring:overview") + "?period=2026-03")
    assert page.status_code == 200 and "1,000.00" in page.content.decode()
    assert any("monitoring_regionsummary" in query["sql"] for query in replica.captured_queries)
    assert not any("monitoring_" in query["sql"] for query in primary.captured_queries)


@pytest.mark.django_db
def test_without_a_replica_the_monitoring_selectors_read_from_the_primary(monkeypatch):
    monkeypatch.delitem(settings.DATABASES, REPLICA)
    _month()
    with replica_reads():
        assert read_alias() == "default"
    with CaptureQueriesContext(connections["default"]) as primary:
        assert selectors.latest_period() == "2026-03"
    assert len(primary.captured_queries) == 1


def test_the_replica_alias_exists_only_with_the_setting_and_is_a_test_mirror():
    url = "postgres://reader@replica.internal:5432/yidi"
    replica = settings_value("DATABASES.get('replica')", DATABASE_URL="postgres://yidi@primary.internal:5432/yidi",
                             DATABASE_REPLICA_URL=url)
    assert "'HOST': 'replica.internal'" in replica and "'MIRROR': 'default'" in replica
    assert "jit=off" in replica
    assert settings_value("DATABASES.get('replica')", DATABASE_URL="postgres://yidi@primary.internal:5432/yidi") == "None"
