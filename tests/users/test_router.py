"""Users admin (SPEC "Roles")."""

from __future__ import annotations

import httpx

from tests.support.api import PASSWORD, add_user, login, register, unique_email


async def test_staff_add_users_and_list_them_page_by_page(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    created = [await add_user(client, owner, "member") for _ in range(3)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/users", headers=owner.headers, params=params)).json()
        seen += [user["id"] for user in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [u.user_id for u in reversed(created)] + [owner.user_id]


async def test_a_garbled_cursor_is_422(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    for cursor in ("garbage", "eyJhIjoxfQ.AAAA", "x" * 600):
        response = await client.get(
            "/api/v1/users", headers=owner.headers, params={"cursor": cursor}
        )
        assert response.status_code == 422, cursor
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_cursor_from_another_list_is_rejected(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    for _ in range(2):
        await client.post(
            "/api/v1/api-keys", headers=owner.headers, json={"name": "k", "scopes": ["read:items"]}
        )
    keys = (
        await client.get("/api/v1/api-keys", headers=owner.headers, params={"limit": 1})
    ).json()
    response = await client.get(
        "/api/v1/users", headers=owner.headers, params={"cursor": keys["next_cursor"]}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_CURSOR"


async def test_only_an_owner_changes_roles(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    member = await add_user(client, owner, "member")
    denied = await client.patch(
        f"/api/v1/users/{member.user_id}", headers=admin.headers, json={"role": "admin"}
    )
    assert denied.status_code == 403
    assert denied.json()["code"] == "OWNER_REQUIRED"
    self_promotion = await client.patch(
        f"/api/v1/users/{admin.user_id}", headers=admin.headers, json={"role": "owner"}
    )
    assert self_promotion.status_code == 403
    allowed = await client.patch(
        f"/api/v1/users/{member.user_id}", headers=owner.headers, json={"role": "admin"}
    )
    assert allowed.status_code == 200
    assert allowed.json()["role"] == "admin"


async def test_an_admin_cannot_create_an_owner(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    response = await client.post(
        "/api/v1/users",
        headers=admin.headers,
        json={"email": unique_email(), "password": PASSWORD, "full_name": "X", "role": "owner"},
    )
    assert response.status_code == 403


async def test_the_last_owner_can_be_neither_demoted_nor_deactivated(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    demote = await client.patch(
        f"/api/v1/users/{owner.user_id}", headers=owner.headers, json={"role": "admin"}
    )
    assert demote.status_code == 409
    assert demote.json()["code"] == "LAST_OWNER"
    deactivate = await client.delete(f"/api/v1/users/{owner.user_id}", headers=owner.headers)
    assert deactivate.status_code == 409
    me = await client.get("/api/v1/users/me", headers=owner.headers)
    assert me.json()["role"] == "owner"
    assert me.json()["is_active"] is True


async def test_with_two_owners_one_may_step_down(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    second = await add_user(client, owner, "owner")
    response = await client.patch(
        f"/api/v1/users/{owner.user_id}", headers=second.headers, json={"role": "member"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "member"


async def test_fields_outside_the_schema_are_rejected(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    member = await add_user(client, owner, "member")
    for body in (
        {"tenant_id": "ten_other"},
        {"password_hash": "x"},
        {"email": "a@b.co"},
        {"id": "usr_x"},
    ):
        response = await client.patch(
            f"/api/v1/users/{member.user_id}", headers=owner.headers, json=body
        )
        assert response.status_code == 422, body
    created = await client.post(
        "/api/v1/users",
        headers=owner.headers,
        json={
            "email": unique_email(),
            "password": PASSWORD,
            "full_name": "X",
            "tenant_id": "ten_other",
            "is_active": False,
        },
    )
    assert created.status_code == 422


async def test_deactivation_stops_tokens_at_once(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    member = await add_user(client, owner, "member")
    assert (await client.get("/api/v1/users/me", headers=member.headers)).status_code == 200
    response = await client.delete(f"/api/v1/users/{member.user_id}", headers=owner.headers)
    assert response.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=member.headers)).status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": member.refresh_token}
    )
    assert refresh.status_code == 401
    assert (await login(client, member.email)).status_code == 401
    shown = await client.get(f"/api/v1/users/{member.user_id}", headers=owner.headers)
    assert shown.json()["is_active"] is False


async def test_a_demoted_admin_loses_admin_rights_at_once(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    assert (await client.get("/api/v1/users", headers=admin.headers)).status_code == 200
    demoted = await client.patch(
        f"/api/v1/users/{admin.user_id}", headers=owner.headers, json={"role": "member"}
    )
    assert demoted.status_code == 200
    assert (await client.get("/api/v1/users", headers=admin.headers)).status_code == 401
    fresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert fresh.status_code == 401  # sessions ended: log in again
    relogin = (await login(client, admin.email)).json()["access_token"]
    response = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {relogin}"})
    assert response.status_code == 403


async def test_unknown_user_is_404(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    response = await client.get("/api/v1/users/usr_doesnotexist", headers=owner.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "USER_NOT_FOUND"
