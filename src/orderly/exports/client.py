"""``orderly exports create``: a terminal client of the exports API.

Asks for an export (with an ``Idempotency-Key``, so a retried request starts one
export), follows ``/progress`` with a progress bar, reconnecting if the stream drops,
then downloads the file. The server does the work; this only watches and saves.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn

from orderly.live.tail import frames

EXPORTS_PATH = "/api/v1/exports"
_FILENAME = re.compile(r'filename="([A-Za-z0-9._-]+)"')


class ExportRefusedError(Exception):
    """The server refused (bad key, plan, filters) or the export failed: one line."""


def _refusal(response: httpx.Response, body: bytes) -> ExportRefusedError:
    try:
        problem: dict[str, Any] = json.loads(body or b"{}")
    except ValueError:
        problem = {}
    code, detail = problem.get("code", ""), problem.get("detail", "")
    return ExportRefusedError(f"{response.status_code} {code}: {detail}".strip())


@dataclass
class ExportCommand:
    base_url: str
    headers: dict[str, str]
    filters: dict[str, str] = field(default_factory=dict)
    output: Path | None = None

    async def run(self, console: Console) -> tuple[Path, int]:
        """The saved file and its data rows."""
        timeout = httpx.Timeout(30.0, read=None)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=timeout) as client:
            export = await self._create(client)
            console.print(f"Export {export['id']} queued.", highlight=False)
            finished = await self._follow(client, console, export["id"])
            if finished["status"] != "succeeded":
                raise ExportRefusedError(f"the export failed: {finished.get('error')}")
            path = await self._download(client, console, finished["download_url"])
        return path, int(finished["rows"])

    async def _create(self, client: httpx.AsyncClient) -> dict[str, Any]:
        headers = self.headers | {"Idempotency-Key": uuid.uuid4().hex}
        body = {"kind": "orders_csv", **self.filters}
        response = await client.post(EXPORTS_PATH, headers=headers, json=body)
        if response.status_code != 202:
            raise _refusal(response, response.content)
        created: dict[str, Any] = response.json()
        return created

    async def _follow(
        self, client: httpx.AsyncClient, console: Console, export_id: str
    ) -> dict[str, Any]:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rows]} rows"),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("queued", total=100, rows=0)
            while True:
                try:
                    return await self._stream(client, export_id, bar, task)
                except (httpx.TransportError, httpx.RemoteProtocolError):
                    continue  # the export goes on on the server: follow it again

    async def _stream(
        self, client: httpx.AsyncClient, export_id: str, bar: Progress, task: TaskID
    ) -> dict[str, Any]:
        path = f"{EXPORTS_PATH}/{export_id}/progress"
        async with client.stream("GET", path, headers=self.headers) as response:
            if response.status_code != 200:
                raise _refusal(response, await response.aread())
            async for frame in frames(response.aiter_lines()):
                data: dict[str, Any] = json.loads(frame.data)
                if frame.event == "progress":
                    bar.update(
                        task,
                        completed=data["progress"],
                        description=data["status"],
                        rows=data["rows"],
                    )
                elif frame.event in {"succeeded", "failed"}:
                    return data
        raise httpx.RemoteProtocolError("the progress stream ended early")

    async def _download(self, client: httpx.AsyncClient, console: Console, url: str) -> Path:
        async with client.stream("GET", url, headers=self.headers) as response:
            if response.status_code != 200:
                raise _refusal(response, await response.aread())
            found = _FILENAME.search(response.headers.get("content-disposition", ""))
            path = self.output or Path(found.group(1) if found else "export.csv")
            size = int(response.headers.get("content-length", 0)) or None
            columns = (TextColumn("download"), BarColumn(), DownloadColumn())
            with Progress(*columns, console=console) as bar, path.open("wb") as out:
                task = bar.add_task("download", total=size)
                # Decoded (the server gzips when asked); the bar counts bytes received.
                async for data in response.aiter_bytes():
                    out.write(data)
                    bar.update(task, completed=response.num_bytes_downloaded)
        return path
