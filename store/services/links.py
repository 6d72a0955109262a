"""Deep-link payloads: ``t.me/<bot>?start=<payload>``, decodable without looking the link up.

A payload is at most 64 characters of ``A-Za-z0-9_-`` (Telegram's rule):

* ``p42``          product 42
* ``p42_k7m2qx9a`` product 42, shared by the creator with code ``k7m2qx9a``
* ``s_k7m2qx9a``   the showcase of the creator ``k7m2qx9a``
* ``c_SUMMER10``   a discount code, kept for the shopper's checkout; it may also end any of the above
                   (``p42_k7m2qx9a_c_ANNA10``)

Anything else is not one of ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes get read aloud and retyped
CODE_LENGTH = 8
_CODE = f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}"
_COUPON = "(?:_c_([A-Za-z0-9]{4,20}))?"  # a discount code (store/services/coupons.py), case as typed
_PRODUCT = re.compile(rf"p([1-9][0-9]{{0,17}})(?:_({_CODE}))?{_COUPON}")
_SHOWCASE = re.compile(rf"s_({_CODE}){_COUPON}")
_COUPON_ONLY = re.compile(r"c_([A-Za-z0-9]{4,20})")
MAX_PAYLOAD = 64


@dataclass(frozen=True, slots=True)
class Link:
    """What a deep link names: a product, a creator, or both; and a discount code, or only that."""

    product_id: int | None
    creator_code: str | None
    coupon: str | None = None

    @property
    def is_showcase(self) -> bool:
        """A link to a creator's showcase rather than one product."""
        return self.product_id is None and self.creator_code is not None


def product_payload(product_id: int, creator_code: str | None = None, coupon: str | None = None) -> str:
    """The payload of a link to a product, optionally carrying a creator's link code and a discount code."""
    payload = f"p{product_id}" + (f"_{creator_code}" if creator_code else "") + (f"_c_{coupon}" if coupon else "")
    if parse(payload) is None:
        raise ValueError(f"not a valid product link: {payload!r}")
    return payload


def showcase_payload(creator_code: str) -> str:
    """The payload of a link to a creator's showcase."""
    payload = f"s_{creator_code}"
    if parse(payload) is None:
        raise ValueError(f"not a valid showcase link: {payload!r}")
    return payload


def parse(payload: str | None) -> Link | None:
    """Decode a payload, or None when it is not exactly one of our shapes."""
    if not payload or len(payload) > MAX_PAYLOAD:
        return None
    if match := _PRODUCT.fullmatch(payload):
        return Link(int(match.group(1)), match.group(2), match.group(3))
    if match := _SHOWCASE.fullmatch(payload):
        return Link(None, match.group(1), match.group(2))
    if match := _COUPON_ONLY.fullmatch(payload):
        return Link(None, None, match.group(1))
    return None


def coupon_payload(coupon: str) -> str:
    """The payload of a link that brings a discount code alone."""
    payload = f"c_{coupon}"
    if parse(payload) is None:
        raise ValueError(f"not a valid code link: {payload!r}")
    return payload
