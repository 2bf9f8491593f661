"""Rename the workforce's tables and indexes to the names of their new app, ``workforce``.

The models move from chatops to workforce (workforce 0001, chatops 0006); their rows stay where
they are. Renaming a table keeps every row, and the foreign keys that point to it (from
conversations and tenants) follow the table in PostgreSQL and SQLite alike.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("chatops", "0004_agent_last_seen"),
    ]

    operations = [
        migrations.AlterModelTable(name="agent", table="workforce_agent"),
        migrations.AlterModelTable(name="qualification", table="workforce_qualification"),
        migrations.AlterModelTable(name="shift", table="workforce_shift"),
        migrations.RenameIndex(
            model_name="shift", old_name="chatops_shi_agent_i_5247fb_idx", new_name="workforce_s_agent_i_35c2aa_idx"
        ),
        migrations.RenameIndex(
            model_name="shift", old_name="chatops_shi_starts__d9d5e1_idx", new_name="workforce_s_starts__3f3386_idx"
        ),
    ]
