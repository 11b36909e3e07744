"""The proxy's ID number encrypted at rest; existing rows sealed."""

import core.encryption_migration
import core.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('filings', '0009_region_materials_lock_months'),
    ]

    operations = [
        migrations.AlterField(
            model_name='filing',
            name='proxy_id_number',
            field=core.fields.EncryptedTextField(blank=True, max_length=18, purpose='id_number', verbose_name='代办人身份证号'),
        ),
        migrations.AlterField(
            model_name='historicalfiling',
            name='proxy_id_number',
            field=core.fields.EncryptedTextField(blank=True, max_length=18, purpose='id_number', verbose_name='代办人身份证号'),
        ),
        migrations.RunPython(*core.encryption_migration.seal_models('filings.Filing', 'filings.HistoricalFiling')),
    ]
