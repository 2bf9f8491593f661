"""Moving the change-notice acknowledgements from tenants to the workforce (tenants 0010 and 0011, workforce
0002) upgrades a database made by the migrations before it without losing a row: the acknowledgements with
their agents, notices and moments, the rule that an agent acknowledges once, the permissions given on
them and the admin's log of them; and the move can be undone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction

from tenants.models import ChangeNotice
from tests.migration_targets import migrate_to
from workforce.models import Agent, ChangeNoticeAcknowledgement

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.frozen_time(NOW)

# The last migrations of the two apps before the move; every other app goes back only as far as it must.
BEFORE_THE_MOVE = {"tenants": "0009_privacy_options", "workforce": "0001_initial"}
OLD_TABLE, NEW_TABLE = "tenants_changenoticeacknowledgement", "workforce_changenoticeacknowledgement"


def _migrate(before_the_move: bool = False):
    """Migrate to just before the move, or to the latest of every app; return the models as they are then."""
    return migrate_to(BEFORE_THE_MOVE if before_the_move else None)


@pytest.fixture
def upgrade():
    """Leave the test database at the latest migrations, whatever happens in the test."""
    yield
    _migrate()


def _yesterdays_database(old) -> dict[str, object]:
    """Fill the database the old way (acknowledgements in tenants); return what was written, by name."""
    user_model = old.get_model("auth", "User")
    tenant = old.get_model("tenants", "Tenant").objects.create(
        name="Kotipuoti", slug="kotipuoti", time_zone="Europe/Helsinki", language="fi",
        contract_signed_on=dt.date(2026, 11, 2), go_live_target=dt.date(2026, 11, 30),
    )  # fmt: skip
    agent_model = old.get_model("workforce", "Agent")
    anna = agent_model.objects.create(user=user_model.objects.create(username="anna"), display_name="Anna")
    bert = agent_model.objects.create(user=user_model.objects.create(username="bert"), display_name="Bert")
    notice_model = old.get_model("tenants", "ChangeNotice")
    prices = notice_model.objects.create(tenant=tenant, title="New prices", body="…")
    hours = notice_model.objects.create(tenant=tenant, title="Christmas hours", body="…")
    acknowledgement_model = old.get_model("tenants", "ChangeNoticeAcknowledgement")
    read = {
        (prices, anna): NOW - dt.timedelta(days=3),
        (prices, bert): NOW - dt.timedelta(days=2),
        (hours, anna): NOW - dt.timedelta(hours=5),
    }
    acknowledgements = [
        acknowledgement_model.objects.create(notice=notice, agent=agent, acknowledged_at=moment).pk
        for (notice, agent), moment in read.items()
    ]
    # A permission on acknowledgements given to a user, and the admin's log of one.
    ack_type = old.get_model("contenttypes", "ContentType").objects.get(
        app_label="tenants", model="changenoticeacknowledgement"
    )
    view = old.get_model("auth", "Permission").objects.get(
        content_type=ack_type, codename="view_changenoticeacknowledgement"
    )
    auditor = user_model.objects.create(username="auditor", is_staff=True)
    auditor.user_permissions.add(view)
    log = old.get_model("admin", "LogEntry").objects.create(
        user=auditor,
        content_type=ack_type,
        object_id=str(acknowledgements[0]),
        object_repr="Anna · New prices",
        action_flag=1,
        action_time=NOW,
    )
    return {
        "anna": anna.pk, "bert": bert.pk, "prices": prices.pk, "hours": hours.pk,
        "acknowledgements": acknowledgements, "auditor": auditor.pk, "log": log.pk, "ack_type": ack_type.pk,
    }  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_moving_acknowledgements_to_the_workforce_keeps_every_row_the_rule_and_the_permissions(upgrade):
    # given a database at the migrations before the move, with acknowledgements written the old way
    old = _migrate(before_the_move=True)
    assert OLD_TABLE in connection.introspection.table_names()
    written = _yesterdays_database(old)

    # when it is migrated to the latest
    _migrate()

    # then every acknowledgement is there, in the workforce's table, with its notice, agent and moment
    tables = set(connection.introspection.table_names())
    assert NEW_TABLE in tables
    assert OLD_TABLE not in tables
    anna, bert = Agent.objects.get(pk=written["anna"]), Agent.objects.get(pk=written["bert"])
    prices, hours = ChangeNotice.objects.get(pk=written["prices"]), ChangeNotice.objects.get(pk=written["hours"])
    rows = ChangeNoticeAcknowledgement.objects.order_by("pk")
    assert [row.pk for row in rows] == written["acknowledgements"]
    assert [(row.notice, row.agent, row.acknowledged_at) for row in rows] == [
        (prices, anna, NOW - dt.timedelta(days=3)),
        (prices, bert, NOW - dt.timedelta(days=2)),
        (hours, anna, NOW - dt.timedelta(hours=5)),
    ]
    assert sorted(prices.acknowledgements.values_list("agent__display_name", flat=True)) == ["Anna", "Bert"]
    # an agent still acknowledges a notice once, and a new row comes after the old ones
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeNoticeAcknowledgement.objects.create(notice=hours, agent=anna)
    newer = ChangeNoticeAcknowledgement.objects.create(notice=hours, agent=bert)
    assert newer.pk > max(written["acknowledgements"])
    # the content type was relabelled, not made anew: the permission and the log entry follow the model
    ack_type = ContentType.objects.get_for_model(ChangeNoticeAcknowledgement)
    assert (ack_type.pk, ack_type.app_label) == (written["ack_type"], "workforce")
    assert not ContentType.objects.filter(app_label="tenants", model="changenoticeacknowledgement").exists()
    auditor = get_user_model().objects.get(pk=written["auditor"])
    assert auditor.has_perm("workforce.view_changenoticeacknowledgement")
    assert LogEntry.objects.get(pk=written["log"]).get_edited_object() == rows[0]


@pytest.mark.django_db(transaction=True)
def test_the_move_of_acknowledgements_can_be_undone_without_losing_a_row(upgrade):
    # given acknowledgements written the old way and moved to the workforce
    old = _migrate(before_the_move=True)
    written = _yesterdays_database(old)
    _migrate()

    # when the move is undone
    old = _migrate(before_the_move=True)

    # then they are back in the tenants' table, as they were
    tables = set(connection.introspection.table_names())
    assert OLD_TABLE in tables
    assert NEW_TABLE not in tables
    rows = old.get_model("tenants", "ChangeNoticeAcknowledgement").objects.order_by("pk")
    assert [(row.pk, row.notice_id, row.agent_id) for row in rows] == [
        (written["acknowledgements"][0], written["prices"], written["anna"]),
        (written["acknowledgements"][1], written["prices"], written["bert"]),
        (written["acknowledgements"][2], written["hours"], written["anna"]),
    ]
    ack_type = old.get_model("contenttypes", "ContentType").objects.get(pk=written["ack_type"])
    assert ack_type.app_label == "tenants"
