"""Rename the change-notice acknowledgements' table to the name of their new app, ``workforce``.

The model moves from tenants to workforce (workforce 0002, tenants 0011): an acknowledgement records an
agent's act, and the tenants app sits below the workforce, so its foreign key to the agent pointed up.
Renaming the table keeps every row, its id sequence and the foreign keys from it; nothing is copied.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0009_privacy_options"),
    ]

    operations = [
        migrations.AlterModelTable(name="changenoticeacknowledgement", table="workforce_changenoticeacknowledgement"),
    ]
