"""Reaching the long-lived parts of a running test app (its container)."""

from __future__ import annotations

from typing import TypeVar

from fastapi import FastAPI

from orderly.core.container import Container, Key

T = TypeVar("T")


def part(app: FastAPI, key: Key[T]) -> T:
    container: Container = app.state.container
    return container[key]
