from django.db import migrations


def drop_like_indexes(apps, schema_editor):
    """The settlement table keeps only its primary key and the period index: the
    varchar_pattern_ops copy Django adds for a CharField primary key on
    PostgreSQL serves LIKE queries nobody runs and costs every import a third
    index to maintain."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'clearing_settlement' AND indexname LIKE %s",
            ["%\\_like"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def default_policy(apps, schema_editor):
    """江苏 第三十条: 20 % of last year's net outflow (苏人社发〔2017〕61号)."""
    Region = apps.get_model("core", "Region")
    AdvancePolicy = apps.get_model("clearing", "AdvancePolicy")
    if not Region.objects.filter(code="320000").exists():
        return
    AdvancePolicy.objects.get_or_create(
        province_id="320000",
        effective_year=2017,
        defaults={"method": "net_outflow_share", "factor": "0.2000"},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clearing", "0001_initial"),
        ("core", "0002_reference_data"),
    ]

    operations = [
        migrations.RunPython(drop_like_indexes, migrations.RunPython.noop),
        migrations.RunPython(default_policy, migrations.RunPython.noop),
    ]
