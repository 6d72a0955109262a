"""Inline mode through the real bot: ``@chatshop_test_bot words`` typed in any chat.

A person types a few words after the bot's name and gets products to share,
each with a Buy button that opens the product in the bot; an approved
creator's links carry their code.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store.models import Creator, Product, User
from store.services.catalog import bump_catalog_version

from .conftest import BotRunner

SHOPPER, CREATOR = 1001, 2001
LINK = "https://t.me/chatshop_test_bot?start="
SHOP_BUTTON = {"text": "Open the shop", "start_parameter": "shop"}


@pytest.fixture
async def shop(bot: BotRunner) -> BotRunner:
    """The demo bot, answering inline queries."""
    return bot


async def product_id(runner: BotRunner, title: str) -> int:
    async with runner.db.read() as session:
        return await session.scalar(select(Product.id).where(Product.title == title))


async def make_creator(runner: BotRunner, user_id: int, name: str, code: str, status: str) -> None:
    async with runner.db.transaction() as session:
        if await session.get(User, user_id) is None:
            session.add(User(id=user_id, first_name=name))
            await session.flush()
        session.add(Creator(user_id=user_id, code=code, status=status))


def by_title(answer: dict) -> dict[str, dict]:
    return {r["title"]: r for r in answer["results"]}


def buy_url(result: dict) -> str:
    [[button]] = result["reply_markup"]["inline_keyboard"]
    assert button["text"] == "🛒 Buy"
    return button["url"]


async def test_a_shopper_shares_a_product_found_with_a_typo(fake, shop):
    ann = fake.user(SHOPPER, "Ann")
    hoodie = await product_id(shop, "Pullover Hoodie")

    # Ann types "@chatshop_test_bot hodie" in a chat with a friend; the hoodie is offered.
    answer = await ann.inline_query("hodie")
    results = by_title(answer)
    assert "Pullover Hoodie" in results
    result = results["Pullover Hoodie"]
    assert result["type"] == "article" and result["id"] == str(hoodie)

    # Under the title: its price and who sells it.
    assert result["description"] == "from $39.99 · Chatshop Store"

    # What lands in the chat: an HTML card, and a Buy button opening the product in the bot.
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert content["message_text"].startswith("<b>Pullover Hoodie</b>\nfrom $39.99 · by Chatshop Store")
    assert "kangaroo pocket" in content["message_text"]
    assert buy_url(result) == f"{LINK}p{hoodie}"

    # The answer is hers alone (links can carry a creator's code), and only cached briefly.
    assert answer["is_personal"] is True
    assert 0 < answer["cache_time"] <= 60
    assert answer["next_offset"] == ""
    assert "button" not in answer

    # A product without a photo URL has no thumbnail rather than a broken one: neither the hoodie, whose
    # picture the bot draws and uploads, nor the zip-up hoodie, which has no photo.
    assert "thumbnail_url" not in result
    assert "thumbnail_url" not in results["Zip-Up Hoodie"]


async def test_a_card_shared_into_the_bots_own_chat_asks_nothing_but_text_via_another_bot_is_read(fake, shop):
    ann = fake.user(SHOPPER, "Ann")
    answer = await ann.inline_query("yoga mat")
    # She sends the card into her chat with the shop itself: it is no search for the card's words.
    await ann.send_inline_result(answer["results"][0])
    assert ann.reply_texts == []
    # Words sent via another inline bot are still words, answered as any message.
    gifs = {"id": 777000, "is_bot": True, "first_name": "GIFs", "username": "gif"}
    await ann._push({"message": ann._message(text="yoga mat", via_bot=gifs)}, wait=True)
    assert "Non-Slip Yoga Mat" in ann.last_text


async def test_a_photo_at_an_https_address_is_the_thumbnail(fake, shop):
    ann = fake.user(SHOPPER, "Ann")

    # The hoodie's seller gives it a photo at an https address instead of the drawn demo picture.
    async with shop.db.transaction() as session:
        hoodie = await session.scalar(select(Product).where(Product.title == "Pullover Hoodie"))
        hoodie.photo = "https://example.com/hoodie.jpg"
        hoodie.catalog_version = await bump_catalog_version(session)

    # Shared inline, it shows that photo as its thumbnail.
    result = by_title(await ann.inline_query("pullover hoodie"))["Pullover Hoodie"]
    assert result["thumbnail_url"] == "https://example.com/hoodie.jpg"


async def test_sold_out_products_say_so(fake, shop):
    ann = fake.user(SHOPPER, "Ann")
    answer = await ann.inline_query("bluetooth speaker")
    speaker = by_title(answer)["Portable Bluetooth Speaker"]
    assert speaker["description"] == "$59.99 · Voltbox Electronics · sold out"
    assert "sold out" in speaker["input_message_content"]["message_text"]


async def test_an_approved_creator_shares_links_with_their_code(fake, shop):
    kim, pat = fake.user(CREATOR, "Kim"), fake.user(CREATOR + 1, "Pat")
    await make_creator(shop, CREATOR, "Kim", "k7m2qx9a", "approved")
    await make_creator(shop, CREATOR + 1, "Pat", "p3n4rstu", "pending")
    hoodie = await product_id(shop, "Pullover Hoodie")

    # Kim is an approved creator: every Buy link she shares carries her code.
    answer = await kim.inline_query("hoodie")
    assert buy_url(by_title(answer)["Pullover Hoodie"]) == f"{LINK}p{hoodie}_k7m2qx9a"
    assert all(buy_url(r).endswith("_k7m2qx9a") for r in answer["results"])
    assert answer["is_personal"] is True

    # Pat has only applied: his links are plain ones.
    answer = await pat.inline_query("hoodie")
    assert buy_url(by_title(answer)["Pullover Hoodie"]) == f"{LINK}p{hoodie}"

    # And a shopper's links never carry anybody's code.
    answer = await fake.user(SHOPPER, "Ann").inline_query("hoodie")
    assert buy_url(by_title(answer)["Pullover Hoodie"]) == f"{LINK}p{hoodie}"


async def test_scrolling_pages_through_many_results(fake, shop):
    ann = fake.user(SHOPPER, "Ann")

    # "s" matches most of the demo catalog: the first 20 come first.
    first = await ann.inline_query("s")
    assert len(first["results"]) == 20
    assert first["next_offset"] == "20"

    # Scrolling down, Telegram asks again with that offset, until there is no more.
    seen = [r["id"] for r in first["results"]]
    offset = first["next_offset"]
    while offset:
        page = await ann.inline_query("s", offset=offset)
        assert 0 < len(page["results"]) <= 20
        seen += [r["id"] for r in page["results"]]
        offset = page["next_offset"]
        assert offset in ("", str(len(seen)))
    assert len(seen) > 40 and len(seen) == len(set(seen))

    # An offset that is not one of ours starts from the top again.
    for garbage in ("abc", "-5", "１２", "99999999999"):
        again = await ann.inline_query("s", offset=garbage)
        assert [r["id"] for r in again["results"]] == seen[:20]
        assert again["next_offset"] == "20"

    # An offset past the end is an empty last page.
    past = await ann.inline_query("s", offset="500")
    assert past["results"] == [] and past["next_offset"] == ""


async def test_nothing_found_offers_to_open_the_shop(fake, shop):
    ann = fake.user(SHOPPER, "Ann")

    # Words that match nothing: no results, and a button above them to open the bot.
    answer = await ann.inline_query("qqqzzzxxx")
    assert answer["results"] == [] and answer["next_offset"] == ""
    assert answer["button"] == SHOP_BUTTON

    # Just the bot's name, nothing typed yet: the same.
    answer = await ann.inline_query("")
    assert answer["results"] == []
    assert answer["button"] == SHOP_BUTTON

    # A very long query is cut short, not refused.
    answer = await ann.inline_query("hoodie " * 40)
    assert isinstance(answer["results"], list)

    # Tapping the button starts the bot, which shows the shop.
    await ann.send("/start shop")
    assert "Welcome to chatshop" in ann.last_text


async def test_html_in_a_title_is_shown_as_text(fake, shop):
    ann = fake.user(SHOPPER, "Ann")
    answer = await ann.inline_query("fineliner")
    pens = by_title(answer)["Fineliner Pens <0.4 mm> Pack of 10"]
    text = pens["input_message_content"]["message_text"]
    assert text.startswith("<b>Fineliner Pens &lt;0.4 mm&gt; Pack of 10</b>\n$11.99 · by Chatshop Store")
    assert "tips marked &lt;0.4 mm&gt; on the barrel" in text
    assert "<0.4" not in text
