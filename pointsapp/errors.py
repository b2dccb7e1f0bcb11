"""Domain errors: raised by domain operations, mapped to HTTP once per adapter.

Each error carries a snake_case ``code`` (the API's ``error.code``), the HTTP
``status`` it maps to and a human ``message``. ``fields`` is for validation
errors tied to input fields.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal a domain operation can raise."""

    code = "domain_error"
    status = 422

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.extra = extra

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        body.update(self.extra)
        return body


class ValidationFailed(DomainError):
    """Input is well-formed but not acceptable; names the offending fields."""

    code = "validation_error"
    status = 422


class NotFound(DomainError):
    """The resource does not exist, or the caller may not know it exists."""

    code = "not_found"
    status = 404


class NotAllowed(DomainError):
    """The caller is known but may not do this."""

    code = "forbidden"
    status = 403


class Conflict(DomainError):
    """The request conflicts with the current state."""

    code = "conflict"
    status = 409


class InvalidTransition(Conflict):
    """A state machine refused to leave its current state this way."""

    code = "invalid_transition"


class Duplicate(Conflict):
    """Something with this identity already exists."""

    code = "duplicate"


class IdempotencyConflict(Conflict):
    """An Idempotency-Key was reused with a different request body."""

    code = "idempotency_conflict"


class InsufficientPoints(DomainError):
    """Available points do not cover the cost."""

    code = "insufficient_points"
    status = 422


class OutOfStock(Conflict):
    """The reward has no stock left."""

    code = "out_of_stock"


class LimitReached(DomainError):
    """A per-user limit or a budget would be exceeded."""

    code = "limit_reached"
    status = 422


class PeriodNotEnded(DomainError):
    """The period has not ended yet, so what it earns is not final."""

    code = "period_not_ended"
    status = 422


class BudgetExhausted(DomainError):
    """The team's monthly points budget does not cover this award or pool."""

    code = "budget_exhausted"
    status = 422


def field_messages(messages, where: str = "") -> list[str]:
    """A field's validation messages as the contract's flat list of sentences.

    marshmallow nests the messages of a list's items and an object's keys
    (``{0: ["Not a valid integer."]}``); each becomes one sentence that says where,
    ``"[0]: Not a valid integer."``, rather than a Python repr.
    """
    if isinstance(messages, dict):
        found = []
        for key, inner in messages.items():
            label = f"{where}[{key}]" if isinstance(key, int) else (f"{where}.{key}" if where else str(key))
            found += field_messages(inner, label)
        return found
    if isinstance(messages, (list, tuple)):
        return [sentence for item in messages for sentence in field_messages(item, where)]
    return [f"{where}: {messages}" if where else str(messages)]
