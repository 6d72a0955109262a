"""Every keyboard the bot shows, built in one place."""

from __future__ import annotations

from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from handlers import callbacks as cb
from handlers.render import PAYMENT_LABELS, money
from store.services.cart import DECREASE, INCREASE, REMOVE, CartView
from store.services.catalog import CategoryView, ProductView, VariantView
from store.services.checkout import ShippingOption
from store.services.fulfilment import SellerOrder
from store.services.orders import OrderSummary

CANCEL_TEXT = "✖ Cancel checkout"
SHARE_CONTACT_TEXT = "📱 Share my contact"
SEARCH_QUERY_BYTES = 48


def button(text: str, prefix: str, *args: int | str) -> InlineKeyboardButton:
    """One inline button whose callback data is packed by the codec."""
    return InlineKeyboardButton(text, callback_data=cb.pack(prefix, *args))


def build(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows, dropping empty rows."""
    return InlineKeyboardMarkup([row for row in rows if row])


def pager(prefix: str, page: int, pages: int, *before: int | str) -> list[InlineKeyboardButton]:
    """Previous / page x of y / next, for any paged list."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(button("‹ Prev", prefix, *before, page - 1))
    row.append(button(f"{page + 1} / {pages}", cb.NOOP))
    if page + 1 < pages:
        row.append(button("Next ›", prefix, *before, page + 1))
    return row


def main_menu(cart_count: int = 0) -> InlineKeyboardMarkup:
    """The start menu."""
    cart = f"🛒 Cart ({cart_count})" if cart_count else "🛒 Cart"
    return build([
        [button("🗂 Categories", cb.CATEGORIES)],
        [button(cart, cb.CART), button("📦 My orders", cb.ORDERS, 0)],
    ])


def categories(items: list[CategoryView]) -> InlineKeyboardMarkup:
    """One button per category, two per row."""
    buttons = [button(f"{c.name} ({c.product_count})", cb.CATEGORY, c.id, 0) for c in items]
    return build([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def product_list(products: list[ProductView], start: int, nav: list[InlineKeyboardButton],
                 extra: list[InlineKeyboardButton] | None = None) -> InlineKeyboardMarkup:
    """Numbered product buttons, then paging, then extra buttons."""
    rows = [[button(f"{start + i + 1}. {p.title}", cb.PRODUCT, p.id)] for i, p in enumerate(products)]
    return build([*rows, nav, extra or []])


def search_page(products: list[ProductView], start: int, page: int, pages: int, query: str) -> InlineKeyboardMarkup:
    """Search results with paging; the (shortened) query rides in the paging buttons."""
    nav = pager(cb.SEARCH_PAGE, page, pages, query) if query else []
    return product_list(products, start, nav)


def category_page(products: list[ProductView], start: int, page: int, pages: int,
                  category_id: int) -> InlineKeyboardMarkup:
    """A category's products with paging and a way back."""
    return product_list(products, start, pager(cb.CATEGORY, page, pages, category_id),
                        [button("‹ Categories", cb.CATEGORIES)])


def no_results(items: list[CategoryView]) -> InlineKeyboardMarkup:
    """Categories to browse when a search found nothing."""
    return categories(items)


def product_card(product: ProductView, selected: VariantView | None, cart_count: int,
                 showcased: bool | None = None) -> InlineKeyboardMarkup:
    """Variant choices (the selected one ticked), Add to cart, the cart; for creators, Share and Showcase.

    ``showcased`` is None for shoppers, else whether the creator's showcase holds the product.
    """
    rows: list[list[InlineKeyboardButton]] = []
    if product.has_options:
        choices = []
        for variant in product.variants:
            mark = "✓ " if selected is not None and variant.id == selected.id else ""
            sold = " (sold out)" if variant.stock <= 0 else ""
            choices.append(button(f"{mark}{variant.label or variant.sku}{sold}", cb.PRODUCT_VARIANT,
                                  product.id, variant.id))
        rows += [choices[i:i + 3] for i in range(0, len(choices), 3)]
    if selected is not None and selected.stock > 0:
        rows.append([button("➕ Add to cart", cb.ADD, selected.id)])
    rows.append([button(f"🛒 Cart ({cart_count})" if cart_count else "🛒 Cart", cb.CART)])
    if showcased is not None:
        rows.append([button("🔗 Share link", cb.SHARE_LINK, product.id),
                     button("⭐ In showcase ✓" if showcased else "☆ Add to showcase", cb.SHOWCASE_TOGGLE,
                            product.id, 0 if showcased else 1)])
    return build(rows)


def share_link(url: str, title: str) -> InlineKeyboardMarkup:
    """Open Telegram's share sheet with the link."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        "📤 Share", url=f"https://t.me/share/url?url={quote(url, safe='')}&text={quote(title, safe='')}")]])


def creator_application(creator_id: int) -> InlineKeyboardMarkup:
    """Approve or reject a creator application."""
    return build([[button("✅ Approve", cb.CREATOR_DECIDE, creator_id, 1),
                   button("✖ Reject", cb.CREATOR_DECIDE, creator_id, 0)]])


def showcase_page(products: list[ProductView], start: int, page: int, pages: int,
                  creator_id: int) -> InlineKeyboardMarkup:
    """A creator's picks with paging."""
    return product_list(products, start, pager(cb.SHOWCASE_PAGE, page, pages, creator_id))


def cart(cart_view: CartView) -> InlineKeyboardMarkup:
    """Per line − / + / ✕ (numbered as in the text), then Checkout."""
    rows = []
    for number, line in enumerate(cart_view.lines, start=1):
        rows.append([
            button(f"− {number}", cb.CART_LINE, line.id, DECREASE),
            button(f"+ {number}", cb.CART_LINE, line.id, INCREASE),
            button(f"✕ {number}", cb.CART_LINE, line.id, REMOVE),
        ])
    if cart_view.lines:
        rows.append([button("✅ Checkout", cb.CHECKOUT)])
    return build(rows)


def review() -> InlineKeyboardMarkup:
    """Continue or leave after the review."""
    return build([[button("Continue ›", cb.CHECKOUT_GO), button("✖ Cancel", cb.LEAVE)]])


def ask_contact(saved: str | None) -> ReplyKeyboardMarkup:
    """Share-contact button (Telegram sends the verified number), the contact used last time, a way out."""
    rows = [[KeyboardButton(SHARE_CONTACT_TEXT, request_contact=True)]]
    if saved:
        rows.append([saved])
    return ReplyKeyboardMarkup([*rows, [CANCEL_TEXT]], resize_keyboard=True, one_time_keyboard=True)


def ask_address(last_address: str | None) -> ReplyKeyboardMarkup:
    """The last address used (tap to reuse it) and a way out."""
    rows = [[last_address.replace("\n", ", ")]] if last_address else []
    return ReplyKeyboardMarkup([*rows, [CANCEL_TEXT]], resize_keyboard=True, one_time_keyboard=True)


def shipping(options: list[ShippingOption], currency: str, lang: str | None) -> InlineKeyboardMarkup:
    """One button per shipping method with its fee."""
    rows = [[button(f"{o.name} — {money(o.fee, currency, lang) if o.fee else 'free'}", cb.SHIPPING, o.code)]
            for o in options]
    return build([*rows, [button("✖ Cancel", cb.LEAVE)]])


def payment(methods: tuple[str, ...]) -> InlineKeyboardMarkup:
    """One button per payment method offered."""
    return build([*[[button(PAYMENT_LABELS[m], cb.PAYMENT, m)] for m in methods], [button("✖ Cancel", cb.LEAVE)]])


def confirm(total: int) -> InlineKeyboardMarkup:
    """Place the order (for the total shown) or leave."""
    return build([[button("✅ Place order", cb.PLACE, total)], [button("✖ Cancel", cb.LEAVE)]])


def awaiting_payment(checkout_id: int) -> InlineKeyboardMarkup:
    """Under an unpaid order: the invoice again, or call it off."""
    return build([[button("💳 Pay", cb.PAY_AGAIN, checkout_id),
                   button("✖ Cancel this order", cb.CANCEL_UNPAID, checkout_id)]])


def order_list(orders: list[OrderSummary], page: int, pages: int) -> InlineKeyboardMarkup:
    """One button per order, then paging."""
    rows = [[button(f"#{o.id} · {o.seller_name}", cb.ORDER, o.id, page)] for o in orders]
    return build([*rows, pager(cb.ORDERS, page, pages)])


def order_detail(page: int, checkout_id: int | None) -> InlineKeyboardMarkup:
    """Back to the list, and a way to call off an unpaid order."""
    rows = [[button("‹ My orders", cb.ORDERS, page)]]
    if checkout_id is not None:
        rows = awaiting_payment(checkout_id).inline_keyboard + tuple(rows)
    return build([list(row) for row in rows])


# --- sellers and operators -------------------------------------------------------------------

ACCEPT, SHIP, DELIVER, CANCEL = "acc", "shp", "dlv", "cxl"
SELLER_FILTERS = (("open", "Open"), ("paid", "Paid"), ("placed", "COD"), ("accepted", "Accepted"),
                  ("shipped", "Shipped"))


def seller_application(seller_id: int) -> InlineKeyboardMarkup:
    """Approve or reject a seller application."""
    return build([[button("✅ Approve", cb.SELLER_DECIDE, seller_id, 1),
                   button("✖ Reject", cb.SELLER_DECIDE, seller_id, 0)]])


def seller_order_actions(order_id: int, status: str) -> InlineKeyboardMarkup | None:
    """The next steps a seller can take on an order in ``status``."""
    row = []
    if status in ("paid", "placed"):
        row = [button("✅ Accept", cb.SELLER_ACTION, order_id, ACCEPT), button("✖ Cancel", cb.SELLER_ACTION,
                                                                              order_id, CANCEL)]
    elif status == "accepted":
        row = [button("🚚 Ship", cb.SELLER_ACTION, order_id, SHIP), button("✖ Cancel", cb.SELLER_ACTION,
                                                                          order_id, CANCEL)]
    elif status == "shipped":
        row = [button("📬 Delivered", cb.SELLER_ACTION, order_id, DELIVER)]
    return build([row]) if row else None


def seller_orders(orders: list[SellerOrder], page: int, pages: int, state: str) -> InlineKeyboardMarkup:
    """One button per order, paging, and the state filters."""
    rows = [[button(f"#{o.id} · {o.buyer_name} · {o.status}", cb.SELLER_ORDER, o.id)] for o in orders]
    filters_row = [button(("• " if key == state else "") + label, cb.SELLER_ORDERS, key, 0)
                   for key, label in SELLER_FILTERS]
    return build([*rows, pager(cb.SELLER_ORDERS, page, pages, state), filters_row[:3], filters_row[3:]])


def categories_to_file(choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    """Categories a new product can be filed under."""
    buttons = [button(name, cb.NEW_PRODUCT_CATEGORY, cid) for cid, name in choices]
    return build([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def variants_done() -> InlineKeyboardMarkup:
    """Finish adding variants."""
    return build([[button("✅ Done: publish the product", cb.NEW_PRODUCT_DONE)]])


def my_products(products: list[ProductView], page: int, pages: int) -> InlineKeyboardMarkup:
    """One button per product of the seller, then paging."""
    rows = [[button(("⏸ " if p.status != "active" else "") + p.title, cb.MANAGE_PRODUCT, p.id)] for p in products]
    return build([*rows, pager(cb.MY_PRODUCTS, page, pages)])


def manage_product(product: ProductView) -> InlineKeyboardMarkup:
    """Edit each variant's price and stock, the description; pause, resume or remove."""
    rows = []
    for variant in product.variants:
        rows.append([button(f"💲 {variant.label} price" if variant.label else "💲 Price", cb.MANAGE_VARIANT, product.id,
                            variant.id, "p"),
                     button(f"📦 {variant.label} stock" if variant.label else "📦 Stock", cb.MANAGE_VARIANT,
                            product.id, variant.id, "s")])
    status_button = (button("⏸ Pause", cb.MANAGE_STATUS, product.id, "paused") if product.status == "active"
                     else button("▶ Resume", cb.MANAGE_STATUS, product.id, "active"))
    rows.append([button("📝 Description", cb.MANAGE_DESCRIPTION, product.id),
                 button("🤝 Creator commission", cb.MANAGE_COMMISSION, product.id)])
    rows.append([status_button, button("🗑 Remove", cb.MANAGE_STATUS, product.id, "removed")])
    rows.append([button("‹ My products", cb.MY_PRODUCTS, 0)])
    return build(rows)
