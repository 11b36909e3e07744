"""The payee's bank account encrypted at rest; existing rows sealed."""

import core.encryption_migration
import core.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reimbursement', '0007_home_tile_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='claim',
            name='bank_account',
            field=core.fields.EncryptedTextField(max_length=32, purpose='bank_account', verbose_name='银行账号'),
        ),
        migrations.AlterField(
            model_name='historicalclaim',
            name='bank_account',
            field=core.fields.EncryptedTextField(max_length=32, purpose='bank_account', verbose_name='银行账号'),
        ),
        migrations.RunPython(*core.encryption_migration.seal_models('reimbursement.Claim', 'reimbursement.HistoricalClaim')),
    ]
