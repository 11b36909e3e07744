"""ID numbers of 协查/协同 encrypted at rest, with blind indexes; existing rows sealed."""

import core.encryption_migration
import core.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cooperation', '0001_assist_and_coordination'),
    ]

    operations = [
        migrations.AddField(
            model_name='assistrequest',
            name='id_number_hash',
            field=core.fields.BlindIndexField(db_index=True, max_length=64, purpose='id_number', source='id_number', verbose_name='身份号码检索码'),
        ),
        migrations.AddField(
            model_name='coordination',
            name='person_id_number_hash',
            field=core.fields.BlindIndexField(db_index=True, max_length=64, purpose='id_number', source='person_id_number', verbose_name='身份号码检索码'),
        ),
        migrations.AddField(
            model_name='historicalassistrequest',
            name='id_number_hash',
            field=core.fields.BlindIndexField(db_index=True, max_length=64, purpose='id_number', source='id_number', verbose_name='身份号码检索码'),
        ),
        migrations.AddField(
            model_name='historicalcoordination',
            name='person_id_number_hash',
            field=core.fields.BlindIndexField(db_index=True, max_length=64, purpose='id_number', source='person_id_number', verbose_name='身份号码检索码'),
        ),
        migrations.AlterField(
            model_name='assistrequest',
            name='id_number',
            field=core.fields.EncryptedTextField(max_length=18, purpose='id_number', verbose_name='身份证号码'),
        ),
        migrations.AlterField(
            model_name='coordination',
            name='person_id_number',
            field=core.fields.EncryptedTextField(blank=True, max_length=18, purpose='id_number', verbose_name='参保人员身份证号码'),
        ),
        migrations.AlterField(
            model_name='historicalassistrequest',
            name='id_number',
            field=core.fields.EncryptedTextField(max_length=18, purpose='id_number', verbose_name='身份证号码'),
        ),
        migrations.AlterField(
            model_name='historicalcoordination',
            name='person_id_number',
            field=core.fields.EncryptedTextField(blank=True, max_length=18, purpose='id_number', verbose_name='参保人员身份证号码'),
        ),
        migrations.RunPython(*core.encryption_migration.seal_models('cooperation.AssistRequest', 'cooperation.HistoricalAssistRequest', 'cooperation.Coordination', 'cooperation.HistoricalCoordination')),
    ]
