"""The auth routes are public: their service is opened for no principal."""

from __future__ import annotations

from typing import Annotated

from orderly.auth.service import AuthService
from orderly.core.dependencies import service

AuthPublicService = Annotated[AuthService, service(AuthService)]
