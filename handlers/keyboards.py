"""Every keyboard the bot shows, built in one place."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from handlers import callbacks as cb
from handlers.i18n import N_, Labels, _
from handlers.messages import (
    ALERT_KIND,
    PAYMENT_METHOD,
    RETURN_ACTION,
    RETURN_REASON,
    SELLER_ACTION,
    SELLER_ORDER_FILTERS,
    order_status,
)
from handlers.render import fee, short
from handlers.render import stars as stars_of
from store.models import Coupon, Order
from store.services.cart import CartView
from store.services.catalog import CategoryView, ProductView, VariantView
from store.services.checkout import ShippingOption
from store.services.contact import one_line
from store.services.fulfilment import SellerOrder
from store.services.orders import OrderSummary, allowed_actions
from store.services.returns import Returnable
from store.services.reviews import LineToRate, ReviewView
from store.states import AlertKind, CartAction, Delivery, PaymentMethod, ProductKind, ProductStatus, ReturnAction

# The reply-keyboard buttons of the checkout: marked here, translated when shown (the checkout's flow
# knows its cancel button in every language).
# Translators: a button (leave the checkout), keep it short.
CANCEL_TEXT = N_("✖ Cancel checkout")
# Translators: a button that sends the person's phone contact, keep it short.
SHARE_CONTACT_TEXT = N_("📱 Share my contact")
SEARCH_QUERY_BYTES = 48
CONFIRM_MARK = 12  # how much of a confirmation's fingerprint its Place order button carries


def button(text: str, data: cb.Button) -> InlineKeyboardButton:
    """One inline button; its callback data is the packed ``data``."""
    return InlineKeyboardButton(text, callback_data=data.pack())


def build(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows, dropping empty rows."""
    return InlineKeyboardMarkup([row for row in rows if row])


def pager(page: int, pages: int, to: Callable[[int], cb.Button]) -> list[InlineKeyboardButton]:
    """Previous / page x of y / next, for any paged list (``to(n)``: the button of page n)."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        # Translators: a button (the previous page), keep it short.
        row.append(button(_("‹ Prev"), to(page - 1)))
    row.append(button(f"{page + 1} / {pages}", cb.Noop()))
    if page + 1 < pages:
        # Translators: a button (the next page), keep it short.
        row.append(button(_("Next ›"), to(page + 1)))
    return row


def main_menu(cart_count: int = 0) -> InlineKeyboardMarkup:
    """The start menu."""
    return build([
        # Translators: a button, keep it short.
        [button(_("🗂 Categories"), cb.Categories())],
        # Translators: a button, keep it short.
        [button(_cart_label(cart_count), cb.ShowCart()), button(_("📦 My orders"), cb.OrdersPage(0))],
    ])


def _cart_label(cart_count: int) -> str:
    """The cart's button, with how many units it holds."""
    if cart_count:
        # Translators: a button; {count} is how many units the cart holds. Keep it short.
        return _("🛒 Cart ({count})").format(count=cart_count)
    # Translators: a button, keep it short.
    return _("🛒 Cart")


def categories(items: list[CategoryView]) -> InlineKeyboardMarkup:
    """One button per category, two per row."""
    buttons = [button(f"{c.name} ({c.product_count})", cb.CategoryPage(c.id, 0)) for c in items]
    return build([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def product_list(products: list[ProductView], start: int, nav: list[InlineKeyboardButton],
                 extra: list[InlineKeyboardButton] | None = None,
                 options: Mapping[int, int] | None = None) -> InlineKeyboardMarkup:
    """Numbered product buttons (opening on the option ``options`` names for a product), then paging, then
    extra buttons."""
    options = options or {}
    rows = [[button(f"{start + i + 1}. {p.title}",
                    cb.ShowOption(p.id, options[p.id]) if p.id in options else cb.ShowProduct(p.id))]
            for i, p in enumerate(products)]
    return build([*rows, nav, extra or []])


def search_page(products: list[ProductView], start: int, page: int, pages: int, query: str, *,
                plain: bool = False, options: Mapping[int, int] | None = None,
                words: str | None = None) -> InlineKeyboardMarkup:
    """Search results with paging; the (shortened) query rides in the paging buttons. ``plain``: the filters
    were dropped; ``words``: the query's words without its filters, for a button searching them alone (when
    filters narrowed the results)."""
    page_of = cb.SearchPlain if plain else cb.SearchPage
    nav = pager(page, pages, lambda n: page_of(query, n)) if query else []
    return product_list(products, start, nav, drop_filters(words), options)


def drop_filters(words: str | None) -> list[InlineKeyboardButton]:
    """A button searching the words alone, the filters dropped (none without words)."""
    if not words:
        return []
    # Translators: a button under search results narrowed by a price, an option or a category. Keep it short.
    return [button(_("✖ Search without filters"), cb.SearchPlain(words, 0))]


def seller_page(products: list[ProductView], start: int, page: int, pages: int,
                seller_id: int) -> InlineKeyboardMarkup:
    """A seller's products with paging, and the categories."""
    return product_list(products, start, pager(page, pages, lambda n: cb.SellerPage(seller_id, n)),
                        [button(_("‹ Categories"), cb.Categories())])


def category_page(products: list[ProductView], start: int, page: int, pages: int,
                  category_id: int) -> InlineKeyboardMarkup:
    """A category's products with paging and a way back."""
    return product_list(products, start, pager(page, pages, lambda n: cb.CategoryPage(category_id, n)),
                        # Translators: a button (back to the categories), keep it short.
                        [button(_("‹ Categories"), cb.Categories())])


def no_results(items: list[CategoryView], words: str | None = None) -> InlineKeyboardMarkup:
    """Categories to browse when a search found nothing; first, with ``words``, the search without its
    filters."""
    rows = categories(items).inline_keyboard
    return InlineKeyboardMarkup([drop_filters(words), *rows] if words else rows)


def product_card(product: ProductView, selected: VariantView | None, cart_count: int,
                 showcased: bool | None = None, *, saved: bool = False,
                 waiting: frozenset[int] = frozenset(), reviews: int = 0) -> InlineKeyboardMarkup:
    """Variant choices (the selected one ticked), Add to cart and Buy now (or, sold out, Tell me when it's
    back), the cart and Save; for creators, Share and Showcase.

    ``showcased`` is None for shoppers, else whether the creator's showcase holds the product; ``saved``:
    whether the viewer's wishlist holds it; ``waiting``: the options the viewer asked to be told about;
    ``reviews``: how many reviews it shows (a Reviews button when there are).
    """
    rows: list[list[InlineKeyboardButton]] = []
    if product.has_options:
        choices = []
        for variant in product.variants:
            mark = "✓ " if selected is not None and variant.id == selected.id else ""
            option = variant.label or variant.sku
            if variant.stock <= 0:
                # Translators: a button; {option} is a product's option (M / Black). Keep it short.
                option = _("{option} (sold out)").format(option=option)
            choices.append(button(f"{mark}{option}", cb.PickVariant(product.id, variant.id)))
        rows += [choices[i:i + 3] for i in range(0, len(choices), 3)]
    if selected is not None and selected.stock > 0:
        # Translators: a button, keep it short.
        rows.append([button(_("➕ Add to cart"), cb.AddToCart(selected.id)),
                     # Translators: a button (order just this item), keep it short.
                     button(_("⚡ Buy now"), cb.BuyNow(selected.id))])
    elif selected is not None:
        rows.append([_watch_button(product.id, selected.id, selected.id in waiting)])
    rows.append([button(_cart_label(cart_count), cb.ShowCart())])
    rows.append([_save_button(product.id, selected.id if selected is not None else 0, saved),
                 # Translators: a button opening the page of the shop that sells the product, keep it short.
                 button(_("🏪 The shop"), cb.SellerPage(product.seller_id, 0))])
    if reviews:
        # Translators: a button opening a product's reviews; {count} is how many there are. Keep it short.
        rows.append([button(_("⭐ Reviews ({count})").format(count=reviews), cb.ReviewsPage(product.id, 0, False))])
    if showcased is not None:
        # Translators: a button (the product is in the creator's showcase: tap to take it out), keep it short.
        toggle = _("⭐ In showcase ✓") if showcased else _("☆ Add to showcase")
        # Translators: a button, keep it short.
        rows.append([button(_("🔗 Share link"), cb.ShareLink(product.id)),
                     button(toggle, cb.ToggleShowcase(product.id, add=not showcased))])
    return build(rows)


def _save_button(product_id: int, variant_id: int, saved: bool) -> InlineKeyboardButton:
    """♡ Save, or ♥ Saved (tap to take it off the wishlist)."""
    if saved:
        # Translators: a button (the product is on the shopper's wishlist: tap to take it off), keep it short.
        return button(_("♥ Saved"), cb.ToggleSaved(product_id, variant_id, save=False))
    # Translators: a button (put the product on the shopper's wishlist, /saved), keep it short.
    return button(_("♡ Save"), cb.ToggleSaved(product_id, variant_id, save=True))


def _watch_button(product_id: int, variant_id: int, waiting: bool) -> InlineKeyboardButton:
    """On a sold-out option: ask to be told when it is back, or (asked already) tap to no longer wait."""
    if waiting:
        # Translators: a button (the shopper will be told when the sold-out option is back; tap to cancel), keep it
        # short.
        return button(_("🔔 We'll tell you ✓"), cb.WatchStock(product_id, variant_id, watch=False))
    # Translators: a button (tell me when this sold-out option is in stock again), keep it short.
    return button(_("🔔 Tell me when it's back"), cb.WatchStock(product_id, variant_id, watch=True))


def share_link(url: str, title: str) -> InlineKeyboardMarkup:
    """Open Telegram's share sheet with the link."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        # Translators: a button (opens Telegram's share sheet), keep it short.
        _("📤 Share"), url=f"https://t.me/share/url?url={quote(url, safe='')}&text={quote(title, safe='')}")]])


def creator_application(creator_id: int) -> InlineKeyboardMarkup:
    """Approve or reject a creator application."""
    # Translators: a button (an operator approves an application), keep it short.
    return build([[button(_("✅ Approve"), cb.DecideCreator(creator_id, approve=True)),
                   # Translators: a button (an operator rejects an application), keep it short.
                   button(_("✖ Reject"), cb.DecideCreator(creator_id, approve=False))]])


def showcase_page(products: list[ProductView], start: int, page: int, pages: int,
                  creator_id: int) -> InlineKeyboardMarkup:
    """A creator's picks with paging."""
    return product_list(products, start, pager(page, pages, lambda n: cb.ShowcasePage(creator_id, n)))


def cart(cart_view: CartView) -> InlineKeyboardMarkup:
    """Per line − / + / ✕ (numbered as in the text), then Checkout."""
    rows = []
    for number, line in enumerate(cart_view.lines, start=1):
        rows.append([
            button(f"− {number}", cb.ChangeCartLine(line.id, CartAction.DECREASE)),
            button(f"+ {number}", cb.ChangeCartLine(line.id, CartAction.INCREASE)),
            button(f"✕ {number}", cb.ChangeCartLine(line.id, CartAction.REMOVE)),
        ])
    if cart_view.lines:
        # Translators: a button, keep it short.
        rows.append([button(_("✅ Checkout"), cb.StartCheckout())])
    return build(rows)


def review(code: str | None = None) -> InlineKeyboardMarkup:
    """Continue or leave after the review; add a discount code, or take off the one entered."""
    # Translators: a button, keep it short; {code} is a discount code (SUMMER10).
    coupon = (button(_("🎟 Remove {code}").format(code=code), cb.RemoveCode()) if code
              # Translators: a button (type a discount code), keep it short.
              else button(_("🎟 Add a code"), cb.AddCode()))
    # Translators: a button (go on with the checkout), keep it short.
    go_on = button(_("Continue ›"), cb.ContinueCheckout())
    return build([[coupon], [go_on, button(_("✖ Cancel"), cb.LeaveCheckout())]])


def back_to_review() -> InlineKeyboardMarkup:
    """While a code is typed: the review again, as it was."""
    # Translators: a button, keep it short.
    return build([[button(_("‹ Back to the review"), cb.StartCheckout())]])


def ask_contact(saved: str | None) -> ReplyKeyboardMarkup:
    """Share-contact button (Telegram sends the verified number), the contact used last time, a way out."""
    rows = [[KeyboardButton(_(SHARE_CONTACT_TEXT), request_contact=True)]]
    if saved:
        rows.append([saved])
    return ReplyKeyboardMarkup([*rows, [_(CANCEL_TEXT)]], resize_keyboard=True, one_time_keyboard=True)


def ask_address(last_address: str | None) -> ReplyKeyboardMarkup:
    """The last address used (tap to reuse it) and a way out."""
    rows = [[one_line(last_address)]] if last_address else []
    return ReplyKeyboardMarkup([*rows, [_(CANCEL_TEXT)]], resize_keyboard=True, one_time_keyboard=True)


def use_saved() -> InlineKeyboardMarkup:
    """Buy now's first screen for a returning shopper: deliver where the last order went, or leave."""
    # Translators: a button (deliver to the saved address), keep it short.
    return build([[button(_("✅ Deliver there"), cb.UseSavedDetails()), button(_("✖ Cancel"), cb.LeaveCheckout())]])


def buy_now_payment(options: list[ShippingOption], chosen: str, methods: tuple[PaymentMethod, ...],
                    currency: str, lang: str | None) -> InlineKeyboardMarkup:
    """Buy now's payment step: the shipping choices (the chosen one ticked), then one button per way to pay."""
    shipping_rows = [[button(("✓ " if o.code == chosen else "") + _shipping_label(o, currency, lang),
                             cb.ChooseShipping(o.code))] for o in options]
    return build([*shipping_rows, *payment(methods).inline_keyboard])


def _shipping_label(option: ShippingOption, currency: str, lang: str | None) -> str:
    return f"{option.name} — {fee(option.fee, currency, lang)}"


def shipping(options: list[ShippingOption], currency: str, lang: str | None) -> InlineKeyboardMarkup:
    """One button per shipping method with its fee."""
    rows = [[button(_shipping_label(o, currency, lang), cb.ChooseShipping(o.code))] for o in options]
    return build([*rows, [button(_("✖ Cancel"), cb.LeaveCheckout())]])


def payment(methods: tuple[PaymentMethod, ...]) -> InlineKeyboardMarkup:
    """One button per payment method offered."""
    return build([*[[button(PAYMENT_METHOD[m], cb.ChoosePayment(m))] for m in methods],
                  [button(_("✖ Cancel"), cb.LeaveCheckout())]])


def confirm(total: int, fingerprint: str) -> InlineKeyboardMarkup:
    """Place the order (for the total and the order shown) or leave."""
    # Translators: a button, keep it short.
    return build([[button(_("✅ Place order"), cb.PlaceOrder(total, fingerprint[:CONFIRM_MARK]))],
                  [button(_("✖ Cancel"), cb.LeaveCheckout())]])


def awaiting_payment(checkout_id: int) -> InlineKeyboardMarkup:
    """Under an unpaid order: the invoice again, or call it off."""
    return build([_awaiting_row(checkout_id)])


def _awaiting_row(checkout_id: int) -> list[InlineKeyboardButton]:
    # Translators: a button (pay an unpaid order), keep it short.
    return [button(_("💳 Pay"), cb.PayAgain(checkout_id)),
            # Translators: a button (call off an unpaid order), keep it short.
            button(_("✖ Cancel this order"), cb.CancelUnpaid(checkout_id))]


def awaiting_payments(unpaid: list[tuple[int, str, bool]], several: bool) -> InlineKeyboardMarkup | None:
    """Under the message of a Place order: Pay and Cancel for each payment still awaited (checkout id, its
    order numbers, whether in Stars), named by its orders when the message shows ``several`` payments; none
    once all are paid or called off."""
    if len(unpaid) == 1 and not several:
        return awaiting_payment(unpaid[0][0])
    rows = []
    for checkout_id, numbers, stars in unpaid:
        # Translators: a button paying one of several payments, keep it short; {numbers} is its order number(s).
        pay = _("Pay {numbers}").format(numbers=numbers)
        # Translators: a button calling off one of several payments, keep it short; {numbers} is its order number(s).
        cancel = _("Cancel {numbers}").format(numbers=numbers)
        rows.append([button(f"{'⭐' if stars else '💳'} {pay}", cb.PayAgain(checkout_id)),
                     button(f"✖ {cancel}", cb.CancelUnpaid(checkout_id))])
    return build(rows) if rows else None


def order_list(orders: list[OrderSummary], page: int, pages: int) -> InlineKeyboardMarkup:
    """One button per order, then paging."""
    rows = [[button(f"#{o.id} · {o.seller_name}", cb.ShowOrder(o.id, page))] for o in orders]
    return build([*rows, pager(page, pages, cb.OrdersPage)])


def order_detail(page: int, checkout_id: int | None, goods_of: int | None = None,
                 rate_of: int | None = None, return_of: int | None = None) -> InlineKeyboardMarkup:
    """Back to the list, a way to call off an unpaid order, a paid digital order's goods once more, and (a
    delivered order, ``rate_of``) Rate, and (within the return window, ``return_of``) Return."""
    # Translators: a button (back to the list of orders), keep it short.
    rows = [[button(_("‹ My orders"), cb.OrdersPage(page))]]
    after = []
    if rate_of is not None:
        # Translators: a button (rate or review what a delivered order brought), keep it short.
        after.append(button(_("⭐ Rate"), cb.RateOrder(rate_of)))
    if return_of is not None:
        # Translators: a button (send goods of a delivered order back), keep it short.
        after.append(button(_("↩️ Return"), cb.StartReturn(return_of)))
    if after:
        rows.insert(0, after)
    if goods_of is not None:
        # Translators: a button (send a digital order's files, codes or links again), keep it short.
        rows.insert(0, [button(_("📥 Get it again"), cb.GetAgain(goods_of))])
    if checkout_id is not None:
        rows = awaiting_payment(checkout_id).inline_keyboard + tuple(rows)
    return build([list(row) for row in rows])


def forget() -> InlineKeyboardMarkup:
    """/forget's confirmation."""
    # Translators: a button (answers "erase your data?"), keep it short.
    return build([[button(_("🗑 Erase my data"), cb.ForgetMe(erase=True)),
                   # Translators: a button (answers "erase your data?": keep the data), keep it short.
                   button(_("Keep it"), cb.ForgetMe(erase=False))]])


# --- sellers and operators -------------------------------------------------------------------



def seller_application(seller_id: int) -> InlineKeyboardMarkup:
    """Approve or reject a seller application."""
    return build([[button(_("✅ Approve"), cb.DecideSeller(seller_id, approve=True)),
                   button(_("✖ Reject"), cb.DecideSeller(seller_id, approve=False))]])


def seller_order_actions(order: Order) -> InlineKeyboardMarkup | None:
    """What the seller may do with the order now, one button each."""
    row = [button(SELLER_ACTION[action], cb.SellerOrderAction(order.id, action)) for action in allowed_actions(order)]
    return build([row]) if row else None


def seller_orders(orders: list[SellerOrder], page: int, pages: int, state: str) -> InlineKeyboardMarkup:
    """One button per order, paging, and the state filters."""
    rows = [[button(f"#{o.id} · {o.buyer_name} · {order_status(o.status)}", cb.SellerOrder(o.id))] for o in orders]
    filters_row = [button(("• " if key == state else "") + label, cb.SellerOrdersPage(key, 0))
                   for key, label in SELLER_ORDER_FILTERS.items()]
    return build([*rows, pager(page, pages, lambda n: cb.SellerOrdersPage(state, n)), filters_row[:3],
                  filters_row[3:]])


def categories_to_file(choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    """Categories a new product can be filed under."""
    buttons = [button(name, cb.FileNewProduct(cid)) for cid, name in choices]
    return build([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def variants_done() -> InlineKeyboardMarkup:
    """Finish adding variants."""
    # Translators: a button (no more variants: publish the new product), keep it short.
    return build([[button(_("✅ Done: publish the product"), cb.PublishNewProduct())]])


def my_products(products: list[ProductView], page: int, pages: int) -> InlineKeyboardMarkup:
    """One button per product of the seller, then paging."""
    rows = [[button(("⏸ " if p.status != ProductStatus.ACTIVE else "") + p.title, cb.ManageProduct(p.id))]
            for p in products]
    return build([*rows, pager(page, pages, cb.MyProductsPage)])


def manage_product(product: ProductView) -> InlineKeyboardMarkup:
    """Edit each variant's price and stock, the description; pause, resume or remove."""
    rows = []
    for variant in product.variants:
        if variant.label:
            # Translators: a button (edit the price of the option {option}, e.g. M / Black), keep it short.
            price = _("💲 {option} price").format(option=variant.label)
            # Translators: a button (edit the stock of the option {option}, e.g. M / Black), keep it short.
            stock = _("📦 {option} stock").format(option=variant.label)
        else:
            # Translators: a button (edit the product's price), keep it short.
            price = _("💲 Price")
            # Translators: a button (edit the product's stock), keep it short.
            stock = _("📦 Stock")
        rows.append([button(price, cb.EditVariant(product.id, variant.id, cb.VariantField.PRICE)),
                     button(stock, cb.EditVariant(product.id, variant.id, cb.VariantField.STOCK))])
    # Translators: a button (hide the product from shoppers for now), keep it short.
    status_button = (button(_("⏸ Pause"), cb.SetProductStatus(product.id, ProductStatus.PAUSED))
                     if product.status == ProductStatus.ACTIVE
                     # Translators: a button (put the product on sale again), keep it short.
                     else button(_("▶ Resume"), cb.SetProductStatus(product.id, ProductStatus.ACTIVE)))
    # One flash-deal button: a product of several options asks which one next (0: not chosen yet).
    deal_variant = product.variants[0].id if len(product.variants) == 1 else 0
    # Translators: a button (schedule a flash deal: a lower price for a while), keep it short.
    rows.append([button(_("⚡ Flash deal"), cb.FlashDealOn(product.id, deal_variant))])
    # Translators: a button (edit the product's description), keep it short.
    rows.append([button(_("📝 Description"), cb.EditDescription(product.id)),
                 # Translators: a button (edit the commission paid to creators), keep it short.
                 button(_("🤝 Creator commission"), cb.EditCommission(product.id))])
    # Translators: a button (remove the product from the shop), keep it short.
    rows.append([status_button, button(_("🗑 Remove"), cb.SetProductStatus(product.id, ProductStatus.REMOVED))])
    # Translators: a button (back to the seller's products), keep it short.
    rows.append([button(_("‹ My products"), cb.MyProductsPage(0))])
    return build(rows)


def product_kinds() -> InlineKeyboardMarkup:
    """Physical or digital, for a product being added."""
    # Translators: a button (the new product is shipped to its buyers), keep it short.
    return build([[button(_("📦 Physical"), cb.ChooseProductKind(ProductKind.PHYSICAL)),
                   # Translators: a button (the new product is a file, codes or a link sent in the chat), keep it
                   # short.
                   button(_("⚡ Digital"), cb.ChooseProductKind(ProductKind.DIGITAL))]])


def deliveries() -> InlineKeyboardMarkup:
    """How a digital product being added reaches its buyers."""
    # Translators: a button (buyers of a digital product get a file), keep it short.
    return build([[button(_("📎 File"), cb.ChooseDelivery(Delivery.FILE)),
                   # Translators: a button (buyers of a digital product get one code each: license keys, gift
                   # codes), keep it short.
                   button(_("🔑 Codes"), cb.ChooseDelivery(Delivery.CODE))],
                  # Translators: a button (buyers of a digital product get a link or a text), keep it short.
                  [button(_("🔗 Link or text"), cb.ChooseDelivery(Delivery.TEXT))]])


def _goods_label(variant: VariantView) -> str:
    """The button of a digital variant's goods: add codes, replace the file, change the link or text."""
    if variant.delivery == Delivery.CODE:
        if variant.label:
            # Translators: a button (add codes to the option {option}, e.g. Standard), keep it short.
            return _("🔑 {option}: add codes").format(option=variant.label)
        # Translators: a button (add codes, e.g. license keys, to the product's pool), keep it short.
        return _("🔑 Add codes")
    if variant.delivery == Delivery.FILE:
        if variant.label:
            # Translators: a button (replace the file buyers of the option {option} get), keep it short.
            return _("📎 {option}: replace file").format(option=variant.label)
        # Translators: a button (replace the file buyers of the product get), keep it short.
        return _("📎 Replace file")
    if variant.label:
        # Translators: a button (change the link or text buyers of the option {option} get), keep it short.
        return _("🔗 {option}: change link or text").format(option=variant.label)
    # Translators: a button (change the link or text buyers of the product get), keep it short.
    return _("🔗 Change link or text")


def deal_variants(product: ProductView) -> InlineKeyboardMarkup:
    """Which option of a product gets the flash deal; back to the product."""
    rows = [[button(variant.label, cb.FlashDealOn(product.id, variant.id))] for variant in product.variants]
    # Translators: a button (back to the product being edited), keep it short.
    rows.append([button(_("‹ Back"), cb.ManageProduct(product.id))])
    return build(rows)


def deal_start() -> InlineKeyboardMarkup:
    """The flash deal being scheduled starts now (or at a typed time)."""
    # Translators: a button (the flash deal starts at once), keep it short.
    return build([[button(_("▶ Now"), cb.StartDealNow())]])


def seller_deal(deal_id: int) -> InlineKeyboardMarkup:
    """A seller's flash deal: call it off."""
    # Translators: a button (call off the flash deal), keep it short.
    return build([[button(_("✖ Cancel the deal"), cb.CancelDeal(deal_id))]])


def deals_list(listed: list[tuple[str, int, int | None]]) -> InlineKeyboardMarkup:
    """/deals: a button to each deal's product card, and Remind me under those to come
    (``listed``: the button's text, the product id, the deal id when it has not started)."""
    rows = []
    for text, product_id, upcoming in listed:
        row = [button(text, cb.ShowProduct(product_id))]
        if upcoming is not None:
            # Translators: a button (tell me when this flash deal starts), keep it short.
            row.append(button(_("🔔 Remind me"), cb.RemindDeal(upcoming)))
        rows.append(row)
    return build(rows)


def saved_list(listed: list[tuple[str, int]], page: int, pages: int) -> InlineKeyboardMarkup:
    """/saved: per product its card and ✕ (numbered as in the text), then paging (``listed``: the button's
    text and the product id)."""
    rows = [[button(text, cb.ShowProduct(product_id)), button(f"✕ {text.split('.', 1)[0]}",
                                                              cb.RemoveSaved(product_id, page))]
            for text, product_id in listed]
    return build([*rows, pager(page, pages, cb.SavedPage)])


def alert_kinds(off: set[AlertKind]) -> InlineKeyboardMarkup:
    """/notifications: each kind of message, on (✅) or off (🔕); a tap turns it the other way."""
    return build([[button(f"{'🔕' if kind in off else '✅'} {ALERT_KIND[kind]}", cb.ToggleAlert(kind, on=kind in off))]
                  for kind in AlertKind])


def open_products(listed: list[tuple[str, int]]) -> InlineKeyboardMarkup:
    """A button to each product's card (``listed``: the button's text and the product id)."""
    return build([[button(text, cb.ShowProduct(product_id))] for text, product_id in listed])


def manage_digital_product(product: ProductView) -> InlineKeyboardMarkup:
    """A digital product's edit buttons: as :func:`manage_product`'s, with each variant's goods (its codes to add,
    which are its stock, or its file, link or text)."""
    shared = manage_product(product).inline_keyboard
    rows: list[list[InlineKeyboardButton]] = []
    for variant, (price, stock) in zip(product.variants, shared, strict=False):
        goods = button(_goods_label(variant), cb.EditGoods(product.id, variant.id))
        if variant.delivery == Delivery.CODE:
            rows.append([price, goods])
        else:
            rows += [[price, stock]] + ([[goods]] if variant.delivery else [])
    return build([*rows, *(list(row) for row in shared[len(product.variants):])])


# --- coupons ----------------------------------------------------------------------------------


COUPON_PRESETS = Labels({
    # Translators: a button (a new coupon needs no minimum spend), keep it short.
    cb.CouponPreset.NO_MINIMUM: N_("No minimum"),
    # Translators: a button (a new coupon can be used from now on), keep it short.
    cb.CouponPreset.STARTS_NOW: N_("Starts now"),
    # Translators: a button (a new coupon never ends), keep it short.
    cb.CouponPreset.NO_END: N_("No end"),
    # Translators: a button (a new coupon can be used any number of times in all), keep it short.
    cb.CouponPreset.NO_USE_LIMIT: N_("No limit"),
    # Translators: a button (each shopper can use a new coupon once), keep it short.
    cb.CouponPreset.ONCE_PER_SHOPPER: N_("Once per shopper"),
    # Translators: a button (each shopper can use a new coupon any number of times), keep it short.
    cb.CouponPreset.NO_SHOPPER_LIMIT: N_("No limit per shopper"),
    # Translators: a button (a new coupon applies to all the shop's products), keep it short.
    cb.CouponPreset.ALL_PRODUCTS: N_("All my products"),
})
# Translators: a button (a new platform coupon applies to every shop's products), keep it short.
ALL_SHOPS_PRODUCTS = N_("All products")


def coupon_scopes() -> InlineKeyboardMarkup:
    """An operator who is also a seller: their shop's coupons, or the platform's."""
    # Translators: a button (the coupons of the person's own shop), keep it short.
    return build([[button(_("🏪 My shop's coupons"), cb.CouponsPage(platform=False, page=0)),
                   # Translators: a button (the coupons the platform pays for, on every shop's goods), keep it short.
                   button(_("🌐 Platform coupons"), cb.CouponsPage(platform=True, page=0))]])


def coupons(shown: list[Coupon], page: int, pages: int, platform: bool) -> InlineKeyboardMarkup:
    """Pause or resume each coupon on the page, paging, and ➕ New coupon."""
    rows = []
    for coupon in shown:
        if coupon.active:
            # Translators: a button (pause the coupon {code}: shoppers can't use it for now), keep it short.
            label = _("⏸ Pause {code}").format(code=coupon.code)
        else:
            # Translators: a button (shoppers can use the paused coupon {code} again), keep it short.
            label = _("▶ Resume {code}").format(code=coupon.code)
        rows.append([button(label, cb.SetCouponActive(coupon.id, platform, not coupon.active, page))])
    # Translators: a button (create a new coupon), keep it short.
    new = button(_("➕ New coupon"), cb.NewCoupon(platform))
    return build([*rows, pager(page, pages, lambda n: cb.CouponsPage(platform, n)), [new]])


def coupon_presets(*presets: cb.CouponPreset, platform: bool = False) -> InlineKeyboardMarkup:
    """A new-coupon step's answers by button, one row."""
    return build([[button(_(ALL_SHOPS_PRODUCTS) if platform and preset == cb.CouponPreset.ALL_PRODUCTS
                          else COUPON_PRESETS[preset], cb.PresetCouponAnswer(preset)) for preset in presets]])


def coupon_confirm() -> InlineKeyboardMarkup:
    """Create the coupon the summary shows, or cancel."""
    # Translators: a button (create the coupon summed up above), keep it short.
    return build([[button(_("✅ Create"), cb.ConfirmCoupon(create=True)),
                   # Translators: a button (don't create the coupon summed up above), keep it short.
                   button(_("✖ Cancel"), cb.ConfirmCoupon(create=False))]])


# --- reviews --------------------------------------------------------------------------------------------


RATE_LINES_MAX = 10  # lines one rating keyboard shows (a header and five stars each: 60 of Telegram's 100 buttons)


def rate_lines(lines: list[LineToRate]) -> InlineKeyboardMarkup:
    """Per line of a delivered order (the first RATE_LINES_MAX still to rate or change): its name, then five
    stars to tap (unrated), or its stars and Change (rated, its one change left)."""
    rows: list[list[InlineKeyboardButton]] = []
    shown = [line for line in lines if line.review_id is None or line.editable][:RATE_LINES_MAX]
    for line in shown:
        name = f"{line.title} ({line.label})" if line.label else line.title
        if line.review_id is None:
            rows.append([button(short(name, 40), cb.Noop())])
            rows.append([button(f"{stars} ★", cb.RateLine(line.line_id, stars)) for stars in range(1, 6)])
        else:
            rows.append([button(f"{short(name, 28)} {stars_of(line.rating or 0)}", cb.Noop())])
            # Translators: a button (change a review, which can be done once), keep it short.
            rows.append([button(_("✏️ Change my review"), cb.EditReview(line.review_id))])
    return build(rows)


def edit_stars(review_id: int) -> InlineKeyboardMarkup:
    """A review's new stars."""
    return build([[button(f"{stars} ★", cb.EditStars(review_id, stars)) for stars in range(1, 6)]])


def review_words(review_id: int, added: bool) -> InlineKeyboardMarkup:
    """Under "add words or a photo": Skip (nothing added yet) or Done."""
    # Translators: a button (the review is fine as it is: publish it), keep it short.
    done = _("✅ Done")
    # Translators: a button (publish the review with no words or photo), keep it short.
    label = done if added else _("Skip")
    return build([[button(label, cb.ReviewDone(review_id))]])


def reviews_page(product_id: int, shown: list[ReviewView], start: int, page: int, pages: int, *,
                 replies: bool, hides: bool) -> InlineKeyboardMarkup:
    """Per review on the page: its photo, Reply (its seller, when it has none) and Hide (operators); paging;
    back to the product."""
    rows = []
    for number, review in enumerate(shown, start + 1):
        row = []
        if review.photo:
            row.append(button(f"📷 {number}", cb.ReviewPhoto(review.id)))
        if replies and review.reply is None:
            # Translators: a button (the seller replies to review number {number}), keep it short.
            row.append(button(_("💬 Reply {number}").format(number=number), cb.ReplyReview(review.id)))
        if hides:
            # Translators: a button (an operator hides review number {number}), keep it short.
            row.append(button(_("🚫 Hide {number}").format(number=number), cb.HideReview(review.id)))
        rows.append(row)
    # Translators: a button (back to the product's card), keep it short.
    back = [button(_("‹ Product"), cb.ShowProduct(product_id))]
    return build([*rows, pager(page, pages, lambda n: cb.ReviewsPage(product_id, n, True)), back])


def product_reviews(product_id: int) -> InlineKeyboardMarkup:
    """Under a reply's notice: the product's reviews."""
    # Translators: a button opening a product's reviews, keep it short.
    return build([[button(_("⭐ See the reviews"), cb.ReviewsPage(product_id, 0, False))]])


# --- returns -------------------------------------------------------------------------------------------


RETURN_TITLE = 28  # a product's title on a return's unit button


def return_units(view: Returnable, chosen: dict[int, int]) -> InlineKeyboardMarkup:
    """One button per line that may go back ("1/2 · Tee (M)": tap for one more unit), then Continue and Cancel."""
    rows = [[button(f"{chosen.get(line.id, 0)}/{line.left} · {short(line.title, RETURN_TITLE)}"
                    + (f" ({short(line.variant_label, 12)})" if line.variant_label else ""), cb.ReturnUnits(line.id))]
            for line in view.lines if line.left > 0]
    # Translators: a button (leave a return request unsent), keep it short.
    leave = button(_("✖ Cancel"), cb.LeaveReturn())
    # Translators: a button (the units are chosen: on to the reason), keep it short.
    return build([*rows, [button(_("Continue ›"), cb.ReturnNext()), leave]])


def return_reasons() -> InlineKeyboardMarkup:
    """The reasons to choose from, two a row, and Cancel."""
    reasons = [button(RETURN_REASON[reason], cb.ReturnWhy(reason)) for reason in RETURN_REASON]
    return build([*(reasons[i:i + 2] for i in range(0, len(reasons), 2)), [button(_("✖ Cancel"), cb.LeaveReturn())]])


def return_send() -> InlineKeyboardMarkup:
    """Send the request (words and a photo are optional), or Cancel."""
    # Translators: a button (send the return request to the seller), keep it short.
    return build([[button(_("📨 Send request"), cb.SendReturn()), button(_("✖ Cancel"), cb.LeaveReturn())]])


def return_decision(return_id: int, actions: tuple[ReturnAction, ...]) -> InlineKeyboardMarkup | None:
    """What the seller may do with a return now (None: nothing left to do)."""
    if not actions:
        return None
    return build([[button(RETURN_ACTION[action], cb.DecideReturn(return_id, action)) for action in actions[:2]],
                  [button(RETURN_ACTION[action], cb.DecideReturn(return_id, action)) for action in actions[2:]]])


def seller_returns(listed: list[tuple[int, str]], page: int, pages: int) -> InlineKeyboardMarkup:
    """The returns of a page (return id, its button's label), paging, and the shop's return instructions."""
    rows = [[button(label, cb.SellerReturn(return_id))] for return_id, label in listed]
    # Translators: a button (write where and how buyers send goods back), keep it short.
    edit = [button(_("✏️ Return instructions"), cb.EditReturnInstructions())]
    return build([*rows, pager(page, pages, cb.SellerReturnsPage), edit])
