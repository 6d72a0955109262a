"""Sellers in the chat: applying, operator approval, order fulfilment, webhook and API key settings.

The dialogues (a new shop's name, an order's shipping details or cancel
reason) are :data:`FLOW`, at the end; their steps are
:mod:`store.services.seller_flow`'s.
"""

from __future__ import annotations

import logging
from html import escape

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.common import answer, button_handler, edit, ensure_user, message_handler, reply, say_refusal, show
from handlers.context import ShopContext
from handlers.fit import fit, fit_lines
from handlers.flows import Flow, OnStep
from handlers.i18n import N_, Labels, _, ngettext
from handlers.messages import APPROVAL, order_status, refusal
from handlers.notifications import refund_due_line, seller_order_text
from store.errors import ErrorCode, Expired, InvalidInput, NotAllowed, ShopError
from store.models import Order, Seller
from store.services import fulfilment, outbox, personal_data, seller_flow, sellers
from store.services.fulfilment import Actor
from store.services.orders import OPEN_FILTER, filter_statuses
from store.services.seller_flow import SellerStep
from store.services.users import Step, clear_step
from store.states import Approval, SellerAction

logger = logging.getLogger(__name__)

ORDERS_PAGE = 5
# What the seller is asked when an action needs details first.
ASK_DETAILS = Labels({
    # Translators: {order_id} is an order number; keep the example carrier and tracking number as they are.
    SellerAction.SHIP: N_("🚚 Order #{order_id}: send the carrier and tracking number, e.g. "
                          "<i>UPS 1Z999AA10123456784</i>. /cancel to stop."),
    # Translators: {order_id} is an order number.
    SellerAction.CANCEL: N_("✖ Order #{order_id}: why is it cancelled? The buyer will see your reason. "
                            "/cancel to keep the order."),
})
# What the operator's application message says once decided.
DECIDED = Labels({
    # Translators: {name} is the shop's name, {operator} the first name of the operator who decided.
    Approval.APPROVED: N_("📝 Seller application <b>{name}</b>: <b>approved</b> by {operator}."),
    # Translators: {name} is the shop's name, {operator} the first name of the operator who decided.
    Approval.REJECTED: N_("📝 Seller application <b>{name}</b>: <b>rejected</b> by {operator}."),
})

def actor(update: Update, context: ShopContext) -> Actor:
    """The person behind the update as an order actor (operator or seller)."""
    return Actor.in_chat(update.effective_user.id, context.shop.options.operator_ids)


# --- applying and approval -----------------------------------------------------------------


async def on_sell(update: Update, context: ShopContext) -> None:
    """/sell: ask for a shop name (or say where the application stands)."""
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        shop = await seller_flow.begin_shop(session, update.effective_user.id)
    if shop is not None and shop.status == Approval.APPROVED:
        # Translators: {name} is the shop's name; {commands} is the list of seller commands, translated apart.
        await reply(update, _("You already sell here as <b>{name}</b>. {commands}")
                    .format(name=escape(shop.name), commands=_(render.SELLER_HELP)))
    elif shop is not None:
        await reply(update, _("Your application for <b>{name}</b> is waiting for an operator.")
                    .format(name=escape(shop.name)))
    else:
        await reply(update, _("🏪 <b>Open a shop</b>\nWhat is your shop called? New orders will arrive in this "
                              "chat.\n/cancel to stop."))


async def on_shop_name(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """The new shop's name: the application goes to the operators."""
    options = context.shop.options
    async with context.shop.db.transaction() as session:
        shop = await seller_flow.submit_shop_name(session, update.effective_user.id, text, update.effective_chat.id,
                                                  options.operator_ids, context.shop.clock(),
                                                  options.default_commission_bp)
    context.shop.wake_outbox()
    await reply(update, _("Thanks! <b>{name}</b> is waiting for an operator's approval; you'll hear from us here.")
                .format(name=escape(shop.name)))


@button_handler
async def on_decide(update: Update, context: ShopContext, pressed: cb.DecideSeller) -> None:
    """An operator approves or rejects an application."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        shop = await sellers.decide(session, pressed.seller_id, pressed.approve, update.effective_user.id,
                                    context.shop.options.operator_ids, context.shop.clock())
    context.shop.wake_outbox()
    # Translators: {shop} is the shop's name, {status} "approved" or "rejected"; a short alert.
    await answer(query, _("Shop {shop}: {status}.").format(shop=shop.name, status=APPROVAL[shop.status]))
    await edit(query, DECIDED[shop.status].format(name=escape(shop.name),
                                                  operator=escape(update.effective_user.first_name)))


# --- orders ------------------------------------------------------------------------------------


@message_handler
async def on_seller_orders(update: Update, context: ShopContext) -> None:
    """/seller_orders: the open orders of the seller's shop (all shops for an operator)."""
    await _show_orders(update, context, OPEN_FILTER, 0)


@button_handler
async def on_orders_page(update: Update, context: ShopContext, pressed: cb.SellerOrdersPage) -> None:
    """A page or a filter of the seller's orders, edited in place."""
    await answer(update.callback_query)
    await _show_orders(update, context, pressed.filter, pressed.page)


async def _show_orders(update: Update, context: ShopContext, state: str, page: int) -> None:
    statuses = filter_statuses(state)
    if statuses is None:
        raise Expired(ErrorCode.BUTTON_EXPIRED)
    async with context.shop.db.read() as session:
        who = actor(update, context)
        shops = await fulfilment.sellers_for_actor(session, who)
        if shops is not None and not shops:
            raise NotAllowed(ErrorCode.NOT_A_SELLER)
        orders, total = await fulfilment.list_seller_orders(session, shops, statuses, page * ORDERS_PAGE,
                                                            ORDERS_PAGE)
        refunds = await fulfilment.refunds_due(session, shops)
    pages = max(1, -(-total // ORDERS_PAGE))
    text = render.seller_orders(orders, total, state, context.shop.options.currency)
    if refunds:
        # However many are due, the page's own list stays whole: the refunds are what gets cut.
        text = fit_lines([_("<b>Refunds due</b>")], [f"• {refund_due_line(due)}" for due in refunds], ["", text])
    markup = keyboards.seller_orders(orders, min(page, pages - 1), pages, state)
    await show(update, text, markup)


async def record_view(session, update: Update, context: ShopContext, order_id: int) -> None:  # type: ignore[no-untyped-def]
    """Record that the person is shown an order with its buyer's contact (in the transaction of the update)."""
    who = actor(update, context)
    await personal_data.record_access(session, [order_id], personal_data.channel_of(who.kind), context.shop.clock(),
                                      viewer_id=who.user_id)


async def seller_view(update: Update, context: ShopContext, order_id: int) -> Order:
    """An order as its seller (or an operator) sees it (its showing recorded by the update's transaction)."""
    async with context.shop.db.read() as session:
        return await fulfilment.order_for_seller_view(session, order_id, actor(update, context))


@button_handler
async def on_order(update: Update, context: ShopContext, pressed: cb.SellerOrder) -> None:
    """Open one order with its action buttons."""
    async with context.shop.db.transaction() as session:
        order = await fulfilment.order_for_seller_view(session, pressed.order_id, actor(update, context))
        await record_view(session, update, context, order.id)
    await answer(update.callback_query)
    await reply(update, seller_order_text(order), keyboards.seller_order_actions(order))


# What each action does at once; the others ask for details first (seller_flow.DETAILS_STEPS).
DO_NOW = {SellerAction.ACCEPT: fulfilment.accept, SellerAction.DELIVER: fulfilment.deliver}


@button_handler
async def on_action(update: Update, context: ShopContext, pressed: cb.SellerOrderAction) -> None:
    """Accept or mark delivered at once; Ship and Cancel ask for details first."""
    query = update.callback_query
    who = actor(update, context)
    shop = context.shop
    order_id, action = pressed.order_id, pressed.action
    async with shop.db.transaction() as session:
        if action in DO_NOW:
            order = await DO_NOW[action](session, order_id, who, shop.clock())
            await record_view(session, update, context, order_id)  # redrawn below
        else:
            await seller_flow.ask_details(session, update.effective_user.id, order_id, action, who,
                                          query.message.message_id if query.message else None)
    if action not in DO_NOW:
        await answer(query)
        await reply(update, ASK_DETAILS[action].format(order_id=order_id))
        return
    shop.wake_outbox()
    # Translators: {number} is the order number, {status} where it stands now (e.g. "accepted"); a short alert.
    await answer(query, _("Order #{number}: {status}.").format(number=order.id, status=order_status(order.status)))
    await _redraw(update, context, order_id)


async def _redraw(update: Update, context: ShopContext, order_id: int) -> None:
    order = await seller_view(update, context, order_id)
    await edit(update.callback_query, seller_order_text(order), keyboards.seller_order_actions(order))


async def on_details(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """The carrier and tracking number, or the cancel reason, typed after Ship or Cancel."""
    shop = context.shop
    try:
        async with shop.db.transaction() as session:
            order = await seller_flow.submit_details(session, update.effective_user.id, text,
                                                     actor(update, context), shop.clock())
            await record_view(session, update, context, order.id)  # shown below
    except InvalidInput:
        raise  # said in words by the router; the step stays, to try again
    except ShopError as exc:
        # The order moved on (or is not theirs): this dialogue is over.
        async with shop.db.transaction() as session:
            await clear_step(session, update.effective_user.id)
        await say_refusal(update, exc)
        return
    shop.wake_outbox()
    order = await seller_view(update, context, order.id)
    text = seller_order_text(order)
    if step.data.get("message_id"):
        # The message whose Ship or Cancel was pressed shows where the order is now, without stale buttons.
        try:
            await update.get_bot().edit_message_text(fit(text), chat_id=update.effective_chat.id,
                                                     message_id=step.data["message_id"], parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            logger.info("order message %s not updated: %s", step.data["message_id"], exc)
    await reply(update, text, keyboards.seller_order_actions(order))


# --- settings: webhook and API key -----------------------------------------------------------


async def _own_shop(update: Update, context: ShopContext) -> Seller | None:
    """The approved shop of the person behind the update; None, and they are told so, when they have none."""
    async with context.shop.db.read() as session:
        shop = await sellers.seller_of_user(session, update.effective_user.id)
    if shop is None:
        await reply(update, refusal(ErrorCode.NOT_A_SELLER, {}))
    return shop


async def on_settings(update: Update, context: ShopContext) -> None:
    """/seller_settings: where order events go and how the HTTP API is reached."""
    shop = await _own_shop(update, context)
    if shop is None:
        return
    # Translators: the order webhook of /seller_settings when the shop has none.
    webhook = f"<code>{escape(shop.webhook_url)}</code>" if shop.webhook_url else _("not set")
    # Translators: the API key of /seller_settings (one was issued / none was).
    key = _("issued (shown once when created)") if shop.api_key_hash else _("none")
    # Translators: whether buyers of /seller_settings' shop are asked for a phone number.
    phone = _("asked (for your courier)") if shop.buyer_phone else _("not asked")
    # Translators: {name} is the shop's name, {id} its number; {webhook}, {key} and {phone} are translated apart
    # ("not set", "none", "asked (for your courier)"...).
    settings = _("⚙️ <b>{name}</b> (seller id {id})\nOrder webhook: {webhook}\nAPI key: {key}\n"
                 "Buyers' phone number: {phone}").format(name=escape(shop.name), id=shop.id, webhook=webhook,
                                                         key=key, phone=phone)
    # Translators: keep the commands and their words "URL", "off", "on" as they are: they are typed as written.
    commands = _("/webhook URL — send order events to URL (signed)\n"
                 "/webhook off — stop sending them\n/api_key — issue a new API key (the old one stops "
                 "working)\n/buyer_phone on | off — ask buyers for a phone number, or not (only collect "
                 "it if your courier needs it)")
    await reply(update, f"{settings}\n\n{commands}")


async def on_buyer_phone(update: Update, context: ShopContext) -> None:
    """/buyer_phone on | off: whether the shop's orders ask buyers for a phone number."""
    shop = await _own_shop(update, context)
    if shop is None:
        return
    choice = context.args[0].lower() if context.args else ""
    if choice not in ("on", "off"):
        # Translators: keep the commands in <code> as they are.
        await reply(update, _("Send <code>/buyer_phone on</code> to ask buyers for a phone number (your courier "
                              "calls them), or <code>/buyer_phone off</code> to ask only for a name and address."))
        return
    async with context.shop.db.transaction() as session:
        await sellers.set_buyer_phone(session, shop.id, choice == "on")
    await reply(update, _("📱 Buyers are asked for a phone number from now on.") if choice == "on" else
                _("📱 Buyers are no longer asked for a phone number (unless another shop in the same checkout "
                  "needs one)."))


async def on_webhook(update: Update, context: ShopContext) -> None:
    """/webhook URL | off: set or clear the order webhook; the signing secret is shown once."""
    shop = await _own_shop(update, context)
    if shop is None:
        return
    if not context.args:
        # Translators: keep the commands in <code> as they are.
        await reply(update, _("Send <code>/webhook https://your.host/path</code>, or <code>/webhook off</code>."))
        return
    url = None if context.args[0].lower() == "off" else context.args[0]
    try:
        async with context.shop.db.transaction() as session:
            secret = await sellers.set_webhook(session, shop.id, url, context.shop.options.webhook_networks)
    except InvalidInput as exc:
        await say_refusal(update, exc)
        return
    if secret is None:
        await reply(update, _("Order webhook removed."))
    else:
        # Translators: {url} is the seller's web address; "Standard Webhooks" is the name of a specification.
        await reply(update, _("Order events will be POSTed to <code>{url}</code>, signed per Standard Webhooks with "
                              "this secret (shown only now):\n<code>{secret}</code>").format(url=escape(url),
                                                                                          secret=secret))


async def on_api_key(update: Update, context: ShopContext) -> None:
    """/api_key: issue a new API key, shown once."""
    shop = await _own_shop(update, context)
    if shop is None:
        return
    async with context.shop.db.transaction() as session:
        key = await sellers.issue_api_key(session, shop.id)
    # Translators: keep "Authorization: Bearer KEY" as it is: it is an HTTP header.
    await reply(update, _("🔑 Your new API key (shown only now; any older key stops working):\n<code>{key}</code>\n"
                          "Use it as <code>Authorization: Bearer KEY</code> on the HTTP API.").format(key=key))



# What each of the seller's steps takes (the hints are translated when said: handlers/flows.py).
FLOW = Flow(
    name="seller",
    steps={
        SellerStep.SHOP_NAME: OnStep(text=on_shop_name, hint=N_("Please type your shop's name.")),
        SellerStep.SHIP_DETAILS: OnStep(text=on_details, hint=N_("Please type the carrier and tracking number."),
                                        ends_on_command=True),
        SellerStep.CANCEL_REASON: OnStep(text=on_details, hint=N_("Please type why the order is cancelled."),
                                         ends_on_command=True),
    },
)


async def on_replay_webhooks(update: Update, context: ShopContext) -> None:
    """/replay_webhooks SHOP_ID (operators): send a shop's given-up webhook events again, in order."""
    if update.effective_user.id not in context.shop.options.operator_ids:
        await reply(update, refusal(ErrorCode.ONLY_OPERATORS, {}))
        return
    if len(context.args or ()) != 1 or not context.args[0].isascii() or not context.args[0].isdigit():
        # Translators: keep the command in <code> as it is.
        await reply(update, _("Send <code>/replay_webhooks SHOP_ID</code>: the shop number the failure notice "
                              "names."))
        return
    async with context.shop.db.transaction() as session:
        count = await outbox.replay_dead(session, int(context.args[0]), context.shop.clock())
    context.shop.wake_outbox()
    shop_id = context.args[0]
    if count:
        # Translators: {count} is a number of webhook events, {shop} a shop's number.
        await reply(update, ngettext("{count} order event of shop {shop} will be sent again, in order.",
                                     "{count} order events of shop {shop} will be sent again, in order.",
                                     count).format(count=count, shop=shop_id))
    else:
        # Translators: {shop} is a shop's number.
        await reply(update, _("Shop {shop} has no given-up webhook events.").format(shop=shop_id))
