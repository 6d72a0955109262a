"""Journeys several tests walk a person through: adding to the cart, checking out up to a step.

Each step asserts what the person sees, so a journey that goes wrong fails where it went wrong.
"""

from __future__ import annotations

import copy
import html
import re

from sqlalchemy import func, select

from handlers import i18n
from store.models import Creator, Product, Variant

TAG = re.compile(r"<[^>]+>")


async def variant_stock(db, sku: str) -> int:  # type: ignore[no-untyped-def]
    """Units in stock of the variant with this SKU."""
    async with db.read() as session:
        return await session.scalar(select(Variant.stock).where(Variant.sku == sku))


async def product_stock(db, title: str, label: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """Units in stock of a product (of one of its options when ``label`` is given)."""
    query = (select(func.sum(Variant.stock)).join(Product, Product.id == Variant.product_id)
             .where(Product.title == title))
    if label is not None:
        query = query.where(Variant.label == label)
    async with db.read() as session:
        return await session.scalar(query)


async def add_to_cart(user, query: str, title: str, option: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Search, open the product and add it (choosing an option first if given)."""
    await user.send(query)
    await user.press(title)
    if option:
        await user.press(option)
    await user.press("Add to cart")
    assert "Added to your cart" in user.last_answer["text"]


async def go_to_address_step(user) -> None:  # type: ignore[no-untyped-def]
    """From a product card or the cart: open the cart, review, continue, share the contact."""
    if "Checkout" not in " ".join(user.buttons()):
        await user.press("🛒 Cart")
    await user.press("Checkout")
    # (Asserted on the replies: a notice about an earlier order may arrive after them.)
    assert any("Checkout — review" in (text or "") for text in user.reply_texts)
    await user.press("Continue")
    assert any("Checkout — contact" in (text or "") for text in user.reply_texts)
    await user.tap("Share my contact")
    assert any("shipping address" in (text or "") for text in user.reply_texts)


async def go_to_confirm_step(user, address: str, payment: str = "Cash on delivery",  # type: ignore[no-untyped-def]
                             shipping: str = "Standard delivery") -> None:
    """From a product card or the cart: through contact, address, shipping and payment to "Place order"."""
    await go_to_address_step(user)
    await user.send(address)
    assert any("Checkout — shipping" in (text or "") for text in user.reply_texts)
    await user.press(shipping)
    await user.press(payment)
    # The confirmation (a notice about an earlier order may arrive after it).
    assert any("confirm your order" in text and address.split(",")[0] in text for text in user.reply_texts)
    assert "Place order" in " ".join(user.buttons())


async def review_to_confirm(user, payment: str, address: str = "22 Baker Street, London NW1 6XE",  # type: ignore[no-untyped-def]
                            shipping: str = "Standard delivery") -> None:
    """From the checkout review: continue, share the contact, type the address, choose shipping and payment."""
    await user.press("Continue")
    await user.tap("Share my contact")
    await user.send(address)
    await user.press(shipping)
    await user.press(payment)
    assert "confirm your order" in user.last_text


def pressed(fake, user, label: str) -> dict:  # type: ignore[no-untyped-def]
    """The update Telegram sends when ``user`` presses ``label``, built but not delivered."""
    button, message = user._find_button(label, None)
    query_id = str(next(fake._query_ids))
    fake._open_queries[query_id] = "callback_query"
    return {"update_id": fake.next_update_id(), "callback_query": {
        "id": query_id, "from": dict(user.info), "chat_instance": f"-{fake.bot_id}{user.id}",
        "data": button["callback_data"], "message": copy.deepcopy(message)}}


def answers_to(fake, update: dict) -> list:  # type: ignore[no-untyped-def]
    """Every answerCallbackQuery the bot made for the callback query of ``update``."""
    query_id = update["callback_query"]["id"]
    return [c for c in fake.find_calls("answerCallbackQuery") if str(c.params.get("callback_query_id")) == query_id]


async def place_order(user, address: str = "1 Main Street, Springfield 12345",  # type: ignore[no-untyped-def]
                      payment: str = "Cash on delivery", shipping: str = "Standard delivery") -> None:
    """From a product card or the cart: the whole checkout, ending with the order placed."""
    await go_to_confirm_step(user, address, payment, shipping)
    await user.press("Place order")
    # The reply to this press (a notice about an earlier order may arrive after it).
    assert any("is placed" in (text or "") for text in user.reply_texts)


async def start_creator(fake, runner, user_id: int = 5001):  # type: ignore[no-untyped-def]
    """A user becomes a creator (auto-approved) and gets their code."""
    cleo = fake.user(user_id, "Cleo", username="cleo")
    await cleo.send("/creator")
    assert "You're a chatshop creator" in cleo.last_text
    async with runner.db.transaction() as session:
        code = await session.scalar(select(Creator.code).where(Creator.user_id == user_id))
    return cleo, code


async def share_link_for(cleo, query: str, title: str) -> str:  # type: ignore[no-untyped-def]
    """The creator opens a product card and asks for its share link."""
    await cleo.send(query)
    await cleo.press(title)
    await cleo.press("Share link")
    assert "Your link for" in cleo.last_text
    return next(word for word in cleo.last_text.split() if word.startswith("https://t.me/"))


async def open_link(user, url: str) -> None:  # type: ignore[no-untyped-def]
    """Tapping a t.me link sends /start <payload> to the bot."""
    payload = url.split("start=", 1)[1]
    await user.send(f"/start {payload}")


def said(language: str, message: str, /, **fields: object) -> str:
    """``message`` as a person reading ``language`` sees it: translated, filled in, without the HTML tags."""
    with i18n.speaking(language):
        return html.unescape(TAG.sub("", i18n._(message).format(**fields)))


def said_n(language: str, singular: str, plural: str, count: int, /, **fields: object) -> str:
    """A sentence with a count, as :func:`said`."""
    with i18n.speaking(language):
        return html.unescape(TAG.sub("", i18n.ngettext(singular, plural, count).format(count=count, **fields)))
