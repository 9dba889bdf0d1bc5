"""``/api/v1/exports`` (SPEC "Exports"): ask for an export (202), follow it (JSON or
SSE), download its CSV (streamed from the database, a chunk at a time)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Response, status
from fastapi.responses import StreamingResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from orderly.core.access import SCOPE_GUARD_ERRORS
from orderly.core.pagination import Cursor, InvalidCursorError, Limit, Page
from orderly.core.responses import TENANT_DATA_HEADERS, Responses, problems, with_headers
from orderly.exports.dependencies import ExportsService
from orderly.exports.exceptions import ExportNotFoundError, ExportNotReadyError
from orderly.exports.schemas import FINISHED, ExportCreate, ExportId, ExportProgress, ExportRead
from orderly.idempotency.dependencies import IDEMPOTENT
from orderly.idempotency.exceptions import IDEMPOTENCY_ERRORS
from orderly.tenants.exceptions import PlanUpgradeRequiredError

router = APIRouter(prefix="/exports", tags=["exports"])

HEARTBEAT_SECONDS = 15


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start an export (written in the background; follow it, then download)",
    description="Owners, admins and `read:orders` keys; members get 403 (an export holds "
    "every order of the tenant). Plans without exports: 402 `PLAN_UPGRADE_REQUIRED`.",
    responses=with_headers(202, "Location")
    | problems(*SCOPE_GUARD_ERRORS, PlanUpgradeRequiredError, *IDEMPOTENCY_ERRORS),
    dependencies=[IDEMPOTENT],
)
async def create_export(
    body: ExportCreate, exports: ExportsService, response: Response
) -> ExportRead:
    export = await exports.create(body)
    response.headers["Location"] = f"/api/v1/exports/{export.id}"
    return export


@router.get(
    "",
    summary="The exports of the last 24 h, newest first",
    responses=problems(*SCOPE_GUARD_ERRORS, InvalidCursorError),
)
async def list_exports(
    exports: ExportsService, limit: Limit = 20, cursor: Cursor = None
) -> Page[ExportRead]:
    return await exports.list(limit=limit, cursor=cursor)


@router.get(
    "/{export_id}",
    summary="One export: its status and progress",
    responses=problems(*SCOPE_GUARD_ERRORS, ExportNotFoundError),
)
async def get_export(export_id: ExportId, exports: ExportsService) -> ExportRead:
    return await exports.get(export_id)


PROGRESS_RESPONSE: Responses = {
    200: {
        "description": "`text/event-stream`: an `event: progress` (data `{status, progress, "
        "rows}`) now and on each change, then one `event: succeeded` or `event: failed` "
        "(data: the export) and the stream ends.",
        "content": {"text/event-stream": {}},
    }
}


@router.get(
    "/{export_id}/progress",
    summary="Follow an export as Server-Sent Events until it ends",
    response_class=EventSourceResponse,
    responses=PROGRESS_RESPONSE | problems(*SCOPE_GUARD_ERRORS, ExportNotFoundError),
)
async def follow_export(export_id: ExportId, exports: ExportsService) -> EventSourceResponse:
    changes = await exports.follow(export_id)
    return EventSourceResponse(_events(changes), ping=HEARTBEAT_SECONDS, sep="\n")


async def _events(changes: AsyncIterator[ExportRead]) -> AsyncIterator[ServerSentEvent]:
    async for export in changes:
        progress = ExportProgress(status=export.status, progress=export.progress, rows=export.rows)
        yield ServerSentEvent(data=progress.model_dump_json(), event="progress")
        if export.status in FINISHED:
            yield ServerSentEvent(data=export.model_dump_json(), event=export.status.value)


DOWNLOAD_RESPONSE: Responses = {
    200: {
        "description": 'The CSV (README "Exports" lists the columns), streamed.',
        # No schema: a file of any length (its columns are in the README).
        "content": {"text/csv": {}},
        "headers": {
            "Content-Disposition": {
                "description": '`attachment; filename="orders-<time>-<id>.csv"`.',
                "schema": {"type": "string", "maxLength": 128},
            }
        },
    }
}


@router.get(
    "/{export_id}/download",
    summary="Download an export's CSV (kept 24 h)",
    description="409 `EXPORT_NOT_READY` until the export has succeeded; 404 once it has "
    "expired (24 h), as for an unknown id.",
    response_class=StreamingResponse,
    responses=DOWNLOAD_RESPONSE
    | problems(*SCOPE_GUARD_ERRORS, ExportNotFoundError, ExportNotReadyError),
)
async def download_export(export_id: ExportId, exports: ExportsService) -> StreamingResponse:
    file = await exports.download(export_id)
    return StreamingResponse(
        file.chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "Content-Length": str(file.byte_size),
            # A Response returned as is skips the headers dependencies set: tenant data.
            **TENANT_DATA_HEADERS,
        },
    )
