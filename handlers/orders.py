"""The buyer's orders: a paged list, newest first, and a detail view."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.common import answer, button_handler, chat_of, edit, lang, reply
from handlers.context import ShopContext
from handlers.fit import fit_lines
from handlers.notifications import goods_notice, send_rest
from handlers.returns import order_returns_lines
from store.errors import ErrorCode, Expired
from store.services import digital, fulfilment, returns
from store.services.orders import get_order_for_buyer, list_orders
from store.states import CheckoutStatus, OrderStatus

PAGE_SIZE = 5


async def _page(context: ShopContext, update: Update, page: int) -> tuple[str, InlineKeyboardMarkup]:
    """Text and keyboard of one page of the buyer's orders."""
    async with context.shop.db.read() as session:
        orders, total = await list_orders(session, update.effective_user.id, page * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if page >= pages:
        raise Expired(ErrorCode.ORDERS_PAGE_GONE)
    return (render.order_list(orders, page * PAGE_SIZE, total, lang(update)),
            keyboards.order_list(orders, page, pages))


async def on_orders_command(update: Update, context: ShopContext) -> None:
    """/orders: the newest orders."""
    await reply(update, *await _page(context, update, 0))


@button_handler
async def on_orders_page(update: Update, context: ShopContext, pressed: cb.OrdersPage) -> None:
    """A page of orders, edited in place."""
    query = update.callback_query
    text, markup = await _page(context, update, pressed.page)
    await answer(query)
    await edit(query, text, markup)


@button_handler
async def on_order(update: Update, context: ShopContext, pressed: cb.ShowOrder) -> None:
    """One order's details, edited in place."""
    query = update.callback_query
    shop = context.shop
    async with shop.db.read() as session:
        detail = await get_order_for_buyer(session, update.effective_user.id, pressed.order_id)
        asked_back = await returns.order_returns(session, detail.order.id)
    await answer(query)
    unpaid = detail.checkout.id if detail.checkout.status == CheckoutStatus.PENDING_PAYMENT else None
    goods = detail.order.id if digital.holds_goods(detail.order) else None
    rate = detail.order.id if detail.order.status == OrderStatus.DELIVERED else None
    returnable = returns.can_return(detail.order, shop.clock(), shop.options.return_window)
    # (The order's returns after its details, within Telegram's limit whatever the order holds.)
    text = fit_lines([render.order_detail(detail, lang(update)), *([""] if asked_back else [])],
                     order_returns_lines(asked_back, lang(update), detail.order.seller.return_instructions), [])
    await edit(query, text, keyboards.order_detail(pressed.page, unpaid, goods, rate_of=rate,
                                                   return_of=detail.order.id if returnable else None))


@button_handler
async def on_get_again(update: Update, context: ShopContext, pressed: cb.GetAgain) -> None:
    """A paid digital order's files, codes or links, sent again to its buyer."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        goods = await fulfilment.goods_again(session, update.effective_user.id, pressed.order_id,
                                             context.shop.clock())
    context.shop.wake_outbox()  # sent for the first time: the seller's webhook hears it is delivered
    notice = goods_notice(pressed.order_id, goods)
    if notice is None:  # refused before the press is answered, so the refusal is its answer
        raise Expired(ErrorCode.NOTHING_TO_SEND_AGAIN)
    await answer(query)
    await reply(update, notice.text)
    await send_rest(update.get_bot(), chat_of(update), notice)
