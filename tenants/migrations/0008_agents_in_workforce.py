"""Point the foreign keys to agents at their new app (workforce 0001); nothing changes in the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0007_first_response_goal_percent"),
        ("workforce", "0001_initial"),
    ]

    operations = [
        # The columns and their database constraints stay: the agents' table was renamed under them.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="changenoticeacknowledgement",
                    name="agent",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='workforce.agent', verbose_name='agent'),
                ),
            ],
            database_operations=[],
        ),
    ]
