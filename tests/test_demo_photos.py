"""The demo catalog's product pictures, drawn by the project: on product cards and over HTTP.

A demo product's photo is ``demo:<slug>``; the bot draws the picture, uploads it
the first time a card shows it and sends Telegram's file_id after that. The
same picture is served at ``/media/demo/<slug>.png``.
"""

from __future__ import annotations

import io

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import select

from handlers.photos import FILE_IDS_KEY
from store import demo_data, demo_photos
from store.models import Product
from store.services.catalog import bump_catalog_version

from .conftest import BotRunner

PNG = b"\x89PNG\r\n\x1a\n"
ANN, BOB = 1001, 1002
HOODIE = "demo:pullover-hoodie"


def size_of(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        return image.size


def photo_sends(fake, chat_id: int) -> list:
    """The photos the bot sent to a chat (and Telegram took)."""
    return [call for call in fake.find_calls("sendPhoto", chat_id=chat_id) if call.ok]


async def product_id(runner: BotRunner, title: str) -> int:
    async with runner.db.read() as session:
        return await session.scalar(select(Product.id).where(Product.title == title))


async def set_photo(runner: BotRunner, title: str, photo: str | None) -> None:
    """A product's photo changed in the store (and the search index told)."""
    async with runner.db.transaction() as session:
        product = await session.scalar(select(Product).where(Product.title == title))
        product.photo = photo
        product.catalog_version = await bump_catalog_version(session)


# --- the pictures ----------------------------------------------------------------------------------------------


def test_every_demo_photo_is_a_picture_of_its_own():
    keys = [item["photo"] for item in demo_data.PRODUCTS if item.get("photo")]
    # Every photo of the demo catalog is drawn (none is a third party's URL), and a few products have none.
    assert keys and all(demo_photos.is_demo(key) for key in keys)
    assert any(item.get("photo") is None for item in demo_data.PRODUCTS)
    assert len(set(keys)) == len(keys) == len(demo_photos.keys())

    pictures = {key: demo_photos.draw(key) for key in keys}
    for key, png in pictures.items():
        assert png.startswith(PNG), key
        assert size_of(png) == (600, 600), key
        assert len(png) < 60_000, key  # small enough to upload quickly
    assert len(set(pictures.values())) == len(keys)

    # Drawn again from nothing, a picture is the same.
    demo_photos.draw.cache_clear()
    assert demo_photos.draw(HOODIE) == pictures[HOODIE]


def test_a_key_no_demo_product_has_is_refused():
    for key in ("demo:no-such-product", "demo:", "https://example.com/a.png", "AgACAgIAAxkBAAI"):
        with pytest.raises(demo_photos.UnknownDemoPhoto) as refused:
            demo_photos.draw(key)
        assert isinstance(refused.value, KeyError) and key in str(refused.value)


@pytest.fixture
def without_system_fonts(monkeypatch):
    """No font installed: the pictures fall back to the font Pillow carries."""
    monkeypatch.setattr(demo_photos, "BOLD_FONTS", ())
    monkeypatch.setattr(demo_photos, "REGULAR_FONTS", ())
    demo_photos._font.cache_clear()
    demo_photos.draw.cache_clear()
    yield
    demo_photos._font.cache_clear()
    demo_photos.draw.cache_clear()


def test_pictures_draw_with_pillows_own_font_too(without_system_fonts):
    # That font has no accents: titles are written in plain letters.
    assert demo_photos.fold("Crème Brûlée — Après-Ski") == "Creme Brulee - Apres-Ski"
    for key in ("demo:creme-brulee-torch", "demo:anc-headphones-pro", "demo:pride-and-prejudice"):
        png = demo_photos.draw(key)
        assert png.startswith(PNG) and size_of(png) == (600, 600)


# --- on product cards ------------------------------------------------------------------------------------------


async def test_a_demo_picture_is_uploaded_once_then_sent_by_its_file_id(fake, bot):
    ann = fake.user(ANN, "Ann")

    # Ann opens the hoodie: its card comes with the drawn picture, uploaded as a PNG file.
    await ann.send("pullover hoodie")
    await ann.press("1. Pullover Hoodie")
    [first] = photo_sends(fake, ANN)
    upload = first.params["photo"]
    assert upload.filename == "pullover-hoodie.png"
    assert upload.data.startswith(PNG) and size_of(upload.data) == (600, 600)
    assert upload.data == demo_photos.draw(HOODIE)
    assert "Pullover Hoodie" in first.params["caption"]
    file_id = first.response["result"]["photo"][-1]["file_id"]

    # She opens it again: Telegram already has it, so the bot sends its file_id instead of uploading.
    await ann.press("1. Pullover Hoodie")
    assert photo_sends(fake, ANN)[-1].params["photo"] == file_id

    # So it does for Bob, who opens it from a link.
    bob = fake.user(BOB, "Bob")
    await bob.send(f"/start p{await product_id(bot, 'Pullover Hoodie')}")
    [card] = photo_sends(fake, BOB)
    assert card.params["photo"] == file_id and "Pullover Hoodie" in card.params["caption"]
    assert "Add to cart" in " ".join(bob.buttons())

    # Another product has a picture of its own, uploaded the first time too.
    await ann.send("running shoes")
    await ann.press("1. Running Shoes")
    shoes = photo_sends(fake, ANN)[-1].params["photo"]
    assert shoes.filename.endswith(".png") and shoes.data.startswith(PNG) and shoes.data != upload.data
    uploads = [call for call in fake.find_calls("sendPhoto") if not isinstance(call.params["photo"], str)]
    assert len(uploads) == 2


async def test_a_file_id_telegram_refuses_is_replaced_by_a_new_upload(fake, bot):
    ann = fake.user(ANN, "Ann")
    # The file_id remembered for the hoodie is one this bot's Telegram does not know (it never should be).
    bot.application.bot_data.setdefault(FILE_IDS_KEY, {})[HOODIE] = "AgACAgIAAxkBAAIB-not-ours"

    # Ann still gets the card with the picture: Telegram refuses the file_id, the picture is uploaded again,
    # and its new file_id kept.
    await ann.send("pullover hoodie")
    await ann.press("1. Pullover Hoodie")
    refused, card = fake.find_calls("sendPhoto", chat_id=ANN)
    assert refused.params["photo"] == "AgACAgIAAxkBAAIB-not-ours" and not refused.ok
    assert card.params["photo"].data == demo_photos.draw(HOODIE)
    assert bot.application.bot_data[FILE_IDS_KEY][HOODIE] == card.response["result"]["photo"][-1]["file_id"]


async def test_a_demo_photo_without_a_picture_shows_a_card_without_one(fake, bot):
    ann = fake.user(ANN, "Ann")
    # A store loaded by another version of the demo catalog: the hoodie's picture is not drawn by this one.
    await set_photo(bot, "Pullover Hoodie", "demo:hoodie-of-another-release")

    # Ann gets the hoodie's card all the same, as text.
    await ann.send("pullover hoodie")
    await ann.press("1. Pullover Hoodie")
    assert not fake.find_calls("sendPhoto")
    assert "Pullover Hoodie" in ann.last_text and "Chatshop Store" in ann.last_text
    assert "Add to cart" in " ".join(ann.buttons())


# --- over HTTP -------------------------------------------------------------------------------------------------


async def test_the_pictures_are_served_over_http(bot):
    async with aiohttp.ClientSession(base_url=bot.runtime.web.url) as http:
        # The hoodie's picture, the same the bot uploads, cacheable for a day.
        async with http.get("/media/demo/pullover-hoodie.png") as response:
            assert response.status == 200
            assert response.content_type == "image/png"
            assert response.headers["Cache-Control"] == "public, max-age=86400"
            body = await response.read()
        assert body == demo_photos.draw(HOODIE) and size_of(body) == (600, 600)

        # A picture no demo product has: 404, with a JSON error as the API's.
        async with http.get("/media/demo/no-such-product.png") as response:
            assert response.status == 404
            error = await response.json()
        assert error["error"] == "not_found" and error["code"] == "photo_unknown"
        assert "no-such-product" in error["message"]
