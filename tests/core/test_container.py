"""The container of long-lived parts: typed keys, and closing newest first."""

from __future__ import annotations

import pytest

from orderly.core.container import Container, Key

NUMBER: Key[int] = Key("number")
NAME: Key[str] = Key("name")


def test_a_part_is_read_back_under_its_key() -> None:
    container = Container()
    container.add(NUMBER, 7)
    assert container[NUMBER] == 7
    assert NUMBER in container
    assert NAME not in container


def test_a_key_provided_twice_is_refused() -> None:
    container = Container()
    container.add(NUMBER, 1)
    with pytest.raises(ValueError, match="number is provided twice"):
        container.add(NUMBER, 2)


def test_a_missing_part_names_its_key_and_where_providers_are_listed() -> None:
    with pytest.raises(LookupError, match=r"nothing provides name: .*PROVIDERS"):
        _ = Container()[NAME]


async def test_parts_close_newest_first_and_a_failing_close_stops_no_other() -> None:
    closed: list[str] = []

    async def close_database() -> None:
        closed.append("database")

    def close_broken() -> None:
        closed.append("broken")
        raise RuntimeError("cannot close")

    async def close_tasks() -> None:
        closed.append("tasks")

    container = Container()
    container.add(Key[str]("database"), "db", close=close_database)
    container.add(Key[str]("broken"), "x", close=close_broken)
    container.add(Key[str]("tasks"), "t", close=close_tasks)
    await container.aclose()
    assert closed == ["tasks", "broken", "database"]


async def test_a_closed_container_holds_no_part() -> None:
    container = Container()
    container.add(NUMBER, 1)
    await container.aclose()
    assert NUMBER not in container
