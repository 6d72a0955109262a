"""The command menus Telegram shows: everyone's, a seller's chat, an operator's chat."""

from __future__ import annotations

from telegram import BotCommand

SHOPPER_COMMANDS = [
    BotCommand("start", "Menu"),
    BotCommand("cart", "Your cart"),
    BotCommand("orders", "Your orders"),
    BotCommand("cancel", "Leave what you are doing"),
    BotCommand("sell", "Open a shop on chatshop"),
    BotCommand("creator", "Share products and earn commission"),
    BotCommand("earnings", "Your clicks, sales and commission"),
    BotCommand("privacy", "What we keep about you, and who sees it"),
    BotCommand("help", "How to shop here"),
]

SELLER_COMMANDS = [
    *SHOPPER_COMMANDS[:4],
    BotCommand("seller_orders", "Orders to fulfil"),
    BotCommand("add_product", "Add a product"),
    BotCommand("my_products", "Edit prices, stock, pause or remove"),
    BotCommand("seller_settings", "Webhook and API key"),
    BotCommand("creator_sales", "Sales that came through creators"),
    BotCommand("help", "How to shop and sell here"),
]

OPERATOR_COMMANDS = [
    *SELLER_COMMANDS[:-1],
    BotCommand("replay_webhooks", "Send a shop's given-up order webhooks again"),
    BotCommand("help", "How to shop, sell and operate here"),
]
