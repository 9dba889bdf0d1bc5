"""The composition root: the app factory, its lifespan and the container every
process (API, CLI, worker, tests) opens to get the long-lived parts."""

from orderly.app.container import open_container
from orderly.app.factory import create_app

__all__ = ["create_app", "open_container"]
