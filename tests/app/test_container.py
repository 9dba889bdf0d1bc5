"""The composition root opens the same parts with or without HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from orderly.app import open_container
from orderly.app.container import PROVIDERS
from orderly.config import Settings
from orderly.core.access import API_KEYS, BEARER_TOKENS
from orderly.core.container import Container, Key
from orderly.core.database import DATABASE
from orderly.core.outbox import OUTBOX
from orderly.core.unit_of_work import unit_of_work
from orderly.tenants.models import Tenant
from orderly.tenants.service import TenantService
from tests.support.database import empty_all_tables


async def test_a_unit_of_work_runs_on_the_container_without_an_app(settings: Settings) -> None:
    async with open_container(settings) as container:
        async with unit_of_work(container) as uow:
            tenant = await TenantService(uow, container).create("No HTTP")
        async with container[DATABASE].session(write=False) as session:
            stmt = select(func.count()).select_from(Tenant).where(Tenant.id == tenant.id)
            assert (await session.execute(stmt)).scalar_one() == 1
        await empty_all_tables(container[DATABASE].engine)


async def test_each_domain_contributes_its_own_parts_to_the_container(
    settings: Settings,
) -> None:
    """Ports defined in core, filled by the domains that own them."""
    async with open_container(settings) as container:
        assert type(container[OUTBOX]).__module__ == "orderly.events.service"
        assert type(container[BEARER_TOKENS]).__module__ == "orderly.auth.bearer"
        assert type(container[API_KEYS]).__module__ == "orderly.api_keys.resolver"


async def test_opening_that_fails_half_way_closes_what_was_opened(settings: Settings) -> None:
    closed: list[str] = []
    probe: Key[str] = Key("probe")

    async def provide_probe(container: Container, settings: Settings) -> None:
        async def close() -> None:
            closed.append("probe")

        container.add(probe, "opened", close=close)

    async def provide_broken(container: Container, settings: Settings) -> None:
        raise RuntimeError("this domain cannot start")

    with pytest.raises(RuntimeError, match="cannot start"):
        async with open_container(settings, (*PROVIDERS, provide_probe, provide_broken)):
            pass
    assert closed == ["probe"]
