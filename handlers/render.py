"""Message texts (HTML): every catalog, seller or shopper string is escaped here."""

from __future__ import annotations

from datetime import datetime
from html import escape

from babel.dates import format_datetime

from handlers.fit import fit_lines
from handlers.messages import PAYMENT_METHOD, PAYMENT_STATUS, cart_adjustment, order_status
from store.models import Order
from store.money import format_money, locale_for
from store.services.cart import CartLineView, CartView
from store.services.catalog import ProductView, VariantView
from store.services.checkout import CartAdjustment, Quote
from store.services.checkout_flow import PaymentStep, Saved
from store.services.fulfilment import SellerOrder
from store.services.orders import OrderDetail, OrderSummary
from store.states import ActorKind, PaymentMethod

DESCRIPTION_MAX = 300
# How much of a title and an option a line of a list (cart, checkout, orders) shows.
ITEM_TITLE_MAX, ITEM_LABEL_MAX = 60, 30

WELCOME = (
    "👋 <b>Welcome to chatshop{name}!</b>\n\n"
    "Just type what you are looking for (a typo is fine), e.g. <i>red hoodie</i> or <i>headphones</i>.\n"
    "Or browse the categories, check your cart and follow your orders:"
)
HELP = (
    "<b>How to shop here</b>\n"
    "• Type any words to search the catalog.\n"
    "• /cart shows your cart, /orders your orders.\n"
    "• On a product, ⚡ <b>Buy now</b> orders just that item; your cart is left as it is.\n"
    "• /cancel leaves a checkout (your cart is kept).\n"
    "• /privacy: what we keep about you and who sees it (/mydata sends it, /forget erases it).\n"
    "• /start shows the menu."
)
SELLER_HELP = ("Your commands: /seller_orders — orders to fulfil, /add_product, /my_products — prices, stock, "
               "pause or remove, /seller_settings — webhook, API key and whether buyers give a phone.")
OPERATOR_HELP = ("<b>Operating the shop</b>\n• /seller_orders shows the open orders of every shop; you can act "
                 "on any of them.\n• Seller and creator applications come here with Approve / Reject buttons.\n"
                 "• <code>/replay_webhooks SHOP_ID</code> sends a shop's given-up order webhooks again, in order.\n"
                 "• Creator payouts: <code>python -m bot payouts</code> on the server.")
SELLER_WELCOME = "🎉 <b>{name}</b> is approved: you can sell on chatshop now!\n" + SELLER_HELP
SORRY = "Sorry, something went wrong on our side. Please try again in a moment."


def money(amount: int, currency: str, lang: str | None) -> str:
    """A formatted amount."""
    return format_money(amount, currency, lang)


def item_name(title: str, label: str) -> str:
    """A product title with its option, escaped and kept short for a line of a list: "Tee (M / Black)".

    An option keeps its start and its end (options of one product often differ only at one of them).
    """
    title, label = short(title, ITEM_TITLE_MAX), short_middle(label, ITEM_LABEL_MAX)
    return escape(f"{title} ({label})" if label else title)


def short(text: str, most: int) -> str:
    """``text`` cut to ``most`` characters with "…" (between words when one ends near)."""
    if len(text) <= most:
        return text
    cut = text[: most - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > most * 2 // 3 else cut).rstrip(" ,;:-") + "…"


def fee(amount: int, currency: str, lang: str | None) -> str:
    """A shipping fee: the amount, or "free"."""
    return money(amount, currency, lang) if amount else "free"


def kept(value: str | None) -> str:
    """A piece of a buyer's contact, escaped, or a note that it was erased."""
    return escape(value) if value is not None else "<i>(erased)</i>"


def contact_of(order: Order) -> str:
    """The name and phone an order goes to, escaped; what was erased says so, a phone never asked is left out."""
    if order.erased_at is not None:
        return f"{kept(order.contact_name)}, {kept(order.phone)}"
    return person(order.contact_name or "", order.phone)


def short_middle(text: str, most: int) -> str:
    """``text`` cut to ``most`` characters by taking out its middle: "XL / Midnight Blu…Silver Trim"."""
    if len(text) <= most:
        return text
    tail = (most - 1) // 3
    return text[: most - 1 - tail].rstrip() + "…" + text[len(text) - tail:].lstrip()


def stock_note(stock: int, low_stock: int) -> str:
    """How a stock level reads to a shopper (``low_stock``: the shop's low-stock threshold)."""
    if stock <= 0:
        return "❌ Sold out"
    if stock <= low_stock:
        return f"⚠️ Only {stock} left"
    return "✅ In stock"


def price_range(product: ProductView, currency: str, lang: str | None) -> str:
    """"$19.99" or "from $19.99" when variants differ in price."""
    low = money(product.min_price, currency, lang)
    return low if product.min_price == product.max_price else f"from {low}"


def product_card(product: ProductView, selected: VariantView | None, currency: str, lang: str | None,
                 low_stock: int) -> str:
    """The text (or photo caption) of a product card."""
    lines = [f"<b>{escape(product.title)}</b>"]
    byline = f"by {escape(product.seller_name)} · {escape(product.category_name)}"
    if product.brand:
        byline = f"{escape(product.brand)} · " + byline
    lines.append(byline)
    if selected is not None:
        option = f"Option: <b>{escape(selected.label)}</b>\n" if selected.label else ""
        lines.append(f"\n{option}<b>{money(selected.price, currency, lang)}</b> · "
                     f"{stock_note(selected.stock, low_stock)}")
    else:
        lines.append(f"\n<b>{price_range(product, currency, lang)}</b> · {stock_note(product.stock, low_stock)}")
    if product.description:
        text = product.description
        if len(text) > DESCRIPTION_MAX:
            text = text[: DESCRIPTION_MAX - 1].rstrip() + "…"
        lines.append(f"\n{escape(text)}")
    if product.has_options:
        lines.append("\nChoose an option below, then tap <b>Add to cart</b>.")
    return "\n".join(lines)


def product_line(position: int, product: ProductView, currency: str, lang: str | None) -> str:
    """One numbered product in a result list."""
    sold_out = " · sold out" if product.stock <= 0 else ""
    return (f"{position}. <b>{escape(product.title)}</b> — {price_range(product, currency, lang)}"
            f" · {escape(product.seller_name)}{sold_out}")


def search_results(query: str, products: list[ProductView], start: int, total: int, currency: str,
                   lang: str | None) -> str:
    """A page of search results."""
    found = f"{total} found" if total < 50 else "best 50 shown"
    lines = [f"🔎 Results for “{escape(query)}” — {found}:\n"]
    lines += [product_line(start + i + 1, p, currency, lang) for i, p in enumerate(products)]
    lines.append("\nTap a product to see it.")
    return "\n".join(lines)


def no_results(query: str, suggestions: tuple[str, ...]) -> str:
    """What a search that found nothing says, never silence."""
    text = f"😕 Nothing found for “{escape(query)}”."
    if suggestions:
        text += "\nDid you mean: " + ", ".join(f"<i>{escape(s)}</i>" for s in suggestions) + "?"
    return text + "\nTry other words, or browse a category:"


def category_page(name: str, products: list[ProductView], start: int, total: int, currency: str,
                  lang: str | None) -> str:
    """A page of a category."""
    lines = [f"🗂 <b>{escape(name)}</b> — {total} products:\n"]
    lines += [product_line(start + i + 1, p, currency, lang) for i, p in enumerate(products)]
    return "\n".join(lines)


def _cart_line(number: int, line: CartLineView, lang: str | None, currency: str) -> str:
    warning = ""
    if not line.available or line.stock <= 0:
        warning = " — ❌ no longer available"
    elif line.quantity > line.stock:
        warning = f" — ⚠️ only {line.stock} left"
    return (f"{number}. {item_name(line.title, line.label)}\n"
            f"    {line.quantity} × {money(line.unit_price, currency, lang)} = "
            f"<b>{money(line.total, currency, lang)}</b>{warning}")


def cart(cart_view: CartView, currency: str, lang: str | None, note: str = "") -> str:
    """The cart: numbered lines grouped by seller, a subtotal per seller and the total."""
    if not cart_view.lines:
        return (f"{escape(note)}\n\n" if note else "") + "🛒 Your cart is empty. Type what you are looking for."
    parts: list[str] = []
    number = 0
    for seller, lines in cart_view.by_seller():
        parts.append(f"\n<b>{escape(seller)}</b>")
        for line in lines:
            number += 1
            parts.append(_cart_line(number, line, lang, currency))
        parts.append(f"    Subtotal: {money(sum(line.total for line in lines), currency, lang)}")
    tail = [f"\nTotal: <b>{money(cart_view.total, currency, lang)}</b> (shipping is chosen at checkout)",
            "Use − / + to change a quantity, ✕ to remove a line."]
    if note:
        tail.append(f"\n<i>{escape(note)}</i>")
    return fit_lines(["🛒 <b>Your cart</b>"], parts, tail)


def review(cart_view: CartView, changes: tuple[CartAdjustment, ...], currency: str, lang: str | None) -> str:
    """Step 1 of checkout: what will be ordered, and what changed since the shopper last looked."""
    parts = []
    if changes:
        parts.append("\n<b>Since you last looked:</b>")
        parts += [f"• {escape(cart_adjustment(change))}" for change in changes]
    parts += _lines_by_seller(cart_view, currency, lang)
    return fit_lines(["🧾 <b>Checkout — review</b>"], parts,
                     [f"\nItems: <b>{money(cart_view.total, currency, lang)}</b>",
                      "Continue to enter your contact details, or cancel to keep shopping."])


def _lines_by_seller(cart_view: CartView, currency: str, lang: str | None) -> list[str]:
    parts = []
    for seller, lines in cart_view.by_seller():
        parts.append(f"\n<b>{escape(seller)}</b>")
        parts += [f"• {item_name(line.title, line.label)} — {line.quantity} × "
                  f"{money(line.unit_price, currency, lang)}" for line in lines]
    return parts


ASK_CONTACT = ("📇 <b>Checkout — contact</b>\nTap <b>Share my contact</b> below, or type your name and phone "
               "number with the country code, e.g. <i>Ann Lee +1 202 555 0143</i>.\n/cancel to stop.")
ASK_NAME = ("📇 <b>Checkout — contact</b>\nType the name to deliver to, or tap <b>Share my contact</b> below. "
            "No phone number is needed for this order.\n/cancel to stop.")


def ask_contact(phone_needed: bool) -> str:
    """The contact step's question: a name and phone number, or only a name when no seller needs a phone."""
    return ASK_CONTACT if phone_needed else ASK_NAME


def person(name: str, phone: str | None) -> str:
    """Who an order goes to, escaped: the name, and the phone when one was collected."""
    return escape(name) + (f", {escape(phone)}" if phone else "")


ASK_ADDRESS = ("🏠 <b>Checkout — shipping address</b>\nSend the full address: street and number, city, "
               "postcode, country.")
ASK_ADDRESS_AGAIN = "\nOr tap your last address below to use it again."


def shipping_choice(sellers: int) -> str:
    """Step 3 of checkout: how to ship."""
    text = "🚚 <b>Checkout — shipping</b>\nChoose how you'd like it delivered."
    if sellers > 1:
        text += f"\nYour cart comes from {sellers} sellers: each ships separately and charges the fee once."
    return text


def payment_choice() -> str:
    """Step 4 of checkout: how to pay."""
    return "💰 <b>Checkout — payment</b>\nHow would you like to pay?"


def confirm(cart_view: CartView, quote: Quote, details: dict, currency: str, lang: str | None) -> str:
    """Step 5 of checkout: everything, one last time."""
    parts = [f"\nItems: {quote.items_total.format(lang)}"]
    shipping = escape(details["shipping_name"])
    if quote.sellers > 1:
        shipping += f" × {quote.sellers} sellers"
    parts.append(f"Shipping ({shipping}): {quote.shipping_total.format(lang)}")
    parts.append(f"<b>Total: {quote.total.format(lang)}</b>")
    parts.append(f"\nDeliver to: {person(details['name'], details['phone'])}")
    parts.append(escape(details["address"]))
    parts.append(f"Payment: {PAYMENT_METHOD[details['payment']]}")
    return fit_lines(["✅ <b>Checkout — confirm your order</b>"], _lines_by_seller(cart_view, currency, lang), parts)


def _buy_now_item(item: CartView, currency: str, lang: str | None) -> str:
    line = item.lines[0]
    return (f"⚡ <b>Buy now</b>: {item_name(line.title, line.label)} — <b>{money(line.unit_price, currency, lang)}</b>"
            f"\nSold by {escape(short(line.seller_name, ITEM_TITLE_MAX))}. Your cart stays as it is.")


def buy_now_contact(item: CartView, saved: Saved | None, phone_needed: bool, currency: str, lang: str | None) -> str:
    """Buy now's first screen: the item, and who and where it goes to (the last order's details first)."""
    head = _buy_now_item(item, currency, lang)
    if saved is None:
        return f"{head}\n\n{ask_contact(phone_needed)}"
    return (f"{head}\n\n📇 <b>Deliver to</b> {person(saved.name, saved.phone)}\n"
            f"🏠 {escape(saved.address)}\n\nTap <b>Deliver there</b>, or type another "
            + ("name and phone number (e.g. <i>Ann Lee +1 202 555 0143</i>)" if phone_needed
               else "name (e.g. <i>Ann Lee</i>)") + " to send it elsewhere.")


def buy_now_payment(step: PaymentStep, currency: str, lang: str | None) -> str:
    """Buy now's payment step: the item, where it goes, the shipping chosen and the total."""
    details, quote = step.details, step.quote
    return (f"{_buy_now_item(step.cart, currency, lang)}\n\n"
            f"📇 {person(details['name'], details['phone'])}\n🏠 {escape(details['address'])}\n"
            f"🚚 {escape(details['shipping_name'])}: {fee(quote.shipping_total.amount, currency, lang)} (tap "
            f"another below to change)\n<b>Total: {quote.total.format(lang)}</b>\n\n💰 How would you like to pay?")


def when(moment: datetime, lang: str | None) -> str:
    """A short date and time in the shopper's locale (UTC)."""
    return format_datetime(moment, "short", tzinfo=moment.tzinfo, locale=locale_for(lang)) + " UTC"


def order_list(orders: list[OrderSummary], start: int, total: int, lang: str | None) -> str:
    """A page of the buyer's orders, newest first."""
    if not orders:
        return "📦 You have no orders yet. Type what you are looking for to start shopping."
    parts = [f"📦 <b>Your orders</b> ({total}):\n"]
    for order in orders:
        status = order_status(order.status)
        parts.append(f"<b>#{order.id}</b> · {when(order.created_at, lang)} · {escape(order.seller_name)}\n"
                     f"    {order.items} item{'s' if order.items != 1 else ''} · "
                     f"{money(order.total, order.currency, lang)} · <b>{status}</b>")
    parts.append("\nTap an order for its details.")
    return "\n".join(parts)


def order_detail(detail: OrderDetail, lang: str | None) -> str:
    """One order: lines, totals, delivery, payment and status history."""
    order, checkout = detail.order, detail.checkout
    cur = order.currency
    head = [f"📦 <b>Order #{order.id}</b> from {escape(order.seller.name)}",
            f"Status: <b>{order_status(order.status)}</b>\n"]
    lines = [f"• {item_name(line.title, line.variant_label)} — {line.quantity} × "
             f"{money(line.unit_price, cur, lang)} = {money(line.line_total, cur, lang)}" for line in order.lines]
    parts = [f"\nItems: {money(order.items_total, cur, lang)}"]
    parts.append(f"Shipping ({escape(checkout.shipping_name)}): {money(order.shipping_fee, cur, lang)}")
    parts.append(f"<b>Total: {money(order.total, cur, lang)}</b>")
    if order.tracking_number:
        parts.append(f"Tracking: {escape(order.carrier or '')} {escape(order.tracking_number)}")
    parts.append(f"\nDeliver to: {contact_of(order)}")
    parts.append(kept(order.address))
    payment = PAYMENT_METHOD[checkout.payment_method]
    if detail.payment is not None:
        state = PAYMENT_STATUS[detail.payment.status]
        payment += f" — {money(detail.payment.amount, detail.payment.currency, lang)} {state}"
    elif checkout.payment_method == PaymentMethod.COD:
        payment += " — pay the courier"
    else:
        payment += " — not paid yet"
    parts.append(f"Payment: {payment}")
    parts.append("\n<b>History</b>")
    parts += [f"• {when(e.created_at, lang)}: {order_status(e.to_status)}"
              + (f" — {escape(e.note)}" if e.note and e.actor_kind != ActorKind.SYSTEM else "") for e in order.events]
    if order.cancel_reason:
        parts.append(f"Reason: {escape(order.cancel_reason)}")
    return fit_lines(head, lines, parts)


def seller_orders(orders: list[SellerOrder], total: int, state: str, currency: str) -> str:
    """A page of a seller's orders."""
    if not orders:
        return f"🛎 No {state} orders right now."
    parts = [f"🛎 <b>Orders</b> ({state}, {total}):\n"]
    parts += [f"<b>#{o.id}</b> · {escape(o.buyer_name)} · {o.items} item{'s' if o.items != 1 else ''} · "
              f"{money(o.total, o.currency, None)} · <b>{order_status(o.status)}</b>" for o in orders]
    parts.append("\nTap an order to act on it.")
    return "\n".join(parts)


def creator_home(code: str, showcase_url: str) -> str:
    """What an approved creator sees on /creator."""
    return (f"✨ <b>You're a chatshop creator</b> — code <code>{escape(code)}</code>\n\n"
            "• On any product card, tap <b>🔗 Share link</b> for your link to it, or <b>☆ Add to showcase</b>.\n"
            f"• Your showcase: {escape(showcase_url)}\n"
            "• In any chat, type <code>@</code> and this bot's name with a few words to share products inline.\n"
            "• /earnings shows your clicks, sales and commission.")


def showcase(name: str, products: list[ProductView], start: int, total: int, currency: str,
             lang: str | None) -> str:
    """A page of a creator's showcase."""
    lines = [f"⭐ <b>{escape(name)}'s picks</b> ({total}):\n"]
    lines += [product_line(start + i + 1, p, currency, lang) for i, p in enumerate(products)]
    lines.append("\nTap a product to see it.")
    return "\n".join(lines)
