"""Every message within Telegram's limits, whatever the catalog holds.

The fake Bot API parses each text and caption as Telegram does and refuses one over 4,096 (1,024
for a caption) characters, so a message that does not fit fails its call here as it would there.
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from bot.sandbox.emulator import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH, parse_html
from handlers import render
from handlers.fit import CAPTION_LIMIT, TEXT_LIMIT, fit, fit_lines, plain_text, visible_length
from handlers.render import ITEM_LABEL_MAX, item_name
from store.models import Click, Creator, Product, Seller, Variant
from store.services import cart as cart_service
from store.services.cart import MAX_LINES, MAX_QUANTITY
from store.services.contact import ADDRESS_MAX, NAME_MAX
from store.services.seller_catalog import DESCRIPTION_MAX, LABEL_MAX, PRICE_MAX, SKU_MAX, TITLE_MAX
from store.services.sellers import NAME_MAX as SHOP_NAME_MAX

from .conftest import BotRunner
from .factories import make_category, make_product, make_user
from .journeys import said, said_n
from .test_e2e_languages import APP_CODES

SHOPPER, SELLER_CHAT, CREATOR = 1001, 3001, 5001
SENDS = ("sendMessage", "sendPhoto", "editMessageText", "editMessageCaption")
PLACED = ("🎉 <b>Thank you! Your order {numbers} is placed.</b>\nPay {total} in cash on delivery.\n"
          "You'll get a message here at every step. See /orders any time.")
EARNINGS_NOTE = ("<i>Commission is pending until the order is delivered and the return window has passed; then it "
                 "is approved (the figure includes what was paid out already). Cancelled or refunded orders reverse "
                 "it.</i>")


def longest(text: str, size: int) -> str:
    """``text`` repeated to exactly ``size`` characters, wide ones and characters HTML must escape included."""
    return (text * (size // len(text) + 1))[:size]


@pytest.mark.parametrize("language", sorted(APP_CODES))
async def test_the_longest_catalog_the_validators_allow_fits_every_message_in_each_language(
        fake, store_url, clock, language):
    """In every language, since a translation may be longer than the English."""
    async with BotRunner(fake, store_url, clock) as runner:
        async with runner.db.transaction() as session:
            seller = Seller(name=longest("Zanzibar <Traders> & Sons 😀 ", SHOP_NAME_MAX), kind="retailer",
                            status="approved", commission_bp=1000, notify_chat_id=SELLER_CHAT)
            session.add(seller)
            await session.flush()
            category = await make_category(session, longest("Lamps & <Lights> 💡 ", 64))
            variant_ids = []
            for i in range(MAX_LINES):
                product = await make_product(session, seller, category,
                                             longest(f"Zanzibar lamp {i:02d} «extra» & <wide> 😀 ", TITLE_MAX),
                                             [(longest(f"{i:02d} Größe & <Farbe> 😀 ", LABEL_MAX), PRICE_MAX, 10_000)])
                product.description = longest("A very long description & <more> 😀 ", DESCRIPTION_MAX)
                product.photo = "https://example.com/lamp.jpg"
                variant = await session.scalar(select(Variant).where(Variant.product_id == product.id))
                variant.sku = longest(f"SKU-{i:02d}-", SKU_MAX).upper()
                variant_ids.append(variant.id)
            await make_user(session, SHOPPER)
            (await make_user(session, SELLER_CHAT, "Zed")).language_code = APP_CODES[language]
            # Every line came through one creator's links, so her /earnings lists them all.
            await make_user(session, CREATOR, "Cleo")
            creator = Creator(user_id=CREATOR, code="CLEO2026", status="approved")
            session.add(creator)
            await session.flush()
            products = list(await session.scalars(select(Product.id).where(Product.seller_id == seller.id)))
            session.add_all(Click(creator_id=creator.id, product_id=product_id, user_id=SHOPPER)
                            for product_id in products)
            for variant_id in variant_ids:
                await cart_service.add_to_cart(session, SHOPPER, variant_id, MAX_QUANTITY, creator_id=creator.id)
            first = min(products)

        placed = said(language, PLACED, numbers="#", total="").split("#")[0]  # "Thank you! Your order "
        ann = fake.user(SHOPPER, "Ann", language_code=APP_CODES[language])
        await ann.send("zanzibar lamp")  # search
        await ann.press_data(f"p:{first}")  # the card, a photo with a caption
        await ann.send("/cart")
        await ann.press(said(language, "✅ Checkout"))
        await ann.press(said(language, "Continue ›"))
        await ann.send(longest("Ann-Marie Lee & <Co> ", NAME_MAX - 16) + " +1 202 555 0143")
        await ann.send(longest("Flat 2, 1 Main Street & <Yard> 😀\n", ADDRESS_MAX))
        await ann.press("Standard delivery")
        await ann.press(said(language, "💵 Cash on delivery"))
        await ann.press(said(language, "✅ Place order"))
        assert any(placed in (text or "") for text in ann.reply_texts)
        await ann.send("/orders")
        await ann.press("#")  # the order's detail
        notice = await fake.until(lambda: next((call for call in fake.find_calls("sendMessage", chat_id=SELLER_CHAT)
                                                if "#" in call.params["text"]), None), timeout=10)

        # Buy now of the same card: every screen, another shipping method chosen on the way.
        await ann.press_data(f"p:{first}")
        await ann.press(said(language, "⚡ Buy now"))
        await ann.press(said(language, "✅ Deliver there"))
        await ann.press("Express delivery")
        await ann.press(said(language, "💵 Cash on delivery"))
        await ann.press(said(language, "✅ Place order"))
        assert placed in ann.last_text
        cleo = fake.user(CREATOR, "Cleo", language_code=APP_CODES[language])
        await cleo.send("/earnings")
        assert said(language, "🏆 <b>Top products</b>") in cleo.last_text
        assert said_n(language, "… and {count} more link", "… and {count} more links", 16) in cleo.last_text
        assert said(language, EARNINGS_NOTE) in cleo.last_text  # the note at the end is not cut off

    # What must be seen is there, the long lists cut with "… and N more".
    heading = said(language, "✅ <b>Checkout — confirm your order</b>")
    confirm = next(call for call in fake.calls if heading in plain_text(call.params.get("text") or ""))
    total = said(language, "<b>Total: {total}</b>", total=render.money(247_500_000_000_499, "USD", language))
    assert total in plain_text(confirm.params["text"]) and "Flat 2" in confirm.params["text"]
    assert "Zanzibar lamp 24" in confirm.params["text"]  # titles shortened, all 25 lines fit
    assert said(language, "<b>Ship to:</b> {address}", address="") in plain_text(notice.params["text"])

    sent = [call for call in fake.calls if call.method in SENDS]
    assert sent and all(call.ok for call in sent), [call.summary() for call in sent if not call.ok]
    assert not any("went wrong" in (call.params.get("text") or "") for call in sent)
    texts = [call for call in sent if call.params.get("text")]
    assert max(visible_length(call.params["text"]) for call in texts) > 3000  # long content was really shown
    assert any(call.method == "sendPhoto" for call in sent)


@pytest.mark.parametrize("limit", [TEXT_LIMIT, CAPTION_LIMIT, 100])
def test_fit_cuts_html_at_the_limit_never_inside_a_tag_or_an_entity(limit):
    rng = random.Random(limit)
    pieces = ["<b>bold &amp; bright</b>", "plain words ", "😀", "&lt;tag&gt;", "<i>it\nalic</i>", "\n",
              '<a href="https://t.me/x">link</a>', "é", "<code>x &lt; y</code>"]
    for _ in range(200):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 900)))
        fitted = fit(text, limit)
        plain, _entities = parse_html(fitted)  # the fake's parser: raises on a broken tag or entity
        assert len(plain.strip().encode("utf-16-le")) // 2 <= limit
        if visible_length(text) <= limit:
            assert fitted == text
        else:
            assert fitted.rstrip().endswith(("…", "…</b>", "…</i>", "…</a>", "…</code>"))
    assert MAX_TEXT_LENGTH == TEXT_LIMIT and MAX_CAPTION_LENGTH == CAPTION_LIMIT


def test_plain_text_is_what_telegram_shows_and_fits():
    assert plain_text("<b>Tom &amp; Jerry</b> &lt;3") == "Tom & Jerry <3"
    assert len(plain_text("<b>x</b>" * 5000)) <= TEXT_LIMIT


def test_a_cut_list_counts_the_items_left_out_not_its_headings():
    lines = []
    for shop in range(3):
        lines += [f"\n<b>Shop {shop}</b>", *(f"• Item {shop}-{i} " + "x" * 60 for i in range(10)), "    Subtotal: $1"]
    text = fit_lines(["🛒 <b>Your cart</b>"], lines, ["\nTotal: <b>$30</b>"], limit=1000)
    shown = sum(1 for line in text.split("\n") if line.startswith("• "))
    assert visible_length(text) <= 1000 and text.endswith("Total: <b>$30</b>")
    assert f"… and {30 - shown} more" in text


def test_long_options_that_differ_only_at_one_end_still_read_differently_in_a_list():
    first, second = "XL / Midnight Blue with Silver Trim", "XL / Midnight Blue with Golden Trim"
    shown = {item_name("Hoodie", first), item_name("Hoodie", second), item_name("Hoodie", "S" + first[1:])}
    assert len(shown) == 3 and all(visible_length(name) <= len("Hoodie ()") + ITEM_LABEL_MAX for name in shown)
