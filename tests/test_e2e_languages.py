"""The bot in each language it speaks, through the real bot and the fake Bot API.

One journey per language: a creator takes a link, a shopper buys through it and pays cash on delivery, the
seller's side (an operator acting for the demo shop) accepts, ships and delivers, the shopper hears of
each step, and the creator reads /earnings. Every person's Telegram app is set to the language, so the bot
speaks it without being asked. What the bot said is checked for the language's words, and for no English
sentence of ours (product titles and descriptions stay as the seller wrote them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from handlers import i18n
from handlers.messages import refusal
from store.errors import ErrorCode
from store.models import Order, Product, Seller, User, Variant

from .conftest import BotRunner, eventually
from .journeys import said, said_n

OPERATOR, CREATOR, SHOPPER = 9001, 5001, 1001
# The language each journey speaks, and the Telegram app's language code that brings it.
APP_CODES = {"en": "en", "ru": "ru", "es": "es-419", "pt_BR": "pt-br", "id": "id"}
# What the bot sends people (not its own settings, such as the command menus of other languages).
LINK_FOR = ("🔗 Your link for <b>{title}</b>:\n{url}\n\nWhoever opens it lands on the product; what they buy within "
            "the attribution window earns you commission.")
SAYING = {"sendMessage", "editMessageText", "editMessageCaption", "sendPhoto", "sendDocument", "sendInvoice",
          "answerCallbackQuery", "editMessageReplyMarkup", "answerInlineQuery"}


def strings(value: object) -> Iterator[str]:
    """Every string in a Bot API call's parameters (a keyboard sent as JSON included)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        if value[:1] in "[{":
            try:
                yield from strings(json.loads(value))
                return
            except ValueError:
                pass
        yield value


def english_sentences(language: str) -> set[str]:
    """Pieces of our English texts (between placeholders and tags, two words or more) that a journey in
    ``language`` must not show: those its translation does not say the same way."""
    with open(i18n.LOCALES / f"{i18n.DOMAIN}.pot", "rb") as file:
        template = read_po(file)
    pieces = set()
    for message in template:
        if not message.id:
            continue
        for english in (message.id if isinstance(message.id, tuple) else (message.id,)):
            with i18n.speaking(language):
                translated = " ".join(i18n.ngettext(*message.id, count) for count in (1, 2, 5, 21)) \
                    if isinstance(message.id, tuple) else i18n._(english)
            for piece in re.split(r"\{[a-z_]+\}|<[^>]+>|\n", english):
                piece = piece.strip(" .,:;!?()—–-•·«»\"“”'")
                words = re.findall(r"[A-Za-z]{2,}", piece)
                if len(words) >= 2 and len(piece) >= 12 and piece not in translated:
                    pieces.add(piece)
    return pieces

async def checkout_cash_on_delivery(shopper, language: str) -> None:  # type: ignore[no-untyped-def]
    """From a product card: add it, and check out to an order paid cash on delivery, pressing the buttons
    as they read in ``language``."""
    await shopper.press(said(language, "➕ Add to cart"))
    assert shopper.last_answer["text"] == said_n(language, "✓ Added to your cart ({units} item).",
                                             "✓ Added to your cart ({units} items).", 1, units=1)
    await shopper.press(said(language, "🛒 Cart ({count})", count=1))
    await shopper.press(said(language, "✅ Checkout"))
    assert said(language, "🧾 <b>Checkout — review</b>") in shopper.last_text
    await shopper.press(said(language, "Continue ›"))
    await shopper.tap(said(language, "📱 Share my contact"))
    await shopper.send("1 Main Street, Springfield 12345")
    await shopper.press("Standard delivery")
    await shopper.press(said(language, "💵 Cash on delivery"))
    assert said(language, "✅ <b>Checkout — confirm your order</b>") in shopper.last_text
    await shopper.press(said(language, "✅ Place order"))


@pytest.fixture(params=list(APP_CODES))
def language(request) -> str:  # type: ignore[no-untyped-def]
    return request.param


async def test_a_shopping_journey_fulfilment_and_earnings_in_each_language(fake, store_url, clock, language):
    code = APP_CODES[language]
    if language != i18n.SOURCE:  # the catalog is there and used: the journey below is not English
        assert said(language, "✅ Place order") != "✅ Place order"
    mark = fake.mark()
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR), creator_auto_approve=True) as runner:
        operator = fake.user(OPERATOR, "Olga", language_code=code)
        await operator.send("/start")

        # A creator joins and takes a link to the earbuds.
        cleo = fake.user(CREATOR, "Cleo", username="cleo", language_code=code)
        await cleo.send("/creator")
        await cleo.send("wireless earbuds")
        await cleo.press("Wireless Earbuds")
        await cleo.press(said(language, "🔗 Share link"))
        link_for = said(language, LINK_FOR, title="Wireless Earbuds", url="")
        assert link_for.split("\n")[0] in cleo.last_text
        url = next(word for word in cleo.last_text.split() if word.startswith("https://t.me/"))

        # A shopper opens it, is greeted in her language, and buys with cash on delivery.
        ann = fake.user(SHOPPER, "Ann", language_code=code)
        await ann.send("/start")
        assert said(language, "👋 <b>Welcome to chatshop, {name}!</b>", name="Ann") in ann.last_text
        await ann.send(f"/start {url.split('start=', 1)[1]}")
        assert "Wireless Earbuds" in ann.last_text
        await checkout_cash_on_delivery(ann, language)
        async with runner.db.read() as session:
            order_id, seller = (await session.execute(
                select(Order.id, Seller.name).join(Seller, Seller.id == Order.seller_id))).one()
        placed = said(language, "🎉 <b>Thank you! Your order {numbers} is placed.</b>\nPay {total} in cash on delivery."
                      "\nYou'll get a message here at every step. See /orders any time.", numbers=f"#{order_id}",
                      total="")
        assert any(placed.split("\n")[0] in (text or "") for text in ann.reply_texts)

        # The seller's side: the operator, acting for the demo shop, accepts, ships and delivers.
        await operator.press_data(f"sv:{order_id}")
        await operator.press(said(language, "✅ Accept"))
        await operator.press(said(language, "🚚 Ship"))
        await operator.send("DHL JD014600003")
        await operator.press(said(language, "📬 Delivered"))
        delivered = said(language, "📬 Your order #{number} from {seller} was delivered. Enjoy!",
                         number=order_id, seller=seller)

        async def told() -> bool:
            return any(delivered in (text or "") for text in fake.user(SHOPPER).texts)

        await eventually(told)

        # Her orders, and the creator's earnings, speak the language too.
        await ann.send("/orders")
        assert said(language, "delivered") in ann.last_text
        await cleo.send("/earnings")
        assert said(language, "All time") in cleo.last_text

        async with runner.db.read() as session:
            assert await session.scalar(select(User.language_code).where(User.id == SHOPPER)) == code

    if language == "en":
        return
    english = english_sentences(language)
    shown = [text for call in fake.calls[mark:] if call.method in SAYING for text in strings(call.params)]
    leaks = sorted({piece for piece in english for text in shown if piece in text})
    assert leaks == [], f"English in the {language} journey"


async def test_the_language_is_the_persons_choice_kept_across_restarts_and_each_reads_their_own(
        fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        # Ann's app is in English; she chooses Russian: the answer is in Russian already, and her menu too.
        ann = fake.user(SHOPPER, "Ann", language_code="en")
        await ann.send("/language")
        assert set(i18n.LANGUAGES.values()) <= {label.removeprefix("✓ ") for label in ann.buttons()}
        assert "✓ My Telegram app's language" in ann.buttons()
        await ann.press("Русский")
        assert said("ru", "🌐 I will speak {language} with you. /language changes it.",
                    language="Русский") in ann.last_text
        menu = await fake.wait_for("setMyCommands", lambda call: str(SHOPPER) in str(call.params.get("scope")))
        assert said("ru", "Your cart") in json.dumps(menu.params, ensure_ascii=False)
        async with runner.db.read() as session:
            assert await session.scalar(select(User.language).where(User.id == SHOPPER)) == "ru"

        # After a restart she is still spoken to in Russian, and buys in Russian.
        await runner.restart()
        await ann.send("/start")
        assert said("ru", "👋 <b>Welcome to chatshop, {name}!</b>", name="Ann") in ann.last_text
        await ann.send("wireless earbuds")
        await ann.press("Wireless Earbuds")
        await checkout_cash_on_delivery(ann, "ru")

        # The operator's app is in Spanish: the seller's side of her order is in Spanish, and Ann is told
        # of the delivery in Russian.
        operator = fake.user(OPERATOR, "Olga", language_code="es")
        await operator.send("/start")
        async with runner.db.read() as session:
            order_id, seller = (await session.execute(
                select(Order.id, Seller.name).join(Seller, Seller.id == Order.seller_id))).one()
        await operator.press_data(f"sv:{order_id}")
        await operator.press(said("es", "✅ Accept"))
        await operator.press(said("es", "🚚 Ship"))
        await operator.send("DHL JD014600003")
        await operator.press(said("es", "📬 Delivered"))
        delivered = said("ru", "📬 Your order #{number} from {seller} was delivered. Enjoy!", number=order_id,
                         seller=seller)

        async def told() -> bool:
            return any(delivered in (text or "") for text in ann.texts)

        await eventually(told)

        # Back to her app's language: English again, and the menu of everyone's chats (in English) with it.
        await ann.send("/language")
        await ann.press(said("ru", "My Telegram app's language"))
        assert "I will speak English with you" in ann.last_text
        await fake.wait_for("deleteMyCommands", lambda call: str(SHOPPER) in str(call.params.get("scope")))
        async with runner.db.read() as session:
            assert await session.scalar(select(User.language).where(User.id == SHOPPER)) is None

        # A forged choice is refused and changes nothing; an app language we don't speak is English.
        await ann.press_data("lg:xx")
        assert ann.last_answer["text"] == "This button has expired. Please open the menu again with /start."
        bob = fake.user(1002, "Bob", language_code="zz")
        await bob.send("/start")
        assert "Welcome to chatshop, Bob" in bob.last_text


def test_telegram_language_codes_choose_our_languages():
    assert i18n.language_of(None, "pt-br") == i18n.language_of(None, "pt") == "pt_BR"
    assert i18n.language_of(None, "es-419") == i18n.language_of(None, "ES") == "es"
    assert i18n.language_of(None, "ru") == "ru" and i18n.language_of(None, "id") == "id"
    assert i18n.language_of(None, "de") == i18n.language_of(None, None) == i18n.language_of(None, "") == "en"
    assert i18n.language_of("id", "ru") == "id"  # the choice wins
    assert i18n.language_of("xx", "ru") == "ru"  # a choice we no longer speak: the app's language


async def test_a_refused_payment_is_explained_in_the_language_the_shopper_chose(fake, store_url, clock):
    # A pre-checkout query is handled out of the person's lane: the refusal still reads their choice.
    async with BotRunner(fake, store_url, clock, checkout_expiry_minutes=30) as runner:
        cy = fake.user(1003, "Cy", language_code="en")
        await cy.send("/language")
        await cy.press("Español")
        await cy.send("gift card")
        await cy.press("Chatshop Gift Card")
        await cy.press(said("es", "⚡ Buy now"))
        await cy.press(said("es", "✅ Place order"))
        assert fake.find_calls("sendInvoice", chat_id=1003)

        clock.advance(minutes=31)
        await runner.application.job_queue.get_jobs_by_name("expire-unpaid")[0].run(runner.application)
        answer = await cy.pre_checkout()
        with i18n.speaking("es"):
            refused = refusal(ErrorCode.NOT_AWAITING_PAYMENT, {})
        assert refused != "This order is no longer awaiting payment."
        assert answer["ok"] is False and answer["error_message"] == refused


async def test_a_seller_opens_a_shop_and_prices_a_product_the_way_their_language_writes_numbers(
        fake, store_url, clock):
    # An Indonesian seller writes Rp150.000 for a hundred and fifty thousand: that is the price kept.
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        operator = fake.user(OPERATOR, "Olga", language_code="id")
        await operator.send("/start")
        budi = fake.user(3001, "Budi", language_code="id")
        await budi.send("/sell")
        await budi.send("Toko Batik Budi")
        await fake.wait_for("sendMessage", lambda call: call.params.get("chat_id") == OPERATOR
                            and "Toko Batik Budi" in call.params.get("text", ""), timeout=10)
        await operator.press(said("id", "✅ Approve"))
        await fake.wait_for("setMyCommands", lambda call: "3001" in str(call.params.get("scope")), timeout=10)
        await budi.send("/add_product")
        await budi.send("Kemeja Batik")
        await budi.send("Batik tulis, katun.")
        await budi.press("Clothing")
        await budi.send("/skip")
        await budi.press(said("id", "📦 Physical"))
        await budi.send("M; 150.000; 3")
        await budi.press(said("id", "✅ Done: publish the product"))
        async with runner.db.read() as session:
            price = await session.scalar(select(Variant.price).join(Product, Product.id == Variant.product_id)
                                         .where(Product.title == "Kemeja Batik"))
        assert price == 15_000_000  # 150,000.00 in the shop's currency, not 150.00
        assert said("id", "Kemeja Batik") in " ".join(text or "" for text in budi.texts)
