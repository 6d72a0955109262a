"""Creators in the chat: applying, share links, the showcase, and landing from a deep link."""

from __future__ import annotations

import logging
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.helpers import create_deep_linked_url

from handlers import callbacks as cb
from handlers import keyboards, messages, render
from handlers.common import answer, button_handler, edit, ensure_user, lang, message_handler, reply, show
from handlers.context import ShopContext
from handlers.i18n import N_, Labels, _
from handlers.messages import APPROVAL
from handlers.notifications import applicant
from handlers.product import card_keyboard, send_card
from handlers.start import on_start, show_start
from store.errors import ErrorCode, NotAllowed, NotFound, ShopError
from store.services import coupons, creators, links
from store.services.users import get_user
from store.states import Approval

logger = logging.getLogger(__name__)

SHOWCASE_PAGE_SIZE = 8
# What the operator's application message says once decided.
DECIDED = Labels({
    # Translators: {applicant} is the person who applied: first name and @username.
    Approval.APPROVED: N_("✨ Creator application of {applicant}: <b>approved</b>."),
    # Translators: {applicant} is the person who applied: first name and @username.
    Approval.REJECTED: N_("✨ Creator application of {applicant}: <b>rejected</b>."),
})


def link_url(context: ShopContext, payload: str) -> str:
    """``https://t.me/<bot>?start=<payload>``."""
    return create_deep_linked_url(context.bot.username, payload)


async def on_creator(update: Update, context: ShopContext) -> None:
    """/creator: apply, or see your code and showcase link."""
    shop = context.shop
    async with shop.db.transaction() as session:
        await ensure_user(session, update)
        creator = await creators.apply(session, update.effective_user.id,
                                       auto_approve=shop.options.creator_auto_approve,
                                       operators=shop.options.operator_ids, now=shop.clock())
        personal = await coupons.creator_code(session, creator.id)
    if creator.status == Approval.PENDING:
        shop.wake_outbox()
        await reply(update, _("✨ Thanks! Your creator application is with an operator; you'll hear from us here."))
        return
    code = (personal.code, personal.percent_off or 0, link_url(context, links.coupon_payload(personal.code))) \
        if personal is not None else None
    await reply(update, render.creator_home(creator.code, link_url(context, links.showcase_payload(creator.code)),
                                            code))


@message_handler
async def on_my_code(update: Update, context: ShopContext) -> None:
    """/mycode ANNA10: an approved creator chooses their personal discount code (or sees it)."""
    shop = context.shop
    if not context.args:
        # Translators: /mycode is a command and ANNA10 an example code: keep both as they are.
        await reply(update, _("🎟 Choose your personal discount code like this: <code>/mycode ANNA10</code> "
                              "(4 to 20 letters A-Z and digits)."))
        return
    async with shop.db.transaction() as session:
        await ensure_user(session, update)
        coupon = await coupons.set_creator_code(session, update.effective_user.id, " ".join(context.args),
                                                shop.options.creator_code_percent, shop.clock())
    url = link_url(context, links.coupon_payload(coupon.code))
    # Translators: {code} is the creator's discount code, {percent} what it takes off (10%), {url} a link
    # that brings it; /earnings is a command.
    await reply(update, _("🎟 Your code is <b>{code}</b>: {percent} off for your followers, paid by the "
                          "platform, and what they buy with it is credited to you even without a link. Share "
                          "it, or this link: {url}\n/earnings shows what it sold.").format(
        code=coupon.code, percent=render.percent((coupon.percent_off or 0) * 100), url=escape(url)))


@button_handler
async def on_decide(update: Update, context: ShopContext, pressed: cb.DecideCreator) -> None:
    """An operator approves or rejects a creator application."""
    query = update.callback_query
    shop = context.shop
    async with shop.db.transaction() as session:
        creator = await creators.decide(session, pressed.creator_id, pressed.approve, update.effective_user.id,
                                        shop.options.operator_ids, shop.clock())
        who = await applicant(session, creator.user_id)
    shop.wake_outbox()
    # Translators: {code} is the creator's code, {status} "approved" or "rejected"; a short alert.
    await answer(query, _("Creator {code}: {status}.").format(code=creator.code, status=APPROVAL[creator.status]))
    await edit(query, DECIDED[creator.status].format(applicant=who))


@button_handler
async def on_share_link(update: Update, context: ShopContext, pressed: cb.ShareLink) -> None:
    """Send the creator their link for a product, with a Share button."""
    query = update.callback_query
    async with context.shop.db.read() as session:
        creator = await creators.creator_of_user(session, update.effective_user.id)
        product = await context.shop.search.product(session, pressed.product_id)
    if creator is None:
        raise NotAllowed(ErrorCode.SHARE_LINKS_FOR_CREATORS)
    if product is None:
        raise NotFound(ErrorCode.PRODUCT_GONE)
    url = link_url(context, links.product_payload(product.id, creator.code))
    await answer(query)
    # Translators: {title} is the product, {url} the creator's link to it.
    await reply(update, _("🔗 Your link for <b>{title}</b>:\n{url}\n\nWhoever opens it lands on the product; what "
                          "they buy within the attribution window earns you commission.").format(
                              title=escape(product.title), url=url),
                keyboards.share_link(url, product.title))


@button_handler
async def on_showcase_toggle(update: Update, context: ShopContext, pressed: cb.ToggleShowcase) -> None:
    """Add a product to the creator's showcase, or take it out; the card updates in place."""
    query = update.callback_query
    user_id = update.effective_user.id
    product_id = pressed.product_id
    async with context.shop.db.transaction() as session:
        now_in = await creators.set_in_showcase(session, user_id, product_id, pressed.add, context.shop.clock())
        product = await context.shop.search.product(session, product_id)
        who = await creators.card_viewer(session, user_id, product_id)
    await answer(query, _("Added to your showcase.") if now_in else _("Removed from your showcase."))
    if product is not None:
        await query.edit_message_reply_markup(card_keyboard(product, product.default_variant(), who, context))


async def on_deep_link(update: Update, context: ShopContext) -> None:
    """/start <payload>: land on the product or showcase the link names, recording the click."""
    link = links.parse(context.args[0] if context.args else None)
    if link is None:
        await on_start(update, context)  # the start menu, with a note that the link is not valid
        return
    user_id = update.effective_user.id
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        landing = await creators.open_link(session, link, user_id, context.shop.clock())
        who = await creators.card_viewer(session, user_id, landing.product.id) if landing and landing.product else None
        code = await _keep_code(session, user_id, link.coupon) if landing is not None and link.coupon else None
    if landing is None:
        logger.info("deep link %r of user %s names nothing valid", context.args[0][:64], user_id)
        await show_start(update, context)  # (the person was recorded above)
        return
    if code is not None:
        await reply(update, code)
    if landing.product is None and landing.creator is None:  # a discount code alone
        await show_start(update, context, note=False)
    elif landing.product is not None:
        await send_card(update, context, landing.product, who)
    else:
        await show_showcase(update, context, landing.creator.id, 0)


async def _keep_code(session: AsyncSession, user_id: int, code: str) -> str:
    """A link's discount code kept for the shopper's checkout: what to tell them (it is kept, or unknown)."""
    try:
        kept = await coupons.keep_link_code(session, user_id, code)
    except ShopError as refusal:
        return "🎟 " + escape(messages.error_text(refusal))
    # Translators: {code} is a discount code a link brought (SUMMER10).
    return _("🎟 Your code <b>{code}</b> is saved: it comes off at checkout on the goods it applies to.").format(
        code=kept)


async def show_showcase(update: Update, context: ShopContext, creator_id: int, page: int) -> None:
    """A creator's picks, paged."""
    async with context.shop.db.read() as session:
        creator = await creators.get_creator(session, creator_id)
        if creator is None or creator.status != Approval.APPROVED:
            raise NotFound(ErrorCode.SHOWCASE_GONE)
        products = await creators.showcase(session, creator.id)
        owner = await get_user(session, creator.user_id)
    # Translators: who a showcase is said to be of when its creator has no name ("A creator's picks").
    name = owner.first_name if owner and owner.first_name else _("A creator")
    if not products:
        # Translators: {name} is the creator's first name.
        await reply(update, _("⭐ {name}'s showcase is empty for now. Type what you are looking for!")
                    .format(name=escape(name)))
        return
    pages = -(-len(products) // SHOWCASE_PAGE_SIZE)
    page = min(page, pages - 1)
    start = page * SHOWCASE_PAGE_SIZE
    shown = products[start:start + SHOWCASE_PAGE_SIZE]
    text = render.showcase(name, shown, start, len(products), context.shop.options.currency, lang(update))
    markup = keyboards.showcase_page(shown, start, page, pages, creator.id)
    await show(update, text, markup)


@button_handler
async def on_showcase_page(update: Update, context: ShopContext, pressed: cb.ShowcasePage) -> None:
    """Turn a page of a showcase, edited in place."""
    await answer(update.callback_query)
    await show_showcase(update, context, pressed.creator_id, pressed.page)
