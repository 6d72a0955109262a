"""What the shop calls each state, and what it says when a rule refuses something.

One label map per state enum of the store (:mod:`store.states`), and one
sentence per error code (:class:`store.errors.ErrorCode`), written with named
placeholders so that a translation is a whole sentence. Plain text: the chat
escapes it for HTML where it shows it. Nothing here imports Telegram, so the
HTTP API and the catalog import's report speak from here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from store.errors import ErrorCode, ShopError
from store.services.checkout import Adjustment, CartAdjustment
from store.services.orders import OPEN_FILTER
from store.states import (
    Approval,
    CartAction,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    ProductStatus,
    RefundStatus,
    SellerAction,
)

ORDER_STATUS = {
    OrderStatus.PENDING_PAYMENT: "awaiting payment",
    OrderStatus.PLACED: "placed (cash on delivery)",
    OrderStatus.PAID: "paid",
    OrderStatus.ACCEPTED: "accepted by the seller",
    OrderStatus.SHIPPED: "shipped",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.REFUNDED: "refunded",
    OrderStatus.EXPIRED: "expired (not paid in time)",
}
PAYMENT_METHOD = {
    PaymentMethod.CARD: "💳 Card",
    PaymentMethod.STARS: "⭐ Telegram Stars",
    PaymentMethod.COD: "💵 Cash on delivery",
}
PAYMENT_STATUS = {
    PaymentStatus.CAPTURED: "paid",
    PaymentStatus.REFUND_DUE: "to be refunded",
    PaymentStatus.REFUNDED: "refunded",
}
# "paid by card", in the seller's view of an order.
PAYMENT_PAID_BY = {PaymentMethod.CARD: "card", PaymentMethod.STARS: "telegram stars", PaymentMethod.COD: "cash"}
REFUND_STATUS = {RefundStatus.DUE: "refund due", RefundStatus.DONE: "refunded"}
APPROVAL = {Approval.PENDING: "pending", Approval.APPROVED: "approved", Approval.REJECTED: "rejected"}
PRODUCT_STATUS = {
    ProductStatus.ACTIVE: "on sale",
    ProductStatus.PAUSED: "⏸ paused (hidden from shoppers)",
    ProductStatus.REMOVED: "removed",
}
# The filters of the seller's order list in the chat, with their buttons (names: orders.filter_statuses).
SELLER_ORDER_FILTERS = {OPEN_FILTER: "Open", OrderStatus.PAID: "Paid", OrderStatus.PLACED: "COD",
                        OrderStatus.ACCEPTED: "Accepted", OrderStatus.SHIPPED: "Shipped"}
# The button for each thing a seller may do with an order.
SELLER_ACTION = {
    SellerAction.ACCEPT: "✅ Accept",
    SellerAction.SHIP: "🚚 Ship",
    SellerAction.DELIVER: "📬 Delivered",
    SellerAction.CANCEL: "✖ Cancel",
}
# The short texts a seller's catalog has, by field, for "... has at most N characters."
TEXT_FIELDS = {
    "label": "An option label has at most {max} characters.",
    "category": "A category name has at most {max} characters.",
    "brand": "A brand has at most {max} characters.",
    "product_key": "A product key has at most {max} characters.",
}
APPLICATIONS = {"seller": "seller", "creator": "creator"}


ADJUSTMENTS = {
    Adjustment.REMOVED: "{name} is no longer available and was removed.",
    Adjustment.LOWERED: "Only {stock} of {name} left: quantity lowered to {stock}.",
    Adjustment.PRICE_UP: "The price of {name} went up.",
    Adjustment.PRICE_DOWN: "The price of {name} went down.",
}


def cart_adjustment(change: CartAdjustment) -> str:
    """What reviewing the cart changed on one line (plain text)."""
    name = f"{change.title} ({change.label})" if change.label else change.title
    return ADJUSTMENTS[change.kind].format(name=name, stock=change.stock)


def added_to_cart(units: int) -> str:
    """The answer to Add to cart: how many units the cart holds now."""
    return f"✓ Added to your cart ({units} item{'s' if units != 1 else ''})."


def cart_change(done: CartAction, quantity: int) -> str:
    """The short note a cart button answers with."""
    return "Removed." if done == CartAction.REMOVE else f"Quantity: {quantity}."


def order_status(status: str) -> str:
    """An order status as a person reads it."""
    return ORDER_STATUS.get(status, status)  # type: ignore[call-overload]


def _out_of_stock(data: dict[str, Any]) -> str:
    items = "; ".join(f"{title}{f' ({label})' if label else ''}: {left} left" for title, label, left in data["lines"])
    return f"Sorry, not enough stock for {items}."


def _csv_header(data: dict[str, Any]) -> str:
    problems = []
    if data["unnamed"]:
        problems.append(f"column(s) {', '.join(map(str, data['unnamed']))} have no name")
    if data["twice"]:
        problems.append(f"column(s) given twice: {', '.join(data['twice'])}")
    if data["unknown"]:
        problems.append(f"unknown column(s): {', '.join(data['unknown'])} (allowed: {', '.join(data['allowed'])})")
    if data["missing"]:
        problems.append(f"missing required column(s): {', '.join(data['missing'])}")
    return "The CSV header is not valid: " + "; ".join(problems) + "."


def _transition_refused(data: dict[str, Any]) -> str:
    return f"Order #{data['order_id']} is {order_status(data['status'])}: it can't be {order_status(data['to'])} now."


ERRORS: dict[ErrorCode, str | Callable[[dict[str, Any]], str]] = {
    ErrorCode.BUTTON_EXPIRED: "This button has expired. Please open the menu again with /start.",
    ErrorCode.STEP_OVER: "This step of the checkout is over. Start again from the product or your /cart.",
    ErrorCode.ADD_PRODUCT_STEP_OVER: "This step is over. Send /add_product to start again.",
    ErrorCode.SELL_STEP_OVER: "This step is over. Send /sell to start again.",
    ErrorCode.ORDER_STEP_OVER: "This step is over. Open the order again from /seller_orders.",
    ErrorCode.EDIT_STEP_OVER: "This step is over. Open the product again from /my_products.",
    ErrorCode.SEARCH_RESULTS_CHANGED: "Those results have changed: please search again.",
    ErrorCode.CATEGORY_PAGE_GONE: "That page is gone: the category has fewer products now.",
    ErrorCode.ORDERS_PAGE_GONE: "That page is gone. Please open /orders again.",
    ErrorCode.PRODUCT_GONE: "This product is no longer available.",
    ErrorCode.OPTION_GONE: "That option is no longer offered.",
    ErrorCode.OPTION_SOLD_OUT: "Sorry, this option is sold out.",
    ErrorCode.QUANTITY_OUT_OF_RANGE: "You can add between 1 and {max} units at a time.",
    ErrorCode.STOCK_SHORT_WITH_CART: "Only {stock} in stock, and you have {in_cart} in your cart already.",
    ErrorCode.STOCK_SHORT: "Only {stock} in stock.",
    ErrorCode.QUANTITY_CAP: "At most {max} units of one item per order.",
    ErrorCode.CART_FULL: "Your cart is full ({max} items). Check out or remove something first.",
    ErrorCode.CART_LINE_GONE: "This cart line is no longer there.",
    ErrorCode.QUANTITY_MINIMUM: "That's the minimum: use ✕ to remove the item.",
    ErrorCode.CONTACT_EMPTY: "Please send your name and phone number.",
    ErrorCode.PHONE_UNREADABLE: "That doesn't look like a phone number. Please send it with the country code, "
                                "e.g. +1 202 555 0143.",
    ErrorCode.PHONE_INVALID: "That phone number isn't valid. Please check it and send it again, with the country "
                             "code.",
    ErrorCode.NAME_MISSING: "Please add your name before the phone number, e.g. Ann Lee +1 202 555 0143.",
    ErrorCode.NAME_TOO_LONG: "That name is too long: {max} characters at most.",
    ErrorCode.ADDRESS_TOO_SHORT: "That address looks too short. Please send street, number, city and postcode.",
    ErrorCode.ADDRESS_TOO_LONG: "That address is too long: {max} characters at most.",
    ErrorCode.NOT_YOUR_CONTACT: "Please share your own contact with the button, or type your name and phone number.",
    ErrorCode.CART_EMPTY: "Your cart is empty now, so there is nothing to check out.",
    ErrorCode.NOTHING_TO_ORDER: "Your cart is empty, so there is nothing to order.",
    ErrorCode.CART_ITEM_UNAVAILABLE: "Something in your cart is no longer available. Please review your cart.",
    ErrorCode.SHIPPING_NOT_OFFERED: "That shipping option is no longer offered. Please choose again.",
    ErrorCode.PAYMENT_NOT_OFFERED: "That payment option is not offered. Please choose another.",
    ErrorCode.STARS_LIMIT: lambda data: f"Telegram Stars can pay up to {data['max']:,} ⭐ at once: please choose "
                                        "another way to pay.",
    ErrorCode.PRICES_CHANGED: "Prices changed while you were checking out. Please review your order again.",
    ErrorCode.CONFIRMATION_OUTDATED: "That confirmation is out of date: use the newest one below.",
    ErrorCode.CART_CHANGED: "Your cart changed after you confirmed. Please check it with /cart and check out again.",
    ErrorCode.ITEM_CHANGED: "This item changed after you confirmed. Please open it and tap Buy now again.",
    ErrorCode.SAVED_DETAILS_GONE: "Your saved details are gone. Please type your name and phone number.",
    ErrorCode.OUT_OF_STOCK: _out_of_stock,
    ErrorCode.NOT_YOUR_ORDER: "That order isn't one of yours.",
    ErrorCode.NOT_AWAITING_PAYMENT: "This order is no longer awaiting payment.",
    ErrorCode.CANCEL_ONLY_UNPAID: "This order is no longer awaiting payment, so it can't be cancelled here.",
    ErrorCode.INVOICE_INVALID: "This invoice is not valid any more.",
    ErrorCode.INVOICE_EXPIRED: "This invoice has expired and the items were released. Please check out again.",
    ErrorCode.INVOICE_AMOUNT_CHANGED: "The amount of this invoice no longer matches your order. Please check out "
                                      "again.",
    ErrorCode.PAYMENT_UNMATCHED: "We couldn't match this payment to an order. Please contact support.",
    ErrorCode.ORDER_UNKNOWN: "Order #{order_id} does not exist.",
    ErrorCode.ONLY_THE_SELLER: "Only this order's seller can do that.",
    ErrorCode.ONLY_THE_SELLER_SEES: "Only this order's seller can see it.",
    ErrorCode.TRANSITION_REFUSED: _transition_refused,
    ErrorCode.CARRIER_INVALID: "Please name the carrier (2 to 64 characters), e.g. UPS.",
    ErrorCode.TRACKING_INVALID: "A tracking number has 3 to 64 letters, digits, spaces or dashes.",
    ErrorCode.TRACKING_MISSING: "Send the carrier and the tracking number, e.g. UPS 1Z999AA10123456784.",
    ErrorCode.REASON_LENGTH: "Please give a reason of {min} to {max} characters.",
    ErrorCode.TITLE_LENGTH: "A title needs {min} to {max} characters.",
    ErrorCode.DESCRIPTION_TOO_LONG: "A description has at most {max} characters.",
    ErrorCode.TEXT_TOO_LONG: lambda data: TEXT_FIELDS[data["field"]].format(**data),
    ErrorCode.STOCK_INVALID: "Stock is a whole number from 0 to {max}.",
    ErrorCode.PRICE_NOT_A_NUMBER: "That price isn't valid: not a number.",
    ErrorCode.PRICE_NOT_POSITIVE: "That price isn't valid: the price must be greater than zero.",
    ErrorCode.PRICE_DECIMALS: "That price isn't valid: {currency} has at most {digits} decimals.",
    ErrorCode.PRICE_TOO_HIGH: "That price is too high.",
    ErrorCode.PRICE_ZERO: "The price must be greater than zero.",
    ErrorCode.PRICE_MISSING: "A price is required.",
    ErrorCode.STOCK_MISSING: "Stock is required.",
    ErrorCode.SKU_INVALID: "A SKU has 1 to {max} letters, digits, dashes, dots or underscores.",
    ErrorCode.PHOTO_URL_INVALID: "A photo is an http(s) URL of at most {max} characters.",
    ErrorCode.COMMISSION_UNREADABLE: "Send the creator commission as a percentage, e.g. 12.5",
    ErrorCode.COMMISSION_OUT_OF_RANGE: "A commission is 0 to 50 %, with at most two decimals.",
    ErrorCode.VARIANT_FORMAT: "Send a variant as: option; price; stock — e.g. M / Black; 19.99; 10",
    ErrorCode.VARIANT_COUNT: "A product has 1 to {max} variants.",
    ErrorCode.VARIANT_LABELS_NEEDED: "With several variants, each needs its own option label (e.g. S, M, L).",
    ErrorCode.VARIANT_NEEDED: "Add at least one variant first (or /add_product to start again).",
    ErrorCode.PRODUCT_NOT_YOURS: "That product isn't one of your shop's.",
    ErrorCode.OPTION_NOT_IN_PRODUCT: "That option isn't part of this product any more.",
    ErrorCode.CATEGORY_GONE: "That category no longer exists.",
    ErrorCode.PRODUCT_STATE_UNKNOWN: "Unknown product state.",
    ErrorCode.CSV_EMPTY: lambda data: f"The file is empty: a header row is required ({', '.join(data['required'])}, "
                                      "...).",
    ErrorCode.CSV_HEADER_INVALID: _csv_header,
    ErrorCode.ROW_EXTRA_FIELDS: "the row has more fields than the header (an unquoted comma in a value?)",
    ErrorCode.ROW_UNKNOWN_COLUMNS: lambda data: f"unknown column(s): {', '.join(data['columns'])}.",
    ErrorCode.FIELD_UNREADABLE: lambda data: f"{data['value']!r} is not valid.",
    ErrorCode.FIELD_DIFFERS: lambda data: f"{data['column']} differs from line {data['first']} of the same product "
                                          f"({data['product']!r}).",
    ErrorCode.SKU_REPEATED: "{sku} is already on line {first} of this file.",
    ErrorCode.SKU_OF_REMOVED_PRODUCT: lambda data: f"{data['sku']} belongs to a removed product ({data['title']!r}).",
    ErrorCode.PRODUCT_VARIANTS_FULL: lambda data: f"{data['title']!r} already has {data['max']} variants, the most a "
                                                  "product can have.",
    ErrorCode.LABEL_NEEDED: lambda data: f"{data['title']!r} has several variants, so each needs its own option "
                                         "label (e.g. S, M, L).",
    ErrorCode.SIBLING_UNLABELLED: lambda data: f"{data['title']!r} already has a variant without an option label "
                                               f"({data['sku']}).",
    ErrorCode.LABEL_TAKEN: lambda data: f"{data['label']!r} is already the option of {data['sku']} in "
                                        f"{data['title']!r}.",
    ErrorCode.SHOP_NAME_LENGTH: "A shop name needs {min} to {max} characters, with letters.",
    ErrorCode.ALREADY_A_SELLER: lambda data: f"You already have a shop ({data['name']}, "
                                             f"{APPROVAL.get(data['status'], data['status'])}).",
    ErrorCode.NOT_A_SELLER: "This is for sellers. To open a shop, send /sell.",
    ErrorCode.SHOP_UNKNOWN: "That shop does not exist.",
    ErrorCode.SELLER_ID_UNKNOWN: "There is no seller with id {seller_id}.",
    ErrorCode.SELLER_NOT_APPROVED: lambda data: f"Seller {data['seller_id']} ({data['name']}) is "
                                                f"{APPROVAL.get(data['status'], data['status'])}: only an approved "
                                                "seller can import a catalog.",
    ErrorCode.WEBHOOK_PRIVATE_ADDRESS: ("That webhook points at {host}, inside a private network. Order events carry "
                                        "buyers' addresses, so they go to public addresses only; if your receiver "
                                        "is on a network you trust, ask an operator to allow it."),
    ErrorCode.WEBHOOK_URL_INVALID: "That isn't a valid webhook URL: use https://your.host/path (at most 512 "
                                   "characters).",
    ErrorCode.ONLY_OPERATORS: "That command is for the shop's operators.",
    ErrorCode.ONLY_OPERATORS_DECIDE: lambda data: f"Only an operator can decide on {APPLICATIONS[data['what']]} "
                                                  "applications.",
    ErrorCode.APPLICATION_GONE: "That application does not exist.",
    ErrorCode.APPLICATION_DECIDED: lambda data: f"That application was already "
                                                f"{APPROVAL.get(data['status'], data['status'])}.",
    ErrorCode.SHARE_LINKS_FOR_CREATORS: "Share links are for approved creators. Send /creator to apply.",
    ErrorCode.SHOWCASE_FOR_CREATORS: "Only approved creators have a showcase. Send /creator to apply.",
    ErrorCode.CREATOR_UNKNOWN: "This creator does not exist.",
    ErrorCode.SHOWCASE_GONE: "That showcase is no longer available.",
    ErrorCode.SHOWCASE_FULL: "A showcase holds at most {max} products.",
    ErrorCode.PAYOUT_CHANGED: "Some commissions changed while being paid; nothing was paid. Please run it again.",
}


def refusal(code: ErrorCode, data: dict[str, Any]) -> str:
    """The sentence for a refusal (plain text)."""
    template = ERRORS[code]
    return template(data) if callable(template) else template.format(**data)


def error_text(error: ShopError) -> str:
    """The sentence for a store error (plain text)."""
    return refusal(error.code, error.data)


def rejected_row(problems: Iterable[tuple[str | None, ErrorCode, dict[str, Any]]]) -> str:
    """Why a catalog row was refused: each problem, after the column at fault."""
    return " ".join(f"{column}: {refusal(code, data)}" if column else refusal(code, data)
                    for column, code, data in problems)
