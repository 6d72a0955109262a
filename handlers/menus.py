"""The command menus Telegram shows: everyone's, a seller's chat, an operator's chat, in each language."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from handlers import i18n
from handlers.i18n import N_, _

logger = logging.getLogger(__name__)

SHOPPER_COMMANDS = [
    ("start", N_("Menu")),
    ("cart", N_("Your cart")),
    ("orders", N_("Your orders")),
    ("cancel", N_("Leave what you are doing")),
    ("deals", N_("Flash deals, live and coming")),
    ("saved", N_("Products you saved")),
    ("notifications", N_("Alerts: turn each kind on or off")),
    ("sell", N_("Open a shop on chatshop")),
    ("creator", N_("Share products and earn commission")),
    ("earnings", N_("Your clicks, sales and commission")),
    ("privacy", N_("What we keep about you, and who sees it")),
    ("language", N_("The language I speak")),
    ("help", N_("How to shop here")),
]

SELLER_COMMANDS = [
    *SHOPPER_COMMANDS[:4],
    ("seller_orders", N_("Orders to fulfil")),
    ("returns", N_("Returns to approve or refund")),
    ("add_product", N_("Add a product")),
    ("my_products", N_("Edit prices, stock, pause or remove")),
    ("coupons", N_("Discount codes: create, pause, resume")),
    ("seller_settings", N_("Webhook and API key")),
    ("creator_sales", N_("Sales that came through creators")),
    ("language", N_("The language I speak")),
    ("help", N_("How to shop and sell here")),
]

OPERATOR_COMMANDS = [
    *SELLER_COMMANDS[:-1],
    ("replay_webhooks", N_("Send a shop's given-up order webhooks again")),
    ("help", N_("How to shop, sell and operate here")),
]

# Telegram's language codes for the menus of everyone's chats (ISO 639-1: Brazilian Portuguese is "pt").
MENU_LANGUAGE_CODES = {"es": "es", "id": "id", "pt_BR": "pt", "ru": "ru"}


def commands(menu: list[tuple[str, str]]) -> list[BotCommand]:
    """A menu in the current language."""
    return [BotCommand(name, _(description)) for name, description in menu]


async def show_menus(bot: Bot) -> None:
    """Everyone's menu, in English and in each language by the Telegram app's language (a convenience: a
    refusal is logged, never fatal)."""
    for language, code in {i18n.SOURCE: None, **MENU_LANGUAGE_CODES}.items():
        with i18n.speaking(language):
            try:
                await bot.set_my_commands(commands(SHOPPER_COMMANDS), language_code=code)
            except TelegramError as exc:
                logger.warning("could not set the %s command menu: %s", language, exc)


async def show_menu(bot: Bot, chat_id: int, *, operator: bool = False, seller: bool = False,
                    chosen: bool = True) -> bool:
    """The menu of one person's chat (an operator's, a seller's, else everyone's) in the current language;
    a shopper who chose no language gets everyone's menu in their app's language back. False when Telegram
    refused it (an operator who never opened the bot has no chat yet)."""
    menu = OPERATOR_COMMANDS if operator else SELLER_COMMANDS if seller else SHOPPER_COMMANDS
    try:
        if menu is SHOPPER_COMMANDS and not chosen:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
        else:
            await bot.set_my_commands(commands(menu), scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        logger.warning("could not show the command menu in chat %s: %s", chat_id, exc)
        return False
    return True
