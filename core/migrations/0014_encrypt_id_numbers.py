"""ID numbers encrypted at rest: a blind index and a last-4 column beside each, existing rows sealed."""

import core.encryption_migration
import core.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0013_job_heartbeat'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='insuredperson',
            options={'ordering': ['name', 'id'], 'verbose_name': '参保人员', 'verbose_name_plural': '参保人员'},
        ),
        migrations.AddField(
            model_name='historicalinsuredperson',
            name='id_number_hash',
            field=core.fields.BlindIndexField(db_index=True, max_length=64, purpose='id_number', source='id_number', verbose_name='身份号码检索码'),
        ),
        migrations.AddField(
            model_name='historicalinsuredperson',
            name='id_number_last4',
            field=core.fields.TailField(db_index=True, max_length=4, source='id_number', verbose_name='身份号码后四位'),
        ),
        migrations.AddField(
            model_name='insuredperson',
            name='id_number_hash',
            field=core.fields.BlindIndexField(max_length=64, purpose='id_number', source='id_number', verbose_name='身份号码检索码'),
        ),
        migrations.AddField(
            model_name='insuredperson',
            name='id_number_last4',
            field=core.fields.TailField(db_index=True, max_length=4, source='id_number', verbose_name='身份号码后四位'),
        ),
        migrations.AlterField(
            model_name='historicalinsuredperson',
            name='id_number',
            field=core.fields.EncryptedTextField(max_length=18, purpose='id_number', verbose_name='公民身份号码'),
        ),
        migrations.AlterField(
            model_name='insuredperson',
            name='id_number',
            field=core.fields.EncryptedTextField(max_length=18, purpose='id_number', verbose_name='公民身份号码'),
        ),
        migrations.RunPython(*core.encryption_migration.seal_models('core.InsuredPerson', 'core.HistoricalInsuredPerson')),
        migrations.AlterField(
            model_name='insuredperson',
            name='id_number_hash',
            field=core.fields.BlindIndexField(max_length=64, purpose='id_number', source='id_number', unique=True, verbose_name='身份号码检索码'),
        ),
    ]
