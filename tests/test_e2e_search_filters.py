"""Filters typed in plain words, through the real bot over HTTP against the fake Telegram Bot API."""

from __future__ import annotations


async def test_a_price_in_the_query_narrows_the_results_and_can_be_dropped(fake, bot):
    sue = fake.user(1101, "Sue")

    # Sue wants a hoodie under $40: the zip-up ($44.99) is left out, and the answer says what it understood.
    await sue.send("hoodie under 40")
    assert "“hoodie” under $40.00 — 1 found" in sue.last_text
    assert sue.buttons()[0] == "1. Pullover Hoodie"
    results = sue.last_message

    # Between $41 and $42, the card opens on the one option priced so (the navy XL, $41.99).
    await sue.send("hoodie 41-42")
    assert "“hoodie” from $41.00 to $42.00 — 1 found" in sue.last_text
    await sue.press("1. Pullover Hoodie")
    assert "Option: <b>XL / Navy</b>" in fake.find_calls("sendPhoto", chat_id=1101)[-1].params["caption"]

    # She drops the filter: both hoodies, in a new message.
    await sue.press("✖ Search without filters", message=results)
    assert "Results for “hoodie” — 2 found" in sue.last_text
    assert "Pullover Hoodie" in sue.last_text and "Zip-Up Hoodie" in sue.last_text
    assert "✖ Search without filters" not in sue.buttons()

    # A price alone lists what costs that much, with no empty words quoted.
    await sue.send("cheaper than 8")
    assert sue.last_text.startswith("🔎 2 products: Price: up to $8.00.") and "“”" not in sue.last_text


async def test_options_and_a_category_in_the_query(fake, bot):
    tom = fake.user(1102, "Tom")

    # A grey hoodie in M: only the pullover has one, and its card opens on it (not on the usual M / Red).
    await tom.send("grey hoodie size M")
    assert "Only products that come in grey / m." in tom.last_text
    assert [b for b in tom.buttons() if b[0].isdigit()] == ["1. Pullover Hoodie"]
    await tom.press("1. Pullover Hoodie")
    assert "Option: <b>M / Grey</b>" in fake.find_calls("sendPhoto", chat_id=1102)[-1].params["caption"]

    # "Running shoes" keeps to the Shoes category: the running tights are not listed.
    await tom.send("running shoes")
    assert "Only in Shoes." in tom.last_text
    assert "Compression Running Tights" not in tom.last_text and "Trail Running Shoes" in tom.last_text


async def test_filters_that_leave_nothing_say_so_and_offer_the_words_alone(fake, bot):
    ida = fake.user(1103, "Ida")
    await ida.send("mug under $5")
    assert "Nothing found for “mug”. Price: up to $5.00." in ida.last_text
    assert "Nothing matches all these filters" in ida.last_text
    await ida.press("✖ Search without filters")
    assert "Results for “mug”" in ida.last_text and "Café au Lait Ceramic Mug" in ida.last_text
