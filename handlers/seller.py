"""Sellers in the chat: applying, operator approval, order fulfilment, webhook and API key settings."""

from __future__ import annotations

import logging
from html import escape

from telegram import Update

from handlers import keyboards, render
from handlers.common import answer, button_handler, edit, ensure_user, message_handler, reply
from handlers.context import ShopContext
from handlers.notifications import seller_order_text
from store.errors import InvalidInput, NotAllowed, ShopError
from store.models import Seller
from store.services import fulfilment, sellers
from store.services.fulfilment import Actor
from store.services.users import Step, clear_step, set_step

logger = logging.getLogger(__name__)

APPLY_NAME = "seller:name"
SHIP_DETAILS = "seller:ship"
CANCEL_REASON = "seller:cancel"
STEPS = (APPLY_NAME, SHIP_DETAILS, CANCEL_REASON)

ORDERS_PAGE = 5
FILTERS = {"open": fulfilment.OPEN_STATES, "paid": ("paid",), "placed": ("placed",), "accepted": ("accepted",),
           "shipped": ("shipped",)}
NOT_A_SELLER = "This is for sellers. To open a shop, send /sell."


def actor(update: Update, context: ShopContext) -> Actor:
    """The person behind the update as an order actor (operator or seller)."""
    return Actor.in_chat(update.effective_user.id, context.shop.options.operator_ids)


# --- applying and approval -----------------------------------------------------------------


async def on_sell(update: Update, context: ShopContext) -> None:
    """/sell: ask for a shop name (or say where the application stands)."""
    user_id = update.effective_user.id
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        shop = await sellers.seller_of_user(session, user_id, approved_only=False)
        if shop is None or shop.status == sellers.REJECTED:
            await set_step(session, user_id, APPLY_NAME)
    if shop is not None and shop.status == sellers.APPROVED:
        await reply(update, f"You already sell here as <b>{escape(shop.name)}</b>. {render.SELLER_HELP}")
    elif shop is not None and shop.status == sellers.PENDING:
        await reply(update, f"Your application for <b>{escape(shop.name)}</b> is waiting for an operator.")
    else:
        await reply(update, "🏪 <b>Open a shop</b>\nWhat is your shop called? New orders will arrive in this "
                            "chat.\n/cancel to stop.")


async def _take_shop_name(update: Update, context: ShopContext, text: str) -> None:
    user_id = update.effective_user.id
    try:
        async with context.shop.db.transaction() as session:
            shop = await sellers.apply(session, user_id, text, update.effective_chat.id,
                                       context.shop.options.operator_ids, context.shop.clock(),
                                       context.shop.options.default_commission_bp)
            await clear_step(session, user_id)
    except InvalidInput as exc:
        await reply(update, escape(exc.message))
        return
    context.shop.wake_outbox()
    await reply(update, f"Thanks! <b>{escape(shop.name)}</b> is waiting for an operator's approval; "
                        "you'll hear from us here.")


@button_handler
async def on_decide(update: Update, context: ShopContext, seller_id: int, approve: int) -> None:
    """An operator approves or rejects an application."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        shop = await sellers.decide(session, seller_id, bool(approve), update.effective_user.id,
                                    context.shop.options.operator_ids, context.shop.clock())
    context.shop.wake_outbox()
    await answer(query, f"{shop.name}: {shop.status}.")
    await edit(query, f"📝 Seller application <b>{escape(shop.name)}</b>: <b>{shop.status}</b> by "
                      f"{escape(update.effective_user.first_name)}.")


# --- orders ------------------------------------------------------------------------------------


@message_handler
async def on_seller_orders(update: Update, context: ShopContext) -> None:
    """/seller_orders: the open orders of the seller's shop (all shops for an operator)."""
    await _show_orders(update, context, "open", 0)


@button_handler
async def on_orders_page(update: Update, context: ShopContext, state: str, page: int) -> None:
    """A page or a filter of the seller's orders, edited in place."""
    await answer(update.callback_query)
    await _show_orders(update, context, state, page)


async def _show_orders(update: Update, context: ShopContext, state: str, page: int) -> None:
    statuses = FILTERS.get(state)
    if statuses is None:
        raise ShopError(render.EXPIRED_BUTTON)
    async with context.shop.db.read() as session:
        who = actor(update, context)
        shops = await fulfilment.sellers_for_actor(session, who)
        if shops is not None and not shops:
            raise NotAllowed(NOT_A_SELLER)
        orders, total = await fulfilment.list_seller_orders(session, shops, statuses, page * ORDERS_PAGE,
                                                            ORDERS_PAGE)
    pages = max(1, -(-total // ORDERS_PAGE))
    text = render.seller_orders(orders, total, state, context.shop.options.currency)
    markup = keyboards.seller_orders(orders, min(page, pages - 1), pages, state)
    if update.callback_query:
        await edit(update.callback_query, text, markup)
    else:
        await reply(update, text, markup)


@button_handler
async def on_order(update: Update, context: ShopContext, order_id: int) -> None:
    """Open one order with its action buttons."""
    async with context.shop.db.read() as session:
        order = await fulfilment.order_for_seller_view(session, order_id, actor(update, context))
    await answer(update.callback_query)
    await reply(update, seller_order_text(order), keyboards.seller_order_actions(order.id, order.status))


@button_handler
async def on_action(update: Update, context: ShopContext, order_id: int, action: str) -> None:
    """Accept or mark delivered at once; Ship and Cancel ask for details first."""
    query = update.callback_query
    who = actor(update, context)
    shop = context.shop
    async with shop.db.transaction() as session:
        if action == keyboards.ACCEPT:
            order = await fulfilment.accept(session, order_id, who, shop.clock())
        elif action == keyboards.DELIVER:
            order = await fulfilment.deliver(session, order_id, who, shop.clock())
        elif action in (keyboards.SHIP, keyboards.CANCEL):
            # Check permission and state now, so a stranger is not even asked.
            order = await fulfilment.order_for_seller_view(session, order_id, who)
            wanted = "shipped" if action == keyboards.SHIP else "cancelled"
            if not fulfilment.can_act(order, wanted):
                raise ShopError(f"Order #{order.id} is {order.status}: it can't be {wanted} now.")
            step = SHIP_DETAILS if action == keyboards.SHIP else CANCEL_REASON
            await set_step(session, update.effective_user.id, step, {"order_id": order_id})
        else:
            raise ShopError(render.EXPIRED_BUTTON)
    if action == keyboards.SHIP:
        await answer(query)
        await reply(update, f"🚚 Order #{order_id}: send the carrier and tracking number, e.g. "
                            "<i>UPS 1Z999AA10123456784</i>. /cancel to stop.")
        return
    if action == keyboards.CANCEL:
        await answer(query)
        await reply(update, f"✖ Order #{order_id}: why is it cancelled? The buyer will see your reason. "
                            "/cancel to keep the order.")
        return
    shop.wake_outbox()
    await answer(query, f"Order #{order.id}: {order.status}.")
    await _redraw(update, context, order_id)


async def _redraw(update: Update, context: ShopContext, order_id: int) -> None:
    async with context.shop.db.read() as session:
        order = await fulfilment.order_for_seller_view(session, order_id, actor(update, context))
    await edit(update.callback_query, seller_order_text(order), keyboards.seller_order_actions(order.id,
                                                                                              order.status))


async def on_step_text(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """Text typed at a seller step: a shop name, tracking details or a cancel reason."""
    if step.name == APPLY_NAME:
        await _take_shop_name(update, context, text)
        return
    order_id = step.data["order_id"]
    shop = context.shop
    try:
        async with shop.db.transaction() as session:
            if step.name == SHIP_DETAILS:
                carrier, number = fulfilment.parse_tracking(text)
                order = await fulfilment.ship(session, order_id, actor(update, context), carrier, number,
                                              shop.clock())
            else:
                order = await fulfilment.cancel(session, order_id, actor(update, context), text, shop.clock())
            await clear_step(session, update.effective_user.id)
    except InvalidInput as exc:
        await reply(update, escape(exc.message))
        return
    except ShopError as exc:
        async with shop.db.transaction() as session:
            await clear_step(session, update.effective_user.id)
        await reply(update, escape(exc.message))
        return
    shop.wake_outbox()
    async with shop.db.read() as session:
        order = await fulfilment.order_for_seller_view(session, order.id, actor(update, context))
    await reply(update, seller_order_text(order), keyboards.seller_order_actions(order.id, order.status))


# --- settings: webhook and API key -----------------------------------------------------------


async def _own_shop(update: Update, context: ShopContext) -> Seller | None:
    """The approved shop of the person behind the update."""
    async with context.shop.db.read() as session:
        return await sellers.seller_of_user(session, update.effective_user.id)


async def on_settings(update: Update, context: ShopContext) -> None:
    """/seller_settings: where order events go and how the HTTP API is reached."""
    shop = await _own_shop(update, context)
    if shop is None:
        await reply(update, NOT_A_SELLER)
        return
    webhook = f"<code>{escape(shop.webhook_url)}</code>" if shop.webhook_url else "not set"
    key = "issued (shown once when created)" if shop.api_key_hash else "none"
    await reply(update, f"⚙️ <b>{escape(shop.name)}</b> (seller id {shop.id})\nOrder webhook: {webhook}\n"
                        f"API key: {key}\n\n/webhook URL — send order events to URL (signed)\n"
                        "/webhook off — stop sending them\n/api_key — issue a new API key (the old one stops "
                        "working)")


async def on_webhook(update: Update, context: ShopContext) -> None:
    """/webhook URL | off: set or clear the order webhook; the signing secret is shown once."""
    shop = await _own_shop(update, context)
    if shop is None:
        await reply(update, NOT_A_SELLER)
        return
    if not context.args:
        await reply(update, "Send <code>/webhook https://your.host/path</code>, or <code>/webhook off</code>.")
        return
    url = None if context.args[0].lower() == "off" else context.args[0]
    try:
        async with context.shop.db.transaction() as session:
            secret = await sellers.set_webhook(session, shop.id, url)
    except InvalidInput as exc:
        await reply(update, escape(exc.message))
        return
    if secret is None:
        await reply(update, "Order webhook removed.")
    else:
        await reply(update, f"Order events will be POSTed to <code>{escape(url)}</code>, signed per Standard "
                            f"Webhooks with this secret (shown only now):\n<code>{secret}</code>")


async def on_api_key(update: Update, context: ShopContext) -> None:
    """/api_key: issue a new API key, shown once."""
    shop = await _own_shop(update, context)
    if shop is None:
        await reply(update, NOT_A_SELLER)
        return
    async with context.shop.db.transaction() as session:
        key = await sellers.issue_api_key(session, shop.id)
    await reply(update, f"🔑 Your new API key (shown only now; any older key stops working):\n<code>{key}</code>\n"
                        "Use it as <code>Authorization: Bearer KEY</code> on the HTTP API.")

