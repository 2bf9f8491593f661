"""Shifts: one agent's shifts never overlap, and the refusal says why."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests import factories
from workforce.models import Shift
from workforce.services import plan_shift, save_shift

UTC = dt.UTC


def at(day, hour, minute=0):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def planned(agent):
    return plan_shift(agent=agent, starts_at=at(23, 8), ends_at=at(23, 16))


def test_an_overlapping_shift_for_the_same_agent_is_refused_with_a_clear_error(agent, planned):
    with pytest.raises(ValidationError) as refusal:
        plan_shift(agent=agent, starts_at=at(23, 15), ends_at=at(23, 23))

    refused = "Anna already has a shift Mon 11/23/2026 8 a.m. UTC–4 p.m. UTC that overlaps this one."
    assert refused in refusal.value.messages
    assert Shift.objects.filter(agent=agent).count() == 1


def test_a_shift_inside_another_is_refused(agent, planned):
    with pytest.raises(ValidationError):
        plan_shift(agent=agent, starts_at=at(23, 10), ends_at=at(23, 12))


def test_back_to_back_shifts_do_not_overlap(agent, planned):
    plan_shift(agent=agent, starts_at=at(23, 16), ends_at=at(23, 22))

    assert Shift.objects.filter(agent=agent).count() == 2


def test_another_agent_may_work_the_same_hours(tenant, planned):
    colleague = factories.make_agent(trained_for=[tenant])

    plan_shift(agent=colleague, starts_at=at(23, 8), ends_at=at(23, 16))

    assert Shift.objects.on_at(at(23, 12)).count() == 2


def test_moving_a_shift_onto_another_is_refused_but_editing_it_in_place_is_fine(agent, planned):
    later = plan_shift(agent=agent, starts_at=at(24, 8), ends_at=at(24, 16))

    later.ends_at = at(24, 17)
    save_shift(shift=later)

    later.starts_at = at(23, 12)
    with pytest.raises(ValidationError):
        save_shift(shift=later)


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "message"),
    [
        (at(25, 16), at(25, 8), "A shift must end after it starts."),
        (at(25, 8), at(25, 8), "A shift must end after it starts."),
        (at(25, 6), at(25, 23), "A shift can last at most 16 hours."),
    ],
)
def test_impossible_shifts_are_refused(agent, starts_at, ends_at, message):
    with pytest.raises(ValidationError) as refusal:
        plan_shift(agent=agent, starts_at=starts_at, ends_at=ends_at)

    assert message in refusal.value.messages


def test_the_database_itself_refuses_a_shift_that_ends_before_it_starts(agent):
    with pytest.raises(IntegrityError), transaction.atomic():
        Shift.objects.create(agent=agent, starts_at=at(25, 16), ends_at=at(25, 8))
