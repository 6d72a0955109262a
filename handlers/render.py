"""Message texts (HTML): every catalog, seller or shopper string is escaped here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent

from handlers.fit import fit_lines
from handlers.i18n import N_, Labels, _, current, ngettext
from handlers.messages import PAYMENT_METHOD, PAYMENT_STATUS, cart_adjustment, order_status
from store.models import Order
from store.money import STARS, format_money, locale_for
from store.services.alerts import SAVED_PAGE_SIZE, SavedPage
from store.services.cart import CartLineView, CartView
from store.services.catalog import ProductView, VariantView
from store.services.checkout import CartAdjustment, Quote
from store.services.checkout_flow import PaymentStep, Saved
from store.services.coupons import NO_DISCOUNT, Discount
from store.services.digital import holds_goods
from store.services.fulfilment import SellerOrder
from store.services.orders import OPEN_FILTER, OrderDetail, OrderSummary
from store.services.query_filters import PriceRange
from store.states import ActorKind, OrderStatus, PaymentMethod, ProductKind, ProductStatus

DESCRIPTION_MAX = 300
# How much of a title and an option a line of a list (cart, checkout, orders) shows.
ITEM_TITLE_MAX, ITEM_LABEL_MAX = 60, 30

# The texts below are marked with N_ and translated where they are shown: _(render.HELP).
# Translators: the commands (/cart, /orders, ...) are typed as they are: keep them in English.
HELP = N_(
    "<b>How to shop here</b>\n"
    "• Type any words to search the catalog.\n"
    "• /cart shows your cart, /orders your orders.\n"
    "• /deals lists the flash deals, live and coming: 🔔 <b>Remind me</b> tells you when one starts.\n"
    "• ♡ <b>Save</b> on a product keeps it in /saved; I tell you when its price drops. /notifications chooses "
    "which alerts I send.\n"
    "• On a product, ⚡ <b>Buy now</b> orders just that item; your cart is left as it is.\n"
    "• /cancel leaves a checkout (your cart is kept).\n"
    "• /privacy: what we keep about you and who sees it (/mydata sends it, /forget erases it).\n"
    "• /language: the language I speak with you.\n"
    "• /start shows the menu."
)
# Translators: the commands (/seller_orders, /add_product, ...) are typed as they are: keep them in English.
SELLER_HELP = N_("Your commands: /seller_orders — orders to fulfil, /returns — returns to decide, /add_product — "
                 "a new product, /my_products — prices, stock, pause or remove, /seller_settings — webhook, API key "
                 "and whether buyers give a phone.")
# Translators: the commands and SHOP_ID are typed as they are: keep them in English.
OPERATOR_HELP = N_("<b>Operating the shop</b>\n• /seller_orders shows the open orders of every shop; you can act "
                   "on any of them.\n• Seller and creator applications come here with Approve / Reject buttons.\n"
                   "• <code>/replay_webhooks SHOP_ID</code> sends a shop's given-up order webhooks again, in order.\n"
                   "• Creator payouts: <code>python -m bot payouts</code> on the server.")
# Translators: the command /coupons is typed as it is: keep it in English.
COUPONS_HELP = N_("/coupons — your shop's discount codes: create, pause or resume them.")
# Translators: the command /coupons is typed as it is: keep it in English.
OPERATOR_COUPONS_HELP = N_("• /coupons manages the platform's coupons, which the platform pays for on every shop's "
                           "goods.")
# Translators: {name} is the shop's name; the seller's list of commands follows on the next line.
SELLER_WELCOME = N_("🎉 <b>{name}</b> is approved: you can sell on chatshop now!")
SORRY = N_("Sorry, something went wrong on our side. Please try again in a moment.")
# The title of a seller's order list and what it says when empty, by filter (handlers/seller.py's state).
ORDER_FILTER = Labels({
    # Translators: which orders a seller's list shows, in "Orders (open, 3)"; so are the next nine.
    OPEN_FILTER: N_("open"),
    OrderStatus.PENDING_PAYMENT: N_("awaiting payment"),
    OrderStatus.PLACED: N_("placed"),
    OrderStatus.PAID: N_("paid"),
    OrderStatus.ACCEPTED: N_("accepted"),
    OrderStatus.SHIPPED: N_("shipped"),
    OrderStatus.DELIVERED: N_("delivered"),
    OrderStatus.CANCELLED: N_("cancelled"),
    OrderStatus.REFUNDED: N_("refunded"),
    OrderStatus.EXPIRED: N_("expired"),
})
NO_ORDERS = Labels({
    OPEN_FILTER: N_("🛎 No open orders right now."),
    OrderStatus.PENDING_PAYMENT: N_("🛎 No orders awaiting payment right now."),
    # Translators: "placed": cash-on-delivery orders not yet accepted by the seller.
    OrderStatus.PLACED: N_("🛎 No placed orders right now."),
    OrderStatus.PAID: N_("🛎 No paid orders right now."),
    OrderStatus.ACCEPTED: N_("🛎 No accepted orders right now."),
    OrderStatus.SHIPPED: N_("🛎 No shipped orders right now."),
    OrderStatus.DELIVERED: N_("🛎 No delivered orders right now."),
    OrderStatus.CANCELLED: N_("🛎 No cancelled orders right now."),
    OrderStatus.REFUNDED: N_("🛎 No refunded orders right now."),
    OrderStatus.EXPIRED: N_("🛎 No expired orders right now."),
})
# How many results a search shows at most.
SEARCH_BEST = 50


def welcome(name: str | None) -> str:
    """The start menu's greeting, by first name when Telegram gives one."""
    if name:
        # Translators: {name} is the shopper's first name.
        head = _("👋 <b>Welcome to chatshop, {name}!</b>").format(name=escape(name))
    else:
        head = _("👋 <b>Welcome to chatshop!</b>")
    return head + "\n\n" + _(
        "Just type what you are looking for (a typo is fine), e.g. <i>red hoodie</i> or <i>headphones</i>.\n"
        "Or browse the categories, check your cart and follow your orders:")


def percent(basis_points: int) -> str:
    """Basis points as a percentage, the language's way: 1250 -> "12.5%" ("12,5%" in Spanish)."""
    return format_percent(Decimal(basis_points).scaleb(-4), "#,##0.##%", locale=locale_for(current()))


def money(amount: int, currency: str, lang: str | None = None) -> str:
    """A formatted amount, in ``lang``'s way or the current language's."""
    return format_money(amount, currency, lang or current())


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
    # Translators: a shipping fee of nothing, e.g. on a button "Standard — free".
    return money(amount, currency, lang) if amount else _("free")


def kept(value: str | None) -> str:
    """A piece of a buyer's contact, escaped, or a note that it was erased."""
    # Translators: in place of a buyer's name, phone or address that was erased (their personal data).
    return escape(value) if value is not None else _("<i>(erased)</i>")


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
        return _("❌ Sold out")
    if stock <= low_stock:
        # Translators: {count} is how many of a product are left in stock.
        return ngettext("⚠️ Only {count} left", "⚠️ Only {count} left", stock).format(count=stock)
    return _("✅ In stock")


def price_range(product: ProductView, currency: str, lang: str | None) -> str:
    """"$19.99" or "from $19.99" when variants differ in price."""
    low = money(product.min_price, currency, lang)
    # Translators: the lowest price of a product whose options differ in price, e.g. "from $19.99".
    return low if product.min_price == product.max_price else _("from {price}").format(price=low)


def time_left(ends: datetime, now: datetime) -> str:
    """How long until ``ends``, in hours and minutes: "5 h 20 min" (at least a minute)."""
    minutes = max(1, int((ends - now).total_seconds()) // 60)
    if minutes < 60:
        # Translators: a short time left, {minutes} a number of minutes, e.g. "20 min".
        return _("{minutes} min").format(minutes=minutes)
    # Translators: a time left, {hours} and {minutes} numbers, e.g. "5 h 20 min".
    return _("{hours} h {minutes} min").format(hours=minutes // 60, minutes=minutes % 60)


def deal_variant(product: ProductView) -> VariantView | None:
    """The variant on a flash deal that sets the product's lowest price, if any."""
    return next((v for v in product.variants if v.on_deal and v.price == product.min_price), None)


def deal_price(variant: VariantView, currency: str, lang: str | None, now: datetime | None) -> str:
    """A variant's flash-deal price (HTML): the deal's, its own struck through, and the time left."""
    # Translators: a flash deal on a product: {price} the deal's price, {was} the usual price (shown struck
    # through), {left} the time left, e.g. "5 h 20 min".
    return _("⚡ <b>{price}</b> instead of <s>{was}</s> · ends in {left}").format(
        price=money(variant.price, currency, lang), was=money(variant.regular_price or 0, currency, lang),
        left=time_left(variant.deal_ends, now or datetime.now(variant.deal_ends.tzinfo)))


def stars(rating: int) -> str:
    """A rating drawn as five stars: ★★★★☆."""
    return "★" * rating + "☆" * (5 - rating)


def average(count: int, total: int) -> str:
    """Average stars to one decimal, the reader's way (4.6, "4,6" in Spanish)."""
    average = (Decimal(total) / Decimal(count)).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
    return format_decimal(average, "0.0", locale=locale_for(current()))


def rating_summary(count: int, total: int) -> str:
    """A product's rating on its card: "★ 4.6 · 38 reviews"."""
    # Translators: {average} is a product's average stars out of 5 (4.6), {count} how many reviews it has.
    return ngettext("★ {average} · {count} review", "★ {average} · {count} reviews", count).format(
        average=average(count, total), count=count)


def rating_short(count: int, total: int) -> str:
    """A rating in a list of products: "★ 4.6 (38)"."""
    return f"★ {average(count, total)} ({count})"


def product_card(product: ProductView, selected: VariantView | None, currency: str, lang: str | None,
                 low_stock: int, now: datetime | None = None, rating: tuple[int, int] | None = None,
                 seller_score: str | None = None) -> str:
    """The text (or photo caption) of a product card (``now``: for a flash deal's time left; ``rating``: its
    reviews' count and stars in all, when it has reviews; ``seller_score``: the seller's score line)."""
    lines = [f"<b>{escape(product.title)}</b>"]
    seller, category = escape(product.seller_name), escape(product.category_name)
    if product.brand:
        # Translators: {brand} is the product's brand, {seller} the shop selling it, {category} its category.
        lines.append(_("{brand} · by {seller} · {category}").format(brand=escape(product.brand), seller=seller,
                                                                      category=category))
    else:
        # Translators: {seller} is the shop selling the product, {category} its category.
        lines.append(_("by {seller} · {category}").format(seller=seller, category=category))
    if rating is not None and rating[0] > 0:
        lines.append(rating_summary(*rating))
    if seller_score:
        lines.append(seller_score)
    if selected is not None:
        # Translators: {option} is the chosen option of a product, e.g. "M / Black".
        option = _("Option: <b>{option}</b>").format(option=escape(selected.label)) + "\n" if selected.label else ""
        price = (deal_price(selected, currency, lang, now) if selected.on_deal
                 else f"<b>{money(selected.price, currency, lang)}</b>")
        lines.append(f"\n{option}{price} · {stock_note(selected.stock, low_stock)}")
    else:
        lines.append(f"\n<b>{price_range(product, currency, lang)}</b> · {stock_note(product.stock, low_stock)}")
    if (deal := deal_variant(product)) is not None and deal is not selected:
        # Translators: {option} is a product's option on a flash deal, {deal} its price, e.g. "⚡ $19.99 instead
        # of $24.99 · ends in 5 h 20 min".
        lines.append(_("{option}: {deal}").format(option=escape(deal.label), deal=deal_price(
            deal, currency, lang, now)) if deal.label else deal_price(deal, currency, lang, now))
    if product.kind == ProductKind.DIGITAL:
        lines.append(_("⚡ Digital: paid in Telegram Stars, sent to this chat as soon as you pay."))
    if product.description:
        text = product.description
        if len(text) > DESCRIPTION_MAX:
            text = text[: DESCRIPTION_MAX - 1].rstrip() + "…"
        lines.append(f"\n{escape(text)}")
    if product.has_options:
        lines.append("\n" + _("Choose an option below, then tap <b>Add to cart</b>."))
    return "\n".join(lines)


def product_line(position: int, product: ProductView, currency: str, lang: str | None,
                 now: datetime | None = None, rating: tuple[int, int] | None = None) -> str:
    """One numbered product in a result list (a flash deal's price with the usual one struck through; its
    rating when it has reviews)."""
    title, price, seller = escape(product.title), price_range(product, currency, lang), escape(product.seller_name)
    if (deal := deal_variant(product)) is not None:
        price = deal_price(deal, currency, lang, now)
    if rating is not None and rating[0] > 0:
        seller = f"{seller} · {rating_short(*rating)}"
    if product.stock <= 0:
        # Translators: a numbered line of a list of products: its title, price and seller, and that it is sold out.
        return _("{position}. <b>{title}</b> — {price} · {seller} · sold out").format(
            position=position, title=title, price=price, seller=seller)
    return f"{position}. <b>{title}</b> — {price} · {seller}"


def saved_products(page: SavedPage, currency: str, lang: str | None) -> tuple[str, list[tuple[str, int]]]:
    """/saved: the text of a page of the wishlist, and its buttons (text, product id), numbered alike."""
    if not page.total:
        return _("♡ <b>No saved products yet.</b>\nTap ♡ <b>Save</b> on a product to keep it here: I'll tell "
                 "you when its price drops."), []
    # Translators: the title of /saved; {count} is how many products the shopper saved.
    lines = [ngettext("♥ <b>Saved products</b> ({count})", "♥ <b>Saved products</b> ({count})",
                      page.total).format(count=page.total) + "\n"]
    listed = []
    start = page.page * SAVED_PAGE_SIZE
    for number, entry in enumerate(page.entries, start + 1):
        title, price = escape(short(entry.title, ITEM_TITLE_MAX)), money(entry.price, currency, lang)
        if entry.status != ProductStatus.ACTIVE:
            # Translators: a saved product its seller took off sale for now: {number} its position, {title} its
            # name, {price} its price.
            line = _("{number}. <b>{title}</b> — {price} · ⏸ not on sale for now")
        elif not entry.in_stock:
            # Translators: a saved product: {number} its position, {title} its name, {price} its price.
            line = _("{number}. <b>{title}</b> — {price} · sold out")
        else:
            line = "{number}. <b>{title}</b> — {price}"
        lines.append(line.format(number=number, title=title, price=price))
        listed.append((f"{number}. {short(entry.title, 40)}", entry.product_id))
    lines.append("\n" + _("Tap a product to see it, ✕ to take it off your list."))
    return "\n".join(lines), listed


def alert_settings() -> str:
    """/notifications: what each kind of message is, and how the buttons work."""
    return "\n".join([
        _("🔔 <b>Notifications</b>"),
        # Translators: the kinds of message below are buttons of /notifications; use the same words.
        _("• <b>Review requests</b>: after a delivery, I ask how you liked what you bought."),
        _("• <b>Back in stock</b>: a sold-out option you asked about is in stock again."),
        _("• <b>Price drops</b>: products you saved got cheaper (one message a day at most)."),
        "",
        _("✅ on, 🔕 off: tap to switch. Messages about your orders always come."),
    ])


def search_results(query: str, products: list[ProductView], start: int, total: int, currency: str,
                   lang: str | None, now: datetime | None = None,
                   ratings: dict[int, tuple[int, int]] | None = None, *, price: PriceRange | None = None,
                   category: str | None = None, options: tuple[str, ...] = ()) -> str:
    """A page of search results (``ratings``: the products with reviews, their count and stars in all); with
    the filters the query stated (``query`` then its words without the price), what was understood."""
    if price is not None and not query:
        # A price alone ("under 20"): no words to quote.
        # Translators: {count} is how many products a search by price alone shows; the price follows.
        head = ngettext("🔎 {count} product:", "🔎 {count} products:", min(total, SEARCH_BEST)).format(
            count=min(total, SEARCH_BEST)) + " " + _price_limit(price, currency, lang)
    elif price is not None:
        head = _price_head(query, price, min(total, SEARCH_BEST), total >= SEARCH_BEST, currency, lang)
    elif total < SEARCH_BEST:
        # Translators: {query} is what the shopper typed, {count} how many products it found.
        head = ngettext("🔎 Results for “{query}” — {count} found:", "🔎 Results for “{query}” — {count} found:",
                        total).format(query=escape(query), count=total)
    else:
        # Translators: {query} is what the shopper typed; only the {count} best matching products are shown.
        head = ngettext("🔎 Results for “{query}” — best {count} shown:",
                        "🔎 Results for “{query}” — best {count} shown:",
                        SEARCH_BEST).format(query=escape(query), count=SEARCH_BEST)
    lines = [head, *filter_lines(category, options), ""]
    lines += [product_line(start + i + 1, p, currency, lang, now, (ratings or {}).get(p.id))
              for i, p in enumerate(products)]
    lines.append("\n" + _("Tap a product to see it."))
    return "\n".join(lines)


def _price_head(query: str, price: PriceRange, count: int, best: bool, currency: str, lang: str | None) -> str:
    """The head of search results narrowed by a price: "🔎 “hoodie” under $30.00 — 4 found:"."""
    low = money(price.low, currency, lang) if price.low is not None else ""
    high = money(price.high, currency, lang) if price.high is not None else ""
    fields = {"query": escape(query), "count": count, "price": high or low, "low": low, "high": high}
    if price.low is not None and price.high is not None:
        if best:
            # Translators: {query} is what the shopper typed, priced from {low} to {high}; only the {count} best
            # matching products are shown.
            text = ngettext("🔎 “{query}” from {low} to {high} — best {count} shown:",
                            "🔎 “{query}” from {low} to {high} — best {count} shown:", count)
        else:
            # Translators: {query} is what the shopper typed, priced from {low} to {high}; {count} were found.
            text = ngettext("🔎 “{query}” from {low} to {high} — {count} found:",
                            "🔎 “{query}” from {low} to {high} — {count} found:", count)
    elif price.high is not None:
        if best:
            # Translators: {query} is what the shopper typed, priced at most {price}; only the {count} best
            # matching products are shown.
            text = ngettext("🔎 “{query}” under {price} — best {count} shown:",
                            "🔎 “{query}” under {price} — best {count} shown:", count)
        else:
            # Translators: {query} is what the shopper typed, priced at most {price}; {count} were found.
            text = ngettext("🔎 “{query}” under {price} — {count} found:",
                            "🔎 “{query}” under {price} — {count} found:", count)
    elif best:
        # Translators: {query} is what the shopper typed, priced at least {price}; only the {count} best
        # matching products are shown.
        text = ngettext("🔎 “{query}” over {price} — best {count} shown:",
                        "🔎 “{query}” over {price} — best {count} shown:", count)
    else:
        # Translators: {query} is what the shopper typed, priced at least {price}; {count} were found.
        text = ngettext("🔎 “{query}” over {price} — {count} found:", "🔎 “{query}” over {price} — {count} found:",
                        count)
    return text.format(**fields)


def filter_lines(category: str | None, options: tuple[str, ...]) -> list[str]:
    """What a search understood besides the price: the category it kept to, the options it looked for."""
    lines = []
    if category:
        # Translators: under search results; {category} is a category of the catalog the query named.
        lines.append(_("🗂 Only in {category}.").format(category=f"<b>{escape(category)}</b>"))
    if options:
        # Translators: under search results; {options} are words of product options the query named, e.g.
        # "<i>red</i> / <i>m</i>": only products with one option that has all of them are listed (a red M),
        # each opening on it.
        lines.append(_("🎨 Only products that come in {options}.").format(
            options=" / ".join(f"<i>{escape(word)}</i>" for word in options)))
    return lines


def no_filtered_results(query: str, price: PriceRange | None, category: str | None, options: tuple[str, ...],
                        currency: str, lang: str | None) -> str:
    """What a search whose filters left nothing says: what it understood, and to search without them."""
    # Translators: {query} is what the shopper typed.
    head = _("😕 Nothing found for “{query}”.").format(query=escape(query))
    if price is not None:
        head += " " + _price_limit(price, currency, lang)
    return "\n".join([head, *filter_lines(category, options),
                      _("Nothing matches all these filters: search without them, or browse a category.")])


def _price_limit(price: PriceRange, currency: str, lang: str | None) -> str:
    """The price a search was narrowed to, as a sentence: "Price: up to $30.00."."""
    low = money(price.low, currency, lang) if price.low is not None else ""
    high = money(price.high, currency, lang) if price.high is not None else ""
    if low and high:
        # Translators: the price range a search was narrowed to.
        return _("Price: {low} to {high}.").format(low=low, high=high)
    if high:
        # Translators: the highest price a search was narrowed to.
        return _("Price: up to {price}.").format(price=high)
    # Translators: the lowest price a search was narrowed to.
    return _("Price: {price} or more.").format(price=low)


def no_results(query: str, suggestions: tuple[str, ...]) -> str:
    """What a search that found nothing says, never silence."""
    # Translators: {query} is what the shopper typed.
    text = _("😕 Nothing found for “{query}”.").format(query=escape(query))
    if suggestions:
        # Translators: {words} are searches that would find something, e.g. "<i>hoodie</i>, <i>hoodies</i>".
        text += "\n" + _("Did you mean: {words}?").format(words=", ".join(f"<i>{escape(s)}</i>" for s in suggestions))
    return text + "\n" + _("Try other words, or browse a category:")


def category_page(name: str, products: list[ProductView], start: int, total: int, currency: str,
                  lang: str | None) -> str:
    """A page of a category."""
    # Translators: {name} is a category of the catalog, {count} how many products it has.
    lines = [ngettext("🗂 <b>{name}</b> — {count} product:", "🗂 <b>{name}</b> — {count} products:",
                      total).format(name=escape(name), count=total) + "\n"]
    lines += [product_line(start + i + 1, p, currency, lang) for i, p in enumerate(products)]
    return "\n".join(lines)


def _cart_line(number: int, line: CartLineView, lang: str | None, currency: str) -> str:
    amounts = (f"{line.quantity} × {money(line.unit_price, currency, lang)} = "
               f"<b>{money(line.total, currency, lang)}</b>")
    if not line.available or line.stock <= 0:
        # Translators: a line of the cart, "2 × $10.00 = $20.00", whose product is no longer sold.
        amounts = _("{amounts} — ❌ no longer available").format(amounts=amounts)
    elif line.quantity > line.stock:
        # Translators: a line of the cart, "3 × $10.00 = $30.00", with more than the {count} left in stock.
        amounts = ngettext("{amounts} — ⚠️ only {count} left", "{amounts} — ⚠️ only {count} left",
                           line.stock).format(amounts=amounts, count=line.stock)
    return f"{number}. {item_name(line.title, line.label)}\n    {amounts}"


def cart(cart_view: CartView, currency: str, lang: str | None, note: str = "") -> str:
    """The cart: numbered lines grouped by seller, a subtotal per seller and the total."""
    if not cart_view.lines:
        return (f"{escape(note)}\n\n" if note else "") + _("🛒 Your cart is empty. Type what you are looking for.")
    parts: list[str] = []
    number = 0
    for seller, lines in cart_view.by_seller():
        parts.append(f"\n<b>{escape(seller)}</b>")
        for line in lines:
            number += 1
            parts.append(_cart_line(number, line, lang, currency))
        # Translators: {amount} is what a cart's products from one seller cost together.
        parts.append("    " + _("Subtotal: {amount}").format(amount=money(sum(line.total for line in lines), currency,
                                                                          lang)))
    # Translators: {total} is what the products in the cart cost together.
    tail = ["\n" + _("Total: <b>{total}</b> (shipping is chosen at checkout)").format(
                total=money(cart_view.total, currency, lang)),
            # Translators: − + and ✕ are the cart's buttons.
            _("Use − / + to change a quantity, ✕ to remove a line.")]
    if note:
        tail.append(f"\n<i>{escape(note)}</i>")
    return fit_lines([_("🛒 <b>Your cart</b>")], parts, tail)


def review(cart_view: CartView, changes: tuple[CartAdjustment, ...], currency: str, lang: str | None,
           discount: Discount = NO_DISCOUNT, refusal: str | None = None) -> str:
    """Step 1 of checkout: what will be ordered, and what changed since the shopper last looked; the discount
    code's part under each seller, or why the code takes nothing (``refusal``, plain text)."""
    parts = []
    if changes:
        parts.append("\n" + _("<b>Since you last looked:</b>"))
        parts += [f"• {escape(cart_adjustment(change))}" for change in changes]
    parts += _lines_by_seller(cart_view, currency, lang, discount)
    # Translators: {amount} is what the products cost together, before shipping.
    items = _("Items: <b>{amount}</b>").format(amount=money(cart_view.total, currency, lang))
    if discount.total:
        # Translators: {amount} is what the products cost, {off} what the discount code {code} (SUMMER10) takes
        # off, {paid} what they cost with it taken off, before shipping.
        items = _("Items: {amount} − {off} with {code} = <b>{paid}</b>").format(
            amount=money(cart_view.total, currency, lang), off=money(discount.total, currency, lang),
            code=discount.code, paid=money(cart_view.total - discount.total, currency, lang))
    elif refusal:
        items += "\n🎟 " + escape(refusal)
    kinds = cart_view.kinds
    if kinds == (ProductKind.DIGITAL,):
        after = [_("Digital goods are paid in Telegram Stars and sent to this chat as soon as you pay."),
                 _("Continue to confirm, or cancel to keep shopping.")]
    elif ProductKind.DIGITAL in kinds:
        after = [_("<b>Paid apart:</b> the digital goods (⚡) in Telegram Stars (a payment per shop), sent to this "
                   "chat as soon as you pay; the rest by card or cash on delivery. Pay them in either order."),
                 _("Continue to enter your contact details, or cancel to keep shopping.")]
    else:
        after = [_("Continue to enter your contact details, or cancel to keep shopping.")]
    return fit_lines([_("🧾 <b>Checkout — review</b>")], parts, ["\n" + items, *after])


def _lines_by_seller(cart_view: CartView, currency: str, lang: str | None,
                     discount: Discount = NO_DISCOUNT) -> list[str]:
    parts = []
    for seller, lines in cart_view.by_seller():
        parts.append(f"\n<b>{escape(seller)}</b>")
        parts += [f"{'⚡' if line.digital else '•'} {item_name(line.title, line.label)} — {line.quantity} × "
                  f"{money(line.unit_price, currency, lang)}" for line in lines]
        if off := discount.on(lines):
            parts.append(code_off(discount.code, off, currency, lang))
    return parts


def code_off(code: str, off: int, currency: str, lang: str | None) -> str:
    """A discount code's line under what it applies to."""
    # Translators: {code} is a discount code (SUMMER10), {off} the money it takes off.
    return _("🎟 {code}: −{off}").format(code=code, off=money(off, currency, lang))


# Translators: "Share my contact" is a button; the name and number are an example to be typed like it.
ASK_CONTACT = N_("📇 <b>Checkout — contact</b>\nTap <b>Share my contact</b> below, or type your name and phone "
                 "number with the country code, e.g. <i>Ann Lee +1 202 555 0143</i>.\n/cancel to stop.")
# Translators: "Share my contact" is a button.
ASK_NAME = N_("📇 <b>Checkout — contact</b>\nType the name to deliver to, or tap <b>Share my contact</b> below. "
              "No phone number is needed for this order.\n/cancel to stop.")


def ask_contact(phone_needed: bool) -> str:
    """The contact step's question: a name and phone number, or only a name when no seller needs a phone."""
    return _(ASK_CONTACT if phone_needed else ASK_NAME)


def person(name: str, phone: str | None) -> str:
    """Who an order goes to, escaped: the name, and the phone when one was collected."""
    return escape(name) + (f", {escape(phone)}" if phone else "")


ASK_ADDRESS = N_("🏠 <b>Checkout — shipping address</b>\nSend the full address: street and number, city, "
                 "postcode, country.")
# Translators: follows the question for a shipping address, on a line of its own (keep the line break first).
ASK_ADDRESS_AGAIN = N_("\nOr tap your last address below to use it again.")


def shipping_choice(sellers: int) -> str:
    """Step 3 of checkout: how to ship."""
    text = _("🚚 <b>Checkout — shipping</b>\nChoose how you'd like it delivered.")
    if sellers > 1:
        # Translators: {count} is how many sellers the products in the cart come from (always more than one).
        text += "\n" + ngettext(
            "Your cart comes from {count} seller: each ships separately and charges the fee once.",
            "Your cart comes from {count} sellers: each ships separately and charges the fee once.",
            sellers).format(count=sellers)
    return text


def payment_choice() -> str:
    """Step 4 of checkout: how to pay."""
    return _("💰 <b>Checkout — payment</b>\nHow would you like to pay?")


def confirm(cart_view: CartView, quote: Quote, details: dict, currency: str, lang: str | None) -> str:
    """Step 5 of checkout: everything, one last time (digital goods: their payment in Stars)."""
    title = [_("✅ <b>Checkout — confirm your order</b>")]
    lines = _lines_by_seller(cart_view, currency, lang, quote.code)
    stars, payments = money(quote.stars, STARS, lang), len(quote.stars_payments)
    if details["payment"] == PaymentMethod.STARS:  # digital goods alone
        if payments > 1:
            # Translators: {stars} is an amount of Telegram Stars ("⭐ 250"), {count} how many payments (2 or more).
            paid = ngettext("Payment: {stars} in Telegram Stars, in {count} payments (one per shop). The goods are "
                            "sent to this chat as soon as you pay.",
                            "Payment: {stars} in Telegram Stars, in {count} payments (one per shop). The goods are "
                            "sent to this chat as soon as you pay.", payments)
        else:
            # Translators: {stars} is an amount of Telegram Stars ("⭐ 250").
            paid = _("Payment: {stars} in Telegram Stars. The goods are sent to this chat as soon as you pay.")
        return fit_lines(title, lines, ["\n" + _total(quote.total.format(lang)),
                                        paid.format(stars=stars, count=payments)])
    physical = cart_view.of_kind(ProductKind.PHYSICAL)
    parts = ["\n" + _items(money(physical.total, currency, lang))]
    if off := quote.code.on(physical.lines):
        parts.append(code_off(quote.code.code, off, currency, lang))
    shipping, amount = escape(details["shipping_name"]), quote.shipping_total.format(lang)
    if quote.sellers > 1:
        # Translators: {name} is a way to ship (e.g. Standard), paid once to each of {count} sellers; {fee} in all.
        parts.append(ngettext("Shipping ({name} × {count} seller): {fee}", "Shipping ({name} × {count} sellers): {fee}",
                              quote.sellers).format(name=shipping, count=quote.sellers, fee=amount))
    else:
        parts.append(_shipping(shipping, amount))
    parts.append(_total(quote.physical_total.format(lang)))
    parts.append("\n" + _deliver_to(person(details["name"], details["phone"])))
    parts.append(escape(details["address"]))
    # Translators: {method} is how the order is paid, e.g. "💳 Card".
    parts.append(_("Payment: {method}").format(method=PAYMENT_METHOD[details["payment"]]))
    if quote.two_payments and payments > 1:
        # Translators: {count} is how many more payments (2 or more), {amount} what the digital goods cost,
        # {stars} the same in Telegram Stars ("⭐ 250").
        more = ngettext("<b>{count} more payments</b>, one per shop, for the digital goods (⚡): {amount} = "
                        "<b>{stars}</b> in Telegram Stars, sent to this chat as soon as you pay.",
                        "<b>{count} more payments</b>, one per shop, for the digital goods (⚡): {amount} = "
                        "<b>{stars}</b> in Telegram Stars, sent to this chat as soon as you pay.", payments)
        parts.append("\n" + more.format(count=payments, amount=quote.digital.format(lang), stars=stars))
    elif quote.two_payments:
        # Translators: {amount} is what the digital goods cost, {stars} the same in Telegram Stars ("⭐ 250").
        parts.append("\n" + _("<b>Second payment</b>, digital goods (⚡): {amount} = <b>{stars}</b> in Telegram "
                              "Stars, sent to this chat as soon as you pay.").format(
            amount=quote.digital.format(lang), stars=stars))
    return fit_lines(title, lines, parts)


def _items(amount: str) -> str:
    # Translators: {amount} is what the products of an order cost together, before shipping.
    return _("Items: {amount}").format(amount=amount)


def _shipping(name: str, amount: str) -> str:
    # Translators: {name} is a way to ship (e.g. Standard), {fee} what it costs.
    return _("Shipping ({name}): {fee}").format(name=name, fee=amount)


def _total(amount: str) -> str:
    # Translators: {total} is what an order costs in all, shipping included.
    return _("<b>Total: {total}</b>").format(total=amount)


def _deliver_to(who: str) -> str:
    # Translators: {person} is the name (and phone) an order goes to; the address follows on the next line.
    return _("Deliver to: {person}").format(person=who)


def _buy_now_item(item: CartView, currency: str, lang: str | None) -> str:
    line = item.lines[0]
    # Translators: {item} is a product (with its option), {price} its price, {seller} the shop selling it.
    return _("⚡ <b>Buy now</b>: {item} — <b>{price}</b>\nSold by {seller}. Your cart stays as it is.").format(
        item=item_name(line.title, line.label), price=money(line.unit_price, currency, lang),
        seller=escape(short(line.seller_name, ITEM_TITLE_MAX)))


def buy_now_contact(item: CartView, saved: Saved | None, phone_needed: bool, currency: str, lang: str | None) -> str:
    """Buy now's first screen: the item, and who and where it goes to (the last order's details first)."""
    head = _buy_now_item(item, currency, lang)
    if saved is None:
        return f"{head}\n\n{ask_contact(phone_needed)}"
    if phone_needed:
        # Translators: "Deliver there" is a button; the name and number are an example to be typed like it.
        other = _("Tap <b>Deliver there</b>, or type another name and phone number "
                  "(e.g. <i>Ann Lee +1 202 555 0143</i>) to send it elsewhere.")
    else:
        # Translators: "Deliver there" is a button; the name is an example.
        other = _("Tap <b>Deliver there</b>, or type another name (e.g. <i>Ann Lee</i>) to send it elsewhere.")
    # Translators: {person} is the name (and phone) of the last order's delivery.
    deliver = _("📇 <b>Deliver to</b> {person}").format(person=person(saved.name, saved.phone))
    return f"{head}\n\n{deliver}\n🏠 {escape(saved.address)}\n\n{other}"


def buy_now_payment(step: PaymentStep, currency: str, lang: str | None) -> str:
    """Buy now's payment step: the item, where it goes, the shipping chosen and the total."""
    details, quote = step.details, step.quote
    # Translators: {name} is the way to ship chosen (e.g. Standard), {fee} what it costs; the others are buttons.
    shipping = _("🚚 {name}: {fee} (tap another below to change)").format(
        name=escape(details["shipping_name"]), fee=fee(quote.shipping_total.amount, currency, lang))
    off = quote.code.on(step.cart.lines)
    coupon = code_off(quote.code.code, off, currency, lang) + "\n" if off else ""
    return (f"{_buy_now_item(step.cart, currency, lang)}\n\n"
            f"📇 {person(details['name'], details['phone'])}\n🏠 {escape(details['address'])}\n"
            f"{shipping}\n{coupon}{_total(quote.total.format(lang))}\n\n" + _("💰 How would you like to pay?"))


def when(moment: datetime, lang: str | None) -> str:
    """A short date and time in the shopper's locale (UTC)."""
    return format_datetime(moment, "short", tzinfo=moment.tzinfo, locale=locale_for(lang or current())) + " UTC"


def order_list(orders: list[OrderSummary], start: int, total: int, lang: str | None) -> str:
    """A page of the buyer's orders, newest first."""
    if not orders:
        return _("📦 You have no orders yet. Type what you are looking for to start shopping.")
    # Translators: {count} is how many orders the shopper has.
    parts = [_("📦 <b>Your orders</b> ({count}):").format(count=total) + "\n"]
    for order in orders:
        # Translators: a line of the shopper's orders: {count} products, costing {total}, and where the order stands.
        summary = ngettext("{count} item · {total} · <b>{status}</b>", "{count} items · {total} · <b>{status}</b>",
                           order.items).format(count=order.items, total=money(order.total, order.currency, lang),
                                               status=order_status(order.status))
        parts.append(f"<b>#{order.id}</b> · {when(order.created_at, lang)} · {escape(order.seller_name)}\n"
                     f"    {summary}")
    parts.append("\n" + _("Tap an order for its details."))
    return "\n".join(parts)


def order_detail(detail: OrderDetail, lang: str | None) -> str:
    """One order: lines, totals, delivery, payment and status history."""
    order, checkout = detail.order, detail.checkout
    cur = order.currency
    # Translators: {number} is the order's number, {seller} the shop it was ordered from.
    head = [_("📦 <b>Order #{number}</b> from {seller}").format(number=order.id, seller=escape(order.seller.name)),
            # Translators: {status} is where the order stands, e.g. "shipped".
            _("Status: <b>{status}</b>").format(status=order_status(order.status)) + "\n"]
    lines = [f"• {item_name(line.title, line.variant_label)} — {line.quantity} × "
             f"{money(line.unit_price, cur, lang)} = {money(line.line_total, cur, lang)}" for line in order.lines]
    if order.kind == ProductKind.DIGITAL:
        parts = ["\n" + _total(money(order.total, cur, lang))]
        if order.discount:
            parts = ["\n" + code_off(order.coupon_code or "", order.discount, cur, lang), parts[0].lstrip("\n")]
        if holds_goods(order):
            # Translators: "Get it again" names the button below the order: use the same words as there.
            parts.append(_("⚡ Digital goods, sent to this chat once paid: tap <b>Get it again</b> to have them "
                           "once more."))
    else:
        parts = ["\n" + _items(money(order.items_total, cur, lang)),
                 _shipping(escape(checkout.shipping_name), money(order.shipping_fee, cur, lang)),
                 _total(money(order.total, cur, lang))]
        if order.discount:
            parts.insert(1, code_off(order.coupon_code or "", order.discount, cur, lang))
        if order.tracking_number:
            # Translators: {carrier} is who delivers the parcel (may be empty), {number} its tracking number.
            parts.append(_("Tracking: {carrier} {number}").format(carrier=escape(order.carrier or ""),
                                                                  number=escape(order.tracking_number)))
        parts.append("\n" + _deliver_to(contact_of(order)))
        parts.append(kept(order.address))
    method = PAYMENT_METHOD[checkout.payment_method]
    if detail.payment is not None:
        # Translators: {method} is how the order is paid (e.g. "💳 Card"), {amount} the payment and {state}
        # where it stands: "paid", "to be refunded" or "refunded".
        parts.append(_("Payment: {method} — {amount} {state}").format(
            method=method, amount=money(detail.payment.amount, detail.payment.currency, lang),
            state=PAYMENT_STATUS[detail.payment.status]))
    elif checkout.payment_method == PaymentMethod.COD:
        # Translators: {method} is "💵 Cash on delivery".
        parts.append(_("Payment: {method} — pay the courier").format(method=method))
    else:
        # Translators: {method} is how the order is to be paid, e.g. "💳 Card".
        parts.append(_("Payment: {method} — not paid yet").format(method=method))
    parts.append("\n" + _("<b>History</b>"))
    parts += [f"• {when(e.created_at, lang)}: {order_status(e.to_status)}"
              + (f" — {escape(e.note)}" if e.note and e.actor_kind != ActorKind.SYSTEM else "") for e in order.events]
    if order.cancel_reason:
        # Translators: {reason} is why the order was cancelled, as the seller or the shop wrote it.
        parts.append(_("Reason: {reason}").format(reason=escape(order.cancel_reason)))
    return fit_lines(head, lines, parts)


def seller_orders(orders: list[SellerOrder], total: int, state: str, currency: str) -> str:
    """A page of a seller's orders."""
    if not orders:
        return NO_ORDERS[state] if state in NO_ORDERS else _("🛎 No orders right now.")
    # Translators: {state} is which orders the list shows (e.g. "open"), {count} how many there are.
    parts = [_("🛎 <b>Orders</b> ({state}, {count}):").format(state=ORDER_FILTER.get(state, escape(state)),
                                                              count=total) + "\n"]
    # Translators: a line of a seller's orders: its number, the buyer, {count} products, costing {total},
    # and where the order stands.
    parts += [ngettext("<b>#{number}</b> · {buyer} · {count} item · {total} · <b>{status}</b>",
                       "<b>#{number}</b> · {buyer} · {count} items · {total} · <b>{status}</b>",
                       o.items).format(number=o.id, buyer=escape(o.buyer_name), count=o.items,
                                       total=money(o.total, o.currency, None), status=order_status(o.status))
              for o in orders]
    parts.append("\n" + _("Tap an order to act on it."))
    return "\n".join(parts)


def creator_home(code: str, showcase_url: str, discount_code: tuple[str, int, str] | None = None) -> str:
    """What an approved creator sees on /creator (``discount_code``: their personal code, its percentage off and
    the link that brings it)."""
    # Translators: {code} is the creator's code, {url} the link to their showcase; "Share link" and
    # "Add to showcase" are buttons; /earnings is a command, typed as it is.
    text = _("✨ <b>You're a chatshop creator</b> — code <code>{code}</code>\n\n"
             "• On any product card, tap <b>🔗 Share link</b> for your link to it, or <b>☆ Add to showcase</b>.\n"
             "• Your showcase: {url}\n"
             "• In any chat, type <code>@</code> and this bot's name with a few words to share products inline.\n"
             "• /earnings shows your clicks, sales and commission.").format(code=escape(code),
                                                                            url=escape(showcase_url))
    if discount_code is None:
        # Translators: /mycode is a command and ANNA10 an example code: keep both as they are.
        return text + "\n" + _("• Give your followers a discount code; what they buy with it is credited to you: "
                               "<code>/mycode ANNA10</code>")
    personal, off, url = discount_code
    # Translators: {code} is the creator's discount code, {percent} what it takes off (10%), {url} a link that
    # brings it; /mycode is a command.
    return text + "\n" + _("• Your discount code <b>{code}</b>: {percent} off, and what is bought with it is "
                           "credited to you: {url} (/mycode to change it)").format(
        code=escape(personal), percent=percent(off * 100), url=escape(url))


def showcase(name: str, products: list[ProductView], start: int, total: int, currency: str,
             lang: str | None) -> str:
    """A page of a creator's showcase."""
    # Translators: {name} is a creator's name, {count} how many products their showcase has.
    lines = [_("⭐ <b>{name}'s picks</b> ({count}):").format(name=escape(name), count=total) + "\n"]
    lines += [product_line(start + i + 1, p, currency, lang) for i, p in enumerate(products)]
    lines.append("\n" + _("Tap a product to see it."))
    return "\n".join(lines)
