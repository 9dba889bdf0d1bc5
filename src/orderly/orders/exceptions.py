from __future__ import annotations

from collections.abc import Sequence

from orderly.core.errors import BusinessRuleError, ConflictError, FieldError, NotFoundError
from orderly.orders.states import OrderStatus


class OrderNotFoundError(NotFoundError):
    code = "ORDER_NOT_FOUND"
    resource = "Order"


class InvalidOrderStateError(ConflictError):
    code = "INVALID_ORDER_STATE"
    default_detail = "The order's current state does not allow this."

    def __init__(self, current: OrderStatus, target: OrderStatus) -> None:
        super().__init__(f"An order that is '{current.value}' cannot become '{target.value}'.")


class InsufficientStockError(ConflictError):
    code = "INSUFFICIENT_STOCK"
    default_detail = "Not enough stock for an item of the order. Nothing was reserved."

    def __init__(self, item_id: str, sku: str, requested: int) -> None:
        super().__init__(
            f"Not enough stock for item '{sku}' ({item_id}): {requested} requested. "
            "Nothing was reserved."
        )


class MaxOrderQuantityError(BusinessRuleError):
    code = "BUSINESS_RULE_MAX_ORDER_QUANTITY"
    default_detail = "Too many of one item in an order."

    def __init__(self, errors: Sequence[FieldError], maximum: int) -> None:
        super().__init__(f"At most {maximum} of an item per order.", errors=errors)


class ItemNotOrderableError(BusinessRuleError):
    code = "ITEM_NOT_ORDERABLE"
    default_detail = "Some lines name items that cannot be ordered."

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(errors=errors)


class MixedCurrenciesError(BusinessRuleError):
    code = "MIXED_CURRENCIES"
    default_detail = "All items of an order must have the same currency."

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(errors=errors)
