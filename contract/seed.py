"""Seed a running Orderly for the contract run: a tenant with its owner, that owner's
access token and an API key holding every scope. Prints shell assignments:
``eval "$(uv run python contract/seed.py http://127.0.0.1:PORT)"``."""

from __future__ import annotations

import shlex
import sys
import uuid

import httpx

PASSWORD = "contract-run-password"  # noqa: S105 - a throwaway account on a temp database
SCOPES = ["read:items", "write:items", "read:orders", "write:orders", "manage:webhooks"]


def main(base_url: str) -> None:
    email = f"contract-{uuid.uuid4().hex[:12]}@example.com"
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.post(
            "/api/v1/auth/register",
            json={
                "tenant_name": "Contract run",
                "email": email,
                "password": PASSWORD,
                "full_name": "Contract Owner",
            },
        ).raise_for_status()
        login = client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
        login.raise_for_status()
        token = login.json()["access_token"]
        key = client.post(
            "/api/v1/api-keys",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": "contract run", "scopes": SCOPES},
        )
        key.raise_for_status()
    sys.stdout.write(f"CONTRACT_TOKEN={shlex.quote(token)}\n")
    sys.stdout.write(f"CONTRACT_API_KEY={shlex.quote(key.json()['key'])}\n")


if __name__ == "__main__":
    main(sys.argv[1])
