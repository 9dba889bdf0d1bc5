"""The stable name of the app factory: ``orderly.main:create_app`` (what ``orderly
serve`` hands to uvicorn, and what deployments may name). It lives in ``orderly.app``."""

from orderly.app import create_app

__all__ = ["create_app"]
