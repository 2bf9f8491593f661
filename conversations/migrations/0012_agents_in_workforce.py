"""Point the foreign keys to agents at their new app (workforce 0001); nothing changes in the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0011_first_response_after_the_visitor_wrote"),
        ("workforce", "0001_initial"),
    ]

    operations = [
        # The columns and their database constraints stay: the agents' table was renamed under them.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="conversation",
                    name="agent",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='conversations', to='workforce.agent', verbose_name='agent'),
                ),
                migrations.AlterField(
                    model_name="handoff",
                    name="agent",
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='workforce.agent', verbose_name='agent'),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="agent",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='workforce.agent', verbose_name='agent'),
                ),
                migrations.AlterField(
                    model_name="note",
                    name="agent",
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='workforce.agent', verbose_name='agent'),
                ),
                migrations.AlterField(
                    model_name="transfer",
                    name="from_agent",
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='workforce.agent', verbose_name='from'),
                ),
                migrations.AlterField(
                    model_name="transfer",
                    name="to_agent",
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='workforce.agent', verbose_name='to'),
                ),
            ],
            database_operations=[],
        ),
    ]
