"""Building the Application: the shop's resources and every handler, registered in one place."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.application import ShopApplication
from bot.config import Settings
from bot.request import AiohttpRequest
from handlers import (
    alerts,
    cart,
    checkout,
    coupons,
    creator,
    deals,
    earnings,
    inline,
    language,
    orders,
    payments,
    privacy,
    product,
    returns,
    reviews,
    search,
    seller,
    seller_catalog,
    start,
)
from handlers import callbacks as cb
from handlers.common import answer, button_handler, expired
from handlers.context import ShopContext, attach, trace
from handlers.errors import on_error
from handlers.flows import StepRouter
from handlers.i18n import _
from store.db import Database
from store.models import utcnow
from store.services.search import CatalogSearch
from store.shop import Shop, ShopOptions

logger = logging.getLogger(__name__)

# The flows (dialogues over several messages), each one table of steps; their buttons come with them.
FLOWS = StepRouter([checkout.FLOW, seller.FLOW, seller_catalog.FLOW, coupons.FLOW, deals.FLOW, reviews.FLOW,
                    returns.FLOW],
                   on_search=search.search)

# Every other button, by kind.
BUTTONS: dict[type[cb.Button], Callable] = {
    cb.Menu: start.on_menu,
    cb.Categories: start.on_categories,
    cb.CategoryPage: start.on_category,
    cb.SearchPage: search.on_search_page,
    cb.SearchPlain: search.on_search_plain,
    cb.ShowOption: product.on_product_option,
    cb.ShowProduct: product.on_product,
    cb.PickVariant: product.on_variant,
    cb.AddToCart: product.on_add,
    cb.ShowCart: cart.on_cart_button,
    cb.ChangeCartLine: cart.on_cart_line,
    cb.OrdersPage: orders.on_orders_page,
    cb.ShowOrder: orders.on_order,
    cb.CancelUnpaid: checkout.on_cancel_unpaid,
    cb.PayAgain: checkout.on_pay_again,
    cb.GetAgain: orders.on_get_again,
    cb.DecideCreator: creator.on_decide,
    cb.ShareLink: creator.on_share_link,
    cb.ToggleShowcase: creator.on_showcase_toggle,
    cb.ShowcasePage: creator.on_showcase_page,
    cb.DecideSeller: seller.on_decide,
    cb.SellerOrderAction: seller.on_action,
    cb.SellerOrdersPage: seller.on_orders_page,
    cb.SellerOrder: seller.on_order,
    cb.MyProductsPage: seller_catalog.on_products_page,
    cb.ManageProduct: seller_catalog.on_manage,
    cb.EditVariant: seller_catalog.on_manage_variant,
    cb.EditDescription: seller_catalog.on_manage_description,
    cb.SetProductStatus: seller_catalog.on_status,
    cb.EditCommission: seller_catalog.on_manage_commission,
    cb.EditGoods: seller_catalog.on_manage_goods,
    cb.CouponsPage: coupons.on_coupons_page,
    cb.SetCouponActive: coupons.on_set_active,
    cb.ForgetMe: privacy.on_forget_answer,
    cb.ChooseLanguage: language.on_choose_language,
    cb.RemindDeal: deals.on_remind,
    cb.ToggleSaved: alerts.on_toggle_saved,
    cb.WatchStock: alerts.on_watch,
    cb.SavedPage: alerts.on_saved_page,
    cb.RemoveSaved: alerts.on_remove_saved,
    cb.ToggleAlert: alerts.on_toggle_alert,
}



def shop_options(settings: Settings) -> ShopOptions:
    """The handler-facing options derived from the settings."""
    if not (settings.payment_provider_token or settings.cash_on_delivery):
        logger.warning("physical goods can't be paid for (no PAYMENT_PROVIDER_TOKEN, CASH_ON_DELIVERY=false): "
                       "only digital goods are sold")
    return ShopOptions(
        currency=settings.currency,
        provider_token=settings.payment_provider_token,
        stars_enabled=settings.stars_enabled,
        stars_per_unit=settings.stars_per_unit,
        cash_on_delivery=settings.cash_on_delivery,
        checkout_expiry=timedelta(minutes=settings.checkout_expiry_minutes),
        phone_region=settings.default_phone_region,
        operator_ids=settings.operators,
        webhook_networks=settings.webhook_networks,
        low_stock_threshold=settings.low_stock_threshold,
        creator_auto_approve=settings.creator_auto_approve,
        default_commission_bp=settings.default_commission_bp,
        attribution_window=timedelta(days=settings.attribution_window_days),
        creator_code_percent=settings.creator_code_percent,
        return_window=timedelta(days=settings.return_window_days),
        return_auto_approve=timedelta(hours=settings.return_auto_approve_hours),
        personal_data_days=settings.personal_data_days,
        review_ask_delay=timedelta(hours=settings.review_ask_hours),
    )


async def on_unknown_button(update: Update, context: ShopContext) -> None:
    """A button whose data is none of ours (forged, or from an old version of the bot)."""
    logger.warning("unknown callback data from user %s", update.effective_user.id)
    await expired(update)


@button_handler
async def on_noop(update: Update, context: ShopContext, _pressed: cb.Noop) -> None:
    """A button that only shows information (a page number)."""
    await answer(update.callback_query)


COMMANDS: dict[str, Callable] = {
    "start": start.on_start,
    "help": start.on_help,
    "cart": cart.on_cart_command,
    "orders": orders.on_orders_command,
    "deals": deals.on_deals,
    "saved": alerts.on_saved,
    "notifications": alerts.on_notifications,
    "cancel": FLOWS.on_cancel,
    "sell": seller.on_sell,
    "creator": creator.on_creator,
    "earnings": earnings.on_earnings,
    "mycode": creator.on_my_code,
    "privacy": privacy.on_privacy,
    "mydata": privacy.on_mydata,
    "forget": privacy.on_forget,
    "language": language.on_language,
    "creator_sales": earnings.on_creator_sales,
    "seller_orders": seller.on_seller_orders,
    "returns": returns.on_returns,
    "replay_webhooks": seller.on_replay_webhooks,
    "seller_settings": seller.on_settings,
    "webhook": seller.on_webhook,
    "api_key": seller.on_api_key,
    "buyer_phone": seller.on_buyer_phone,
    "add_product": seller_catalog.on_add_product,
    "my_products": seller_catalog.on_my_products,
    "coupons": coupons.on_coupons,
    # /skip answers an optional step of adding a product: it is a message to that flow.
    "skip": FLOWS.on_message,
}

# Commands that answer the step the person is at (the others leave a step that a command ends).
STEP_COMMANDS = frozenset({"cancel", "skip"})

# The shop is served in private chats only (carts, addresses and orders are personal),
# and only new messages count: editing an old message is not an answer to today's step.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


async def on_group_message(update: Update, context: ShopContext) -> None:
    """A command in a group: the shop works in a private chat."""
    link = f"https://t.me/{context.bot.username}"
    # Translators: {link} is the bot's address (https://t.me/...).
    text = _("I work in a private chat, so your cart and orders stay yours: {link}").format(link=link)
    await update.effective_message.reply_text(text)


def traced(callback: Callable) -> Callable:
    """Wrap a handler callback so the update's trace names it (for the log line and metrics)."""
    name = f"{callback.__module__.rsplit('.', 1)[-1]}.{callback.__name__}"

    @functools.wraps(callback)
    async def run(update: object, context: ShopContext) -> None:
        current = trace()
        current.handler, current.outcome = name, "ok"
        await callback(update, context)

    return run


def register_handlers(application: Application) -> None:
    """Register every handler: commands, payments, buttons, then typed text and everything else."""
    # A deep link (/start <payload>) first, then the bare /start among the other commands.
    application.add_handler(CommandHandler("start", FLOWS.leaving(creator.on_deep_link),
                                           filters=PRIVATE & filters.Regex(r"^/start\s+\S")))
    for name, callback in COMMANDS.items():
        # Every command but those that answer a step leaves a step that a command ends.
        if name not in STEP_COMMANDS:
            callback = FLOWS.leaving(callback)
        application.add_handler(CommandHandler(name, callback, filters=PRIVATE))
    application.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.GROUPS & filters.UpdateType.MESSAGE,
                                           on_group_message))
    application.add_handler(InlineQueryHandler(inline.on_inline_query))
    application.add_handler(PreCheckoutQueryHandler(payments.on_pre_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, payments.on_successful_payment))
    application.add_handler(CallbackQueryHandler(on_noop, pattern=cb.Noop.matches))
    for kind, callback in {**BUTTONS, **FLOWS.buttons()}.items():
        application.add_handler(CallbackQueryHandler(callback, pattern=kind.matches))
    application.add_handler(CallbackQueryHandler(on_unknown_button))
    # Every other private message (text, a contact, a photo, an unknown command) goes by the sender's step;
    # but a product card someone shares from inline mode into this very chat (via this bot) asks nothing.
    own_cards = filters.ViaBot(bot_id=int(application.bot.token.split(":", 1)[0]))
    application.add_handler(MessageHandler(PRIVATE & ~own_cards, FLOWS.on_message))
    for group in application.handlers.values():
        for handler in group:
            handler.callback = traced(handler.callback)
    application.add_error_handler(on_error)


def build_application(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    search_refresh_interval: float = 1.0,
    request: BaseRequest | None = None,
) -> ShopApplication:
    """Build the bot's Application for ``settings``; the store must already be migrated.

    Updates reach it through the inbox (:class:`bot.runtime.BotRuntime`), not PTB's updater.
    ``request`` replaces the HTTP client of Bot API calls (tests answer them in memory).
    """
    builder = (
        ApplicationBuilder()
        .application_class(ShopApplication)
        .token(settings.bot_token)
        .request(request or AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .updater(None)
        .context_types(ContextTypes(context=ShopContext))
    )
    if settings.api_urls:
        base_url, base_file_url = settings.api_urls
        builder = builder.base_url(base_url).base_file_url(base_file_url)
    application = builder.build()
    shop = Shop(
        db=Database(settings.database_url),
        search=CatalogSearch(refresh_interval=search_refresh_interval, clock=clock),
        options=shop_options(settings),
        clock=clock,
    )
    attach(application, shop)
    register_handlers(application)
    return application
