"""Load the region codes (GB/T 2260, core/data/regions.json) and the working-day calendar known to chinese-calendar."""

from django.db import migrations


def load_regions(apps, schema_editor):
    # Every province and prefecture-level division from the generated data file
    # (core/data/regions.json); migration 0004 brings existing databases up to it.
    from core.reference import load_regions as load

    load(apps.get_model("core", "Region"))


def load_calendar(apps, schema_editor):
    from core.reference import package_calendar_exceptions, package_calendar_years

    CalendarYear = apps.get_model("core", "CalendarYear")
    CalendarDay = apps.get_model("core", "CalendarDay")
    present = set(CalendarYear.objects.values_list("year", flat=True))
    for year in package_calendar_years():
        if year in present:
            continue
        CalendarDay.objects.bulk_create(
            [CalendarDay(date=day, is_working_day=working, name=name) for day, working, name in package_calendar_exceptions(year)],
            ignore_conflicts=True,
        )
        CalendarYear.objects.create(year=year, confirmed=True, source="package", notice="国务院办公厅节假日安排（chinese-calendar）")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(load_regions, migrations.RunPython.noop),
        migrations.RunPython(load_calendar, migrations.RunPython.noop),
    ]
