"""Forget the change-notice acknowledgements in tenants and point their content type to the workforce.

The model lives in ``workforce`` now (workforce 0002), on the same table (tenants 0010). Its content type
is renamed rather than made anew, so permissions given on it and the admin's log entries keep pointing
to it.
"""

from django.db import migrations

MODEL = "changenoticeacknowledgement"


def relabel_content_type(apps, schema_editor, old: str, new: str) -> None:
    rows = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
    if not rows.filter(app_label=old, model=MODEL).exists():
        return
    # A type under the new label can exist only if Django made it after a partial migrate (with its default
    # permissions and nothing else); the old one carries the history, so it wins.
    rows.filter(app_label=new, model=MODEL).delete()
    rows.filter(app_label=old, model=MODEL).update(app_label=new)


def to_workforce(apps, schema_editor) -> None:
    relabel_content_type(apps, schema_editor, "tenants", "workforce")


def to_tenants(apps, schema_editor) -> None:
    relabel_content_type(apps, schema_editor, "workforce", "tenants")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("tenants", "0010_acknowledgements_table"),
        ("workforce", "0002_changenoticeacknowledgement"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ChangeNoticeAcknowledgement")],
            database_operations=[],
        ),
        migrations.RunPython(to_workforce, to_tenants),
    ]
