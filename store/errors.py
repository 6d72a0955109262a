"""Errors the store services raise when a rule refuses a request.

Each carries a short, polite sentence that a front end can show as it is;
no error ever means that something was half-done: the caller's transaction
rolls back.
"""

from __future__ import annotations


class ShopError(Exception):
    """A request the rules refuse; ``str(error)`` is a sentence for the person asking."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ShopError):
    """The thing named does not exist, or does not belong to the person asking."""


class Expired(ShopError):
    """The action refers to a state that has moved on (an old button, a closed checkout)."""


class Changed(Expired):
    """What the person confirmed has changed since (prices, the cart): nothing was done."""


class OutOfStock(ShopError):
    """Some lines ask for more than is in stock; ``short`` maps variant id to units available."""

    def __init__(self, message: str, short: dict[int, int]) -> None:
        super().__init__(message)
        self.short = short


class InvalidInput(ShopError):
    """Typed input that does not pass validation."""


class NotAllowed(ShopError):
    """The person asking may not do this."""
