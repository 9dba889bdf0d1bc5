from __future__ import annotations

from orderly.core.errors import NotFoundError


class ApiKeyNotFoundError(NotFoundError):
    code = "API_KEY_NOT_FOUND"
    resource = "API key"
