"""Configuration rules (SPEC "Configuration")."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from orderly.config import Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


WEAK_SECRETS = [
    None,
    "changeme",
    "short-secret",
    "CHANGEME",
    "x" * 31,
    "abcd" * 9,
    "supersecret" * 3,
    "password" * 4 + "x",
    "Tr0ub4dor&3xyz!" * 3,
    "correct horse battery staple horse",
    "k" * 20 + "0123456789abcdef",
]


@pytest.mark.parametrize("secret", WEAK_SECRETS, ids=repr)
def test_production_refuses_a_weak_or_missing_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="APP_SECRET_KEY must be at least 32 random"):
        _settings(environment="production", secret_key=secret)


def test_a_refused_secret_is_told_why_and_how_to_generate_one_but_never_shown() -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(environment="production", secret_key="supersecret" * 3)
    message = str(refused.value)
    assert "bits of entropy" in message
    assert "secrets.token_urlsafe(48)" in message
    assert "supersecret" not in message


@pytest.mark.parametrize(
    "generate",
    [
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_urlsafe(48),
        lambda: secrets.token_hex(32),
    ],
    ids=["token_urlsafe(32)", "token_urlsafe(48)", "token_hex(32)"],
)
def test_production_accepts_every_generated_key_of_32_bytes_or_more(
    generate: Callable[[], str],
) -> None:
    for _ in range(500):
        settings = _settings(environment="production", secret_key=generate())
        assert settings.is_production
    assert settings.effective_log_format == "json"


@pytest.mark.parametrize("weak", ["abcd" * 9, "password" * 4 + "x"], ids=repr)
def test_production_refuses_a_weak_previous_key(weak: str) -> None:
    with pytest.raises(ValidationError, match="APP_PREVIOUS_SECRET_KEYS entry 2 must be"):
        _settings(
            environment="production",
            secret_key=secrets.token_urlsafe(48),
            previous_secret_keys=[secrets.token_hex(32), weak],
        )


def test_production_accepts_strong_previous_keys() -> None:
    previous = [secrets.token_urlsafe(32), secrets.token_hex(32)]
    settings = _settings(
        environment="production",
        secret_key=secrets.token_urlsafe(48),
        previous_secret_keys=previous,
    )
    assert settings.verification_keys[1:] == previous


def test_production_refuses_debug() -> None:
    with pytest.raises(ValidationError, match="APP_DEBUG must be off"):
        _settings(environment="production", secret_key="s" * 48, debug=True)


def test_wildcard_cors_with_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="cannot be combined"):
        _settings(cors_origins=["*"], cors_allow_credentials=True)


def test_development_without_a_secret_generates_a_stable_one() -> None:
    settings = _settings()
    assert settings.secret_key is None
    assert len(settings.signing_key) >= 32
    assert settings.signing_key == settings.signing_key
    assert settings.effective_log_format == "console"


def test_list_settings_accept_commas_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("APP_ALLOWED_HOSTS", '["api.example", "*.example"]')
    settings = _settings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.allowed_hosts == ["api.example", "*.example"]


def test_previous_keys_are_accepted_for_verification() -> None:
    settings = _settings(secret_key="n" * 40, previous_secret_keys="o" * 40)
    assert settings.verification_keys == ["n" * 40, "o" * 40]
