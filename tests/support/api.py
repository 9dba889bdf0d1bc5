"""Talking to the API as clients do: register, log in, make users and keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "correct-horse-battery"


@dataclass
class Account:
    tenant_id: str
    user_id: str
    email: str
    access_token: str
    refresh_token: str
    password: str = PASSWORD
    role: str = "owner"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", data={"username": email, "password": password})


async def register(client: httpx.AsyncClient, tenant_name: str = "Acme") -> Account:
    email = unique_email("owner")
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "tenant_name": tenant_name,
            "email": email,
            "password": PASSWORD,
            "full_name": "Olive Owner",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    tokens = (await login(client, email)).json()
    return Account(
        tenant_id=body["tenant"]["id"],
        user_id=body["user"]["id"],
        email=email,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


async def add_user(client: httpx.AsyncClient, owner: Account, role: str) -> Account:
    email = unique_email(role)
    response = await client.post(
        "/api/v1/users",
        headers=owner.headers,
        json={"email": email, "password": PASSWORD, "full_name": f"A {role}", "role": role},
    )
    assert response.status_code == 201, response.text
    tokens = (await login(client, email)).json()
    return Account(
        tenant_id=owner.tenant_id,
        user_id=response.json()["id"],
        email=email,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        role=role,
    )


async def add_api_key(
    client: httpx.AsyncClient, owner: Account, scopes: list[str], name: str = "integration"
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/api-keys", headers=owner.headers, json={"name": name, "scopes": scopes}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def key_headers(raw_key: str) -> dict[str, str]:
    return {"X-API-Key": raw_key}


async def add_item(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    stock: int = 10,
    price: str = "12.50",
    currency: str = "USD",
    name: str = "Widget",
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/items",
        headers=headers,
        json={
            "sku": f"SKU-{uuid.uuid4().hex[:10]}",
            "name": name,
            "price": price,
            "currency": currency,
            "stock": stock,
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def stock_of(client: httpx.AsyncClient, headers: dict[str, str], item_id: str) -> int:
    response = await client.get(f"/api/v1/items/{item_id}", headers=headers)
    assert response.status_code == 200, response.text
    stock: int = response.json()["stock"]
    return stock


async def place_order(
    client: httpx.AsyncClient, headers: dict[str, str], lines: list[tuple[str, int]]
) -> httpx.Response:
    return await client.post(
        "/api/v1/orders",
        headers=headers,
        json={"lines": [{"item_id": item_id, "quantity": qty} for item_id, qty in lines]},
    )
