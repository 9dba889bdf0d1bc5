from __future__ import annotations

from orderly.core.errors import ServiceUnavailableError


class DependencyUnavailableError(ServiceUnavailableError):
    code = "DEPENDENCY_UNAVAILABLE"
    default_detail = "Not ready: a dependency did not answer."

    def __init__(self, failing: list[str]) -> None:
        super().__init__(
            f"Not ready: {', '.join(failing)} did not answer.", headers={"Retry-After": "5"}
        )
