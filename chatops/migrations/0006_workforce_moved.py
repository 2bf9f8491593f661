"""Forget the workforce's models in chatops and point their content types to the workforce app.

The models live in ``workforce`` now (workforce 0001), on the same tables (chatops 0005), and the
foreign keys of conversations and tenants name them there (conversations 0011, tenants 0007). Their
content types are renamed rather than made anew, so the permissions given to groups and users and
the admin's log entries keep pointing to them.
"""

from django.db import migrations

MOVED = ("agent", "qualification", "shift")


def relabel_content_types(apps, schema_editor, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model in MOVED:
        if not rows.filter(app_label=old, model=model).exists():
            continue
        # A type under the new label can exist only if Django made it after a partial migrate (with its
        # default permissions and nothing else); the old one carries the history, so it wins.
        rows.filter(app_label=new, model=model).delete()
        rows.filter(app_label=old, model=model).update(app_label=new)


def to_workforce(apps, schema_editor) -> None:
    relabel_content_types(apps, schema_editor, "chatops", "workforce")


def to_chatops(apps, schema_editor) -> None:
    relabel_content_types(apps, schema_editor, "workforce", "chatops")


class Migration(migrations.Migration):
    dependencies = [
        ("chatops", "0005_workforce_tables"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("conversations", "0012_agents_in_workforce"),
        ("tenants", "0008_agents_in_workforce"),
        ("workforce", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Shift"),
                migrations.DeleteModel(name="Qualification"),
                migrations.DeleteModel(name="Agent"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(to_workforce, to_chatops),
    ]
