"""The wall of fame: the week's best-rated chats, best first, never another tenant's.

The week is Monday 2 – Sunday 8 November 2026 in Helsinki; the clock is Wednesday 4 November 14:00.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from conversations.models import Conversation
from reporting import selectors
from reporting.periods import Period
from tests import factories
from tests.reporting.histories import make_chat

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
NOW = dt.datetime(2026, 11, 4, 14, 0, tzinfo=HELSINKI)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]
WEEK = Period.week(NOW, zone=HELSINKI)


def helsinki(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


def rated(tenant, started, rating, comment="", *, rated_at=None, outcome="resolved", agent=None) -> Conversation:
    conversation = make_chat(tenant, started, replied=5, assigned=2, closed=600, outcome=outcome, agent=agent)
    Conversation.objects.filter(pk=conversation.pk).update(
        rating=rating, rating_comment=comment, rated_at=rated_at or started + dt.timedelta(minutes=11)
    )
    return conversation


@pytest.fixture
def anna(tenant):
    return factories.make_agent(trained_for=[tenant], display_name="Anna")


@pytest.fixture
def ratings(tenant, other_tenant, anna):
    """The tenant's (Helsinki) chats of the week and around it, and the other tenant's."""
    return {
        "five, commented": rated(tenant, helsinki(2026, 11, 2, 10), 5, "Lovely <b>help</b>", agent=anna),
        "five, silent": rated(tenant, helsinki(2026, 11, 4, 9), 5),
        "four, commented": rated(tenant, helsinki(2026, 11, 3, 10), 4, "Quick and kind", agent=anna),
        "five, rated last": rated(
            tenant, helsinki(2026, 11, 2, 8), 5, "Best chat ever", rated_at=helsinki(2026, 11, 4, 12)
        ),
        "three": rated(tenant, helsinki(2026, 11, 3, 11), 3, "Fine"),
        "spam rated five": rated(tenant, helsinki(2026, 11, 3, 12), 5, "Buy now", outcome="spam"),
        "last week": rated(tenant, helsinki(2026, 10, 30, 10), 5, "Last week's star"),
        "other tenant": rated(other_tenant, helsinki(2026, 11, 3, 10), 5, "Dziękuję"),
    }


def test_five_stars_come_first_the_commented_ones_first_newest_rating_first(tenant, ratings):
    # when
    fame = selectors.wall_of_fame(tenant, WEEK)

    # then
    assert fame == [
        ratings["five, rated last"],
        ratings["five, commented"],
        ratings["five, silent"],
        ratings["four, commented"],
    ]


def test_the_wall_keeps_to_its_limit_and_carries_what_a_report_shows(tenant, ratings, anna):
    # when
    fame = selectors.wall_of_fame(tenant=tenant, period=WEEK, limit=2)

    # then
    assert fame == [ratings["five, rated last"], ratings["five, commented"]]
    assert (fame[1].rating, fame[1].rating_comment, fame[1].agent, fame[1].tenant) == (
        5,
        "Lovely <b>help</b>",
        anna,
        tenant,
    )


def test_another_tenants_ratings_and_other_weeks_never_count(tenant, other_tenant, ratings):
    # when
    ours = selectors.wall_of_fame(tenant, WEEK)
    theirs = selectors.wall_of_fame(other_tenant, Period.week(NOW, zone=other_tenant.zone))
    last_week = selectors.wall_of_fame(tenant, WEEK.previous())

    # then
    assert ratings["other tenant"] not in ours
    assert theirs == [ratings["other tenant"]]
    assert last_week == [ratings["last week"]]


def test_an_agent_sees_only_the_tenants_they_are_trained_for(tenant, other_tenant, ratings, anna):
    # when
    this_week = selectors.wall_of_fame_for_agent(agent=anna, now=NOW)
    last_week = selectors.wall_of_fame_for_agent(agent=anna, now=NOW, weeks_back=1)
    untrained = factories.make_agent(trained_for=[])

    # then
    assert this_week == selectors.wall_of_fame(tenant, WEEK)
    assert last_week == [ratings["last week"]]
    assert selectors.wall_of_fame_for_agent(agent=untrained, now=NOW) == []


# --- The page -------------------------------------------------------------------------------------


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))


def test_an_agent_sees_the_wall_with_the_visitors_words_escaped(client, ratings, anna, frozen_now):
    # given
    client.force_login(anna.user)

    # when
    response = client.get("/console/fame/")

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lovely &lt;b&gt;help&lt;/b&gt;" in page
    assert "<b>help</b>" not in page
    assert "Best chat ever" in page
    assert "Last week&#x27;s star" in page
    assert "Dziękuję" not in page
    assert "Buy now" not in page
    assert f'data-conversation="{ratings["three"].pk}"' not in page
    assert 'href="/console/"' in page


@pytest.mark.parametrize("who", ["client user", "operations manager"])
def test_the_wall_is_for_agents_only(client, tenant, ratings, who, ops_manager):
    # given
    user = factories.make_client_user(tenant=tenant).user if who == "client user" else ops_manager
    client.force_login(user)

    # when
    response = client.get("/console/fame/")

    # then
    assert response.status_code == 403
    assert "Best chat ever" not in response.content.decode()
