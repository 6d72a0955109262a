"""/coupons: sellers manage their shop's coupons, operators the platform's; a new coupon step by step.

A seller's coupon takes off their own goods and they pay for it; the
platform's (operators') takes off any shop's goods and the platform pays. The
list pages through the coupons with a pause or resume button each; ➕ New
coupon asks, one message each, the code, the discount, the minimum spend, the
first and last day, the uses in all and per shopper, and the products, then
shows a summary to create or cancel. What each step takes is :data:`FLOW`; the
steps and their checks are :mod:`store.services.coupon_flow`'s.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from telegram import Update

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.common import answer, button_handler, edit, lang, message_handler, reply, show
from handlers.context import ShopContext
from handlers.flows import Flow, OnStep
from handlers.i18n import N_, Labels, _, ngettext
from handlers.messages import moment_utc
from store.errors import ErrorCode, NotAllowed
from store.models import Coupon, Seller
from store.services import coupon_flow as flow
from store.services import coupons
from store.services.coupon_flow import CouponStep
from store.services.sellers import seller_of_user
from store.services.users import Step, get_step

COUPONS_PAGE = 8
TITLE_MAX = 50  # of a product's title in the products step's list
PRESS_CREATE = N_("Please tap Create or Cancel under the summary, or /cancel.")
# Translators: short alerts after a coupon's Pause or Resume button.
ACTIVE_DONE = Labels({True: N_("Resumed."), False: N_("Paused.")})
# Translators: a coupon's state in its list; so is the next one.
COUPON_STATE = Labels({True: N_("▶ active"), False: N_("⏸ paused")})


async def _roles(context: ShopContext, user_id: int) -> tuple[Seller | None, bool]:
    """The person's approved shop, if any, and whether they are an operator."""
    async with context.shop.db.read() as session:
        shop = await seller_of_user(session, user_id)
    return shop, user_id in context.shop.options.operator_ids


async def _scope(context: ShopContext, user_id: int, platform: bool) -> tuple[int | None, Seller | None]:
    """The coupons' scope the person asks for and may manage: their shop's id, or None for the platform's
    (operators only); with their shop."""
    shop, operator = await _roles(context, user_id)
    if platform:
        if not operator:
            raise NotAllowed(ErrorCode.ONLY_OPERATORS)
        return None, shop
    if shop is None:
        raise NotAllowed(ErrorCode.NOT_A_SELLER)
    return shop.id, shop


def _discount(percent_off: int | None, amount_off: int | None, currency: str) -> str:
    """"10% off" or "$5.00 off"."""
    if percent_off is not None:
        # Translators: {percent} is a percentage, e.g. "10%".
        return _("{percent} off").format(percent=render.percent(percent_off * 100))
    # Translators: {amount} is an amount of money, e.g. "$5.00".
    return _("{amount} off").format(amount=render.money(amount_off or 0, currency))


def _validity(starts_at: datetime | None, ends_at: datetime | None) -> str:
    """When a coupon can be used."""
    if starts_at is None and ends_at is None:
        return _("Valid from its creation, with no end")
    if starts_at is None:
        # Translators: {end} is a date and time, e.g. "30 Jun 2030, 23:59 UTC".
        return _("Valid until {end}").format(end=moment_utc(ends_at))
    if ends_at is None:
        # Translators: {start} is a date and time, e.g. "1 Jun 2030, 00:00 UTC".
        return _("Valid from {start}, with no end").format(start=moment_utc(starts_at))
    # Translators: {start} and {end} are dates and times, e.g. "1 Jun 2030, 00:00 UTC".
    return _("Valid from {start} until {end}").format(start=moment_utc(starts_at), end=moment_utc(ends_at))


def _terms(terms: coupons.CouponTerms, uses: int | None, products: int, currency: str) -> list[str]:
    """A coupon's terms, one a line (``uses``: held now; None for a coupon not made yet)."""
    lines = []
    if terms.min_spend:
        # Translators: {amount} is an amount of money: what the goods a coupon applies to must cost together.
        lines.append(_("Minimum spend: {amount}").format(amount=render.money(terms.min_spend, currency)))
    else:
        lines.append(_("No minimum spend"))
    lines.append(_validity(terms.starts_at, terms.ends_at))
    if uses is None:
        lines.append(_("Uses in all: no limit") if terms.max_uses is None
                     # Translators: {max} is how many times a coupon can be used in all.
                     else _("Uses in all: {max}").format(max=terms.max_uses))
    elif terms.max_uses is None:
        # Translators: {uses} is how many times a coupon is used now (it has no limit).
        lines.append(_("Used: {uses}, no limit").format(uses=uses))
    else:
        # Translators: {uses} is how many times a coupon is used now, {max} how many times it can be.
        lines.append(_("Used: {uses} of {max}").format(uses=uses, max=terms.max_uses))
    if terms.per_shopper is None:
        lines.append(_("Per shopper: no limit"))
    else:
        # Translators: {count} is how many times one shopper can use a coupon.
        lines.append(ngettext("Per shopper: {count} use", "Per shopper: {count} uses", terms.per_shopper)
                     .format(count=terms.per_shopper))
    if products:
        # Translators: {count} is how many products a coupon is limited to.
        lines.append(ngettext("Limited to {count} product", "Limited to {count} products", products)
                     .format(count=products))
    else:
        lines.append(_("For all products"))
    return lines


def _coupon(coupon: Coupon, products: int, currency: str) -> str:
    """One coupon in its list: code, discount and state, then its terms."""
    terms = coupons.CouponTerms(percent_off=coupon.percent_off, amount_off=coupon.amount_off,
                                min_spend=coupon.min_spend, starts_at=coupon.starts_at, ends_at=coupon.ends_at,
                                max_uses=coupon.max_uses, per_shopper=coupon.per_shopper)
    # Translators: a coupon's first line in its list: {code} the code, {discount} e.g. "10% off", {state}
    # "active" or "paused".
    head = _("🎟 <b>{code}</b>: {discount} · {state}").format(
        code=escape(coupon.code), discount=_discount(coupon.percent_off, coupon.amount_off, currency),
        state=COUPON_STATE[coupon.active])
    return "\n".join([head, *(f"   {line}" for line in _terms(terms, coupon.uses, products, currency))])


# --- the list ----------------------------------------------------------------------------------


@message_handler
async def on_coupons(update: Update, context: ShopContext) -> None:
    """/coupons: the shop's coupons, the platform's for an operator, or the choice for an operator who sells."""
    shop, operator = await _roles(context, update.effective_user.id)
    if shop is None and not operator:
        raise NotAllowed(ErrorCode.NOT_A_SELLER)
    if shop is not None and operator:
        # Translators: {shop} is the name of the operator's own shop.
        await reply(update, _("🎟 Whose coupons? Your shop <b>{shop}</b>'s, which your shop pays for, or the "
                              "platform's, which the platform pays for on every shop's goods.").format(
                                  shop=escape(shop.name)), keyboards.coupon_scopes())
        return
    await _show_coupons(update, context, platform=shop is None, page=0)


@button_handler
async def on_coupons_page(update: Update, context: ShopContext, pressed: cb.CouponsPage) -> None:
    """A page of the shop's or the platform's coupons, edited in place."""
    await _show_coupons(update, context, pressed.platform, pressed.page)


async def _show_coupons(update: Update, context: ShopContext, platform: bool, page: int, *,
                        new: bool = False) -> None:
    """The page of coupons, in place of the message a button belongs to (``new``: as a new message)."""
    seller_id, shop = await _scope(context, update.effective_user.id, platform)
    async with context.shop.db.read() as session:
        found = await coupons.list_coupons(session, seller_id)
        pages = max(1, -(-len(found) // COUPONS_PAGE))
        page = min(page, pages - 1)
        shown = found[page * COUPONS_PAGE:(page + 1) * COUPONS_PAGE]
        products = await flow.product_counts(session, [coupon.id for coupon in shown])
    if update.callback_query is not None:
        await answer(update.callback_query)
    currency = context.shop.options.currency
    if platform:
        # Translators: {count} is how many coupons the platform has.
        head = (ngettext("🌐 <b>Platform coupons</b>: {count}. The platform pays its discount, on every shop's "
                         "goods.", "🌐 <b>Platform coupons</b>: {count}. The platform pays their discount, on every "
                         "shop's goods.", len(found)).format(count=len(found)) if found
                else _("🌐 The platform has no coupons yet."))
    else:
        # Translators: {shop} is the seller's shop name, {count} how many coupons it has.
        head = (ngettext("🎟 <b>{shop}</b>: {count} coupon. Your shop pays its discount.",
                         "🎟 <b>{shop}</b>: {count} coupons. Your shop pays their discount.", len(found))
                .format(shop=escape(shop.name), count=len(found)) if found
                else _("🎟 <b>{shop}</b> has no coupons yet.").format(shop=escape(shop.name)))
    text = "\n\n".join([head, *(_coupon(coupon, products.get(coupon.id, 0), currency) for coupon in shown)])
    markup = keyboards.coupons(shown, page, pages, platform)
    await (reply(update, text, markup) if new else show(update, text, markup))


@button_handler
async def on_set_active(update: Update, context: ShopContext, pressed: cb.SetCouponActive) -> None:
    """Pause or resume a coupon, then the list again."""
    seller_id, _shop = await _scope(context, update.effective_user.id, pressed.platform)
    async with context.shop.db.transaction() as session:
        await coupons.set_active(session, pressed.coupon_id, seller_id, pressed.active)
    await answer(update.callback_query, ACTIVE_DONE[pressed.active])
    await _show_coupons(update, context, pressed.platform, pressed.page)


# --- a new coupon --------------------------------------------------------------------------------


@button_handler
async def on_new_coupon(update: Update, context: ShopContext, pressed: cb.NewCoupon) -> None:
    """➕ New coupon: ask for the code."""
    seller_id, _shop = await _scope(context, update.effective_user.id, pressed.platform)
    async with context.shop.db.transaction() as session:
        await flow.begin(session, update.effective_user.id, seller_id)
    await answer(update.callback_query)
    # Translators: {min} and {max} are numbers of characters; keep the example code in <code> as it is.
    await reply(update, _("🎟 <b>New coupon</b> (1/8)\nWhat code do shoppers type? {min} to {max} letters A-Z and "
                          "digits 0-9, e.g. <code>SUMMER10</code>.\n/cancel to stop.").format(
                              min=coupons.CODE_MIN, max=coupons.CODE_MAX))


async def on_code(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """The code: ask for the discount."""
    async with context.shop.db.transaction() as session:
        code = await flow.submit_code(session, update.effective_user.id, text)
    # Translators: {code} is the coupon's code, {currency} the shop's currency code (USD); keep the examples as
    # they are.
    await reply(update, _("(2/8) Code <b>{code}</b> ✓\nHow much off? A percentage, e.g. <code>10%</code>, or an "
                          "amount in {currency}, e.g. <code>5.00</code>.").format(
                              code=escape(code), currency=context.shop.options.currency))


async def on_discount(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """The discount: ask for the minimum spend."""
    async with context.shop.db.transaction() as session:
        await flow.submit_discount(session, update.effective_user.id, text, context.shop.options.currency,
                                   lang(update))
    await _ask_min_spend(update)


async def _ask_min_spend(update: Update) -> None:
    # Translators: keep the example amount in <code> as it is.
    await reply(update, _("(3/8) How much must the goods it applies to cost together, at least? An amount, e.g. "
                          "<code>20.00</code>, or No minimum."), keyboards.coupon_presets(cb.CouponPreset.NO_MINIMUM))


async def on_min_spend(update: Update, context: ShopContext, step: Step, text: str | None) -> None:
    """The minimum spend (None: No minimum): ask for the first day."""
    async with context.shop.db.transaction() as session:
        await flow.submit_min_spend(session, update.effective_user.id, text, context.shop.options.currency,
                                    lang(update))
    # Translators: keep YYYY-MM-DD and the example date in <code> as they are (the seller types dates so).
    await reply(update, _("(4/8) From which day can it be used? A date as YYYY-MM-DD, in UTC, e.g. "
                          "<code>2030-06-01</code>, or Starts now."),
                keyboards.coupon_presets(cb.CouponPreset.STARTS_NOW))


async def on_starts(update: Update, context: ShopContext, step: Step, text: str | None) -> None:
    """The first day (None: now): ask for the last day."""
    async with context.shop.db.transaction() as session:
        await flow.submit_starts(session, update.effective_user.id, text)
    # Translators: keep YYYY-MM-DD and the example date in <code> as they are (the seller types dates so).
    await reply(update, _("(5/8) What is the last day it can be used? A date as YYYY-MM-DD, in UTC (it ends at "
                          "23:59:59 that day), e.g. <code>2030-06-30</code>, or No end."),
                keyboards.coupon_presets(cb.CouponPreset.NO_END))


async def on_ends(update: Update, context: ShopContext, step: Step, text: str | None) -> None:
    """The last day (None: no end): ask for the uses in all."""
    async with context.shop.db.transaction() as session:
        await flow.submit_ends(session, update.effective_user.id, text, context.shop.clock())
    await reply(update, _("(6/8) How many times can it be used in all, by every shopper together? A number, or "
                          "No limit."), keyboards.coupon_presets(cb.CouponPreset.NO_USE_LIMIT))


async def on_max_uses(update: Update, context: ShopContext, step: Step, text: str | None) -> None:
    """The uses in all (None: no limit): ask for the uses per shopper."""
    async with context.shop.db.transaction() as session:
        await flow.submit_max_uses(session, update.effective_user.id, text)
    await reply(update, _("(7/8) How many times can one shopper use it? Type a number, or tap a button below."),
                keyboards.coupon_presets(cb.CouponPreset.ONCE_PER_SHOPPER, cb.CouponPreset.NO_SHOPPER_LIMIT))


async def on_per_shopper(update: Update, context: ShopContext, step: Step, text: str | None) -> None:
    """The uses per shopper (None: no limit): ask for the products, listing the first few."""
    async with context.shop.db.transaction() as session:
        choices, total = await flow.submit_per_shopper(session, update.effective_user.id, text)
    platform = step.data.get("seller_id") is None
    lines = [f"#{product_id} {escape(title[:TITLE_MAX])}" for product_id, title in choices]
    if total > len(choices):
        # Translators: {count} is how many more products there are than the list shows.
        lines.append(ngettext("…and {count} more", "…and {count} more", total - len(choices)).format(
            count=total - len(choices)))
    if platform:
        # Translators: {products} is a list of products, one a line, each "#12 Title"; keep the example in <code>.
        text = _("(8/8) Which products is it for? All products, or type their numbers separated by spaces or "
                 "commas, e.g. <code>12 15</code>:\n{products}")
    else:
        # Translators: {products} is the seller's products, one a line, each "#12 Title"; keep the example in
        # <code>.
        text = _("(8/8) Which of your products is it for? All my products, or type their numbers separated by "
                 "spaces or commas, e.g. <code>12 15</code>:\n{products}")
    await reply(update, text.format(products="\n".join(lines)),
                keyboards.coupon_presets(cb.CouponPreset.ALL_PRODUCTS, platform=platform))


async def on_products(update: Update, context: ShopContext, step: Step, text: str | None) -> None:
    """The products (None: all): the summary, with Create and Cancel."""
    async with context.shop.db.transaction() as session:
        summary = await flow.submit_products(session, update.effective_user.id, text)
        titles = await flow.product_titles(session, summary.data["product_ids"])
    data, currency = summary.data, context.shop.options.currency
    terms = flow.terms_of(data)
    lines = _terms(terms, None, len(terms.product_ids), currency)
    lines += [f"   • {escape(title[:TITLE_MAX])}" for title in titles[:10]]
    # Translators: {code} is the new coupon's code, {discount} e.g. "10% off".
    head = _("🎟 <b>New coupon {code}</b>: {discount}").format(
        code=escape(data["code"]), discount=_discount(terms.percent_off, terms.amount_off, currency))
    payer = (_("The platform pays its discount, on every shop's goods.") if data["seller_id"] is None
             else _("Your shop pays its discount, on your goods."))
    await reply(update, "\n".join([head, *lines, "", payer, _("Create it?")]), keyboards.coupon_confirm())


async def on_text_at_confirm(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """Typing where Create or Cancel is wanted."""
    await reply(update, _(PRESS_CREATE))


# Which step each preset answers, and with what (None: the preset's meaning).
PRESETS = {
    cb.CouponPreset.NO_MINIMUM: (on_min_spend, None),
    cb.CouponPreset.STARTS_NOW: (on_starts, None),
    cb.CouponPreset.NO_END: (on_ends, None),
    cb.CouponPreset.NO_USE_LIMIT: (on_max_uses, None),
    cb.CouponPreset.ONCE_PER_SHOPPER: (on_per_shopper, "1"),
    cb.CouponPreset.NO_SHOPPER_LIMIT: (on_per_shopper, None),
    cb.CouponPreset.ALL_PRODUCTS: (on_products, None),
}


@button_handler
async def on_preset(update: Update, context: ShopContext, pressed: cb.PresetCouponAnswer) -> None:
    """A step answered by button (no minimum, starts now, ...): the step checks it is the one asked."""
    answer_step, value = PRESETS[pressed.preset]
    async with context.shop.db.read() as session:
        step = await get_step(session, update.effective_user.id)
    await answer_step(update, context, step or Step(""), value)
    await answer(update.callback_query)
    # The question's buttons are spent: the pressed one stays said, as a tick.
    await edit(update.callback_query, update.callback_query.message.text_html + " ✓")


@button_handler
async def on_confirm(update: Update, context: ShopContext, pressed: cb.ConfirmCoupon) -> None:
    """Create the coupon (once, however often pressed) and show the list; or cancel."""
    query, user_id = update.callback_query, update.effective_user.id
    if not pressed.create:
        async with context.shop.db.transaction() as session:
            await flow.cancel(session, user_id)
        await answer(query)
        await edit(query, _("Cancelled. No coupon was created."))
        return
    shop, operator = await _roles(context, user_id)
    scopes = {shop.id} if shop is not None else set()
    if operator:
        scopes.add(None)
    async with context.shop.db.transaction() as session:
        coupon = await flow.create(session, user_id, scopes, context.shop.clock())
    await answer(query, _("Created!"))
    # Translators: {code} is the new coupon's code.
    await edit(query, _("✅ Coupon <b>{code}</b> is created: shoppers can type it at checkout.").format(
        code=escape(coupon.code)))
    await _show_coupons(update, context, coupon.seller_id is None, 0, new=True)


# What each step of a new coupon takes (the hints are translated when said: handlers/flows.py).
FLOW = Flow(
    name="coupons",
    steps={
        CouponStep.CODE: OnStep(text=on_code),
        CouponStep.DISCOUNT: OnStep(text=on_discount),
        CouponStep.MIN_SPEND: OnStep(text=on_min_spend),
        CouponStep.STARTS: OnStep(text=on_starts),
        CouponStep.ENDS: OnStep(text=on_ends),
        CouponStep.MAX_USES: OnStep(text=on_max_uses),
        CouponStep.PER_SHOPPER: OnStep(text=on_per_shopper),
        CouponStep.PRODUCTS: OnStep(text=on_products),
        CouponStep.CONFIRM: OnStep(text=on_text_at_confirm, hint=PRESS_CREATE),
    },
    buttons={cb.NewCoupon: on_new_coupon, cb.PresetCouponAnswer: on_preset, cb.ConfirmCoupon: on_confirm},
    left=N_("Cancelled. No coupon was created."),
)
