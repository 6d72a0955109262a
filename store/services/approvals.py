"""Operators deciding on applications (sellers, creators): the rule both follow."""

from __future__ import annotations

from typing import Protocol

from store.errors import Expired, NotAllowed, NotFound

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class Application(Protocol):
    """A row that applies for something: it has a status."""

    status: str


def decide(row: Application | None, approve: bool, operator_id: int, operators: frozenset[int], what: str) -> None:
    """Approve or reject a pending application, if the person deciding is an operator."""
    if operator_id not in operators:
        raise NotAllowed(f"Only an operator can decide on {what} applications.")
    if row is None:
        raise NotFound("That application does not exist.")
    if row.status != PENDING:
        raise Expired(f"That application was already {row.status}.")
    row.status = APPROVED if approve else REJECTED
