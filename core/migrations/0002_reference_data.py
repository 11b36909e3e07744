"""Load the region codes (GB/T 2260) and the working-day calendar known to chinese-calendar."""

from django.db import migrations


def load_regions(apps, schema_editor):
    from core.reference import HOME_CITIES, HOME_PROVINCE, OTHER_CITIES, PROVINCES

    Region = apps.get_model("core", "Region")
    for order, (code, name, short) in enumerate(PROVINCES, start=1):
        Region.objects.update_or_create(
            code=code, defaults={"name": name, "short_name": short, "level": "province", "sort_order": order}
        )
    for order, (code, name, short) in enumerate(HOME_CITIES, start=101):
        Region.objects.update_or_create(
            code=code,
            defaults={"name": name, "short_name": short, "level": "city", "parent_id": HOME_PROVINCE, "sort_order": order},
        )
    for order, (code, name, short) in enumerate(OTHER_CITIES, start=201):
        Region.objects.update_or_create(
            code=code,
            defaults={"name": name, "short_name": short, "level": "city", "parent_id": f"{code[:2]}0000", "sort_order": order},
        )


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
