"""Proof that bot/sandbox/emulator.py serves a real PTB Application, by long polling and by webhook."""

from __future__ import annotations

import asyncio
import html
import json
import time

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LabeledPrice,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bot.sandbox.emulator import ApiError, BotApiEmulator, UploadedFile, parse_html

TOKEN = "123:ABC"
ITEMS = {"1": "Red hoodie", "2": "Blue cap"}


# ---- a tiny shop bot


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet and offer the items as buttons."""
    buttons = [InlineKeyboardButton(name, callback_data=f"item:{key}") for key, name in ITEMS.items()]
    await update.message.reply_text(
        "Welcome to <b>chatshop</b>! Pick one:", reply_markup=InlineKeyboardMarkup([buttons])
    )


async def on_item(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the picked item in place of the menu."""
    query = update.callback_query
    name = ITEMS.get(query.data.removeprefix("item:"))
    if name is None:
        await query.answer("This button has expired")
        return
    await query.answer()
    add = InlineKeyboardButton("Add to cart", callback_data=query.data.replace("item", "add"))
    await query.edit_message_text(f"You picked {html.escape(name)}", reply_markup=InlineKeyboardMarkup([[add]]))


async def on_cart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button at once, then send the cart after slow work (a busy store, say)."""
    await update.callback_query.answer()
    await asyncio.sleep(0.3)
    await context.bot.send_message(update.effective_chat.id, "Your cart is empty")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a product photo by URL."""
    await update.message.reply_photo("https://example.com/hoodie.jpg", caption="<b>Red hoodie</b>, 25 €")


async def on_buy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a Stars invoice."""
    await context.bot.send_invoice(
        chat_id=update.effective_chat.id,
        title="Red hoodie",
        description="Warm and red",
        payload="checkout:42",
        provider_token="",
        currency="XTR",
        prices=[LabeledPrice("Red hoodie", 250)],
        start_parameter="buy",
    )


async def on_pre_checkout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Accept only our own checkout payloads."""
    query = update.pre_checkout_query
    if query.invoice_payload.startswith("checkout:"):
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message="This checkout has expired")


async def on_paid(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record a payment once per charge id."""
    payment = update.message.successful_payment
    context.bot_data.setdefault("update_ids", []).append(update.update_id)
    charges = context.bot_data.setdefault("charges", set())
    if payment.telegram_payment_charge_id in charges:
        await update.message.reply_text("Already recorded")
        return
    charges.add(payment.telegram_payment_charge_id)
    await update.message.reply_text(f"paid {payment.total_amount} {payment.currency}")


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Thank for a shared phone number."""
    await update.message.reply_text(f"Thanks, {html.escape(update.message.contact.phone_number)}")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo text back, HTML-escaped."""
    await update.message.reply_text(f"You said: <i>{html.escape(update.message.text)}</i>")


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer inline search with one article."""
    text = update.inline_query.query
    result = InlineQueryResultArticle(
        id="1", title=f"Results for {text}", input_message_content=InputTextMessageContent(text)
    )
    await update.inline_query.answer([result], cache_time=0)


def build_app(fake: BotApiEmulator) -> Application:
    """The shop bot wired to the fake server."""
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{fake.url}/bot")
        .base_file_url(f"{fake.url}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("photo", on_photo))
    app.add_handler(CommandHandler("buy", on_buy))
    app.add_handler(CallbackQueryHandler(on_item, pattern=r"^item:"))
    app.add_handler(CallbackQueryHandler(on_cart, pattern=r"^cart$"))
    app.add_handler(PreCheckoutQueryHandler(on_pre_checkout))
    app.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, on_paid))
    app.add_handler(MessageHandler(filters.CONTACT, on_contact))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(InlineQueryHandler(on_inline))
    return app


@pytest.fixture
async def fake():
    """A running fake Bot API."""
    async with BotApiEmulator(token=TOKEN, bot_username="chatshop_test_bot") as server:
        yield server


@pytest.fixture
async def polling_app(fake):
    """The shop bot, long polling the fake."""
    app = build_app(fake)
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert not fake.internal_errors


@pytest.fixture
async def bot(fake):
    """A bare initialised PTB Bot talking to the fake (no polling)."""
    app = build_app(fake)
    async with app:
        yield app.bot


# ---- user stories against a polling Application


async def test_browse_press_and_echo(fake, polling_app):
    ann = fake.user(1001, first_name="Ann", username="ann", language_code="en")

    # Ann starts the bot and sees the menu, rendered from HTML.
    await ann.send("/start")
    assert ann.last_text == "Welcome to chatshop! Pick one:"
    assert ann.last_message["entities"] == [{"type": "bold", "offset": 11, "length": 8}]
    assert ann.buttons() == ["Red hoodie", "Blue cap"]
    menu_id = ann.last_message["message_id"]

    # She taps "Red" (a substring of the label): the menu turns into the item card.
    await ann.press("Red")
    assert ann.last_text == "You picked Red hoodie"
    assert ann.last_message["message_id"] == menu_id
    assert "edit_date" in ann.last_message
    assert ann.buttons() == ["Add to cart"]
    assert [c.method for c in ann.replies] == ["editMessageText"]
    assert ann.last_answer is not None and "text" not in ann.last_answer
    assert fake.unanswered_queries() == {}

    # The old buttons are gone, and the error says what is visible.
    with pytest.raises(AssertionError, match="Add to cart"):
        await ann.press("Blue cap")

    # She types; the echo escapes her text and italicises it.
    await ann.send("red <hoodie>")
    assert ann.reply_texts == ["You said: red <hoodie>"]
    assert ann.last_message["entities"] == [{"type": "italic", "offset": 10, "length": 12}]

    # A product photo sent by URL arrives with a file_id and a parsed caption.
    await ann.send("/photo")
    photo = ann.last_message
    assert photo["caption"] == "Red hoodie, 25 €"
    assert photo["photo"][-1]["file_id"].startswith("fake-photo-")
    assert fake.find_calls("sendPhoto")[-1].params["photo"] == "https://example.com/hoodie.jpg"

    # Sharing a contact works too.
    await ann.send_contact(phone_number="+1 202 555 0143", first_name="Ann")
    assert ann.last_text == "Thanks, +1 202 555 0143"


async def test_a_press_lasts_until_a_followed_application_is_done_with_it(fake, polling_app):
    # The cart handler answers the button, then replies 0.3 s later: far past the quiet period.
    fake.follow_application(polling_app)
    cy = fake.user(1003, first_name="Cy")
    await cy.send("/start")
    await cy.press_data("cart")
    assert cy.last_text == "Your cart is empty"
    assert cy.last_answer is not None and cy.reply_texts == ["Your cart is empty"]


async def test_forged_callback_data_gets_expired_answer(fake, polling_app):
    bob = fake.user(1002, first_name="Bob")
    await bob.send("/start")

    # Bob forges a button for an item that does not exist.
    await bob.press_data("item:99")
    assert bob.last_answer["text"] == "This button has expired"
    assert bob.replies == []
    assert bob.buttons() == ["Red hoodie", "Blue cap"]


async def test_pay_invoice_and_duplicate_update(fake, polling_app):
    ann = fake.user(1001, first_name="Ann")

    # Ann asks to buy and gets a Stars invoice.
    await ann.send("/buy")
    invoice = ann.last_message["invoice"]
    assert invoice == {
        "title": "Red hoodie",
        "description": "Warm and red",
        "start_parameter": "buy",
        "currency": "XTR",
        "total_amount": 250,
    }
    assert fake.invoices[-1]["payload"] == "checkout:42"

    # Telegram asks the bot to confirm; the bot accepts, then rejects a forged payload.
    answer = await ann.pre_checkout()
    assert answer["ok"] is True
    answer = await ann.pre_checkout(payload="forged")
    assert answer == {
        "pre_checkout_query_id": answer["pre_checkout_query_id"],
        "ok": False,
        "error_message": "This checkout has expired",
    }

    # She pays; the bot confirms.
    update = await ann.pay()
    assert ann.reply_texts == ["paid 250 XTR"]

    # Telegram retries the very same update, then sends it again under a new id.
    await fake.resend(update)
    assert ann.reply_texts == ["Already recorded"]
    again = await fake.resend(update, new_update_id=True)
    assert ann.reply_texts == ["Already recorded"]
    assert polling_app.bot_data["update_ids"] == [
        update["update_id"],
        update["update_id"],
        again["update_id"],
    ]

    # The bot can refund the charge exactly once.
    charge = update["message"]["successful_payment"]["telegram_payment_charge_id"]
    assert await polling_app.bot.refund_star_payment(1001, charge) is True
    with pytest.raises(BadRequest, match="(?i)charge_already_refunded"):
        await polling_app.bot.refund_star_payment(1001, charge)


async def test_inline_query(fake, polling_app):
    ann = fake.user(1001, first_name="Ann")
    answer = await ann.inline_query("hoodie")
    assert answer["results"][0]["title"] == "Results for hoodie"
    assert answer["cache_time"] == 0


async def test_settle_times_out_when_nobody_polls(fake):
    fake.settle_timeout = 0.2
    ann = fake.user(1001, first_name="Ann")
    with pytest.raises(AssertionError, match="did not fetch update"):
        await ann.send("hello?")


# ---- webhook mode


async def test_webhook_delivery(fake):
    ann = fake.user(1001, first_name="Ann")
    app = build_app(fake)

    async def receive(request: web.Request) -> web.Response:
        """A webhook endpoint as Telegram expects one: the secret checked, the update handed to PTB."""
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "s3cret":
            return web.Response(status=403)
        await app.process_update(Update.de_json(await request.json(), app.bot))
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    await app.initialize()
    await app.start()
    try:
        await app.bot.set_webhook(url, secret_token="s3cret")
        assert fake.webhook_url == url and fake.webhook_secret == "s3cret"

        # Ann's message is POSTed to the bot, which answers as under polling.
        await ann.send("/start")
        assert ann.last_text == "Welcome to chatshop! Pick one:"
        await ann.press("Blue cap")
        assert ann.last_text == "You picked Blue cap"
        assert [d.status for d in fake.webhook_deliveries] == [200, 200]

        # A delivery with the wrong secret is refused by PTB and recorded as such.
        fake.webhook_secret = "wrong"
        await ann.send("hi")
        assert fake.webhook_deliveries[-1].status == 403
        assert ann.replies == []
    finally:
        await app.stop()
        await app.shutdown()
        await runner.cleanup()


# ---- raw HTTP: bodies, tokens, long polling


async def test_raw_http_formats(fake):
    api = f"{fake.url}/bot{TOKEN}"
    keyboard = {"inline_keyboard": [[{"text": "Buy", "callback_data": "buy:1"}]]}
    async with aiohttp.ClientSession() as http:
        # A wrong token is refused.
        async with http.post(f"{fake.url}/bot999:WRONG/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

        # getMe by GET.
        async with http.get(f"{api}/getme") as resp:
            me = (await resp.json())["result"]
            assert me["is_bot"] and me["username"] == "chatshop_test_bot"
            assert me["supports_inline_queries"] is True

        # Form fields, method name in any case, nested values as JSON strings.
        form = {"chat_id": "1001", "text": "<b>hi</b>", "parse_mode": "HTML", "reply_markup": json.dumps(keyboard)}
        async with http.post(f"{api}/SENDMESSAGE", data=form) as resp:
            body = await resp.json()
        assert body["ok"] and body["result"]["text"] == "hi"
        call = fake.calls[-1]
        assert call.method == "sendMessage"
        assert call.params["chat_id"] == 1001 and call.params["reply_markup"] == keyboard
        assert body["result"]["reply_markup"] == keyboard

        # JSON body.
        async with http.post(f"{api}/sendMessage", json={"chat_id": 1001, "text": "json"}) as resp:
            assert (await resp.json())["result"]["text"] == "json"

        # Query string.
        async with http.get(f"{api}/sendMessage", params={"chat_id": "1001", "text": "query"}) as resp:
            assert (await resp.json())["result"]["message_id"] == 3

        # Multipart upload; the file can be fetched back through getFile.
        data = aiohttp.FormData()
        data.add_field("chat_id", "1001")
        data.add_field("caption", "Hoodie")
        data.add_field("photo", b"\x89PNG fake", filename="hoodie.png", content_type="image/png")
        async with http.post(f"{api}/sendPhoto", data=data) as resp:
            photo = (await resp.json())["result"]
        assert photo["caption"] == "Hoodie"
        upload = fake.calls[-1].params["photo"]
        assert isinstance(upload, UploadedFile) and upload.data == b"\x89PNG fake"
        async with http.post(f"{api}/getFile", data={"file_id": photo["photo"][-1]["file_id"]}) as resp:
            path = (await resp.json())["result"]["file_path"]
        async with http.get(f"{fake.url}/file/bot{TOKEN}/{path}") as resp:
            assert await resp.read() == b"\x89PNG fake"

        # A method the emulator does not serve is refused as Telegram refuses an unknown one, and recorded.
        async with http.post(f"{api}/sendDice", json={"chat_id": 1001}) as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        assert fake.calls[-1].method == "sendDice"


async def test_long_poll_returns_promptly(fake):
    api = f"{fake.url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{api}/getUpdates", params={"timeout": "0"}) as resp:
            assert (await resp.json())["result"] == []

        async def poll(offset: int = 0) -> list:
            async with http.post(f"{api}/getUpdates", data={"timeout": "5", "offset": str(offset)}) as resp:
                return (await resp.json())["result"]

        # An update arriving during a long poll ends it at once.
        started = time.monotonic()
        waiting = asyncio.create_task(poll())
        await asyncio.sleep(0.05)
        message = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "x"}
        update = await fake.send_update({"message": message}, wait=False)
        assert [u["update_id"] for u in await waiting] == [update["update_id"]]
        assert time.monotonic() - started < 1

        # Confirming via offset forgets it.
        async with http.get(f"{api}/getUpdates", params={"offset": update["update_id"] + 1}) as resp:
            assert (await resp.json())["result"] == []


def test_html_is_parsed_like_telegram():
    # Offsets count UTF-16 units; only Telegram's four named entities are decoded.
    assert parse_html("😀 <b>Hoodie &amp; cap</b> &lt;3") == (
        "😀 Hoodie & cap <3",
        [{"type": "bold", "offset": 3, "length": 12}],
    )
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert (text, entities) == ("x = 1", [{"type": "pre", "language": "python", "offset": 0, "length": 5}])
    for broken in ("a < b", "<b>open", "<b>x</i>", "<br/>"):
        with pytest.raises(ApiError, match="can't parse entities"):
            parse_html(broken)


# ---- faults and Telegram errors, seen through PTB


# PTB warns about its own RetryAfter.retry_after type change when building the error.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_errors_seen_by_ptb(fake, bot):
    fake.user(1001, first_name="Ann")

    # A 429 becomes RetryAfter; the next call goes through.
    fake.fail_next("sendMessage", error_code=429)
    with pytest.raises(RetryAfter):
        await bot.send_message(1001, "hello")
    sent = await bot.send_message(1001, "Same")

    # Editing to identical content is refused, like Telegram does.
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Same", chat_id=1001, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("New", chat_id=1001, message_id=999)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(1001, 999)
    assert await bot.delete_message(1001, sent.message_id) is True

    # Broken HTML and unknown queries are rejected.
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(1001, "a <br> b")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("12345")

    # A user who blocked the bot answers 403 to every send.
    fake.block_user(1001)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1001, "still there?")


async def test_wait_for_async_notification(fake, bot):
    async def notify_later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(2002, "Order #7 paid")

    task = asyncio.create_task(notify_later())
    call = await fake.wait_for("sendMessage", lambda c: c.params["chat_id"] == 2002, timeout=2)
    await task
    assert call.result["text"] == "Order #7 paid"
