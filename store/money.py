"""Money: integer minor units with an ISO 4217 code, formatted with Babel.

How many minor-unit digits a currency has follows Telegram's currency table
(the ``exp`` of https://core.telegram.org/bots/payments/currencies.json), since
invoice amounts are read by Telegram that way; it differs from Babel's CLDR data
for a few currencies (AFN, ALL, COP, HUF, IDR, LBP, YER have 2 digits at
Telegram, 0 in CLDR). Currencies Telegram does not list follow CLDR.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberFormatError, format_currency, format_decimal, get_currency_precision, parse_decimal

from store.errors import ErrorCode, InvalidInput

STARS = "XTR"
DEFAULT_LOCALE = "en"

# Currencies Telegram Payments accept; all have 2 minor-unit digits except these.
TELEGRAM_CURRENCIES = frozenset("""
    AED AFN ALL AMD ARS AUD AZN BAM BDT BGN BND BOB BRL BYN CAD CHF CLP CNY COP CRC CZK DKK DOP DZD EGP ETB EUR
    GBP GEL GTQ HKD HNL HRK HUF IDR ILS INR ISK JMD JPY KES KGS KRW KZT LBP LKR MAD MDL MNT MUR MVR MXN MYR MZN
    NGN NIO NOK NPR NZD PAB PEN PHP PKR PLN PYG QAR RON RSD RUB SAR SEK SGD THB TJS TRY TTD TWD TZS UAH UGX USD
    UYU UZS VND YER ZAR""".split())
TELEGRAM_NO_MINOR_UNITS = frozenset({"CLP", "ISK", "JPY", "KRW", "PYG", "UGX", "VND"})


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency; adding two currencies is a bug, so it raises."""

    amount: int
    currency: str

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return self + Money(-other.amount, other.currency)

    def __mul__(self, times: int) -> Money:
        if not isinstance(times, int) or isinstance(times, bool):
            return NotImplemented
        return Money(self.amount * times, self.currency)

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return self.amount != 0

    def format(self, language_code: str | None = None) -> str:
        """For a person: "$19.99", "19,99 €", "⭐ 40"."""
        return format_money(self.amount, self.currency, language_code)


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
    """Number of minor-unit digits of ``currency``: Telegram's ``exp`` (Stars have none), else CLDR's."""
    if currency == STARS or currency in TELEGRAM_NO_MINOR_UNITS:
        return 0
    if currency in TELEGRAM_CURRENCIES:
        return 2
    return get_currency_precision(currency)


def format_money(amount: int, currency: str, language_code: str | None = None) -> str:
    """Format ``amount`` minor units of ``currency`` for the given language ("$19.99", "19,99 €")."""
    if currency == STARS:
        return f"⭐ {format_decimal(amount, locale=locale_for(language_code))}"
    places = digits(currency)
    value = Decimal(amount).scaleb(-places)
    locale = locale_for(language_code)
    if places == get_currency_precision(currency):
        return format_currency(value, currency, locale=locale)
    # CLDR would round to its own digits ("HUF 1,235" for 1,234.56): show Telegram's instead.
    return format_currency(value, currency, locale=locale, currency_digits=False)


def to_stars(value: Money, stars_per_unit: int) -> Money:
    """Convert an amount to whole Telegram Stars at ``stars_per_unit`` per 1.00, rounding up (at least 1)."""
    scale = 10 ** digits(value.currency)
    return Money(max(1, -(-value.amount * stars_per_unit // scale)), STARS)


def _number_in(text: str, language_code: str) -> Decimal | None:
    """``text`` as a number written the language's way, with its grouping in place; None if it is not."""
    try:
        return parse_decimal(text.strip(), locale=locale_for(language_code), strict=True)
    except NumberFormatError:
        return None


def parse_money(text: str, currency: str, language_code: str | None = None) -> int:
    """Parse a typed price such as "19.99" into minor units; refuse (:class:`InvalidInput`) anything else.

    A number written ``language_code``'s way is read so ("150.000" is 150000 in Indonesian, "1.234,50" is
    1234.50 in Spanish, "1,234.50" in English); else a dot or a comma is the decimal point ("19,99"). More
    decimals than the currency has, zero or negative amounts are refused.
    """
    value = _number_in(text, language_code) if language_code else None
    if value is None:
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
