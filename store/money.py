"""Money: integer minor units with an ISO 4217 code, formatted with Babel."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision

from store.errors import ErrorCode, InvalidInput

STARS = "XTR"
DEFAULT_LOCALE = "en"


@lru_cache(maxsize=256)
def locale_for(language_code: str | None) -> Locale:
    """Return the Babel locale for a Telegram ``language_code`` ("en", "pt-br"), English if unknown."""
    if language_code:
        try:
            return Locale.parse(language_code.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            pass
    return Locale.parse(DEFAULT_LOCALE)


def digits(currency: str) -> int:
    """Number of minor-unit digits of ``currency`` (Stars have none)."""
    return 0 if currency == STARS else get_currency_precision(currency)


def format_money(amount: int, currency: str, language_code: str | None = None) -> str:
    """Format ``amount`` minor units of ``currency`` for the given language ("$19.99", "19,99 €")."""
    if currency == STARS:
        return f"⭐ {amount:,}"
    value = Decimal(amount).scaleb(-digits(currency))
    return format_currency(value, currency, locale=locale_for(language_code))


def to_stars(amount: int, currency: str, stars_per_unit: int) -> int:
    """Convert minor units of ``currency`` to whole Telegram Stars, rounding up (at least 1)."""
    scale = 10 ** digits(currency)
    return max(1, -(-amount * stars_per_unit // scale))


def parse_money(text: str, currency: str) -> int:
    """Parse a typed price such as "19.99" into minor units; refuse (:class:`InvalidInput`) anything else.

    More decimals than the currency has, zero or negative amounts are refused.
    """
    cleaned = text.strip().replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        raise InvalidInput(ErrorCode.PRICE_NOT_A_NUMBER) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(ErrorCode.PRICE_NOT_POSITIVE)
    minor = value.scaleb(digits(currency))
    if minor != minor.to_integral_value():
        raise InvalidInput(ErrorCode.PRICE_DECIMALS, currency=currency, digits=digits(currency))
    return int(minor)
