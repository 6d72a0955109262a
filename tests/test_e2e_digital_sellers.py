"""Sellers of digital goods through the real bot: a file, a pool of codes, a link, added and managed in the chat.

What a digital variant delivers (the file, the codes, the link) is the buyers' alone: the seller reads how it
is delivered and how many codes are left, never the goods themselves.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from store.models import DigitalCode, Product, Variant

from .conftest import BotRunner
from .test_e2e_sellers import OPERATOR, SELLER, open_shop, sent_to

STRANGER, RIVAL = 4444, 3002
PDF = b"%PDF-1.7 watercolour brushes"


async def start_digital(seller, title: str, category: str, delivery: str) -> None:  # type: ignore[no-untyped-def]
    """The seller begins a digital product and picks how buyers get it."""
    await seller.send("/add_product")
    await seller.send(title)
    await seller.send("/skip")
    await seller.press(category)
    await seller.send("/skip")
    assert "physical product" in seller.last_text and "digital one" in seller.last_text
    await seller.press("Digital")
    assert "How do buyers get it" in seller.last_text
    await seller.press(delivery)


async def variants(db, title: str) -> list[Variant]:  # type: ignore[no-untyped-def]
    """The variants of a product, as stored."""
    async with db.read() as session:
        return list(await session.scalars(select(Variant).join(Product, Product.id == Variant.product_id)
                                          .where(Product.title == title).order_by(Variant.position)))


async def free_codes(db, variant_id: int) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return await session.scalar(select(func.count(DigitalCode.id)).where(
            DigitalCode.variant_id == variant_id, DigitalCode.status == "free"))


def said_to(fake, chat_id: int) -> str:  # type: ignore[no-untyped-def]
    """Everything the bot sent or edited in a chat, and every button alert it gave, as one text."""
    return "\n".join(repr(call.params) for call in fake.calls
                     if str(call.params.get("chat_id")) == str(chat_id) or call.method == "answerCallbackQuery")


async def test_a_seller_adds_a_file_product_and_replaces_its_file(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await start_digital(seller, "Watercolour Brush Pack", "Books & Stationery", "File")
        assert "Send the file buyers get" in seller.last_text and "50 MB" in seller.last_text

        # Anything but a document or a photo gets the step's question again.
        await seller.send("it is on my drive")
        assert seller.last_text == "Send the file buyers get as a file (📎 → File), or as a photo."
        await seller.send_media("sticker", b"sticker")
        assert seller.last_text == "Send the file buyers get as a file (📎 → File), or as a photo."
        await seller.send_media("video", b"video", mime_type="video/mp4")
        assert seller.last_text == "Send the file buyers get as a file (📎 → File), or as a photo."
        # A file over what a bot may send on is refused, with the limit.
        await seller.send_document(PDF, "huge.pdf", size=60 * 1024 * 1024)
        assert "too big" in seller.last_text and "50 MB" in seller.last_text

        # The PDF itself: kept by its Telegram file id; then the variants, as for any product.
        sent = await seller.send_document(PDF, "brushes.pdf")
        file_id = sent["message"]["document"]["file_id"]
        assert "Got the file" in seller.last_text and "option; price; stock" in seller.last_text
        await seller.send("Standard; 4.99; 100")
        await seller.press("Done")
        assert "is on sale now" in seller.texts[-2]
        assert "Digital" in seller.last_text and "📎 file" in seller.last_text and file_id not in seller.last_text
        async with runner.db.read() as session:
            product = await session.scalar(select(Product).where(Product.title == "Watercolour Brush Pack"))
            assert product.kind == "digital"
        [variant] = await variants(runner.db, "Watercolour Brush Pack")
        assert (variant.delivery, variant.content, variant.content_type, variant.stock) == (
            "file", file_id, "document", 100)

        # Later the seller replaces it with a photo, from /my_products; text is not a file.
        await seller.send("/my_products")
        await seller.press("Watercolour Brush Pack")
        await seller.press("Standard: replace file")
        assert "Send the new file of Watercolour Brush Pack (Standard)" in seller.last_text
        await seller.send("here")
        assert seller.last_text == "Send the new file as a file (📎 → File), or as a photo."
        photo = await seller.send_photo()
        assert "New file saved" in seller.last_text
        [variant] = await variants(runner.db, "Watercolour Brush Pack")
        assert (variant.content, variant.content_type) == (photo["message"]["photo"][-1]["file_id"], "photo")


async def test_a_seller_sells_codes_adds_them_by_message_and_by_file_and_never_sees_them_again(
        fake, store_url, clock, caplog):
    caplog.set_level(logging.INFO)
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await start_digital(seller, "Photo Editor Licence", "Gift Cards & Classes", "Codes")
        assert "option; price" in seller.last_text and "No stock to type" in seller.last_text

        # A stock typed is refused, politely: the stock is the codes left.
        await seller.send("Standard; 9.99; 10")
        assert "There is no stock to type" in seller.last_text
        await seller.send("Standard; 9.99")
        await seller.send("Pro; 19.99")
        assert "• Standard — $9.99" in seller.last_text and "stock" not in seller.last_text
        await seller.press("Done")
        assert "Now add its codes" in seller.last_text and "0 codes left" in seller.last_text
        standard, pro = await variants(runner.db, "Photo Editor Licence")
        assert (standard.delivery, standard.stock, pro.delivery, pro.stock) == ("code", 0, "code", 0)

        # Pasted: blanks, spaces and repeats are dropped, and the bot says how many went in.
        await seller.press("Standard: add codes")
        assert "has 0 codes left" in seller.last_text and "up to 1,000 at a time" in seller.last_text
        await seller.send("KEY-0001\n\n   KEY-0002  \nKEY-0003, KEY-0001;KEY-0004\n")
        assert "Added 4 codes. 4 codes left." in seller.last_text
        await seller.press("Standard: add codes")
        await seller.send("KEY-0002\nKEY-0005")
        assert "Added 1 code. 1 was already in the pool. 5 codes left." in seller.last_text

        # Uploaded as a .txt file (Windows line ends and all).
        await seller.press("Standard: add codes")
        await seller.send_document(b"\xef\xbb\xbfKEY-0006\r\nKEY-0007\r\nKEY-0005\r\n", "codes.txt", "text/plain")
        assert "Added 2 codes. 1 was already in the pool. 7 codes left." in seller.last_text
        assert "7 codes left" in seller.last_text  # the product's page, under the answer

        # Over the cap: refused with the numbers, nothing added; the step stays for the next try.
        await seller.press("Standard: add codes")
        await seller.send("\n".join(f"BULK-{n}" for n in range(1001)))
        assert "That is 1,001 codes: at most 1,000 per upload" in seller.last_text
        # Not a text file, or too big a one: refused before it is fetched.
        await seller.send_document(PDF, "codes.pdf")
        assert "plain text file (.txt)" in seller.last_text
        await seller.send_document(b"KEY", "codes.txt", "text/plain", size=100 * 1024)
        assert "64 KB at most" in seller.last_text
        await seller.send_document(b"KEY-0008\n", "codes.txt", "text/plain")
        assert "Added 1 code. 8 codes left." in seller.last_text

        # The stock is the codes left, and cannot be typed by hand.
        standard, pro = await variants(runner.db, "Photo Editor Licence")
        assert standard.stock == await free_codes(runner.db, standard.id) == 8
        assert pro.stock == await free_codes(runner.db, pro.id) == 0
        assert "Standard stock" not in " ".join(seller.buttons())
        await seller.press_data(f"mv:{standard.product_id}:{standard.id}:s")
        assert seller.last_answer["text"] == "The stock of this option is the number of codes left: add codes instead."

        # No code ever came back: not in a message, an edit or an alert, nor in the log.
        said = said_to(fake, SELLER)
        assert "KEY-" not in said and "BULK-" not in said
        assert not [record for record in caplog.records if "KEY-" in record.getMessage()]


async def test_a_seller_sells_a_link_and_changes_it_without_seeing_it_again(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, _operator = await open_shop(fake, runner)
        await start_digital(seller, "Sourdough Masterclass", "Gift Cards & Classes", "Link or text")
        assert "Send the link or text buyers get" in seller.last_text
        await seller.send("/skip")
        assert seller.last_text == "Send the link or text buyers get, as a message."
        await seller.send("https://videos.example/sourdough?pass=SECRET-ONE")
        assert "Got it" in seller.last_text and "SECRET" not in seller.last_text
        await seller.send("29.00; 50")
        await seller.press("Done")
        assert "🔗 link or text" in seller.last_text and "SECRET" not in seller.last_text
        [variant] = await variants(runner.db, "Sourdough Masterclass")
        assert (variant.delivery, variant.content, variant.stock) == (
            "text", "https://videos.example/sourdough?pass=SECRET-ONE", 50)

        await seller.press("Change link or text")
        await seller.send("Zoom https://zoom.example/j/42 password SECRET-TWO")
        assert "Saved" in seller.last_text and "SECRET" not in seller.last_text
        [variant] = await variants(runner.db, "Sourdough Masterclass")
        assert variant.content == "Zoom https://zoom.example/j/42 password SECRET-TWO"
        assert "SECRET" not in said_to(fake, SELLER)


async def test_no_one_but_its_seller_changes_a_digital_products_goods(fake, store_url, clock):
    async with BotRunner(fake, store_url, clock, operator_ids=str(OPERATOR)) as runner:
        seller, operator = await open_shop(fake, runner)
        await start_digital(seller, "Photo Editor Licence", "Gift Cards & Classes", "Codes")
        await seller.send("9.99")
        await seller.press("Done")
        await seller.press("Add codes")
        await seller.send("KEY-0001\nKEY-0002")
        [variant] = await variants(runner.db, "Photo Editor Licence")

        # Another seller opens a shop too.
        rival = fake.user(RIVAL, "Rita")
        await rival.send("/sell")
        await rival.send("Rita's Keys")
        await fake.wait_for("sendMessage", sent_to(OPERATOR, "Seller application", "Rita's Keys"), timeout=10)
        await operator.press("Approve")
        await fake.wait_for("sendMessage", sent_to(RIVAL, "is approved"), timeout=10)
        stranger = fake.user(STRANGER, "Eve")
        await stranger.send("/start")

        # Neither can open the goods of the product, add codes, nor set its stock.
        forged = [f"dg:{variant.product_id}:{variant.id}", f"mv:{variant.product_id}:{variant.id}:s"]
        for data in forged:
            await rival.press_data(data)
            assert rival.last_answer["text"] == "That product isn't one of your shop's."
            await stranger.press_data(data)
            assert "This is for sellers" in stranger.last_answer["text"]
        # Codes sent without the button are not codes: nothing happens to the pool.
        await rival.send_document(b"KEY-9999\n", "codes.txt", "text/plain")
        await stranger.send("KEY-9998")
        [variant] = await variants(runner.db, "Photo Editor Licence")
        assert variant.stock == await free_codes(runner.db, variant.id) == 2
        # And the seller's own old button still works for the seller.
        await seller.press("Add codes")
        await seller.send("KEY-0003")
        assert "Added 1 code. 3 codes left." in seller.last_text
