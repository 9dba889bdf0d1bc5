"""Base schemas: one place for the pydantic configuration of every API model."""

from __future__ import annotations

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError


def no_nul(value: str | None) -> str | None:
    """Text may not hold U+0000: PostgreSQL refuses it in text columns and parameters
    (a 500 there, stored as is on SQLite), and no name, SKU or search needs it."""
    if value is not None and "\x00" in value:
        raise PydanticCustomError("null_character", "Must not contain the NUL character")
    return value


# For query, path and form parameters, which no base class covers:
# ``Annotated[str, Query(...), NoNul]``.
NoNul = AfterValidator(no_nul)


class InputSchema(BaseModel):
    """Request bodies: unknown fields are an error, so nobody can slip in ``role`` or
    ``tenant_id`` (mass assignment) and typos do not pass silently. No text field, of
    any subclass, may hold NUL (``no_nul``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_in_text(cls, value: object) -> object:
        # Every field, so that a new text field cannot forget it; nested models check
        # their own fields, lists of text are checked item by item.
        if isinstance(value, str):
            no_nul(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    no_nul(item)
        return value


class ReadSchema(BaseModel):
    """Response bodies, built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)
