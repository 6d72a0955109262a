"""Operators deciding on applications (sellers, creators): the rule both follow."""

from __future__ import annotations

from typing import Protocol

from store.errors import ErrorCode, Expired, NotAllowed, NotFound
from store.states import Approval


class Application(Protocol):
    """A row that applies for something: it has a status."""

    status: str


def decide(row: Application | None, approve: bool, operator_id: int, operators: frozenset[int], what: str) -> None:
    """Approve or reject a pending application (``what``: seller or creator), if the person deciding is an
    operator."""
    if operator_id not in operators:
        raise NotAllowed(ErrorCode.ONLY_OPERATORS_DECIDE, what=what)
    if row is None:
        raise NotFound(ErrorCode.APPLICATION_GONE)
    if row.status != Approval.PENDING:
        raise Expired(ErrorCode.APPLICATION_DECIDED, status=row.status)
    row.status = Approval.APPROVED if approve else Approval.REJECTED
