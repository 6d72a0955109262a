"""The sandbox's web chat in a real browser: Debian's Chromium driven by Playwright, against the real bot.

Every step is saved as a screenshot under test-artifacts/screenshots/<test>/ (not committed), to look at.
Without Chromium these tests are skipped (run ./scripts/setup-browser), unless CHATSHOP_BROWSER_TESTS is
"required", as in CI, where that fails them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.sandbox.personas import CREATOR, OPERATOR, PLATFORM_SELLER, SECOND_SHOPPER, SHOPPER
from store.db import Database
from store.models import Creator, Order, OrderLine

from .sandboxes import sandbox_running

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("CHATSHOP_BROWSER_TESTS") == "required"
if REQUIRED:
    import playwright.async_api as playwright  # CI: a missing Playwright fails, never skips
else:
    playwright = pytest.importorskip("playwright.async_api")
expect = playwright.expect
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
WAIT_MS = 15_000

if CHROMIUM is None and REQUIRED:
    raise RuntimeError("the browser tests are required but Chromium is missing: run ./scripts/setup-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is missing: run ./scripts/setup-browser")


class ChatPage:
    """The web chat in a browser tab, used as a person would; screenshots of each step."""

    def __init__(self, page, shots: Path) -> None:  # type: ignore[no-untyped-def]
        self.page, self.shots, self.step = page, shots, 0
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Script errors count; a request refused while the sandbox restarts (Reset) is the browser's own note.
        page.on("console", lambda message: self.errors.append(message.text)
                if message.type == "error" and not message.text.startswith("Failed to load resource") else None)

    async def shot(self, name: str) -> None:
        """Save what the page shows now."""
        self.step += 1
        await self.page.screenshot(path=str(self.shots / f"{self.step:02d}-{name}.png"))

    async def act_as(self, name: str) -> None:
        """Switch to a person's tab."""
        await self.page.locator("nav#personas .tab", has_text=name).click()
        await expect(self.page.locator("nav#personas .tab.active")).to_contain_text(name)

    async def send(self, text: str) -> None:
        """Type a message and press Enter."""
        await self.page.locator("#text").fill(text)
        await self.page.locator("#text").press("Enter")

    def bot_said(self, text: str):  # type: ignore[no-untyped-def]
        """The bot's bubbles containing `text`."""
        return self.page.locator(".msg.bot", has_text=text)

    async def sees(self, text: str) -> None:
        """Wait until the bot's newest bubbles show `text`."""
        await expect(self.bot_said(text).last).to_be_visible(timeout=WAIT_MS)

    def button(self, label: str):  # type: ignore[no-untyped-def]
        """The newest inline button whose label has `label`."""
        return self.page.locator(".msg .ikb button", has_text=label).last

    async def press(self, label: str) -> None:
        """Tap the newest inline button whose label has `label`."""
        await self.button(label).click(timeout=WAIT_MS)

    async def checkout(self, address: str, payment: str) -> None:
        """From the cart: review, Share my contact (the reply keyboard's button), the address typed, standard
        delivery, the way to pay, Place order."""
        await self.press("Checkout")
        await self.sees("Checkout — review")
        await self.press("Continue")
        await self.sees("Checkout — contact")
        share = self.page.locator("#reply-keyboard button", has_text="Share my contact")
        await expect(share).to_be_visible(timeout=WAIT_MS)
        await self.shot("share-contact-button")
        await share.click()
        await self.sees("shipping address")
        await self.send(address)
        await self.sees("Checkout — shipping")
        await self.press("Standard delivery")
        await self.sees("Checkout — payment")
        await self.press(payment)
        await self.press("Place order")

    async def toast(self, text: str) -> None:
        """Wait for a callback answer's toast."""
        await expect(self.page.locator("#toast")).to_contain_text(text, timeout=WAIT_MS)


@pytest.fixture
async def browser():
    async with playwright.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


@pytest.fixture
async def sandbox(tmp_path):
    async with sandbox_running(tmp_path, payment_provider_token=None) as running:
        yield running


@pytest.fixture
async def chat(browser, sandbox, request):
    shots = SHOTS / request.node.name
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    page = await browser.new_page(viewport={"width": 960, "height": 900})
    chat = ChatPage(page, shots)
    await page.goto(sandbox.url + "/")
    await expect(page.locator("nav#personas .tab")).to_have_count(6)
    yield chat
    await page.screenshot(path=str(shots / "last.png"))  # where the test ended (or failed)
    assert chat.errors == [], chat.errors  # the page never broke
    await page.close()


async def orders_of(sandbox, buyer: int) -> list[Order]:  # type: ignore[no-untyped-def]
    database = Database(f"sqlite+aiosqlite:///{sandbox.store}")
    try:
        async with database.read() as session:
            return list(await session.scalars(select(Order).where(Order.buyer_id == buyer).order_by(Order.id)))
    finally:
        await database.dispose()


async def test_a_shoppers_whole_journey_with_the_seller_and_a_creators_link(chat, sandbox):
    await chat.act_as(SHOPPER.first_name)
    await chat.shot("empty-chat")

    # Ann searches with a typo; the hoodie comes first.
    await chat.send("pulover hodie")
    await chat.sees("Results for “pulover hodie”")
    await chat.shot("search-with-a-typo")

    # The card comes as a photo the project drew, with its options.
    await chat.press("1. Pullover Hoodie")
    card = chat.page.locator(".msg.bot", has=chat.page.locator("img.photo")).last
    await expect(card).to_contain_text("Pullover Hoodie", timeout=WAIT_MS)
    assert await card.locator("img.photo").evaluate("img => img.complete && img.naturalWidth > 0")
    await chat.shot("card-with-photo")

    # She picks an option, edited in place, and adds it.
    bubbles = await chat.page.locator(".msg").count()
    await chat.press("M / Grey")
    await expect(card).to_contain_text("Option: M / Grey", timeout=WAIT_MS)
    assert await chat.page.locator(".msg").count() == bubbles  # the same bubble changed
    await chat.press("Add to cart")
    await chat.toast("Added to your cart")
    await chat.shot("added-to-cart")

    # In the cart she takes one more.
    await chat.press("🛒 Cart")
    await chat.sees("Pullover Hoodie (M / Grey)")
    await chat.press("+ 1")  # one more of line 1, edited in place
    await chat.sees("2 × $39.99 = $79.98")
    await chat.shot("cart-edited")

    # Checkout: the contact shared with the reply keyboard's button, the address typed, by card.
    await chat.checkout("1 Main Street, Springfield 12345, USA", "Card")
    await expect(chat.page.locator(".msg.mine", has_text=SHOPPER.phone)).to_be_visible(timeout=WAIT_MS)

    # The invoice, paid with the test payment through the pre-checkout query.
    pay = chat.page.locator(".invoice button.pay").last
    await expect(pay).to_be_visible(timeout=WAIT_MS)
    await expect(chat.page.locator(".invoice").last).to_contain_text("$84.97")  # 79.98 + 4.99 shipping
    await chat.shot("invoice")
    await pay.click()
    await expect(chat.page.locator(".msg.mine", has_text="You paid $84.97")).to_be_visible(timeout=WAIT_MS)
    await chat.sees("is paid")
    await chat.shot("paid")
    [order] = await orders_of(sandbox, SHOPPER.user_id)
    assert order.status == "paid" and order.total == 8497

    # As in Telegram, the paid invoice shows its receipt, no second Pay button.
    await expect(chat.page.locator(".invoice").last.locator(".receipt")).to_have_text("✅ Paid")
    assert await chat.page.locator(".invoice button.pay").count() == 0

    # The platform shop's seller has the notice in his own chat, and accepts.
    await chat.act_as(PLATFORM_SELLER.first_name)
    await chat.sees(f"#{order.id}")
    await chat.shot("seller-notice")
    await chat.press("Accept")
    await expect(chat.page.locator(".msg.bot", has_text="accepted").last).to_be_visible(timeout=WAIT_MS)
    await chat.shot("seller-accepted")

    # Ann's tab shows there is news; she sees the update.
    await expect(chat.page.locator("nav#personas .tab", has_text=SHOPPER.first_name).locator(".badge")
                 ).to_be_visible(timeout=WAIT_MS)
    await chat.act_as(SHOPPER.first_name)
    await chat.sees("accepted")
    await chat.shot("shopper-sees-accepted")

    # The creator takes her link for a product ...
    await chat.act_as(CREATOR.first_name)
    await chat.send("wireless earbuds")
    await chat.press("1. Wireless Earbuds")
    await chat.press("Share link")
    await chat.sees("Your link for")
    link = chat.bot_said("Your link for").last.locator("a.deep-link")
    url = await link.get_attribute("href")
    await chat.shot("creator-link")

    # ... which the second shopper gets (pasted into his chat) and taps: the card opens in his chat.
    await chat.act_as(SECOND_SHOPPER.first_name)
    await chat.send(f"Cleo says: {url}")
    await chat.page.locator(".msg.mine a.deep-link").last.click()
    await chat.sees("Wireless Earbuds")
    await chat.shot("creator-link-opened")
    await chat.press("Add to cart")
    await chat.toast("Added to your cart")
    await chat.press("🛒 Cart")
    await chat.checkout("22 Baker Street, London NW1 6XE", "Cash on delivery")
    await chat.sees("is placed")
    await chat.shot("creator-attributed-order")
    [bens] = await orders_of(sandbox, SECOND_SHOPPER.user_id)
    database = Database(f"sqlite+aiosqlite:///{sandbox.store}")
    try:
        async with database.read() as session:
            cleo = await session.scalar(select(Creator.id).where(Creator.user_id == CREATOR.user_id))
            credited = list(await session.scalars(select(OrderLine.creator_id).where(OrderLine.order_id == bens.id)))
    finally:
        await database.dispose()
    assert credited == [cleo]


async def test_a_payment_the_bot_refuses_is_said_and_charges_nothing(chat, sandbox):
    await chat.act_as(SECOND_SHOPPER.first_name)
    await chat.send("smart watch")
    await chat.press("1. Smart Watch S2")
    await chat.press("Add to cart")
    await chat.toast("Added to your cart")
    await chat.press("🛒 Cart")
    await chat.checkout("3 Pine Road, Austin 73301", "Card")
    pay = chat.page.locator(".invoice button.pay").last
    await expect(pay).to_be_visible(timeout=WAIT_MS)
    # Ben calls the order off, then taps Pay on its invoice: the bot refuses at the pre-checkout query.
    await chat.press("Cancel this order")
    await chat.sees("cancelled")
    await pay.click()
    await expect(chat.page.locator("dialog#alert")).to_be_visible(timeout=WAIT_MS)
    refusal = await chat.page.locator("#alert-text").inner_text()
    assert refusal and "did not answer" not in refusal and "paid already" not in refusal
    await chat.shot("payment-refused")
    await chat.page.locator("dialog#alert button").click()
    assert await chat.page.locator(".msg.mine", has_text="You paid").count() == 0
    [order] = await orders_of(sandbox, SECOND_SHOPPER.user_id)
    assert order.status == "cancelled"


async def test_the_operator_approves_a_new_shop_from_his_own_chat(chat, sandbox):
    await chat.act_as(SECOND_SHOPPER.first_name)
    await chat.send("/sell")
    await chat.sees("What is your shop called?")
    await chat.send("Ben's Bikes")
    await chat.sees("waiting for an operator")
    await chat.act_as(OPERATOR.first_name)
    await chat.sees("Seller application")
    await chat.shot("operator-sees-application")
    await chat.press("Approve")
    await chat.sees("approved")
    await chat.act_as(SECOND_SHOPPER.first_name)
    await chat.sees("is approved")
    await chat.shot("seller-approved")


async def test_inline_mode_sends_the_chosen_product_with_a_working_buy_button(chat, sandbox):
    await chat.act_as(SECOND_SHOPPER.first_name)
    await chat.page.locator("#text").fill("@chatshop_sandbox_bot yoga mat")
    result = chat.page.locator("#inline-results .result", has_text="Non-Slip Yoga Mat")
    await expect(result).to_be_visible(timeout=WAIT_MS)
    await chat.shot("inline-results")
    await result.click()
    shared = chat.page.locator(".msg.mine", has_text="Non-Slip Yoga Mat")
    await expect(shared).to_contain_text("via @chatshop_sandbox_bot", timeout=WAIT_MS)
    await chat.shot("inline-result-sent")
    # The bot takes the shared card for no search; its Buy button opens the product in this chat.
    await shared.locator(".ikb button").first.click()
    await chat.sees("Non-Slip Yoga Mat")
    await expect(chat.bot_said("Results for")).to_have_count(0)
    await chat.shot("inline-buy-opened")


async def test_bad_input_leaves_the_page_and_the_bot_working(chat, sandbox):
    await chat.act_as(SHOPPER.first_name)
    # HTML is shown as typed, never run.
    await chat.send("<img src=x onerror=alert(1)><b>bold?</b> & <script>alert(2)</script>")
    mine = chat.page.locator(".msg.mine").last
    await expect(mine).to_contain_text("<b>bold?</b>")
    assert await chat.page.locator(".msg img:not(.photo)").count() == 0
    await chat.sees("Results for")  # a search like any other, with the same text echoed safely
    # Emoji, and text far longer than a message: split as Telegram splits it.
    await chat.send("🧥👟 худи sudadera 🎁")
    await expect(chat.page.locator(".msg.mine").last).to_have_text("🧥👟 худи sudadera 🎁")
    await chat.sees("худи sudadera")
    await chat.send("hoodie " * 1000)
    await expect(chat.page.locator(".msg.mine")).to_have_count(4, timeout=WAIT_MS)
    await chat.shot("long-html-and-emoji")
    # Double and triple clicks on one button: the card opens each time, nothing breaks.
    await chat.send("pullover hoodie")
    await chat.sees("Results for “pullover hoodie”")
    await chat.button("1. Pullover Hoodie").dblclick()
    await expect(chat.page.locator(".msg.bot img.photo")).to_have_count(2, timeout=WAIT_MS)
    await chat.press("L / Red")  # the last one
    await chat.sees("Only 1 left")
    await chat.press("Add to cart")
    await chat.toast("Added to your cart")
    # Three clicks for more than the shop has: the bot's refusal comes as an alert, as in Telegram.
    await chat.button("Add to cart").click(click_count=3)
    await expect(chat.page.locator("dialog#alert")).to_contain_text("1", timeout=WAIT_MS)
    await chat.shot("refusal-as-alert")
    await chat.page.locator("dialog#alert button").click()
    await chat.press("🛒 Cart")
    await chat.sees("1 × $39.99")
    await chat.shot("after-double-clicks")
    # Reset brings back a fresh demo store and an empty chat.
    chat.page.once("dialog", lambda dialog: dialog.accept())
    await chat.page.locator("#reset").click()
    await expect(chat.page.locator(".msg")).to_have_count(0, timeout=60_000)
    await expect(chat.page.locator("nav#personas .tab")).to_have_count(6, timeout=60_000)
    await chat.send("/cart")
    await chat.sees("empty")
    await chat.shot("after-reset")
