from __future__ import annotations

from orderly.core.errors import ConflictError, NotFoundError


class ItemNotFoundError(NotFoundError):
    code = "ITEM_NOT_FOUND"
    resource = "Item"


class SkuConflictError(ConflictError):
    code = "SKU_CONFLICT"
    default_detail = "An item with this SKU already exists."

    def __init__(self, sku: str) -> None:
        super().__init__(f"An item with SKU '{sku}' already exists.")


class ConcurrentUpdateError(ConflictError):
    code = "CONCURRENT_UPDATE"
    default_detail = "The item kept changing while this request tried to update it; retry."
