"""Money: minor units as Telegram counts them, amounts that keep their currency, and a shop that keeps its own."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from bot.config import Settings
from bot.startup import StartupError, prepare_store
from store.db import Database
from store.errors import ErrorCode, InvalidInput
from store.models import CatalogState, Variant
from store.money import Money, digits, format_money, parse_money, to_stars

from .conftest import TOKEN
from .factories import make_category, make_product, make_seller


# Telegram's currencies.json gives these 2 digits where CLDR (Babel) gives 0; these 0 in both.
@pytest.mark.parametrize(("currency", "places", "typed", "minor", "shown"), [
    ("HUF", 2, "1234.56", 123456, "1,234.56"),
    ("IDR", 2, "15000.50", 1500050, "15,000.50"),
    ("COP", 2, "9900", 990000, "9,900.00"),
    ("AFN", 2, "10.05", 1005, "10.05"),
    ("JPY", 0, "1500", 1500, "1,500"),
    ("ISK", 0, "990", 990, "990"),
    ("USD", 2, "19.99", 1999, "19.99"),
])
def test_minor_units_are_telegrams(currency, places, typed, minor, shown):
    assert digits(currency) == places
    assert parse_money(typed, currency) == minor
    assert shown in format_money(minor, currency)


def test_more_decimals_than_telegram_allows_are_refused():
    with pytest.raises(InvalidInput) as refused:
        parse_money("1500.5", "JPY")
    assert refused.value.code == ErrorCode.PRICE_DECIMALS and refused.value.data["digits"] == 0
    with pytest.raises(InvalidInput):
        parse_money("10.005", "HUF")


def test_amounts_keep_their_currency():
    fee = Money(499, "USD")
    assert fee * 2 + Money(1999, "USD") == Money(2997, "USD")
    assert (fee + Money(1, "USD")).format("de") == "5,00\xa0$"
    with pytest.raises(ValueError, match="cannot add EUR to USD"):
        fee + Money(100, "EUR")


def settings_for(url: str, currency: str, *, demo: bool = True) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, database_url=url, currency=currency, demo_catalog=demo)


async def test_a_changed_currency_on_a_store_with_prices_refuses_to_start(store_url):
    await prepare_store(settings_for(store_url, "EUR"), migrate=True)
    database = Database(store_url)
    try:
        async with database.read() as session:
            prices = (await session.execute(select(Variant.sku, Variant.price).order_by(Variant.sku))).all()
        assert prices

        with pytest.raises(StartupError, match=r"CURRENCY=USD but the store's prices are in EUR: set CURRENCY=EUR"):
            await prepare_store(settings_for(store_url, "USD"), migrate=True)

        async with database.read() as session:
            assert (await session.execute(select(Variant.sku, Variant.price).order_by(Variant.sku))).all() == prices
            assert await session.scalar(select(CatalogState.currency)) == "EUR"
        # The same currency starts as before.
        await prepare_store(settings_for(store_url, "EUR"), migrate=True)
    finally:
        await database.dispose()


async def test_a_store_without_prices_takes_the_configured_currency(store_url):
    await prepare_store(settings_for(store_url, "EUR", demo=False), migrate=True)
    await prepare_store(settings_for(store_url, "JPY", demo=False), migrate=True)
    database = Database(store_url)
    try:
        async with database.read() as session:
            assert await session.scalar(select(func.count()).select_from(Variant)) == 0
            assert await session.scalar(select(CatalogState.currency)) == "JPY"
    finally:
        await database.dispose()


def test_stars_are_whole_and_rounded_up_from_telegrams_units():
    assert to_stars(Money(1999, "USD"), 50) == Money(1000, "XTR")  # 19.99 x 50 = 999.5
    assert to_stars(Money(1500, "JPY"), 1) == Money(1500, "XTR")  # no minor units
    assert to_stars(Money(123456, "HUF"), 1) == Money(1235, "XTR")  # 1,234.56
    assert to_stars(Money(1, "USD"), 1) == Money(1, "XTR")  # never nothing


@pytest.mark.parametrize(("currency", "price_before", "price_after"),
                         [("HUF", 150_000, 15_000_000), ("USD", 1999, 1999)])
async def test_a_store_from_before_keeps_what_its_prices_meant(store_url, currency, price_before, price_after):
    """Amounts written with CLDR's digits (150000 meant 150,000 HUF) are rescaled once to Telegram's."""
    await prepare_store(settings_for(store_url, currency, demo=False), migrate=True)
    database = Database(store_url)
    try:
        async with database.transaction() as session:
            seller, category = await make_seller(session), await make_category(session)
            await make_product(session, seller, category, "Paprika", [("", price_before, 5)])
            # As a store from before the currency was recorded.
            await session.execute(update(CatalogState).values(currency=None, minor_digits=None))
        for _ in range(2):  # a second start changes nothing more
            await prepare_store(settings_for(store_url, currency, demo=False), migrate=True)
            async with database.read() as session:
                assert await session.scalar(select(Variant.price)) == price_after
                assert (await session.get(CatalogState, 1)).minor_digits == digits(currency)
    finally:
        await database.dispose()


@pytest.mark.parametrize(("typed", "language", "minor"), [
    ("150.000", "id", 15_000_000),   # Indonesian groups thousands with a dot: Rp150.000 is 150,000
    ("1.234,50", "es", 123_450),
    ("1 234,50", "ru", 123_450),     # a plain space where Russian writes a narrow one
    ("1,234.50", "en", 123_450),
    ("19.99", "id", 1_999),          # not grouped as the language groups: a dot is the decimal point
    ("19,99", "en", 1_999),
    ("1.5", "pt_BR", 150),
    ("19.99", None, 1_999),
])
def test_a_price_is_read_the_way_the_sellers_language_writes_numbers(typed, language, minor):
    assert parse_money(typed, "USD", language) == minor


def test_a_price_that_is_no_number_in_any_way_is_refused_politely():
    for typed, language in (("12,34,56", "en"), ("abc", "ru"), ("1.2.3", "es")):
        with pytest.raises(InvalidInput) as refused:
            parse_money(typed, "USD", language)
        assert refused.value.code in (ErrorCode.PRICE_NOT_A_NUMBER, ErrorCode.PRICE_DECIMALS)
