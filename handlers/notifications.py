"""Chat messages the outbox delivers: new orders to sellers, order news to buyers, notices to operators.

Rendered when sent, from the store as it is then, so buttons only offer what
still applies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode

from handlers import keyboards, render
from handlers import returns as returned
from handlers import reviews as review_chat
from handlers.fit import CAPTION_LIMIT, fit, fit_lines, pages
from handlers.i18n import N_, _, ngettext
from handlers.messages import CHECKOUT_WAS, PAID_BY, PAYMENT_METHOD, REFUND_STATUS, order_status
from store.models import FlashDeal, Order, Payment, utcnow
from store.services import creators, deals, outbox, returns
from store.services.catalog import get_product, get_products
from store.services.digital import DOCUMENT, PHOTO, Goods
from store.services.events import load_order
from store.services.fulfilment import RefundDue, goods_shown, refund_due
from store.services.sellers import get_seller
from store.services.users import get_user
from store.states import Approval, Delivery, OrderEventType, PaymentMethod, ProductKind, RefundStatus
from store.states import Notice as NoticeKind


@dataclass(frozen=True, slots=True)
class SentFile:
    """A file to send: a document or a photo, by Telegram file id or https URL, with its caption."""

    content_type: str
    file: str
    caption: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A rendered chat message; ``seller_commands`` asks to show the seller commands in that chat. A long
    notice goes on in ``more`` messages; ``files`` follow it."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    seller_commands: bool = False
    more: tuple[str, ...] = ()
    files: tuple[SentFile, ...] = ()


def goods_notice(order_id: int, goods: list[Goods]) -> Notice | None:
    """A paid digital order's goods for its buyer: codes to copy, links and texts as the seller wrote them, then
    the files (None: nothing left to give, the order was cancelled before it went out)."""
    blocks: list[str] = []
    files: list[SentFile] = []
    for item in goods:
        name = render.item_name(item.title, item.label)
        if item.delivery == Delivery.CODE and item.codes:
            # Translators: {name} is a product (with its option); the codes follow, one per line.
            blocks.append("\n" + ngettext("🔑 <b>{name}</b> — your code:", "🔑 <b>{name}</b> — your codes:",
                                          len(item.codes)).format(name=name))
            blocks += [f"<code>{escape(code)}</code>" for code in item.codes]
        elif item.delivery == Delivery.TEXT and item.content:
            blocks += ["\n" + f"🔗 <b>{name}</b>", escape(item.content)]
        elif item.delivery == Delivery.FILE and item.content:
            files.append(SentFile(item.content_type or DOCUMENT, item.content, name))
            # Translators: {name} is a product (with its option), sent as a file in the next message.
            blocks.append("\n" + _("📎 <b>{name}</b> — the file follows.").format(name=name))
    if not blocks:
        return None
    # Translators: {number} is an order number; the order's codes, links and files follow.
    head = _("⚡ <b>Your order #{number}</b> — thank you! Here is what you bought; /orders keeps it for you.").format(
        number=order_id)
    texts = pages([head, *blocks])
    return Notice(texts[0], more=tuple(texts[1:]), files=tuple(files))


async def send_rest(bot: Bot, chat_id: int, notice: Notice) -> None:
    """After a notice's first message: its further messages, then its files."""
    for text in notice.more:
        await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, disable_web_page_preview=True)
    for sent in notice.files:
        caption = fit(sent.caption, CAPTION_LIMIT)
        if sent.content_type == PHOTO:
            await bot.send_photo(chat_id, sent.file, caption=caption, parse_mode=ParseMode.HTML)
        else:
            await bot.send_document(chat_id, sent.file, caption=caption, parse_mode=ParseMode.HTML)




def _seller_discount(order: Order, lang: str | None) -> str:
    """What a discount code took off a seller's order, and who pays for it."""
    cur = order.currency
    off = render.code_off(order.coupon_code or "", order.discount, cur, lang)
    if order.platform_discount:
        # Translators: follows a discount code's line; {amount} is what the seller is paid for the order.
        return off + " " + _("(paid by the platform: you are paid {amount})").format(
            amount=render.money(order.total + order.platform_discount, cur, lang))
    # Translators: follows a discount code's line, when the code is the seller's own coupon.
    return off + " " + _("(your coupon)")


def seller_order_text(order: Order, lang: str | None = None) -> str:
    """An order as its seller sees it: lines, totals, buyer contact and address, payment state."""
    checkout, cur = order.checkout, order.currency
    if checkout.payment_method == PaymentMethod.COD:
        # Translators: how the order is paid, shown after "Payment:"; {amount} is an amount of money.
        payment = _("cash on delivery: collect {amount}").format(amount=render.money(order.total, cur, lang))
    elif checkout.paid_at is not None:
        payment = PAID_BY[checkout.payment_method]
    else:
        # Translators: how the order is paid, shown after "Payment:".
        payment = _("not paid")
    if order.refund_status:
        payment += f" — {REFUND_STATUS[order.refund_status]}"
    lines = [f"• {render.item_name(line.title, line.variant_label)} [{escape(line.sku)}] — {line.quantity} × "
             f"{render.money(line.unit_price, cur, lang)}" for line in order.lines]
    # Translators: {total} is an amount of money; {payment} how the order is paid ("paid by card", "not paid").
    total = _("<b>Total: {total}</b> · Payment: {payment}").format(total=render.money(order.total, cur, lang),
                                                                    payment=payment)
    if order.kind == ProductKind.PHYSICAL:
        # Translators: {items} and {fee} are amounts of money, {shipping} the name of the shipping method.
        parts = ["\n" + _("Items: {items} · Shipping ({shipping}): {fee}").format(
            items=render.money(order.items_total, cur, lang), shipping=escape(checkout.shipping_name),
            fee=render.money(order.shipping_fee, cur, lang)), total]
    else:
        parts = ["\n" + total]
    if order.discount:
        parts.insert(-1, _seller_discount(order, lang))
    if order.kind == ProductKind.DIGITAL:
        parts.append(_("⚡ Digital goods: sent to the buyer in the chat as soon as they pay. Nothing to ship."))
    else:
        # Translators: {contact} is the buyer's name and phone number.
        parts.append("\n" + _("<b>Buyer:</b> {contact}").format(contact=render.contact_of(order)))
        parts.append(_("<b>Ship to:</b> {address}").format(address=render.kept(order.address)))
    if order.tracking_number:
        # Translators: {carrier} is the name of a delivery company, {number} its tracking number.
        parts.append(_("<b>Tracking:</b> {carrier} {number}").format(
            carrier=escape(order.carrier or ""), number=escape(order.tracking_number)))
    if order.cancel_reason:
        # Translators: {reason} is the reason the seller gave, as they wrote it.
        parts.append(_("<b>Cancelled:</b> {reason}").format(reason=escape(order.cancel_reason)))
    # Translators: {status} is the order's state ("paid", "shipped").
    heading = _("🛎 <b>Order #{number}</b> — {status}").format(number=order.id, status=order_status(order.status))
    return fit_lines([heading, ""], lines, parts)


def buyer_order_text(order: Order, data: dict[str, Any], lang: str | None = None) -> str:
    """What the buyer is told when their order moves."""
    event, seller, number = data["event"], escape(order.seller.name), order.id
    if event == OrderEventType.ACCEPTED:
        # Translators: {seller} is the name of a shop.
        text = _("👍 {seller} accepted your order #{number} and is preparing it.").format(seller=seller, number=number)
    elif event == OrderEventType.SHIPPED:
        # Translators: {seller} is the name of a shop, {carrier} of a delivery company, {tracking} a tracking number.
        text = _("🚚 Your order #{number} from {seller} is on its way: {carrier} {tracking}.").format(
            number=number, seller=seller, carrier=escape(data.get("carrier") or ""),
            tracking=escape(data.get("tracking_number") or ""))
    elif event == OrderEventType.DELIVERED:
        # Translators: {seller} is the name of a shop.
        text = _("📬 Your order #{number} from {seller} was delivered. Enjoy!").format(number=number, seller=seller)
    elif event == OrderEventType.CANCELLED:
        if data.get("reason"):
            # Translators: {seller} is the name of a shop, {reason} the reason it gave, as written.
            text = _("✖ {seller} cancelled your order #{number}: {reason}.").format(
                seller=seller, number=number, reason=escape(data["reason"]))
        else:
            # Translators: {seller} is the name of a shop.
            text = _("✖ {seller} cancelled your order #{number}: no reason given.").format(seller=seller,
                                                                                           number=number)
        if data.get("refund_status") == RefundStatus.DUE:
            # Translators: {amount} is an amount of money.
            text += "\n" + _("Your payment of {amount} will be refunded.").format(
                amount=render.money(order.total, order.currency, lang))
    else:
        text = _("💸 The payment for order #{number} was refunded.").format(number=number)
    return text + "\n" + _("See /orders for details.")


async def _seller_order(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    order = await load_order(session, data["order_id"])
    if order is None:
        return None
    return Notice(seller_order_text(order), keyboards.seller_order_actions(order))


async def _buyer_order(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    order = await load_order(session, data["order_id"])
    if order is None:
        return None
    return Notice(buyer_order_text(order, data))


async def _stock(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    name = render.item_name(data["title"], data["label"])
    sku, stock = escape(data["sku"]), data["stock"]
    if data.get("codes"):  # a pool of codes: its stock is the codes left, refilled by adding codes
        if stock <= 0:
            # Translators: {name} is a product (and its option), {sku} its stock-keeping code.
            text = _("❌ <b>Out of codes:</b> {name} [{sku}]. Add codes in /my_products.")
            return Notice(text.format(name=name, sku=sku))
        # Translators: {name} is a product (and its option), {sku} its stock-keeping code, {count} the codes left.
        return Notice(ngettext("⚠️ <b>Low on codes:</b> {name} [{sku}] — {count} code left. Add codes in "
                               "/my_products.",
                               "⚠️ <b>Low on codes:</b> {name} [{sku}] — {count} codes left. Add codes in "
                               "/my_products.", stock).format(name=name, sku=sku, count=stock))
    if stock <= 0:
        # Translators: {name} is a product (and its option), {sku} its stock-keeping code.
        text = _("❌ <b>Out of stock:</b> {name} [{sku}]. Restock it in /my_products.")
        return Notice(text.format(name=name, sku=sku))
    # Translators: {name} is a product (and its option), {sku} its stock-keeping code, {count} the units left.
    return Notice(ngettext("⚠️ <b>Low stock:</b> {name} [{sku}] — {count} left.",
                           "⚠️ <b>Low stock:</b> {name} [{sku}] — {count} left.", stock)
                  .format(name=name, sku=sku, count=stock))


async def applicant(session: AsyncSession, user_id: int | None) -> str:
    """An applicant as operators see them: first name, @username."""
    owner = await get_user(session, user_id) if user_id else None
    # Translators: an applicant whose name is not known, in "From: someone, user 123".
    who = escape(owner.first_name) if owner else _("someone")
    if owner and owner.username:
        who += f" (@{escape(owner.username)})"
    return who


async def _seller_application(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    seller = await get_seller(session, data["seller_id"])
    if seller is None or seller.status != Approval.PENDING:
        return None
    who = await applicant(session, seller.owner_user_id)
    # Translators: {shop} is the shop's name, {applicant} a first name and @username, {user_id} a Telegram id.
    return Notice(_("📝 <b>Seller application</b>\nShop: <b>{shop}</b>\nFrom: {applicant}, user {user_id}").format(
                      shop=escape(seller.name), applicant=who, user_id=seller.owner_user_id),
                  keyboards.seller_application(seller.id))


async def _seller_decision(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    seller = await get_seller(session, data["seller_id"])
    if seller is None:
        return None
    if data["status"] == Approval.APPROVED:
        return Notice(_(render.SELLER_WELCOME).format(name=escape(seller.name)) + "\n" + _(render.SELLER_HELP),
                      seller_commands=True)
    # Translators: {shop} is the shop's name.
    return Notice(_("Sorry, your application for <b>{shop}</b> was not approved.").format(shop=escape(seller.name)))


# Translators: {numbers} is one or more order numbers ("#12" or "#12, #13": one per seller).
NOT_PAID_IN_TIME = N_("⌛ Order {numbers} wasn't paid in time, so the items were released. You can order again "
                      "any time.")


async def _checkout_expired(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    numbers = ", ".join(f"#{order_id}" for order_id in data["order_ids"])
    return Notice(_(NOT_PAID_IN_TIME).format(numbers=numbers))


async def _creator_application(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    creator = await creators.get_creator(session, data["creator_id"])
    if creator is None or creator.status != Approval.PENDING:
        return None
    who = await applicant(session, creator.user_id)
    # Translators: {applicant} is a first name and @username, {user_id} a Telegram id.
    return Notice(_("✨ <b>Creator application</b>\nFrom: {applicant}, user {user_id}").format(
                      applicant=who, user_id=creator.user_id),
                  keyboards.creator_application(creator.id))


async def _creator_decision(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    if data["status"] == Approval.APPROVED:
        return Notice(_("✨ You're approved as a chatshop creator! Send /creator for your links."))
    return Notice(_("Sorry, your creator application was not approved."))


def refund_due_line(due: RefundDue) -> str:
    """One payment to refund, as sellers and operators read it."""
    values = {
        "amount": render.money(due.amount, due.currency, None),
        "method": PAYMENT_METHOD[due.method],
        "orders": ", ".join(f"#{order_id}" for order_id in due.order_ids),
        "checkout": escape(CHECKOUT_WAS[due.checkout_status]),
    }
    if due.method == PaymentMethod.STARS:
        # Translators: {amount} is an amount of money, {method} how it was paid ("⭐ Telegram Stars"), {orders}
        # one or more order numbers ("#12, #13"), {checkout} where the checkout stood ("the checkout was expired").
        text = _("💸 {amount} ({method}) for order {orders}, which came after {checkout}: Telegram Stars go back "
                 "automatically.")
    else:
        # Translators: {amount} is an amount of money, {method} how it was paid ("💳 Card"), {orders} one or more
        # order numbers ("#12, #13"), {checkout} where the checkout stood ("the checkout was expired"), {charge}
        # the payment provider's id of the payment.
        text = _("💸 {amount} ({method}) for order {orders}, which came after {checkout}: refund it through the "
                 "payment provider, charge <code>{charge}</code>.")
    return text.format(charge=escape(due.charge_id), **values)


async def _refund_due(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    due = await refund_due(session, data["payment_id"])
    if due is None:
        return None  # refunded already
    return Notice(_("<b>Refund due</b>") + "\n" + refund_due_line(due))


async def _payment_refunded(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    payment = await session.get(Payment, data["payment_id"])
    if payment is None:
        return None
    # Translators: {amount} is an amount of money.
    return Notice(_("↩️ Your payment of {amount} has been refunded.").format(
        amount=render.money(payment.amount, payment.currency, None)))


async def _webhook_failing(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    row = await outbox.stuck(session, data["delivery_id"])
    seller = await get_seller(session, data["seller_id"])
    if row is None or seller is None:
        return None  # delivered meanwhile
    # Translators: what the seller's server answered, when it did not answer at all.
    error = escape((row.last_error or _("no answer"))[:200])
    # Translators: {shop} is the shop's name, {shop_id} its number, {error} what its server answered (technical,
    # in English); "/replay_webhooks {shop_id}" is a command, keep it as it is.
    return Notice(_("⚠️ <b>Order webhook failing</b>: events for <b>{shop}</b> (shop {shop_id}) have not been "
                    "accepted for over an hour ({error}). They are kept and retried, in order; one given up holds "
                    "back the later ones until an operator sends <code>/replay_webhooks {shop_id}</code>.")
                  .format(shop=escape(seller.name), shop_id=seller.id, error=error))


async def _deal_started(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    row = await session.get(FlashDeal, data["deal_id"])
    if row is None or row.cancelled_at is not None:
        return None  # called off: nothing to tell
    deal = await deals.deal_view(session, row.id)
    currency = data["currency"]
    # Translators: a reminder a shopper asked for: {name} is the product (and option), {price} the deal's price,
    # {was} the usual price (struck through), {end} when the deal ends (date and time, UTC).
    text = _("⚡ <b>The flash deal you asked about has started!</b>\n{name}: <b>{price}</b> instead of <s>{was}</s>, "
             "until {end}.").format(name=render.item_name(deal.title, deal.label),
                                    price=render.money(deal.price, currency, None),
                                    was=render.money(deal.regular_price, currency, None),
                                    end=render.when(deal.ends_at, None))
    return Notice(text, keyboards.deals_list([(render.short(deal.title, 40), deal.product_id, None)]))


ALERT_TITLE_MAX = 40  # a product's title on the button under an alert


async def _back_in_stock(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    product = await get_product(session, data["product_id"])
    variant = product.variant(data["variant_id"]) if product is not None else None
    if product is None or variant is None:
        return None  # no longer on sale: nothing to tell
    deal = (await deals.live_for(session, [variant.id], utcnow())).get(variant.id)
    # Translators: a message a shopper asked for: {name} is a product (and its option), {price} its price.
    text = _("🔔 <b>Back in stock!</b> {name} is available again, at {price}.").format(
        name=render.item_name(product.title, variant.label),
        price=render.money(deal.price if deal is not None else variant.price, data["currency"]))
    # Translators: ends a back-in-stock message; /notifications is a command, keep it as it is.
    text += "\n" + _("You asked me to tell you. /notifications turns these messages off.")
    return Notice(text, keyboards.open_products([(render.short(product.title, ALERT_TITLE_MAX), product.id)]))


async def _price_drop(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    found = await get_products(session, [item["product_id"] for item in data["items"]])
    items = [(found[item["product_id"]], item) for item in data["items"] if item["product_id"] in found]
    if not items:
        return None  # none of them is on sale any more
    currency, more = data["currency"], data.get("more", 0)
    # Translators: the first line of a message listing saved products that got cheaper; {count} is how many.
    head = ngettext("📉 <b>A product you saved got cheaper</b>", "📉 <b>{count} products you saved got cheaper</b>",
                    len(items) + more).format(count=len(items) + more)
    # Translators: a saved product that got cheaper: {name} its name, {price} its price now, {was} the price the
    # shopper saw before (shown struck through).
    lines = [_("• {name}: <b>{price}</b>, was <s>{was}</s>").format(
        name=render.item_name(product.title, ""), price=render.money(item["price"], currency),
        was=render.money(item["was"], currency)) for product, item in items]
    tail = []
    if more:
        # Translators: after a list of saved products that got cheaper; {count} is how many more did.
        tail.append(ngettext("… and {count} more: see /saved.", "… and {count} more: see /saved.",
                             more).format(count=more))
    # Translators: ends a price-drop message; /notifications is a command, keep it as it is.
    tail.append(_("At most one such message a day. /notifications turns them off."))
    return Notice(fit_lines([head], lines, tail),
                  keyboards.open_products([(render.short(product.title, ALERT_TITLE_MAX), product.id)
                                           for product, _item in items]))


async def _review_request(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    found = await review_chat.request_message(session, data)
    return Notice(*found) if found is not None else None


async def _review_reply(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    found = await review_chat.reply_message(session, data)
    return Notice(*found) if found is not None else None


async def _seller_return(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    found = await returns.get(session, data["return_id"])
    if found is None:
        return None
    ret, order = found
    text = returned.seller_return_text(ret, order, order.seller.return_instructions, data["hours"], None,
                                       by_the_shop=data.get("by_the_shop", False))
    # Translators: the caption of a buyer's photo of the goods they return; {number} is the return's number.
    files = (SentFile(PHOTO, ret.photo, _("📷 Return #{number}: the buyer's photo").format(number=ret.id)),)
    return Notice(text, keyboards.return_decision(ret.id, returns.actions(ret, order.kind)),
                  files=files if ret.photo else ())


async def _buyer_return(session: AsyncSession, data: dict[str, Any]) -> Notice | None:
    found = await returns.get(session, data["return_id"])
    if found is None:
        return None
    ret, order = found
    return Notice(returned.buyer_return_text(ret, order, order.seller.return_instructions, None))


# The renderer of each chat notice the outbox delivers (Stars refunds are not messages).
RENDERERS: dict[NoticeKind, Callable[[AsyncSession, dict[str, Any]], Awaitable[Notice | None]]] = {
    NoticeKind.SELLER_ORDER: _seller_order,
    NoticeKind.BUYER_ORDER: _buyer_order,
    NoticeKind.SELLER_STOCK: _stock,
    NoticeKind.SELLER_APPLICATION: _seller_application,
    NoticeKind.SELLER_DECISION: _seller_decision,
    NoticeKind.CHECKOUT_EXPIRED: _checkout_expired,
    NoticeKind.CREATOR_APPLICATION: _creator_application,
    NoticeKind.CREATOR_DECISION: _creator_decision,
    NoticeKind.REFUND_DUE: _refund_due,
    NoticeKind.PAYMENT_REFUNDED: _payment_refunded,
    NoticeKind.WEBHOOK_FAILING: _webhook_failing,
    NoticeKind.DEAL_STARTED: _deal_started,
    NoticeKind.SELLER_RETURN: _seller_return,
    NoticeKind.BUYER_RETURN: _buyer_return,
    NoticeKind.REVIEW_REQUEST: _review_request,
    NoticeKind.REVIEW_REPLY: _review_reply,
    NoticeKind.BACK_IN_STOCK: _back_in_stock,
    NoticeKind.PRICE_DROP: _price_drop,
}


async def render_notice(session: AsyncSession, template: str, data: dict[str, Any],
                        now: datetime | None = None) -> Notice | None:
    """Render an outbox chat message, or None when what it was about no longer exists.

    A digital order's goods are rendered to be sent at once: the order is delivered from then on (at
    ``now``), so its codes count as shown, whatever becomes of the message.
    """
    if template == NoticeKind.DIGITAL_GOODS:
        return goods_notice(data["order_id"], await goods_shown(session, data["order_id"], now or utcnow()))
    renderer = RENDERERS.get(template)  # type: ignore[call-overload]
    if renderer is None:
        raise ValueError(f"unknown notice template {template!r}")
    return await renderer(session, data)
