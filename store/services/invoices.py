"""The invoice payload: how a Telegram invoice names the checkout it pays for.

Telegram hands the payload back in the pre-checkout query and the successful
payment; anything that is not one of ours reads as no checkout at all.
"""

from __future__ import annotations

PAYLOAD_PREFIX = "checkout:"
_ID_DIGITS_MAX = 18  # a BIGINT


def invoice_payload(checkout_id: int) -> str:
    """The invoice payload naming a checkout."""
    return f"{PAYLOAD_PREFIX}{checkout_id}"


def parse_payload(payload: str) -> int | None:
    """Return the checkout id named by an invoice payload, or None if it is not one of ours."""
    if not payload.startswith(PAYLOAD_PREFIX):
        return None
    rest = payload[len(PAYLOAD_PREFIX):]
    return int(rest) if rest.isascii() and rest.isdigit() and len(rest) <= _ID_DIGITS_MAX else None
