"""The demo's data files: read strictly, so a typo in a key is an error that names the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chatops.demo import description


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(description.DATA, folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_shipped_description_has_the_team_and_three_clients_two_of_them_live():
    demo = description.load()

    assert [tenant.slug for tenant in demo.tenants] == ["kotipuoti", "energia-fitness", "ledgerly"]
    assert [tenant.live for tenant in demo.tenants] == [True, True, False]
    assert len(demo.team.agents) == 6
    assert [agent.username for agent in demo.trained_for("kotipuoti")] == ["agent1", "agent2", "agent5"]
    # Kotipuoti's Friday runs past midnight, and its scripts speak Finnish
    kotipuoti = demo.tenants[0]
    friday = next(hours for hours in kotipuoti.hours if hours.weekday == 4)
    assert friday.closes < friday.opens
    assert kotipuoti.script.topics[0].pairs[0].visitor == "Moi, kauanko toimitus kestää?"


def test_an_unknown_key_names_the_file_and_the_key(data):
    edit(data / "kotipuoti.toml", "widget_seen = true", "widget_seen = true\nwidget_sen = false")

    with pytest.raises(description.DescriptionError, match=r"kotipuoti\.toml: unknown keys widget_sen\."):
        description.load.__wrapped__(data)


def test_a_missing_key_inside_a_topic_is_named_with_its_place(data):
    edit(data / "energia-fitness.toml", "weight = 14\n", "")

    with pytest.raises(description.DescriptionError, match=r"energia-fitness\.toml\.script\.topics\[0\]: “weight”"):
        description.load.__wrapped__(data)


def test_an_agent_trained_for_an_unknown_client_is_refused(data):
    edit(data / "team.toml", 'trained_for = ["kotipuoti"] }', 'trained_for = ["kotipuoti", "kotipuodi"] }')

    with pytest.raises(description.DescriptionError, match="agent1 is trained for unknown clients"):
        description.load.__wrapped__(data)


def test_a_live_client_needs_its_traffic_and_its_chats(data):
    edit(data / "ledgerly.toml", "live = false", "live = true")

    with pytest.raises(description.DescriptionError, match="a live client needs"):
        description.load.__wrapped__(data)


def test_a_report_refused_only_for_now_is_refused_as_it_would_be_sent_later(data):
    edit(data / "kotipuoti.toml", "code = 552", "code = 452")

    with pytest.raises(description.DescriptionError, match="refusal for good"):
        description.load.__wrapped__(data)
