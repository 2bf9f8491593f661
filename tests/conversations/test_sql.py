"""The SQL that PostgreSQL and SQLite write differently (conversations/sql.py), tested on each database.

The suite runs on PostgreSQL; the last test runs this module again on SQLite (tests/sqlite_rerun.py), so
every helper is checked on both.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import NotSupportedError, connection, transaction
from django.db.models.expressions import RawSQL

from conversations import sql, visits
from conversations.models import Conversation, Message, Visitor, VisitorMark, VisitorTally
from tests.sqlite_rerun import assert_all_passed

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]


def quoted(model, *columns: str) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), [quote(column) for column in columns]


@pytest.fixture
def visitor(tenant) -> Visitor:
    return visits.identify_visitor(tenant=tenant, token="", now=NOW)[0]


@pytest.fixture
def chat(tenant, visitor) -> Conversation:
    return Conversation.objects.create(tenant=tenant, visitor=visitor, started_at=NOW)


def test_the_vendor_is_the_database_in_use_and_no_other_is_accepted(monkeypatch):
    # given / when / then the database in use is named, and one chatops is not written for is refused
    assert sql.vendor() == connection.vendor
    assert sql.is_postgresql() is (connection.vendor == "postgresql")
    monkeypatch.setattr(connection, "vendor", "mysql")
    with pytest.raises(NotSupportedError):
        sql.vendor()


def test_the_share_lock_clause_is_postgresqls_and_reads_on_each_database(tenant):
    # given the clause for this database
    clause = sql.share_lock()

    # when a row is read with it in a transaction
    table = connection.ops.quote_name(tenant._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT slug FROM {table} WHERE id = %s" + clause, [tenant.pk])  # noqa: S608
        row = cursor.fetchone()

    # then it read the row, locking it on PostgreSQL only
    assert row == (tenant.slug,)
    assert clause == (" FOR SHARE" if connection.vendor == "postgresql" else "")


def test_the_seconds_between_two_moments_are_counted_by_the_database_to_the_millisecond(chat):
    # given a chat closed 90.25 seconds after it started
    Conversation.objects.filter(pk=chat.pk).update(closed_at=NOW + dt.timedelta(seconds=90, milliseconds=250))

    # when the database counts the seconds between the two columns
    table, (closed, started) = quoted(Conversation, "closed_at", "started_at")
    seconds = sql.seconds_sql(connection.vendor, later=f"{table}.{closed}", earlier=f"{table}.{started}")
    (counted,) = Conversation.objects.filter(pk=chat.pk).annotate(s=RawSQL(seconds, [])).values_list("s", flat=True)  # noqa: S611

    # then it is the time between them
    assert counted == pytest.approx(90.25, abs=0.001)
    with pytest.raises(NotSupportedError):
        sql.seconds_sql("oracle", later="a", earlier="b")


def test_a_batch_binds_no_more_parameters_than_the_database_takes():
    # given / when / then PostgreSQL takes the batch asked for; SQLite as many rows as its parameters allow
    if connection.vendor == "postgresql":
        assert sql.batch_size_for(values_per_row=6, wanted=5000) == 5000
    else:
        assert sql.batch_size_for(values_per_row=6, wanted=5000) == sql.SQLITE_MAX_PARAMETERS // 6
        assert sql.batch_size_for(values_per_row=1, wanted=10) == 10
        assert sql.batch_size_for(values_per_row=5000, wanted=10) == 1


def test_analyze_gives_postgresqls_planner_the_rows_and_does_nothing_on_sqlite(tenant):
    # given three visitors written since the table was last analyzed
    for _number in range(3):
        visits.identify_visitor(tenant=tenant, token="", now=NOW)

    # when the table is analyzed
    table, _columns = quoted(Visitor)
    sql.analyze([table])

    # then PostgreSQL's statistics count them (SQLite has none to keep: the call only must not fail)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Visitor._meta.db_table])
            assert cursor.fetchone() == (3,)


def test_inserting_ignores_the_rows_a_unique_constraint_holds_and_returns_only_the_new(tenant, visitor):
    # given a visitor's mark for one day
    table, columns = quoted(VisitorMark, "tenant_id", "zone", "span", "first_day", "returning", "visitor_id")
    day, week = dt.date(2026, 11, 30), dt.date(2026, 11, 30)
    first = sql.insert_ignoring_conflicts(
        table=table, columns=columns, rows=[(tenant.pk, "UTC", "day", day, False, visitor.pk)], returning=columns[2:3]
    )

    # when the same mark and a new one are inserted
    second = sql.insert_ignoring_conflicts(
        table=table,
        columns=columns,
        rows=[(tenant.pk, "UTC", "day", day, False, visitor.pk), (tenant.pk, "UTC", "week", week, False, visitor.pk)],
        returning=columns[2:3],
    )

    # then only the new one is inserted and returned
    assert (first, second) == ([("day",)], [("week",)])
    assert VisitorMark.objects.for_tenant(tenant).count() == 2


def test_inserting_or_adding_adds_to_the_row_of_the_same_key(tenant):
    # given a tally of one day
    table, columns = quoted(VisitorTally, "tenant_id", "zone", "span", "first_day", "visitors", "returning_visitors")
    day = dt.date(2026, 11, 30)
    sql.insert_or_add(table=table, columns=columns, key=columns[:4], rows=[(tenant.pk, "UTC", "day", day, 2, 1)])

    # when the same day gets more, beside a new week
    rows = [(tenant.pk, "UTC", "day", day, 3, 0), (tenant.pk, "UTC", "week", day, 1, 1)]
    sql.insert_or_add(table=table, columns=columns, key=columns[:4], rows=rows)

    # then the day adds up and the week is new
    tallies = VisitorTally.objects.for_tenant(tenant).order_by("span")
    assert list(tallies.values_list("span", "visitors", "returning_visitors")) == [("day", 5, 1), ("week", 1, 1)]


def bump_and_store(chat: Conversation, *, client_msg_id: str, status_not: str = "closed") -> tuple | None:
    conversations, messages = Conversation._meta.db_table, Message._meta.db_table
    return sql.update_then_insert(
        update=(
            f"UPDATE {conversations} SET last_seq = last_seq + 1 WHERE id = %s AND status <> %s "  # noqa: S608
            "RETURNING id, tenant_id, last_seq, status"
        ),
        update_params=[chat.pk, status_not],
        table=messages,
        columns=["tenant_id", "conversation_id", "seq", "sender", "agent_id", "body", "client_msg_id", "created_at"],
        copied=["tenant_id", "id", "last_seq"],
        values=[
            ("visitor", "varchar(8)"),
            (None, "bigint"),
            ("Hei!", "text"),
            (client_msg_id, "varchar(64)"),
            (Message._meta.get_field("created_at").get_db_prep_save(NOW, connection), "timestamp with time zone"),
        ],
    )


def test_an_update_and_the_insert_made_from_it_are_stored_together(chat):
    # given an open chat with no message
    # when its sequence is bumped and a message made from the bumped row
    row = bump_and_store(chat, client_msg_id="m-1")

    # then the message has the new number, and the call returns its id and the updated row
    message = Message.objects.get(conversation=chat)
    assert row == (message.pk, chat.pk, chat.tenant_id, 1, "waiting")
    assert (message.seq, message.tenant_id, message.body, message.created_at) == (1, chat.tenant_id, "Hei!", NOW)
    chat.refresh_from_db()
    assert chat.last_seq == 1


def test_an_update_that_matches_nothing_inserts_nothing(chat):
    # given a closed chat
    Conversation.objects.filter(pk=chat.pk).update(status=Conversation.Status.CLOSED)

    # when / then the update matches no row, and no message is stored
    assert bump_and_store(chat, client_msg_id="m-1") is None
    assert not Message.objects.filter(conversation=chat).exists()


def test_an_insert_that_meets_a_unique_constraint_undoes_its_update(chat):
    # given a chat whose next number is taken already (a twin that raced this one stored it)
    Message.objects.create(tenant=chat.tenant, conversation=chat, seq=1, sender="visitor", body="twin")

    # when the bump and the insert are tried, in a transaction and outside one
    with transaction.atomic():
        inside = bump_and_store(chat, client_msg_id="m-2")
        # the transaction stays usable
        assert Message.objects.filter(conversation=chat).count() == 1
    outside = bump_and_store(chat, client_msg_id="m-3")

    # then nothing is stored and the sequence did not move
    assert (inside, outside) == (None, None)
    chat.refresh_from_db()
    assert chat.last_seq == 0
    assert Message.objects.filter(conversation=chat).count() == 1


def test_every_helper_works_on_sqlite_too(sqlite_rerun):
    assert_all_passed(sqlite_rerun.of(__file__))
