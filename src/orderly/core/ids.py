"""Path ids (``/items/{item_id}``), typed once per kind and checked before any query.

An id is ``<prefix>_`` + 24 characters of lower-case Crockford base32
(``database.new_id``). Anything else cannot name a row, so it is answered at once,
without a database round trip, exactly as an unknown id is: 404 with the resource's
code (``ITEM_NOT_FOUND``...). Before, such ids went to the database as they came: a
NUL byte (``%00``) was a 500 on PostgreSQL, which refuses it in text, and a 404 on
SQLite.

The check raises a validation error of type ``UNKNOWN_ID`` that carries the 404's
code and detail; ``problems`` renders a request whose only invalid inputs are such
ids as that 404 (and leaves them out of a 422 for other fields, as before, when an
unknown id was only found after validation).

Usage, in a domain: ``ItemId = Annotated[str, id_path("itm", "item"),
id_check("itm", ItemNotFoundError)]``.
"""

from __future__ import annotations

from fastapi import Path
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from orderly.core.database import _ID_ALPHABET as ID_ALPHABET
from orderly.core.errors import NotFoundError

UNKNOWN_ID = "unknown_id"
ID_CHARACTERS = 24  # after the prefix and "_"
_PATTERN_CLASS = "[0-9a-hjkmnp-tv-z]"  # ID_ALPHABET as a JSON-schema character class


def _id_length(prefix: str) -> int:
    return len(prefix) + 1 + ID_CHARACTERS


def id_path(prefix: str, noun: str) -> object:
    """The ``Path`` parameter: its shape in the OpenAPI document (enforced by ``id_check``)."""
    length = _id_length(prefix)
    shape = {
        "pattern": f"^{prefix}_{_PATTERN_CLASS}{{{ID_CHARACTERS}}}$",
        "minLength": length,
        "maxLength": length,
    }
    return Path(
        description=f"The {noun}'s id. Any other shape answers 404, as an unknown id does.",
        examples=[f"{prefix}_{'0' * ID_CHARACTERS}"],
        json_schema_extra=shape,
    )


def id_check(prefix: str, not_found: type[NotFoundError]) -> AfterValidator:
    length, head = _id_length(prefix), f"{prefix}_"
    start = len(head)

    def check(value: str) -> str:
        # No regex: compare the length and prefix, strip the alphabet off the rest.
        if (
            len(value) == length
            and value.startswith(head)
            and not value[start:].strip(ID_ALPHABET)
        ):
            return value
        error = not_found(_printable(value))
        raise PydanticCustomError(
            UNKNOWN_ID, "{detail}", {"detail": error.detail, "code": error.code}
        )

    return AfterValidator(check)


def _printable(value: str) -> str:
    """The id as the 404 quotes it: control characters escaped, at most 100 shown."""
    shown = value if value.isprintable() else value.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= 100 else f"{shown[:100]}..."
