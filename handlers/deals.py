"""Flash deals in the chat: a seller schedules one on a variant from /my_products (price, start, hours, cap)
or calls it off; /deals lists the live and upcoming ones, and a shopper asks to be reminded of one to come.

What each step of scheduling takes is :data:`FLOW`, at the end; the steps are
:mod:`store.services.deal_flow`'s. Times are UTC and said so.
"""

from __future__ import annotations

from html import escape

from telegram import Update

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.common import answer, button_handler, edit, ensure_user, lang, message_handler, reply
from handlers.context import ShopContext
from handlers.fit import fit_lines
from handlers.flows import SKIP, Flow, OnStep
from handlers.i18n import N_, _
from handlers.seller_catalog import approved_shop, sellers_only
from store.models import Seller
from store.services import deal_flow as flow
from store.services import deals
from store.services import seller_catalog as catalog
from store.services.deal_flow import DealStep

# Translators: keep YYYY-MM-DD HH:MM and the example as they are (the seller types the start so).
ASK_START = N_("Tap <b>Now</b>, or type the start in UTC as YYYY-MM-DD HH:MM, e.g. 2030-06-30 18:00.")
LISTED_TITLE_MAX = 40  # a /deals button's product title


def _deal_line(deal: deals.DealView, context: ShopContext, language: str | None) -> str:
    """A deal as its seller reads it: the option, the price instead of the usual one, when, and the cap."""
    currency = context.shop.options.currency
    # Translators: a flash deal: {name} the product (and option), {price} the deal's price, {was} the usual price
    # (struck through), {start} and {end} dates and times (UTC).
    text = _("⚡ {name}: <b>{price}</b> instead of <s>{was}</s>, from {start} to {end}.").format(
        name=render.item_name(deal.title, deal.label), price=render.money(deal.price, currency, language),
        was=render.money(deal.regular_price, currency, language), start=render.when(deal.starts_at, language),
        end=render.when(deal.ends_at, language))
    if deal.cap is not None:
        # Translators: {cap} is how many units are on sale at a flash deal's price, {sold} how many are taken.
        text += " " + _("{sold} of {cap} units taken.").format(sold=deal.sold, cap=deal.cap)
    return text


# --- a seller schedules a deal ------------------------------------------------------------------------


@button_handler
async def on_flash_deal(update: Update, context: ShopContext, pressed: cb.FlashDealOn) -> None:
    """A product's flash-deal button: choose the option, see its deal, or start scheduling one."""
    query = update.callback_query
    shop = await approved_shop(context, update.effective_user.id)
    if not pressed.variant_id:
        async with context.shop.db.read() as session:
            product = await catalog.seller_product(session, shop.id, pressed.product_id)
        await answer(query)
        # Translators: {title} is a product with several options; one of them gets the flash deal.
        await edit(query, _("⚡ Which option of <b>{title}</b> gets the flash deal?").format(
            title=escape(product.title)), keyboards.deal_variants(product))
        return
    async with context.shop.db.transaction() as session:
        product, variant, current, lowest = await flow.ask(session, update.effective_user.id, shop.id,
                                                           pressed.product_id, pressed.variant_id,
                                                           context.shop.clock())
    await answer(query)
    language, currency = lang(update), context.shop.options.currency
    if current is not None:
        await reply(update, "\n".join([_deal_line(current, context, language),
                                       _("One deal at a time: call this one off to schedule another.")]),
                    keyboards.seller_deal(current.id))
        return
    # Translators: {name} is the product (and option), {price} its price now, {lowest} the lowest price it had in
    # the last 30 days: the deal's price must be below it.
    await reply(update, _("⚡ <b>Flash deal</b> on {name} (1/4). It costs {price} now. What is the deal price? It "
                          "must be below {lowest}, its lowest price of the last 30 days. /cancel to stop.").format(
        name=render.item_name(product.title, variant.label), price=render.money(variant.price, currency, language),
        lowest=render.money(lowest, currency, language)))


@sellers_only
async def on_deal_price(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """The deal's price: ask when it starts."""
    async with context.shop.db.transaction() as session:
        await flow.submit_price(session, update.effective_user.id, text, context.shop.options.currency,
                                lang(update), context.shop.clock())
    # Translators: keep YYYY-MM-DD HH:MM and the example as they are (the seller types the start so).
    await reply(update, _("(2/4) When does it start? Times are UTC: tap <b>Now</b>, or type the start as "
                          "YYYY-MM-DD HH:MM, e.g. 2030-06-30 18:00."), keyboards.deal_start())


async def _ask_hours(update: Update) -> None:
    # Translators: {max} is the longest a flash deal may last, in hours (72).
    await reply(update, _("(3/4) How many hours does it last? From 1 to {max}.").format(max=flow.HOURS_MAX))


@button_handler
async def on_start_now(update: Update, context: ShopContext, _pressed: cb.StartDealNow) -> None:
    """The deal starts now: ask how long it lasts."""
    async with context.shop.db.transaction() as session:
        await flow.submit_start(session, update.effective_user.id, None, context.shop.clock())
    await answer(update.callback_query)
    await edit(update.callback_query, _("Starts: now ✓"))
    await _ask_hours(update)


@sellers_only
async def on_deal_start(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """The start typed (UTC), or /skip for now: ask how long it lasts."""
    async with context.shop.db.transaction() as session:
        await flow.submit_start(session, update.effective_user.id, None if text.strip() == SKIP else text,
                                context.shop.clock())
    await _ask_hours(update)


@sellers_only
async def on_deal_hours(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """How many hours: ask for the cap."""
    async with context.shop.db.transaction() as session:
        await flow.submit_hours(session, update.effective_user.id, text)
    await reply(update, _("(4/4) How many units are on sale at the deal price? Type a number, or /skip for no "
                          "limit."))


@sellers_only
async def on_deal_cap(update: Update, context: ShopContext, shop: Seller, text: str) -> None:
    """The cap, or /skip: the deal is scheduled."""
    async with context.shop.db.transaction() as session:
        deal = await flow.submit_cap(session, update.effective_user.id, shop.id,
                                     None if text.strip() == SKIP else text, context.shop.clock(),
                                     context.shop.options.currency)
    await reply(update, "\n".join([_("✅ Flash deal scheduled."), _deal_line(deal, context, lang(update))]),
                keyboards.seller_deal(deal.id))


@button_handler
async def on_cancel_deal(update: Update, context: ShopContext, pressed: cb.CancelDeal) -> None:
    """The seller calls off one of their deals."""
    shop = await approved_shop(context, update.effective_user.id)
    async with context.shop.db.transaction() as session:
        deal = await deals.cancel(session, shop.id, pressed.deal_id, context.shop.clock())
    await answer(update.callback_query)
    # Translators: {name} is the product (and option) whose flash deal was called off.
    await edit(update.callback_query, _("The flash deal on {name} is called off.").format(
        name=render.item_name(deal.title, deal.label)))


# --- shoppers ------------------------------------------------------------------------------------------


@message_handler
async def on_deals(update: Update, context: ShopContext) -> None:
    """/deals: the flash deals live now and those to come, a button to each card."""
    now, language, currency = context.shop.clock(), lang(update), context.shop.options.currency
    async with context.shop.db.read() as session:
        listed = await deals.listing(session, now)
    if not listed:
        await reply(update, _("No flash deals right now. Come back soon!"))
        return
    lines, buttons = [_("⚡ <b>Flash deals</b> (times are UTC)")], []
    for number, deal in enumerate(listed, 1):
        name = render.item_name(deal.title, deal.label)
        price, was = render.money(deal.price, currency, language), render.money(deal.regular_price, currency, language)
        if deal.live(now):
            # Translators: a live flash deal in /deals: {number} its position, {name} the product, {price} the deal's
            # price, {was} the usual price (struck through), {left} the time left, e.g. "5 h 20 min".
            lines.append(_("{number}. {name}: <b>{price}</b> instead of <s>{was}</s> · ends in {left}").format(
                number=number, name=name, price=price, was=was, left=render.time_left(deal.ends_at, now)))
        else:
            # Translators: a flash deal to come in /deals: {number} its position, {name} the product, {price} the
            # deal's price, {was} the usual price (struck through), {start} when it starts (UTC).
            lines.append(_("{number}. {name}: <b>{price}</b> instead of <s>{was}</s> · starts {start}").format(
                number=number, name=name, price=price, was=was, start=render.when(deal.starts_at, language)))
        buttons.append((f"{number}. {render.short(deal.title, LISTED_TITLE_MAX)}", deal.product_id,
                        None if deal.live(now) else deal.id))
    # (Within Telegram's limit whatever the titles: the lines that do not fit are counted, "… and 3 more".)
    await reply(update, fit_lines(lines[:1], lines[1:], []), keyboards.deals_list(buttons))


@button_handler
async def on_remind(update: Update, context: ShopContext, pressed: cb.RemindDeal) -> None:
    """Remind me: the shopper is told when the deal starts (a second press says it is set already)."""
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        await deals.remind(session, pressed.deal_id, update.effective_user.id, context.shop.clock())
    await answer(update.callback_query, _("🔔 Reminder set: I'll message you when the deal starts."), alert=True)


# What each step of scheduling a flash deal takes (the hints are translated when said: handlers/flows.py).
FLOW = Flow(
    name="deals",
    steps={
        DealStep.PRICE: OnStep(text=on_deal_price),
        DealStep.START: OnStep(text=on_deal_start, buttons={cb.StartDealNow: on_start_now}, hint=ASK_START),
        DealStep.HOURS: OnStep(text=on_deal_hours),
        DealStep.CAP: OnStep(text=on_deal_cap),
    },
    buttons={cb.FlashDealOn: on_flash_deal, cb.CancelDeal: on_cancel_deal},
)
