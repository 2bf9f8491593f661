"""The change-notice acknowledgements, moved here from the tenants app without touching a row.

The table exists already (tenants 0010 renamed it to this app's name), so this migration only tells
Django's state that the model lives here now; tenants 0011 then forgets it there and points its content
type (permissions, admin log) here.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0010_acknowledgements_table"),
        ("workforce", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ChangeNoticeAcknowledgement",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        (
                            "acknowledged_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, editable=False, verbose_name="acknowledged"
                            ),
                        ),
                        (
                            "agent",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="workforce.agent", verbose_name="agent"
                            ),
                        ),
                        (
                            "notice",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="acknowledgements",
                                to="tenants.changenotice",
                                verbose_name="notice",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "acknowledgement",
                        "verbose_name_plural": "acknowledgements",
                        "constraints": [models.UniqueConstraint(fields=("notice", "agent"), name="acknowledge_once")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
