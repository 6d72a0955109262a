"""Building the Application: handlers, the shop resources, and background jobs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bot.config import Settings
from handlers import callbacks as cb
from handlers import cart, checkout, orders, payments, product, search, start, text
from handlers.context import SHOP_KEY, Shop, ShopContext, ShopOptions, attach
from handlers.errors import on_error
from store.db import Database
from store.models import utcnow
from store.services.checkout import expire_checkouts
from store.services.search import CatalogSearch

logger = logging.getLogger(__name__)

EXPIRY_JOB_INTERVAL = 30  # seconds between sweeps for unpaid checkouts

BUTTONS: dict[str, Callable] = {
    cb.MENU: start.on_menu,
    cb.CATEGORIES: start.on_categories,
    cb.CATEGORY: start.on_category,
    cb.SEARCH_PAGE: search.on_search_page,
    cb.PRODUCT: product.on_product,
    cb.PRODUCT_VARIANT: product.on_variant,
    cb.ADD: product.on_add,
    cb.CART: cart.on_cart_button,
    cb.CART_LINE: cart.on_cart_line,
    cb.CHECKOUT: checkout.on_checkout,
    cb.CHECKOUT_GO: checkout.on_continue,
    cb.SHIPPING: checkout.on_shipping,
    cb.PAYMENT: checkout.on_payment,
    cb.PLACE: checkout.on_place,
    cb.LEAVE: checkout.on_leave,
    cb.ORDERS: orders.on_orders_page,
    cb.ORDER: orders.on_order,
    cb.CANCEL_UNPAID: checkout.on_cancel_unpaid,
}

COMMANDS = [
    BotCommand("start", "Menu"),
    BotCommand("cart", "Your cart"),
    BotCommand("orders", "Your orders"),
    BotCommand("cancel", "Leave the checkout"),
    BotCommand("help", "How to shop here"),
]


def shop_options(settings: Settings) -> ShopOptions:
    """The handler-facing options derived from the settings."""
    return ShopOptions(
        currency=settings.currency,
        provider_token=settings.payment_provider_token,
        stars_enabled=settings.stars_enabled,
        stars_per_unit=settings.stars_per_unit,
        cash_on_delivery=settings.cash_on_delivery,
        checkout_expiry=timedelta(minutes=settings.checkout_expiry_minutes),
        phone_region=settings.default_phone_region,
    )


async def on_unknown_button(update: Update, context: ShopContext) -> None:
    """A button whose data is none of ours (forged, or from an old version of the bot)."""
    logger.warning("unknown callback data from user %s", update.effective_user.id)
    await update.callback_query.answer(start.render.EXPIRED_BUTTON, show_alert=True)


async def on_noop(update: Update, context: ShopContext) -> None:
    """A button that only shows information (a page number)."""
    await update.callback_query.answer()


async def expire_unpaid(context: ShopContext) -> None:
    """Job: expire unpaid checkouts past their time, release their stock and tell the buyers."""
    shop = context.shop
    async with shop.db.transaction() as session:
        expired = await expire_checkouts(session, shop.clock())
        notices = [(c.user_id, [o.id for o in c.orders]) for c in expired]
    for user_id, order_ids in notices:
        numbers = ", ".join(f"#{i}" for i in order_ids)
        logger.info("checkout of user %s expired unpaid (orders %s)", user_id, numbers)
        try:
            await context.bot.send_message(user_id, f"⌛ Order {numbers} wasn't paid in time, so the items were "
                                                    "released. You can order again any time.")
        except Exception:  # one unreachable buyer must not stop the others
            logger.warning("could not tell user %s about expired orders %s", user_id, numbers, exc_info=True)


def register_handlers(application: Application) -> None:
    """Register every handler: deep-linked /start first, commands, payments, buttons, text."""
    application.add_handler(CommandHandler("start", start.on_start))
    application.add_handler(CommandHandler("help", start.on_help))
    application.add_handler(CommandHandler("cart", cart.on_cart_command))
    application.add_handler(CommandHandler("orders", orders.on_orders_command))
    application.add_handler(CommandHandler("cancel", checkout.on_cancel_command))
    application.add_handler(PreCheckoutQueryHandler(payments.on_pre_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, payments.on_successful_payment))
    application.add_handler(MessageHandler(filters.CONTACT & filters.ChatType.PRIVATE, checkout.on_contact))
    application.add_handler(CallbackQueryHandler(on_noop, pattern=f"^{cb.NOOP}$"))
    for prefix, callback in BUTTONS.items():
        application.add_handler(CallbackQueryHandler(callback, pattern=f"^{re.escape(prefix)}(:|$)"))
    application.add_handler(CallbackQueryHandler(on_unknown_button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE,
                                           text.on_text))
    application.add_error_handler(on_error)


async def _post_init(application: Application) -> None:
    shop: Shop = application.bot_data[SHOP_KEY]
    async with shop.db.transaction() as session:
        await shop.search.refresh(session, force=True)
    await application.bot.set_my_commands(COMMANDS)
    if application.job_queue is not None:
        application.job_queue.run_repeating(expire_unpaid, interval=EXPIRY_JOB_INTERVAL, first=1,
                                            name="expire-unpaid")


async def _post_shutdown(application: Application) -> None:
    await application.bot_data[SHOP_KEY].db.dispose()


def build_application(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    search_refresh_interval: float = 1.0,
) -> Application:
    """Build the bot's Application for ``settings``; the store must already be migrated."""
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .context_types(ContextTypes(context=ShopContext))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.api_urls:
        base_url, base_file_url = settings.api_urls
        builder = builder.base_url(base_url).base_file_url(base_file_url)
    application = builder.build()
    shop = Shop(
        db=Database(settings.database_url),
        search=CatalogSearch(refresh_interval=search_refresh_interval),
        options=shop_options(settings),
        clock=clock,
    )
    attach(application, shop)
    register_handlers(application)
    return application
