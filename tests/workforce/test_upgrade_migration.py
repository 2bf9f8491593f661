"""Moving the workforce's models from chatops to workforce upgrades a database made by the migrations
before it without losing a row: the agents, their training and shifts, the foreign keys of conversations
and tenants to them, the permissions given on them and the admin's log of them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from conversations.models import Conversation, Message, Note, Transfer
from tests.migration_targets import migrate_to
from workforce.models import Agent, ChangeNoticeAcknowledgement, Qualification, Shift

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.frozen_time(NOW)

# The last migrations of the apps the move touches, before it.
BEFORE_THE_MOVE = {
    "chatops": "0004_agent_last_seen",
    "conversations": "0011_first_response_after_the_visitor_wrote",
    "tenants": "0007_first_response_goal_percent",
}


def _migrate(before_the_move: bool = False):
    """Migrate to just before the move, or to the latest of every app; return the models as they are then."""
    return migrate_to(BEFORE_THE_MOVE if before_the_move else None)


@pytest.fixture
def upgrade():
    """Leave the test database at the latest migrations, whatever happens in the test."""
    yield
    _migrate()


def _yesterdays_database(old) -> dict[str, object]:
    """Fill the database the old way (the models in chatops); return what was written, by name."""
    user_model, group_model = old.get_model("auth", "User"), old.get_model("auth", "Group")
    tenant = old.get_model("tenants", "Tenant").objects.create(
        name="Kotipuoti", slug="kotipuoti", time_zone="Europe/Helsinki", language="fi",
        contract_signed_on=dt.date(2026, 11, 2), go_live_target=dt.date(2026, 11, 30),
    )  # fmt: skip
    agent_model = old.get_model("chatops", "Agent")
    anna = agent_model.objects.create(
        user=user_model.objects.create(username="anna"), display_name="Anna", languages=["fi"], max_concurrent_chats=4
    )
    bert = agent_model.objects.create(user=user_model.objects.create(username="bert"), display_name="Bert")
    qualification = old.get_model("chatops", "Qualification").objects.create(
        agent=anna, tenant=tenant, training_started_on=dt.date(2026, 11, 3), training_completed_on=dt.date(2026, 11, 9)
    )
    shift = old.get_model("chatops", "Shift").objects.create(
        agent=anna, starts_at=NOW, ends_at=NOW + dt.timedelta(hours=8), note="morning"
    )
    visitor = old.get_model("conversations", "Visitor").objects.create(tenant=tenant)
    conversation = old.get_model("conversations", "Conversation").objects.create(
        tenant=tenant, visitor=visitor, agent=anna, status="assigned", started_at=NOW
    )
    message = old.get_model("conversations", "Message").objects.create(
        tenant=tenant, conversation=conversation, seq=1, sender="agent", agent=anna, body="Hei!", created_at=NOW
    )
    note = old.get_model("conversations", "Note").objects.create(
        tenant=tenant, conversation=conversation, agent=bert, body="VIP"
    )
    transfer = old.get_model("conversations", "Transfer").objects.create(
        tenant=tenant, conversation=conversation, from_agent=bert, to_agent=anna, note="Finnish"
    )
    notice = old.get_model("tenants", "ChangeNotice").objects.create(tenant=tenant, title="New prices", body="…")
    acknowledgement = old.get_model("tenants", "ChangeNoticeAcknowledgement").objects.create(notice=notice, agent=anna)
    # A permission on an agent given to a group, and the admin's log of a change to an agent.
    agent_type = old.get_model("contenttypes", "ContentType").objects.get(app_label="chatops", model="agent")
    change_agent = old.get_model("auth", "Permission").objects.get(content_type=agent_type, codename="change_agent")
    planners = group_model.objects.create(name="shift planners")
    planners.permissions.add(change_agent)
    planner = user_model.objects.create(username="planner", is_staff=True)
    planner.groups.add(planners)
    log = old.get_model("admin", "LogEntry").objects.create(
        user=planner,
        content_type=agent_type,
        object_id=str(anna.pk),
        object_repr="Anna",
        action_flag=2,
        action_time=NOW,
    )
    return {
        "anna": anna.pk, "bert": bert.pk, "qualification": qualification.pk, "shift": shift.pk,
        "conversation": conversation.pk, "message": message.pk, "note": note.pk, "transfer": transfer.pk,
        "acknowledgement": acknowledgement.pk, "planner": planner.pk, "log": log.pk, "agent_type": agent_type.pk,
    }  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_move_to_the_workforce_app_keeps_every_row_key_and_permission(upgrade):
    old = _migrate(before_the_move=True)
    assert "chatops_agent" in connection.introspection.table_names()
    written = _yesterdays_database(old)

    _migrate()

    tables = connection.introspection.table_names()
    assert {"workforce_agent", "workforce_qualification", "workforce_shift"} <= set(tables)
    assert not {"chatops_agent", "chatops_qualification", "chatops_shift"} & set(tables)
    anna = Agent.objects.get(pk=written["anna"])
    assert (anna.display_name, anna.languages, anna.max_concurrent_chats, anna.user.username) == (
        "Anna",
        ["fi"],
        4,
        "anna",
    )
    assert Agent.objects.count() == 2
    qualification = Qualification.objects.get(pk=written["qualification"])
    assert (qualification.agent, qualification.tenant.slug) == (anna, "kotipuoti")
    assert qualification.training_completed_on == dt.date(2026, 11, 9)
    shift = Shift.objects.get(pk=written["shift"])
    assert (shift.agent, shift.starts_at, shift.note) == (anna, NOW, "morning")
    assert list(anna.shifts.all()) == [shift]
    assert list(Qualification.objects.completed().values_list("agent__display_name", flat=True)) == ["Anna"]
    # The foreign keys of the apps above the workforce follow the renamed table.
    assert Conversation.objects.get(pk=written["conversation"]).agent == anna
    assert Message.objects.get(pk=written["message"]).agent == anna
    assert Note.objects.get(pk=written["note"]).agent.display_name == "Bert"
    transfer = Transfer.objects.get(pk=written["transfer"])
    assert (transfer.from_agent.display_name, transfer.to_agent) == ("Bert", anna)
    assert ChangeNoticeAcknowledgement.objects.get(pk=written["acknowledgement"]).agent == anna
    # The content type was relabelled, not made anew: the permission and the log entry point to the agents.
    agent_type = ContentType.objects.get_for_model(Agent)
    assert (agent_type.pk, agent_type.app_label) == (written["agent_type"], "workforce")
    assert not ContentType.objects.filter(app_label="chatops").exists()
    planner = get_user_model().objects.get(pk=written["planner"])
    assert planner.has_perm("workforce.change_agent")
    assert not planner.has_perm("workforce.delete_agent")
    assert list(Group.objects.get(name="shift planners").permissions.all()) == [
        Permission.objects.get(content_type=agent_type, codename="change_agent")
    ]
    assert LogEntry.objects.get(pk=written["log"]).get_edited_object() == anna
    # Rows written after the move get new ids after the old ones (the sequences came along).
    newer = Shift.objects.create(
        agent=anna, starts_at=NOW + dt.timedelta(days=1), ends_at=NOW + dt.timedelta(days=1, hours=4)
    )
    assert newer.pk > shift.pk
