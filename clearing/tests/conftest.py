from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from clearing.models import AdvancePolicy

DATA = Path(__file__).parent / "data"


@pytest.fixture
def sample_files() -> tuple[Path, Path]:
    """The public sample month: ../shared/samples beside the project, or the copy kept here for CI."""
    shared = Path(settings.BASE_DIR).parent / "shared" / "samples"
    csv_name, json_name = "settlements-2026-02.gb18030.csv", "clearing-2026-02.json"
    for folder in (shared, DATA):
        if (folder / csv_name).exists() and (folder / json_name).exists():
            return folder / csv_name, folder / json_name
    pytest.skip(f"sample files not found in {shared} nor {DATA}")


@pytest.fixture
def jiangsu_policy(db):
    policy, _ = AdvancePolicy.objects.get_or_create(
        province_id="320000", effective_year=2017, defaults={"method": "net_outflow_share", "factor": "0.2000"}
    )
    return policy


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Jobs start on commit; inside a test transaction run them right away."""

    class Runner:
        def __enter__(self):
            self._ctx = django_capture_on_commit_callbacks(execute=True)
            return self._ctx.__enter__()

        def __exit__(self, *exc):
            return self._ctx.__exit__(*exc)

    return Runner


@pytest.fixture
def cleared_february(tmp_path, clearing_officer):
    """2026-02 cleared and issued; 2026-03 has its own records and is still open (退费, 扣款 tests)."""
    from datetime import date

    from clearing import services
    from clearing.models import ClearingPeriod
    from clearing.tests.factories import Row, import_rows

    import_rows(tmp_path, [
        Row("F1", "320100", "320200", fund_amount="1000.00"),
        Row("F2", "320100", "310000", fund_amount="400.00", insurance_type="390"),
        Row("F3", "510100", "320100", fund_amount="300.00"),
    ], name="feb.csv")
    february = services.clearing_compute(period=ClearingPeriod.objects.get(period="2026-02"), by=clearing_officer)
    services.clearing_issue_notices(period=february, by=clearing_officer, stamp_date=date(2026, 3, 26))
    import_rows(tmp_path, [Row("M1", "320100", "320200", fund_amount="500.00", period="2026-03")], name="mar.csv")
    return ClearingPeriod.objects.get(period="2026-02")
