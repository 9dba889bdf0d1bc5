"""The versioned API router: every domain router is mounted here under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

api_router = APIRouter(prefix="/api/v1")
