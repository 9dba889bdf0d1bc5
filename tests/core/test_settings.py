"""Configuration rules (SPEC "Configuration")."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orderly.config import Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "secret", [None, "changeme", "short-secret", "CHANGEME", "x" * 31], ids=repr
)
def test_production_refuses_a_weak_or_missing_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="APP_SECRET_KEY must be at least 32"):
        _settings(environment="production", secret_key=secret)


def test_production_accepts_a_strong_secret() -> None:
    settings = _settings(environment="production", secret_key="k" * 20 + "0123456789abcdef")
    assert settings.is_production
    assert settings.effective_log_format == "json"


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
