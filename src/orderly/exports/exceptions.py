"""Errors of the exports domain.

NotFoundError (404)
└── ExportNotFoundError (EXPORT_NOT_FOUND: also an export past its 24 h)
ConflictError (409)
└── ExportNotReadyError (EXPORT_NOT_READY: queued, running or failed)
"""

from __future__ import annotations

from orderly.core.errors import ConflictError, NotFoundError


class ExportNotFoundError(NotFoundError):
    code = "EXPORT_NOT_FOUND"
    resource = "Export"


class ExportNotReadyError(ConflictError):
    code = "EXPORT_NOT_READY"
    default_detail = "The export has no file to download yet."

    def __init__(self, status: str = "running") -> None:
        detail = (
            "The export failed; it has no file. Start a new export."
            if status == "failed"
            else f"The export is {status}; download it once it has succeeded."
        )
        super().__init__(detail)
