"""Retries: the schedule's delays with jitter, then none; and event-type filters."""

from __future__ import annotations

import random

import pytest

from orderly.webhooks.addresses import UrlPolicy
from orderly.webhooks.flows import matches
from orderly.webhooks.policy import DEFAULT_RETRY_SCHEDULE, WebhookPolicy, parse_schedule

POLICY = WebhookPolicy(
    url=UrlPolicy(allow_private_networks=False, require_https=True), rng=random.Random(7)
)


def test_the_default_schedule_is_the_specs() -> None:
    assert parse_schedule("5,300,1800,7200,18000,36000,36000") == DEFAULT_RETRY_SCHEDULE


def test_each_retry_waits_its_delay_give_or_take_a_fifth_then_there_is_none() -> None:
    for failures, base in enumerate(DEFAULT_RETRY_SCHEDULE, start=1):
        delays = [POLICY.retry_delay(failures) for _ in range(200)]
        assert all(d is not None and base * 0.8 <= d <= base * 1.2 for d in delays)
        assert len(set(delays)) > 1  # jittered: retries of many deliveries spread out
    assert POLICY.retry_delay(len(DEFAULT_RETRY_SCHEDULE) + 1) is None


@pytest.mark.parametrize("text", ["", "5,-1", "five", " , "])
def test_a_malformed_schedule_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"retry schedule|could not convert"):
        parse_schedule(text)


@pytest.mark.parametrize(
    ("filters", "event_type", "expected"),
    [
        (["*"], "order.created", True),
        (["order.*"], "order.created", True),
        (["order.*"], "orders.created", False),
        (["order.*"], "item.created", False),
        (["item.stock_low"], "item.stock_low", True),
        (["item.stock_low"], "item.created", False),
        (["item.created", "order.*"], "order.paid", True),
    ],
)
def test_filters_match_types_and_wildcards(
    filters: list[str], event_type: str, expected: bool
) -> None:
    assert matches(filters, event_type) is expected
