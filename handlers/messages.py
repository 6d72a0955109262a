"""What the shop calls each state, and what it says when a rule refuses something.

One label map per state enum of the store (:mod:`store.states`), and one
sentence per error code (:class:`store.errors.ErrorCode`), written with named
placeholders so that a translation is a whole sentence. Plain text: the chat
escapes it for HTML where it shows it. Nothing here imports Telegram, so the
HTTP API and the catalog import's report speak from here too.

Every text is marked for translation (:mod:`handlers.i18n`): the labels are
:class:`~handlers.i18n.Labels` (a lookup gives the current language), the fixed
sentences are marked with ``N_`` and translated when rendered, and the
sentences with a count are built with ``ngettext`` when rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_decimal

from handlers.i18n import N_, Labels, _, current, ngettext
from store.errors import ErrorCode, ShopError
from store.money import format_money, locale_for
from store.services.checkout import Adjustment, CartAdjustment
from store.services.orders import OPEN_FILTER
from store.states import (
    AlertKind,
    Approval,
    CartAction,
    CheckoutStatus,
    Delivery,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    ProductKind,
    ProductStatus,
    RefundStatus,
    ReturnAction,
    ReturnReason,
    ReturnStatus,
    SellerAction,
)

ORDER_STATUS = Labels({
    # Translators: an order's status (also the {to} of "it can't be {to} now").
    OrderStatus.PENDING_PAYMENT: N_("awaiting payment"),
    # Translators: an order's status (also the {to} of "it can't be {to} now").
    OrderStatus.PLACED: N_("placed (cash on delivery)"),
    # Translators: an order's status (also the {to} of "it can't be {to} now").
    OrderStatus.PAID: N_("paid"),
    # Translators: an order's status (also the {to} of "it can't be {to} now").
    OrderStatus.ACCEPTED: N_("accepted by the seller"),
    # Translators: an order's status (also the {to} of "it can't be {to} now").
    OrderStatus.SHIPPED: N_("shipped"),
    # Translators: an order's status (also the {to} of "it can't be {to} now").
    OrderStatus.DELIVERED: N_("delivered"),
    # Translators: an order's status (also the {to} of "it can't be {to} now").
    OrderStatus.CANCELLED: N_("cancelled"),
    # Translators: an order's status (also the {to} of "it can't be {to} now").
    OrderStatus.REFUNDED: N_("refunded"),
    # Translators: an order's status (also the {to} of "it can't be {to} now").
    OrderStatus.EXPIRED: N_("expired (not paid in time)"),
})
PAYMENT_METHOD = Labels({
    # Translators: a way to pay, also a button: keep it short.
    PaymentMethod.CARD: N_("💳 Card"),
    # Translators: a way to pay, also a button: keep it short.
    PaymentMethod.STARS: N_("⭐ Telegram Stars"),
    # Translators: a way to pay, also a button: keep it short.
    PaymentMethod.COD: N_("💵 Cash on delivery"),
})
PAYMENT_STATUS = Labels({
    # Translators: a payment's status.
    PaymentStatus.CAPTURED: N_("paid"),
    # Translators: a payment's status.
    PaymentStatus.REFUND_DUE: N_("to be refunded"),
    # Translators: a payment's status.
    PaymentStatus.REFUNDED: N_("refunded"),
})
# How an order was paid, in the seller's view of it.
PAID_BY = Labels({
    PaymentMethod.CARD: N_("paid by card"),
    PaymentMethod.STARS: N_("paid by telegram stars"),
    PaymentMethod.COD: N_("paid in cash"),
})
# Where a checkout stood when a payment came that could not be applied ("... which came after the checkout was
# expired").
CHECKOUT_WAS = Labels({
    CheckoutStatus.PENDING_PAYMENT: N_("the checkout was pending payment"),
    CheckoutStatus.PLACED: N_("the checkout was placed"),
    CheckoutStatus.PAID: N_("the checkout was paid"),
    CheckoutStatus.EXPIRED: N_("the checkout was expired"),
    CheckoutStatus.CANCELLED: N_("the checkout was cancelled"),
})
REFUND_STATUS = Labels({RefundStatus.DUE: N_("refund due"), RefundStatus.DONE: N_("refunded")})
APPROVAL = Labels({
    # Translators: the state of a seller's or a creator's application.
    Approval.PENDING: N_("pending"),
    # Translators: the state of a seller's or a creator's application.
    Approval.APPROVED: N_("approved"),
    # Translators: the state of a seller's or a creator's application.
    Approval.REJECTED: N_("rejected"),
})
PRODUCT_STATUS = Labels({
    ProductStatus.ACTIVE: N_("on sale"),
    ProductStatus.PAUSED: N_("⏸ paused (hidden from shoppers)"),
    ProductStatus.REMOVED: N_("removed"),
})
# The kinds of message a shopper turns on or off with /notifications (on its buttons, after ✅ or 🔕).
ALERT_KIND = Labels({
    # Translators: a button of /notifications: messages asking to rate what was bought. Keep it short.
    AlertKind.REVIEW_REQUESTS: N_("Review requests"),
    # Translators: a button of /notifications: messages saying a sold-out option is in stock again. Keep it short.
    AlertKind.BACK_IN_STOCK: N_("Back in stock"),
    # Translators: a button of /notifications: messages saying saved products got cheaper. Keep it short.
    AlertKind.PRICE_DROPS: N_("Price drops"),
})
# The filters of the seller's order list in the chat, with their buttons (names: orders.filter_statuses).
SELLER_ORDER_FILTERS = Labels({
    # Translators: a button filtering a seller's orders, keep it short.
    OPEN_FILTER: N_("Open"),
    # Translators: a button filtering a seller's orders, keep it short.
    OrderStatus.PAID: N_("Paid"),
    # Translators: a button filtering a seller's orders (cash on delivery), keep it short.
    OrderStatus.PLACED: N_("COD"),
    # Translators: a button filtering a seller's orders, keep it short.
    OrderStatus.ACCEPTED: N_("Accepted"),
    # Translators: a button filtering a seller's orders, keep it short.
    OrderStatus.SHIPPED: N_("Shipped"),
})
# The button for each thing a seller may do with an order.
SELLER_ACTION = Labels({
    # Translators: a button, keep it short.
    SellerAction.ACCEPT: N_("✅ Accept"),
    # Translators: a button, keep it short.
    SellerAction.SHIP: N_("🚚 Ship"),
    # Translators: a button (the order was delivered), keep it short.
    SellerAction.DELIVER: N_("📬 Delivered"),
    # Translators: a button (cancel the order), keep it short.
    SellerAction.CANCEL: N_("✖ Cancel"),
})
RETURN_STATUS = Labels({
    # Translators: a return's state.
    ReturnStatus.REQUESTED: N_("waiting for the seller's answer"),
    # Translators: a return's state (buyers and sellers read it): approved, the goods are to travel back.
    ReturnStatus.APPROVED: N_("approved, goods to come back"),
    # Translators: a return's state.
    ReturnStatus.REJECTED: N_("rejected by the seller"),
    # Translators: a return's state: it is over, the buyer is refunded (or owed the money).
    ReturnStatus.REFUNDED: N_("closed with a refund"),
})
RETURN_REASON = Labels({
    # Translators: a reason to return goods, also a button: keep it short.
    ReturnReason.DAMAGED: N_("Damaged or faulty"),
    # Translators: a reason to return goods, also a button: keep it short.
    ReturnReason.WRONG_ITEM: N_("Wrong item sent"),
    # Translators: a reason to return goods, also a button: keep it short.
    ReturnReason.NOT_AS_DESCRIBED: N_("Not as described"),
    # Translators: a reason to return goods (clothes, shoes), also a button: keep it short.
    ReturnReason.DOES_NOT_FIT: N_("Doesn't fit"),
    # Translators: a reason to return goods, also a button: keep it short.
    ReturnReason.CHANGED_MIND: N_("Changed my mind"),
    # Translators: a reason to return goods, also a button: keep it short.
    ReturnReason.OTHER: N_("Something else"),
})
RETURN_ACTION = Labels({
    # Translators: a button (the seller accepts a return), keep it short.
    ReturnAction.APPROVE: N_("✅ Approve"),
    # Translators: a button (the seller refuses a return), keep it short.
    ReturnAction.REJECT: N_("✖ Reject"),
    # Translators: a button (the returned goods arrived: refund the buyer), keep it short.
    ReturnAction.RECEIVED: N_("📦 Received: refund"),
    # Translators: a button (refund the buyer, who keeps the goods), keep it short.
    ReturnAction.REFUND: N_("💸 Refund, no return"),
})
# The short texts a seller's catalog has, by field, for "... has at most N characters."
TEXT_FIELDS: dict[str, Callable[[int], str]] = {
    "label": lambda n: ngettext("An option label has at most {max} character.",
                                "An option label has at most {max} characters.", n),
    "category": lambda n: ngettext("A category name has at most {max} character.",
                                   "A category name has at most {max} characters.", n),
    "brand": lambda n: ngettext("A brand has at most {max} character.", "A brand has at most {max} characters.", n),
    "product_key": lambda n: ngettext("A product key has at most {max} character.",
                                      "A product key has at most {max} characters.", n),
}


ADJUSTMENTS = Labels({
    # Translators: {name} is a product's title (with its option).
    Adjustment.REMOVED: N_("{name} is no longer available and was removed."),
    # Translators: {name} is a product's title (with its option).
    Adjustment.PRICE_UP: N_("The price of {name} went up."),
    # Translators: {name} is a product's title (with its option).
    Adjustment.PRICE_DOWN: N_("The price of {name} went down."),
})


def cart_adjustment(change: CartAdjustment) -> str:
    """What reviewing the cart changed on one line (plain text)."""
    name = f"{change.title} ({change.label})" if change.label else change.title
    if change.kind == Adjustment.LOWERED:
        # Translators: {stock} is a number of units, {name} a product's title (with its option).
        return ngettext("Only {stock} of {name} left: quantity lowered to {stock}.",
                        "Only {stock} of {name} left: quantity lowered to {stock}.", change.stock
                        ).format(name=name, stock=change.stock)
    return ADJUSTMENTS[change.kind].format(name=name)


def added_to_cart(units: int) -> str:
    """The answer to Add to cart: how many units the cart holds now."""
    return ngettext("✓ Added to your cart ({units} item).", "✓ Added to your cart ({units} items).",
                    units).format(units=units)


def cart_change(done: CartAction, quantity: int) -> str:
    """The short note a cart button answers with."""
    if done == CartAction.REMOVE:
        # Translators: a cart line was removed.
        return _("Removed.")
    return _("Quantity: {quantity}.").format(quantity=quantity)


def order_status(status: str) -> str:
    """An order status as a person reads it."""
    return ORDER_STATUS.get(status, status)  # type: ignore[call-overload]


def _number(value: int) -> str:
    """A whole number written as the current language writes it (10,000)."""
    return format_decimal(value, locale=locale_for(current()))


def _out_of_stock(data: dict[str, Any]) -> str:
    items = []
    for title, label, left in data["lines"]:
        name = f"{title} ({label})" if label else title
        # Translators: {name} is a product's title (with its option), {count} how many units are left.
        items.append(ngettext("{name}: {count} left", "{name}: {count} left", left).format(name=name, count=left))
    # Translators: {items} is a list of "{name}: {count} left", joined by "; ".
    return _("Sorry, not enough stock for {items}.").format(items="; ".join(items))


def _money(data: dict[str, Any], key: str) -> str:
    return format_money(data[key], data["currency"], current())


def moment_utc(value: datetime) -> str:
    """A moment in UTC, written the reader's way ("30 Nov 2026, 12:00 UTC")."""
    return format_datetime(value, "d MMM yyyy, HH:mm 'UTC'", tzinfo=UTC, locale=locale_for(current()))


def _min_spend(data: dict[str, Any]) -> str:
    # Translators: {min_spend} and {missing} are amounts of money.
    return _("{code} needs at least {min_spend} of the goods it applies to: add {missing} more.").format(
        code=data["code"], min_spend=_money(data, "min_spend"), missing=_money(data, "missing"))


def _deal_not_lower(data: dict[str, Any]) -> str:
    # Translators: {lowest} is an amount of money: the lowest price of the option in the 30 days before the deal.
    return _("A flash deal must be below the lowest price of the 30 days before it starts, {lowest}: choose a "
             "lower deal price.").format(lowest=_money(data, "lowest"))


def _csv_header(data: dict[str, Any]) -> str:
    problems = []
    if data["unnamed"]:
        # Translators: part of "The CSV header is not valid: {problems}."; {columns} are column numbers.
        problems.append(ngettext("column(s) {columns} have no name", "column(s) {columns} have no name",
                                 len(data["unnamed"])).format(columns=", ".join(map(str, data["unnamed"]))))
    if data["twice"]:
        # Translators: part of "The CSV header is not valid: {problems}."; {columns} are column names.
        problems.append(ngettext("column(s) given twice: {columns}", "column(s) given twice: {columns}",
                                 len(data["twice"])).format(columns=", ".join(data["twice"])))
    if data["unknown"]:
        # Translators: part of "The CSV header is not valid: {problems}."; {columns} and {allowed} are column names.
        problems.append(ngettext("unknown column(s): {columns} (allowed: {allowed})",
                                 "unknown column(s): {columns} (allowed: {allowed})", len(data["unknown"])
                                 ).format(columns=", ".join(data["unknown"]), allowed=", ".join(data["allowed"])))
    if data["missing"]:
        # Translators: part of "The CSV header is not valid: {problems}."; {columns} are column names.
        problems.append(ngettext("missing required column(s): {columns}", "missing required column(s): {columns}",
                                 len(data["missing"])).format(columns=", ".join(data["missing"])))
    # Translators: {problems} is a list of what is wrong, joined by "; ".
    return _("The CSV header is not valid: {problems}.").format(problems="; ".join(problems))


def _transition_refused(data: dict[str, Any]) -> str:
    # Translators: {status} and {to} are an order's statuses ("shipped", "accepted by the seller").
    return _("Order #{order_id} is {status}: it can't be {to} now.").format(
        order_id=data["order_id"], status=order_status(data["status"]), to=order_status(data["to"]))


def _return_window_over(data: dict[str, Any]) -> str:
    # Translators: {date} is the date and time (UTC) the order's return window ended.
    return _("This order's return window ended {date}.").format(date=format_datetime(
        data["until"], "short", tzinfo=data["until"].tzinfo, locale=locale_for(current())) + " UTC")


def _return_action_refused(data: dict[str, Any]) -> str:
    # Translators: {number} is a return's number, {status} its state ("closed with a refund").
    return _("Return #{number} ({status}): that can't be done any more.").format(
        number=data["return_id"], status=RETURN_STATUS[data["status"]])


def _already_a_seller(data: dict[str, Any]) -> str:
    # Translators: {name} is the shop's name, {status} its application's state ("pending", "approved").
    return _("You already have a shop ({name}, {status}).").format(
        name=data["name"], status=APPROVAL.get(data["status"], data["status"]))


def _seller_not_approved(data: dict[str, Any]) -> str:
    if data["status"] == Approval.PENDING:
        text = _("Seller {seller_id} ({name}) is pending: only an approved seller can import a catalog.")
    elif data["status"] == Approval.REJECTED:
        text = _("Seller {seller_id} ({name}) is rejected: only an approved seller can import a catalog.")
    else:
        # Translators: {status} is the state of the seller's application ("pending", "rejected").
        text = _("Seller {seller_id} ({name}) is {status}: only an approved seller can import a catalog.")
    return text.format(seller_id=data["seller_id"], name=data["name"],
                       status=APPROVAL.get(data["status"], data["status"]))


def _only_operators_decide(data: dict[str, Any]) -> str:
    if data["what"] == "creator":
        return _("Only an operator can decide on creator applications.")
    return _("Only an operator can decide on seller applications.")


def _application_decided(data: dict[str, Any]) -> str:
    if data["status"] == Approval.APPROVED:
        return _("That application was already approved.")
    if data["status"] == Approval.REJECTED:
        return _("That application was already rejected.")
    # Translators: {status} is the state of an application ("pending").
    return _("That application was already {status}.").format(status=APPROVAL.get(data["status"], data["status"]))


def _kind_change(data: dict[str, Any]) -> str:
    if data["kind"] == ProductKind.DIGITAL:
        # Translators: {title} is a product's title in quotes; "product key" is the catalog file's product column.
        text = _("{title} is a digital product and can't become physical: import the physical one as a new "
                 "product (new SKUs, and another title or product key)")
    else:
        # Translators: {title} is a product's title in quotes; "product key" is the catalog file's product column.
        text = _("{title} is a physical product and can't become digital: import the digital one as a new "
                 "product (new SKUs, and another title or product key)")
    return text.format(title=repr(data["title"]))


def _content_missing(data: dict[str, Any]) -> str:
    if data["delivery"] == Delivery.FILE:
        return _("a file delivery needs the file's https:// address")
    return _("a text delivery needs the link or text the buyer gets")


ERRORS: dict[ErrorCode, str | Callable[[dict[str, Any]], str]] = {
    ErrorCode.BUTTON_EXPIRED: N_("This button has expired. Please open the menu again with /start."),
    ErrorCode.STEP_OVER: N_("This step of the checkout is over. Start again from the product or your /cart."),
    ErrorCode.ADD_PRODUCT_STEP_OVER: N_("This step is over. Send /add_product to start again."),
    ErrorCode.SELL_STEP_OVER: N_("This step is over. Send /sell to start again."),
    ErrorCode.ORDER_STEP_OVER: N_("This step is over. Open the order again from /seller_orders."),
    ErrorCode.EDIT_STEP_OVER: N_("This step is over. Open the product again from /my_products."),
    ErrorCode.SEARCH_RESULTS_CHANGED: N_("Those results have changed: please search again."),
    ErrorCode.CATEGORY_PAGE_GONE: N_("That page is gone: the category has fewer products now."),
    ErrorCode.ORDERS_PAGE_GONE: N_("That page is gone. Please open /orders again."),
    ErrorCode.PRODUCT_GONE: N_("This product is no longer available."),
    ErrorCode.OPTION_GONE: N_("That option is no longer offered."),
    ErrorCode.OPTION_SOLD_OUT: N_("Sorry, this option is sold out."),
    ErrorCode.QUANTITY_OUT_OF_RANGE: lambda data: ngettext(
        "You can add between 1 and {max} unit at a time.", "You can add between 1 and {max} units at a time.",
        data["max"]).format(**data),
    # Translators: {stock} and {in_cart} are numbers of units; the form follows {stock}.
    ErrorCode.STOCK_SHORT_WITH_CART: lambda data: ngettext(
        "Only {stock} in stock, and you have {in_cart} in your cart already.",
        "Only {stock} in stock, and you have {in_cart} in your cart already.", data["stock"]).format(**data),
    # Translators: {stock} is a number of units.
    ErrorCode.STOCK_SHORT: lambda data: ngettext("Only {stock} in stock.", "Only {stock} in stock.",
                                                 data["stock"]).format(**data),
    ErrorCode.QUANTITY_CAP: lambda data: ngettext("At most {max} unit of one item per order.",
                                                  "At most {max} units of one item per order.",
                                                  data["max"]).format(**data),
    ErrorCode.CART_FULL: lambda data: ngettext(
        "Your cart is full ({max} item). Check out or remove something first.",
        "Your cart is full ({max} items). Check out or remove something first.", data["max"]).format(**data),
    ErrorCode.CART_LINE_GONE: N_("This cart line is no longer there."),
    ErrorCode.QUANTITY_MINIMUM: N_("That's the minimum: use ✕ to remove the item."),
    ErrorCode.CONTACT_EMPTY: N_("Please send your name and phone number."),
    # Translators: keep the example phone number as it is.
    ErrorCode.PHONE_UNREADABLE: N_("That doesn't look like a phone number. Please send it with the country code, "
                                   "e.g. +1 202 555 0143."),
    ErrorCode.PHONE_INVALID: N_("That phone number isn't valid. Please check it and send it again, with the country "
                                "code."),
    # Translators: the example is a name followed by a phone number; a local name may replace Ann Lee.
    ErrorCode.NAME_MISSING: N_("Please add your name before the phone number, e.g. Ann Lee +1 202 555 0143."),
    ErrorCode.NAME_TOO_LONG: lambda data: ngettext("That name is too long: {max} character at most.",
                                                   "That name is too long: {max} characters at most.",
                                                   data["max"]).format(**data),
    ErrorCode.ADDRESS_TOO_SHORT: N_("That address looks too short. Please send street, number, city and postcode."),
    ErrorCode.ADDRESS_TOO_LONG: lambda data: ngettext("That address is too long: {max} character at most.",
                                                      "That address is too long: {max} characters at most.",
                                                      data["max"]).format(**data),
    ErrorCode.NOT_YOUR_CONTACT: N_("Please share your own contact with the button, or type your name and phone "
                                   "number."),
    ErrorCode.CART_EMPTY: N_("Your cart is empty now, so there is nothing to check out."),
    ErrorCode.NOTHING_TO_ORDER: N_("Your cart is empty, so there is nothing to order."),
    ErrorCode.CART_ITEM_UNAVAILABLE: N_("Something in your cart is no longer available. Please review your cart."),
    ErrorCode.SHIPPING_NOT_OFFERED: N_("That shipping option is no longer offered. Please choose again."),
    ErrorCode.PAYMENT_NOT_OFFERED: N_("That payment option is not offered. Please choose another."),
    # Translators: {max} is a number of Telegram Stars (⭐).
    ErrorCode.STARS_LIMIT: lambda data: ngettext(
        "Digital goods are paid in Telegram Stars, up to {max} ⭐ at once: please order fewer of them.",
        "Digital goods are paid in Telegram Stars, up to {max} ⭐ at once: please order fewer of them.",
        data["max"]).format(max=_number(data["max"])),
    ErrorCode.DIGITAL_NOT_SOLD: N_("Sorry, digital goods can't be bought in this shop at the moment."),
    ErrorCode.PHYSICAL_NOT_SOLD: N_("Sorry, goods that are shipped can't be paid for in this shop for now."),
    ErrorCode.PRICES_CHANGED: N_("Prices changed while you were checking out. Please review your order again."),
    ErrorCode.CONFIRMATION_OUTDATED: N_("That confirmation is out of date: use the newest one below."),
    ErrorCode.CART_CHANGED: N_("Your cart changed after you confirmed. Please check it with /cart and check out "
                               "again."),
    # Translators: "Buy now" names the ⚡ Buy now key on a product: use the same words as there.
    ErrorCode.ITEM_CHANGED: N_("This item changed after you confirmed. Please open it and tap Buy now again."),
    ErrorCode.SAVED_DETAILS_GONE: N_("Your saved details are gone. Please type your name and phone number."),
    ErrorCode.OUT_OF_STOCK: _out_of_stock,
    ErrorCode.NOT_YOUR_ORDER: N_("That order isn't one of yours."),
    ErrorCode.NOT_AWAITING_PAYMENT: N_("This order is no longer awaiting payment."),
    ErrorCode.CANCEL_ONLY_UNPAID: N_("This order is no longer awaiting payment, so it can't be cancelled here."),
    ErrorCode.INVOICE_INVALID: N_("This invoice is not valid any more."),
    ErrorCode.INVOICE_EXPIRED: N_("This invoice has expired and the items were released. Please check out again."),
    ErrorCode.INVOICE_AMOUNT_CHANGED: N_("The amount of this invoice no longer matches your order. Please check out "
                                         "again."),
    ErrorCode.PAYMENT_UNMATCHED: N_("We couldn't match this payment to an order. Please contact support."),
    ErrorCode.NOTHING_TO_SEND_AGAIN: N_("This order has nothing to send: it isn't a paid order of digital goods."),
    ErrorCode.ORDER_UNKNOWN: N_("Order #{order_id} does not exist."),
    ErrorCode.ONLY_THE_SELLER: N_("Only this order's seller can do that."),
    ErrorCode.ONLY_THE_SELLER_SEES: N_("Only this order's seller can see it."),
    ErrorCode.TRANSITION_REFUSED: _transition_refused,
    ErrorCode.CARRIER_INVALID: N_("Please name the carrier (2 to 64 characters), e.g. UPS."),
    ErrorCode.TRACKING_INVALID: N_("A tracking number has 3 to 64 letters, digits, spaces or dashes."),
    # Translators: keep the example (a carrier and a tracking number) as it is.
    ErrorCode.TRACKING_MISSING: N_("Send the carrier and the tracking number, e.g. UPS 1Z999AA10123456784."),
    # Translators: {min} and {max} are numbers of characters; the form follows {max}.
    ErrorCode.REASON_LENGTH: lambda data: ngettext("Please give a reason of {min} to {max} character.",
                                                   "Please give a reason of {min} to {max} characters.",
                                                   data["max"]).format(**data),
    # Translators: {min} and {max} are numbers of characters; the form follows {max}.
    ErrorCode.TITLE_LENGTH: lambda data: ngettext("A title needs {min} to {max} character.",
                                                  "A title needs {min} to {max} characters.",
                                                  data["max"]).format(**data),
    ErrorCode.DESCRIPTION_TOO_LONG: lambda data: ngettext("A description has at most {max} character.",
                                                          "A description has at most {max} characters.",
                                                          data["max"]).format(**data),
    ErrorCode.TEXT_TOO_LONG: lambda data: TEXT_FIELDS[data["field"]](data["max"]).format(**data),
    ErrorCode.STOCK_INVALID: N_("Stock is a whole number from 0 to {max}."),
    ErrorCode.PRICE_NOT_A_NUMBER: N_("That price isn't valid: not a number."),
    ErrorCode.PRICE_NOT_POSITIVE: N_("That price isn't valid: the price must be greater than zero."),
    # Translators: {currency} is a currency code (USD), {digits} a number of decimal places.
    ErrorCode.PRICE_DECIMALS: lambda data: ngettext("That price isn't valid: {currency} has at most {digits} decimal.",
                                                    "That price isn't valid: {currency} has at most {digits} "
                                                    "decimals.", data["digits"]).format(**data),
    ErrorCode.PRICE_TOO_HIGH: N_("That price is too high."),
    ErrorCode.PRICE_ZERO: N_("The price must be greater than zero."),
    ErrorCode.PRICE_MISSING: N_("A price is required."),
    ErrorCode.STOCK_MISSING: N_("Stock is required."),
    ErrorCode.SKU_INVALID: lambda data: ngettext(
        "A SKU has 1 to {max} letters, digits, dashes, dots or underscores.",
        "A SKU has 1 to {max} letters, digits, dashes, dots or underscores.", data["max"]).format(**data),
    ErrorCode.PHOTO_URL_INVALID: lambda data: ngettext("A photo is an http(s) URL of at most {max} character.",
                                                       "A photo is an http(s) URL of at most {max} characters.",
                                                       data["max"]).format(**data),
    # Translators: write the example number (12.5) as your language does (12.5 and 12,5 are both understood).
    ErrorCode.COMMISSION_UNREADABLE: N_("Send the creator commission as a percentage, e.g. 12.5"),
    ErrorCode.COMMISSION_OUT_OF_RANGE: N_("A commission is 0 to 50 %, with at most two decimals."),
    # Translators: the format of a variant (option; price; stock) and its example stay as they are.
    ErrorCode.VARIANT_FORMAT: N_("Send a variant as: option; price; stock — e.g. M / Black; 19.99; 10"),
    ErrorCode.VARIANT_COUNT: lambda data: ngettext("A product has 1 to {max} variant.",
                                                   "A product has 1 to {max} variants.", data["max"]).format(**data),
    ErrorCode.VARIANT_LABELS_NEEDED: N_("With several variants, each needs its own option label (e.g. S, M, L)."),
    ErrorCode.VARIANT_NEEDED: N_("Add at least one variant first (or /add_product to start again)."),
    ErrorCode.PRODUCT_NOT_YOURS: N_("That product isn't one of your shop's."),
    ErrorCode.OPTION_NOT_IN_PRODUCT: N_("That option isn't part of this product any more."),
    ErrorCode.CATEGORY_GONE: N_("That category no longer exists."),
    ErrorCode.PRODUCT_STATE_UNKNOWN: N_("Unknown product state."),
    ErrorCode.KIND_UNKNOWN: N_("the kind must be physical or digital"),
    ErrorCode.DELIVERY_UNKNOWN: N_("the delivery must be file, code or text"),
    ErrorCode.DELIVERY_NEEDED: N_("a digital product needs a delivery: file, code or text"),
    ErrorCode.DELIVERY_OF_PHYSICAL: N_("only a digital product has a delivery"),
    ErrorCode.CONTENT_NEEDED: N_("Please send what the buyer gets: the link or the text."),
    ErrorCode.CONTENT_TOO_LONG: lambda data: ngettext("That link or text is too long: {max} character at most.",
                                                      "That link or text is too long: {max} characters at most.",
                                                      data["max"]).format(**data),
    ErrorCode.FILE_URL_INVALID: N_("the file must be an https:// address"),
    # Translators: {mb} is a size in megabytes.
    ErrorCode.FILE_TOO_BIG: N_("That file is too big: a bot can send files up to {mb} MB."),
    ErrorCode.CODES_NONE: N_("No codes found: send one code per line, or separate them with commas."),
    ErrorCode.CODES_TOO_MANY: lambda data: ngettext(
        "That is {given} codes: at most {max} per upload. Please send them in parts.",
        "That is {given} codes: at most {max} per upload. Please send them in parts.",
        data["given"]).format(given=_number(data["given"]), max=_number(data["max"])),
    ErrorCode.CODE_TOO_LONG: lambda data: ngettext("A code is too long: {max} character at most.",
                                                   "A code is too long: {max} characters at most.",
                                                   data["max"]).format(**data),
    ErrorCode.CODE_UNPRINTABLE: N_("A code holds a character that can't be shown (a control character): please "
                                   "send the codes as plain text."),
    ErrorCode.NOT_A_CODE_POOL: N_("This option is not sold as codes, so codes can't be added to it."),
    ErrorCode.STOCK_IS_CODES: N_("The stock of this option is the number of codes left: add codes instead."),
    ErrorCode.FILE_NEEDED: N_("Please send the file buyers get: a document, or a photo."),
    ErrorCode.DELIVERY_MISMATCH: N_("This option isn't delivered that way: open the product again in /my_products."),
    # Translators: keep the examples "Standard; 9.99" and "9.99" as they are (the seller types them so).
    ErrorCode.CODE_VARIANT_FORMAT: N_("Please send option; price, e.g. Standard; 9.99 (or just 9.99 for a product "
                                      "without options). There is no stock to type: it is the number of codes you "
                                      "add."),
    # Translators: {kb} is a size in kilobytes.
    ErrorCode.CODES_FILE_TOO_BIG: N_("That file is too big: a list of codes can be {kb} KB at most. Please send it "
                                     "in parts."),
    ErrorCode.CODES_FILE_NOT_TEXT: N_("Please send the codes as a plain text file (.txt), one per line, or paste "
                                      "them in a message."),
    # Translators: {columns} are the names of the required columns (not translated).
    ErrorCode.CSV_EMPTY: lambda data: _("The file is empty: a header row is required ({columns}, ...).").format(
        columns=", ".join(data["required"])),
    ErrorCode.CSV_HEADER_INVALID: _csv_header,
    ErrorCode.ROW_EXTRA_FIELDS: N_("the row has more fields than the header (an unquoted comma in a value?)"),
    # Translators: {columns} are column names (not translated).
    ErrorCode.ROW_UNKNOWN_COLUMNS: lambda data: ngettext("unknown column(s): {columns}.",
                                                         "unknown column(s): {columns}.",
                                                         len(data["columns"])).format(
        columns=", ".join(data["columns"])),
    # Translators: {value} is the value as written in the file, in quotes.
    ErrorCode.FIELD_UNREADABLE: lambda data: _("{value} is not valid.").format(value=repr(data["value"])),
    # Translators: {column} is a column name, {first} a line number, {product} a product's title in quotes.
    ErrorCode.FIELD_DIFFERS: lambda data: _("{column} differs from line {first} of the same product "
                                            "({product}).").format(column=data["column"], first=data["first"],
                                                                   product=repr(data["product"])),
    # Translators: {first} is a line number of the file.
    ErrorCode.SKU_REPEATED: N_("{sku} is already on line {first} of this file."),
    # Translators: {title} is a product's title in quotes.
    ErrorCode.SKU_OF_REMOVED_PRODUCT: lambda data: _("{sku} belongs to a removed product ({title}).").format(
        sku=data["sku"], title=repr(data["title"])),
    # Translators: {title} is a product's title in quotes, {max} a number of variants.
    ErrorCode.PRODUCT_VARIANTS_FULL: lambda data: ngettext(
        "{title} already has {max} variant, the most a product can have.",
        "{title} already has {max} variants, the most a product can have.", data["max"]).format(
        title=repr(data["title"]), max=data["max"]),
    # Translators: {title} is a product's title in quotes.
    ErrorCode.LABEL_NEEDED: lambda data: _("{title} has several variants, so each needs its own option label "
                                           "(e.g. S, M, L).").format(title=repr(data["title"])),
    # Translators: {title} is a product's title in quotes, {sku} a variant's SKU.
    ErrorCode.SIBLING_UNLABELLED: lambda data: _("{title} already has a variant without an option label "
                                                 "({sku}).").format(title=repr(data["title"]), sku=data["sku"]),
    # Translators: {label} is an option label in quotes, {sku} a variant's SKU, {title} a product's title in quotes.
    ErrorCode.LABEL_TAKEN: lambda data: _("{label} is already the option of {sku} in {title}.").format(
        label=repr(data["label"]), sku=data["sku"], title=repr(data["title"])),
    ErrorCode.KIND_CHANGE: _kind_change,
    # Translators: {sku} is a variant's SKU; "delivery" is how a digital product reaches its buyer.
    ErrorCode.DELIVERY_CHANGE: N_("{sku} already has another delivery, and a delivery can't change: give the new "
                                  "one a new SKU"),
    ErrorCode.CONTENT_MISSING: _content_missing,
    # Translators: "codes" is the name of a column of the catalog file (not translated).
    ErrorCode.CONTENT_OF_CODES: N_("a code delivery has no content: its codes go in the codes column"),
    ErrorCode.CODE_STOCK_GIVEN: N_("leave it empty or 0: the stock of a code delivery is the number of codes left "
                                   "in its pool"),
    ErrorCode.FILE_URL_TYPE: N_("from an https:// address Telegram sends only PDF, ZIP and GIF files and JPEG or "
                                "PNG photos: send any other file to the bot in the chat"),
    # Translators: {sku} is a variant's SKU as the request gave it.
    ErrorCode.SKU_UNKNOWN: N_("There is no SKU {sku} in this shop."),
    # Translators: {min} and {max} are numbers of characters; the form follows {max}.
    ErrorCode.SHOP_NAME_LENGTH: lambda data: ngettext("A shop name needs {min} to {max} character, with letters.",
                                                      "A shop name needs {min} to {max} characters, with letters.",
                                                      data["max"]).format(**data),
    ErrorCode.ALREADY_A_SELLER: _already_a_seller,
    ErrorCode.NOT_A_SELLER: N_("This is for sellers. To open a shop, send /sell."),
    ErrorCode.SHOP_UNKNOWN: N_("That shop does not exist."),
    ErrorCode.SELLER_ID_UNKNOWN: N_("There is no seller with id {seller_id}."),
    ErrorCode.SELLER_NOT_APPROVED: _seller_not_approved,
    # Translators: {host} is the address the webhook points at.
    ErrorCode.WEBHOOK_PRIVATE_ADDRESS: N_("That webhook points at {host}, inside a private network. Order events "
                                          "carry buyers' addresses, so they go to public addresses only; if your "
                                          "receiver is on a network you trust, ask an operator to allow it."),
    # Translators: keep the example address https://your.host/path as it is.
    ErrorCode.WEBHOOK_URL_INVALID: N_("That isn't a valid webhook URL: use https://your.host/path (at most 512 "
                                      "characters)."),
    ErrorCode.ONLY_OPERATORS: N_("That command is for the shop's operators."),
    ErrorCode.ONLY_OPERATORS_DECIDE: _only_operators_decide,
    ErrorCode.APPLICATION_GONE: N_("That application does not exist."),
    ErrorCode.APPLICATION_DECIDED: _application_decided,
    ErrorCode.SHARE_LINKS_FOR_CREATORS: N_("Share links are for approved creators. Send /creator to apply."),
    ErrorCode.SHOWCASE_FOR_CREATORS: N_("Only approved creators have a showcase. Send /creator to apply."),
    ErrorCode.CREATOR_UNKNOWN: N_("This creator does not exist."),
    ErrorCode.SHOWCASE_GONE: N_("That showcase is no longer available."),
    ErrorCode.SHOWCASE_FULL: lambda data: ngettext("A showcase holds at most {max} product.",
                                                   "A showcase holds at most {max} products.",
                                                   data["max"]).format(**data),
    ErrorCode.PAYOUT_CHANGED: N_("Some commissions changed while being paid; nothing was paid. Please run it again."),
    # Translators: {min} and {max} are numbers of characters.
    ErrorCode.COUPON_CODE_FORMAT: N_("A code is {min} to {max} letters A-Z and digits 0-9, with no spaces."),
    ErrorCode.COUPON_CODE_TAKEN: N_("The code {code} is already taken. Please choose another."),
    ErrorCode.COUPON_DISCOUNT_NEEDED: N_("Type the discount as a percentage (10%) or an amount (5.00)."),
    ErrorCode.COUPON_PERCENT_RANGE: N_("A percentage off is a whole number from 1 to {max}."),
    ErrorCode.COUPON_ENDS_BEFORE_START: N_("The end must come after the start."),
    ErrorCode.COUPON_USES_RANGE: N_("A number of uses is a whole number of 1 or more."),
    ErrorCode.COUPON_PRODUCTS_TOO_MANY: N_("A coupon can be limited to at most {max} products."),
    ErrorCode.COUPON_GONE: N_("That coupon no longer exists."),
    ErrorCode.COUPON_UNKNOWN: N_("There is no code {code}. Please check the spelling."),
    ErrorCode.COUPON_NOT_STARTED: lambda data: _("{code} can be used from {starts_at}.").format(
        code=data["code"], starts_at=moment_utc(data["starts_at"])),
    ErrorCode.COUPON_EXPIRED: lambda data: _("{code} expired on {ended_at}.").format(
        code=data["code"], ended_at=moment_utc(data["ended_at"])),
    ErrorCode.COUPON_USED_UP: N_("{code} has been used as many times as it can be."),
    ErrorCode.COUPON_ALREADY_USED: lambda data: ngettext(
        "You have already used {code}: it can be used once per shopper.",
        "You have already used {code} {times} times, as many as it can be used per shopper.",
        data["times"]).format(**data),
    ErrorCode.COUPON_NOT_FOR_THESE: N_("{code} is not for the goods in your cart."),
    ErrorCode.COUPON_MIN_SPEND: _min_spend,
    ErrorCode.COUPON_OWN_CODE: N_("{code} is your own code: it is for your followers."),
    ErrorCode.COUPON_STEP_OVER: N_("This step is over. Send /coupons to start again."),
    # Translators: keep YYYY-MM-DD and the example date as they are (the seller types dates so).
    ErrorCode.COUPON_DATE_FORMAT: N_("Type the date as YYYY-MM-DD, e.g. 2030-06-30 (UTC)."),
    ErrorCode.COUPON_PRODUCT_NUMBERS: N_("Type the products' numbers, separated by spaces or commas, e.g. 12 15."),
    ErrorCode.CREATOR_CODE_FOR_CREATORS: N_("Personal codes are for approved creators: /creator to apply."),
    ErrorCode.DEAL_NOT_LOWER: _deal_not_lower,
    # Translators: {hours} is the longest a flash deal may last, in hours (72).
    ErrorCode.DEAL_TOO_LONG: N_("A flash deal lasts at most {hours} hours."),
    ErrorCode.DEAL_ENDS_BEFORE_START: N_("A flash deal must end after it starts."),
    ErrorCode.DEAL_STARTS_IN_PAST: N_("That time has passed: a flash deal starts now or later (times are UTC)."),
    # Translators: {days} is how far ahead a flash deal may be scheduled, in days (30).
    ErrorCode.DEAL_STARTS_TOO_LATE: N_("A flash deal can be scheduled at most {days} days ahead."),
    ErrorCode.DEAL_OVERLAPS: N_("This option already has a flash deal at that time: one deal at a time."),
    # Translators: {max} is the largest number of units a flash deal may be capped at.
    ErrorCode.DEAL_CAP_INVALID: N_("Type how many units are on sale at the deal price: a whole number from 1 to {max}, "
                                   "or /skip for no limit."),
    # Translators: {max} is the longest a flash deal may last, in hours (72).
    ErrorCode.DEAL_HOURS_INVALID: N_("Type how many hours the deal lasts: a whole number from 1 to {max}."),
    # Translators: keep YYYY-MM-DD HH:MM and the example as they are (the seller types the start so).
    ErrorCode.DEAL_TIME_UNREADABLE: N_("Type the start as YYYY-MM-DD HH:MM in UTC, e.g. 2030-06-30 18:00, or tap "
                                       "Now."),
    ErrorCode.DEAL_UNKNOWN: N_("This flash deal is over or was called off."),
    ErrorCode.DEAL_NOT_UPCOMING: N_("This flash deal has already started: open /deals to see it."),
    ErrorCode.DEAL_REMINDER_SET: N_("Your reminder is already set: I'll tell you when the deal starts."),
    ErrorCode.DEAL_STEP_OVER: N_("This step is over. Open the product again from /my_products."),
    ErrorCode.RETURN_UNKNOWN: N_("That return isn't one of yours, or no longer exists."),
    ErrorCode.RETURN_NOT_DELIVERED: N_("Only a delivered order can be returned."),
    ErrorCode.RETURN_WINDOW_OVER: _return_window_over,
    ErrorCode.RETURN_NOTHING_LEFT: N_("Everything in this order is already being returned."),
    ErrorCode.RETURN_NOTHING_CHOSEN: N_("Tap an item to choose how many go back, then Continue."),
    # Translators: {title} is a product; {left} how many of it may still be returned.
    ErrorCode.RETURN_UNITS_TAKEN: lambda data: ngettext(
        "Only {left} unit of {title} can still be returned. Please choose again.",
        "Only {left} units of {title} can still be returned. Please choose again.", data["left"]).format(**data),
    ErrorCode.RETURN_NOTE_TOO_LONG: lambda data: ngettext("A note to the seller has at most {max} character.",
                                                          "A note to the seller has at most {max} characters.",
                                                          data["max"]).format(**data),
    ErrorCode.RETURN_ACTION_REFUSED: _return_action_refused,
    # Translators: {min} and {max} are numbers of characters.
    ErrorCode.RETURN_INSTRUCTIONS_LENGTH: N_("Please write the instructions in {min} to {max} characters."),
    ErrorCode.RETURN_STEP_OVER: N_("This step is over. Open the order again in /orders."),
    # Translators: {order_id} is an order number; /returns is a command.
    ErrorCode.ORDER_HAS_OPEN_RETURN: N_("Order #{order_id} has an open return, so it can't be cancelled: settle "
                                        "the return in /returns instead (its refund is made there)."),
    ErrorCode.REVIEW_LINE_UNKNOWN: N_("That item isn't in one of your orders."),
    ErrorCode.REVIEW_NOT_DELIVERED: N_("You can rate what you bought once it's delivered."),
    ErrorCode.REVIEW_EXISTS: N_("You've already rated this item. To change your review (once), open the order in "
                                "/orders and tap Rate."),
    # Translators: {min} and {max} are numbers of stars (1 and 5).
    ErrorCode.RATING_INVALID: N_("A rating is {min} to {max} stars."),
    ErrorCode.REVIEW_TEXT_LENGTH: lambda data: ngettext("A review has at most {max} character.",
                                                        "A review has at most {max} characters.",
                                                        data["max"]).format(**data),
    ErrorCode.REVIEW_PHOTO_INVALID: N_("That photo can't be used. Please send another one."),
    ErrorCode.REVIEW_ANSWERED: N_("The seller has replied to this review, so it stays as it is."),
    ErrorCode.REVIEW_EDITED: N_("You've already changed this review once: it's final now."),
    ErrorCode.REVIEW_UNKNOWN: N_("This review is no longer shown."),
    ErrorCode.REVIEW_REPLIED: N_("This review already has its reply: one reply per review."),
    ErrorCode.REVIEW_REPLY_LENGTH: lambda data: ngettext("A reply has at most {max} character.",
                                                         "A reply has at most {max} characters.",
                                                         data["max"]).format(**data),
    ErrorCode.REVIEW_REPLY_NOT_YOURS: N_("Only the seller of this product can reply to its reviews."),
    # Translators: {min} and {max} are numbers of characters.
    ErrorCode.REVIEW_HIDE_REASON_LENGTH: N_("Please give the reason in {min} to {max} characters."),
    ErrorCode.REVIEW_STEP_OVER: N_("This step is over. Open the order again in /orders."),
    ErrorCode.REVIEWS_PAGE_GONE: N_("That page of reviews is gone. Please open the product again."),
    ErrorCode.OPTION_IN_STOCK: N_("Good news: this option is in stock now, so you can add it to your cart."),
    ErrorCode.RESTOCK_ALERTS_OFF: N_("You turned back-in-stock messages off. Turn them on in /notifications, then "
                                     "tap again."),
}


def refusal(code: ErrorCode, data: dict[str, Any]) -> str:
    """The sentence for a refusal (plain text), in the current language."""
    template = ERRORS[code]
    return template(data) if callable(template) else _(template).format(**data)


def error_text(error: ShopError) -> str:
    """The sentence for a store error (plain text)."""
    return refusal(error.code, error.data)


def rejected_row(problems: Iterable[tuple[str | None, ErrorCode, dict[str, Any]]]) -> str:
    """Why a catalog row was refused: each problem, after the column at fault."""
    return " ".join(f"{column}: {refusal(code, data)}" if column else refusal(code, data)
                    for column, code, data in problems)
