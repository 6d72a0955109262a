"""The callback-data codec: ``prefix:arg:arg``, at most 64 bytes, checked both ways.

Buttons carry ids, never facts: a handler re-loads the rows a button names
and checks owner and state before acting. :func:`unpack` rejects anything
that is not exactly one of our shapes (unknown prefix, wrong number of
arguments, a non-number where a number belongs).
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_BYTES = 64
SEP = ":"

# Prefix -> argument kinds ("i": non-negative integer, "s": short word without the separator).
MENU = "m"
CATEGORIES = "cs"
CATEGORY = "c"
SEARCH_PAGE = "sp"
PRODUCT = "p"
PRODUCT_VARIANT = "pv"
ADD = "a"
CART = "cart"
CART_LINE = "cl"
CHECKOUT = "co"
CHECKOUT_GO = "cg"
SHIPPING = "sh"
PAYMENT = "pm"
PLACE = "pl"
LEAVE = "x"
ORDERS = "os"
ORDER = "o"
CANCEL_UNPAID = "ou"
PAY_AGAIN = "pa"
NOOP = "n"
# Creators.
CREATOR_DECIDE = "cd"
SHARE_LINK = "lk"
SHOWCASE_TOGGLE = "sc"
SHOWCASE_PAGE = "sw"
# Sellers and operators.
SELLER_DECIDE = "sd"
SELLER_ACTION = "sa"
SELLER_ORDERS = "sl"
SELLER_ORDER = "sv"
NEW_PRODUCT_CATEGORY = "pc"
NEW_PRODUCT_DONE = "pd"
MY_PRODUCTS = "mp"
MANAGE_PRODUCT = "mg"
MANAGE_VARIANT = "mv"
MANAGE_DESCRIPTION = "md"
MANAGE_STATUS = "ms"
MANAGE_COMMISSION = "mc"

SPEC: dict[str, str] = {
    MENU: "",
    CATEGORIES: "",
    CATEGORY: "ii",
    SEARCH_PAGE: "si",
    PRODUCT: "i",
    PRODUCT_VARIANT: "ii",
    ADD: "i",
    CART: "",
    CART_LINE: "is",
    CHECKOUT: "",
    CHECKOUT_GO: "",
    SHIPPING: "s",
    PAYMENT: "s",
    PLACE: "i",
    LEAVE: "",
    ORDERS: "i",
    ORDER: "ii",
    CANCEL_UNPAID: "i",
    PAY_AGAIN: "i",
    NOOP: "",
    CREATOR_DECIDE: "ii",
    SHARE_LINK: "i",
    SHOWCASE_TOGGLE: "ii",
    SHOWCASE_PAGE: "ii",
    SELLER_DECIDE: "ii",
    SELLER_ACTION: "is",
    SELLER_ORDERS: "si",
    SELLER_ORDER: "i",
    NEW_PRODUCT_CATEGORY: "i",
    NEW_PRODUCT_DONE: "",
    MY_PRODUCTS: "i",
    MANAGE_PRODUCT: "i",
    MANAGE_VARIANT: "iis",
    MANAGE_DESCRIPTION: "i",
    MANAGE_STATUS: "is",
    MANAGE_COMMISSION: "i",
}

_INT = re.compile(r"0|[1-9][0-9]{0,17}")


class CallbackError(ValueError):
    """Callback data that is not one of ours (forged, stale or damaged)."""


class Callback(NamedTuple):
    """A decoded button press: its prefix and typed arguments."""

    prefix: str
    args: tuple[int | str, ...]


def pack(prefix: str, *args: int | str) -> str:
    """Encode a button's callback data; raise ValueError if it would not fit or is malformed."""
    kinds = SPEC[prefix]
    if len(args) != len(kinds):
        raise ValueError(f"{prefix} takes {len(kinds)} arguments")
    parts = [prefix]
    for kind, arg in zip(kinds, args):
        if kind == "i":
            if not isinstance(arg, int) or arg < 0:
                raise ValueError(f"{prefix}: expected a non-negative integer, got {arg!r}")
        elif not isinstance(arg, str) or SEP in arg:
            raise ValueError(f"{prefix}: expected text without {SEP!r}, got {arg!r}")
        parts.append(str(arg))
    data = SEP.join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def unpack(data: str | None) -> Callback:
    """Decode callback data; raise :class:`CallbackError` unless it is exactly one of our shapes."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        raise CallbackError("empty or oversized callback data")
    prefix, *raw = data.split(SEP)
    kinds = SPEC.get(prefix)
    if kinds is None or len(raw) != len(kinds):
        raise CallbackError(f"unknown callback shape: {prefix!r}/{len(raw)}")
    args: list[int | str] = []
    for kind, value in zip(kinds, raw):
        if kind == "i":
            if not _INT.fullmatch(value):
                raise CallbackError(f"not an id: {value!r}")
            args.append(int(value))
        else:
            args.append(value)
    return Callback(prefix, tuple(args))


def fit_text(text: str, budget: int) -> str:
    """Cut ``text`` to at most ``budget`` UTF-8 bytes without splitting a character."""
    encoded = text.encode("utf-8")[:budget]
    return encoded.decode("utf-8", errors="ignore").rstrip()
