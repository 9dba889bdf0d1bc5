"""Base schemas: one place for the pydantic configuration of every API model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputSchema(BaseModel):
    """Request bodies: unknown fields are an error, so nobody can slip in ``role`` or
    ``tenant_id`` (mass assignment) and typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadSchema(BaseModel):
    """Response bodies, built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)
