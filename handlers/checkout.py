"""Checkout in the chat: review, contact, address, shipping, payment, confirm, and the invoice.

What each step takes is :data:`FLOW`, at the end. The conversation itself
(which step, what was answered) lives in the store
(:mod:`store.services.checkout_flow`) and is read on every update, so a
restarted bot, or another bot process, continues where the shopper was.
"""

from __future__ import annotations

import logging
from html import escape

from telegram import Contact, InlineKeyboardMarkup, LabeledPrice, ReplyKeyboardRemove, Update

from handlers import callbacks as cb
from handlers import keyboards, messages, render
from handlers.common import answer, button_handler, chat_of, edit, ensure_user, lang, reply
from handlers.context import ShopContext
from handlers.fit import INVOICE_DESCRIPTION_MAX, INVOICE_LABEL_MAX, INVOICE_TITLE_MAX
from handlers.flows import Flow, OnStep
from handlers.i18n import N_, _, ngettext
from handlers.notifications import NOT_PAID_IN_TIME
from store.errors import Changed, ErrorCode, OutOfStock, ShopError
from store.models import Checkout, Order
from store.money import STARS
from store.services import checkout as co
from store.services import checkout_flow as flow
from store.services import unpaid
from store.services.checkout_flow import CheckoutStep
from store.services.creators import attributed_creator
from store.services.invoices import invoice_payload
from store.services.users import Step
from store.states import CheckoutStatus, PaymentMethod

logger = logging.getLogger(__name__)

# What /cancel and the Cancel button say (handlers/flows.py translates it when shown).
LEFT = N_("Checkout cancelled. Your cart is kept: /cart")


@button_handler
async def on_checkout(update: Update, context: ShopContext, _pressed: cb.StartCheckout) -> None:
    """Start checkout with a review that re-validates prices and stock."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        review = await flow.begin(session, update.effective_user.id, context.shop.options.rules, context.shop.clock())
    await answer(query)
    if not review.cart.lines:
        changes = "".join(f"{escape(messages.cart_adjustment(change))}\n" for change in review.changes)
        await reply(update, changes + messages.refusal(ErrorCode.CART_EMPTY, {}))
        return
    await reply(update, *_review(update, context, review))


def _review(update: Update, context: ShopContext, review: co.Review) -> tuple[str, InlineKeyboardMarkup]:
    """The review: its text (with the code's discount, or why it takes nothing) and keyboard."""
    refusal = messages.error_text(review.refusal) if review.refusal is not None else None
    text = render.review(review.cart, review.changes, context.shop.options.currency, lang(update), review.discount,
                         refusal)
    return text, keyboards.review(review.code)


@button_handler
async def on_add_code(update: Update, context: ShopContext, _pressed: cb.AddCode) -> None:
    """🎟 Add a code, at the review: ask for it."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        await flow.ask_code(session, update.effective_user.id)
    await answer(query)
    await reply(update, _("🎟 Type your discount code (e.g. SUMMER10)."), keyboards.back_to_review())


async def on_code(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """A discount code typed at the review: the review again with its discount, or exactly why it takes
    nothing (then another may be typed)."""
    try:
        async with context.shop.db.transaction() as session:
            review = await flow.submit_code(session, update.effective_user.id, text, context.shop.options.rules,
                                            context.shop.clock())
    except ShopError as exc:
        # Translators: {reason} says why a discount code does not apply.
        await reply(update, _("🎟 {reason}\nType another code, or go back to the review.").format(
            reason=escape(messages.error_text(exc))), keyboards.back_to_review())
        return
    await reply(update, *_review(update, context, review))


@button_handler
async def on_remove_code(update: Update, context: ShopContext, _pressed: cb.RemoveCode) -> None:
    """🎟 Remove the code, at the review: the review without it."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        review = await flow.drop_code(session, update.effective_user.id, context.shop.options.rules,
                                      context.shop.clock())
    await answer(query)
    await edit(query, *_review(update, context, review))


@button_handler
async def on_buy_now(update: Update, context: ShopContext, pressed: cb.BuyNow) -> None:
    """Buy now on a product card: a one-item checkout, asking at once where it goes (the card stays)."""
    query = update.callback_query
    shop = context.shop
    user_id = update.effective_user.id
    async with shop.db.transaction() as session:
        await ensure_user(session, update)
        creator_id = await attributed_creator(session, user_id, shop.clock(), shop.options.attribution_window)
        begun = await flow.begin_buy_now(session, user_id, pressed.variant_id, creator_id, shop.options.rules,
                                         shop.clock())
    await answer(query)
    if begun.confirmation is not None:  # a digital item: nothing to ask, its confirmation at once
        await reply(update, *_confirmation(update, context, begun.confirmation))
        return
    text = render.buy_now_contact(begun.item, begun.saved, begun.phone_needed, shop.options.currency, lang(update))
    # Saved details are one inline tap; a new shopper gets Telegram's Share-contact button.
    await reply(update, text, keyboards.use_saved() if begun.saved else keyboards.ask_contact(None))


@button_handler
async def on_use_saved(update: Update, context: ShopContext, _pressed: cb.UseSavedDetails) -> None:
    """Deliver to the last order's contact and address: on to payment, the cheapest shipping chosen."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        payment = await flow.use_saved(session, update.effective_user.id, context.shop.options.rules,
                                       context.shop.clock())
    await answer(query)
    await edit(query, *_payment_step(update, context, payment))


def _payment_step(update: Update, context: ShopContext, payment: flow.PaymentStep) -> tuple[str, InlineKeyboardMarkup]:
    """A Buy now's payment step: its text and keyboard."""
    options, language = context.shop.options, lang(update)
    return (render.buy_now_payment(payment, options.currency, language),
            keyboards.buy_now_payment(payment.options, payment.details["shipping"], options.payment_methods,
                                      options.currency, language))


@button_handler
async def on_continue(update: Update, context: ShopContext, _pressed: cb.ContinueCheckout) -> None:
    """After the review: ask for contact details."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        ask = await flow.to_contact(session, update.effective_user.id, context.shop.options.rules, context.shop.clock())
    await answer(query)
    if isinstance(ask, flow.Confirmation):  # digital goods alone: nothing to ask
        await edit(query, *_confirmation(update, context, ask))
        return
    await edit(query, _("🧾 Review done."))
    await reply(update, render.ask_contact(ask.phone_needed), keyboards.ask_contact(ask.saved))


async def on_shared_contact(update: Update, context: ShopContext, step: Step, contact: Contact) -> None:
    """A contact shared with Telegram's button, at the contact step."""
    name = " ".join(filter(None, [contact.first_name, contact.last_name]))
    async with context.shop.db.transaction() as session:
        name, phone, last_address = await flow.submit_shared_contact(
            session, update.effective_user.id, name, contact.phone_number, contact.user_id)
    await _ask_address(update, name, phone, last_address)


async def on_typed_contact(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """Name and phone number typed at the contact step."""
    async with context.shop.db.transaction() as session:
        name, phone, last_address = await flow.submit_contact(
            session, update.effective_user.id, text, context.shop.options.phone_region,
            update.effective_user.full_name)
    await _ask_address(update, name, phone, last_address)


async def _ask_address(update: Update, name: str, phone: str | None, last_address: str | None) -> None:
    prompt = _(render.ASK_ADDRESS) + (_(render.ASK_ADDRESS_AGAIN) if last_address else "")
    await reply(update, f"📇 {render.person(name, phone)} ✓\n\n{prompt}", keyboards.ask_address(last_address))


async def on_address(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """The shipping address typed at the address step."""
    currency = context.shop.options.currency
    async with context.shop.db.transaction() as session:
        taken = await flow.submit_address(session, update.effective_user.id, text, context.shop.options.rules,
                                          context.shop.clock())
    await reply(update, f"🏠 {escape(taken.address)} ✓", ReplyKeyboardRemove())
    if taken.payment is not None:
        await reply(update, *_payment_step(update, context, taken.payment))
        return
    await reply(update, render.shipping_choice(taken.sellers),
                keyboards.shipping(taken.options, currency, lang(update)))


@button_handler
async def on_shipping(update: Update, context: ShopContext, pressed: cb.ChooseShipping) -> None:
    """A shipping method was chosen (or, on a Buy now's payment step, another one): ask how to pay."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        payment = await flow.choose_shipping(session, update.effective_user.id, pressed.code,
                                             context.shop.options.rules, context.shop.clock())
    await answer(query)
    if payment.buy_now:
        await edit(query, *_payment_step(update, context, payment))
        return
    await edit(query, render.payment_choice(), keyboards.payment(context.shop.options.payment_methods))


@button_handler
async def on_payment(update: Update, context: ShopContext, pressed: cb.ChoosePayment) -> None:
    """A payment method was chosen: show everything for confirmation."""
    query = update.callback_query
    options = context.shop.options
    async with context.shop.db.transaction() as session:
        shown = await flow.choose_payment(session, update.effective_user.id, pressed.method, options.payment_methods,
                                          options.rules, context.shop.clock())
    await answer(query)
    await edit(query, *_confirmation(update, context, shown))


def _confirmation(update: Update, context: ShopContext, shown: flow.Confirmation) -> tuple[str, InlineKeyboardMarkup]:
    """The confirm step: its text and keyboard."""
    return (render.confirm(shown.cart, shown.quote, shown.details, context.shop.options.currency, lang(update)),
            keyboards.confirm(shown.quote.total.amount, shown.details["fingerprint"]))


@button_handler
async def on_place(update: Update, context: ShopContext, pressed: cb.PlaceOrder) -> None:
    """Place the orders for the total the shopper confirmed, then ask for payment if needed."""
    query = update.callback_query
    shop = context.shop
    try:
        async with shop.db.transaction() as session:
            placed = await flow.confirm(session, update.effective_user.id, pressed.total, shop.options.rules,
                                        shop.clock(), query.message.message_id if query.message else None,
                                        pressed.shown)
    except OutOfStock as exc:
        await answer(query)
        error = escape(messages.error_text(exc))
        if exc.data.get("buy_now"):
            # Translators: {error} says which item ran out.
            text = _("⚠️ {error}\n\nNothing was ordered.").format(error=error)
        else:
            # Translators: {error} says which item ran out.
            text = _("⚠️ {error}\n\nYour cart is kept: check it with /cart and check out again.").format(error=error)
        await edit(query, text)
        return
    except Changed as exc:
        await answer(query)
        await edit(query, f"⚠️ {escape(messages.error_text(exc))}")
        return
    shop.wake_outbox()
    await answer(query, _("Order placed!"))
    # One message, in place of the confirmation, says how each payment stands; then each invoice.
    await edit(query, *placed_message(update, context, [(c, placed.orders_of(c)) for c in placed.checkouts]))
    for checkout in placed.checkouts:
        if checkout.payment_method != PaymentMethod.COD:
            await send_invoice(update, context, checkout, [order.id for order in placed.orders_of(checkout)])


def placed_message(update: Update, context: ShopContext,
                   checkouts: list[tuple[Checkout, list[Order]]]) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message of a Place order: each payment (a checkout and its orders) as it stands now (to pay, paid,
    called off), with Pay and Cancel for those still awaited. Written when the orders are placed, and again
    when one is paid or called off, from the store."""
    blocks, unpaid = [], []
    for checkout, orders in checkouts:
        numbers = ", ".join(f"#{order.id}" for order in orders)
        blocks.append(_placed(update, context, checkout, numbers))
        if checkout.status == CheckoutStatus.PENDING_PAYMENT:
            unpaid.append((checkout.id, numbers, checkout.payment_method == PaymentMethod.STARS))
    return "\n\n".join(blocks), keyboards.awaiting_payments(unpaid, several=len(checkouts) > 1)


def _placed(update: Update, context: ShopContext, checkout: Checkout, numbers: str) -> str:
    """How one payment of a Place order stands."""
    if checkout.status == CheckoutStatus.PAID:
        # Translators: {numbers} is one or more order numbers ("#12" or "#12, #13": one per seller).
        return _("✅ <b>Order {numbers} is paid.</b> See /orders any time.").format(numbers=numbers)
    if checkout.status == CheckoutStatus.CANCELLED:
        # Translators: {numbers} is one or more order numbers ("#12" or "#12, #13": one per seller).
        return _("✖ Order {numbers} was cancelled before payment; the items are back on sale.").format(
            numbers=numbers)
    if checkout.status == CheckoutStatus.EXPIRED:
        return _(NOT_PAID_IN_TIME).format(numbers=numbers)
    if checkout.payment_method == PaymentMethod.COD:
        # Translators: {numbers} is one or more order numbers ("#12" or "#12, #13": one per seller), {total} an
        # amount of money.
        return (_("🎉 <b>Thank you! Your order {numbers} is placed.</b>\n"
                  "Pay {total} in cash on delivery.\n"
                  "You'll get a message here at every step. See /orders any time.")
                .format(numbers=numbers, total=render.money(checkout.total, checkout.currency, lang(update))))
    minutes = int(context.shop.options.checkout_expiry.total_seconds() // 60)
    if checkout.payment_method == PaymentMethod.STARS:
        # Translators: {numbers} is one or more order numbers ("#12" or "#12, #13": one per seller).
        text = ngettext("⚡ <b>Order {numbers} is reserved for you.</b>\nPay in Telegram Stars with the invoice "
                        "below within {minutes} minute; the goods are sent here as soon as you pay.",
                        "⚡ <b>Order {numbers} is reserved for you.</b>\nPay in Telegram Stars with the invoice "
                        "below within {minutes} minutes; the goods are sent here as soon as you pay.", minutes)
    else:
        # Translators: {numbers} is one or more order numbers ("#12" or "#12, #13": one per seller).
        text = ngettext("🧾 <b>Order {numbers} is reserved for you.</b>\nPay with the invoice below within "
                        "{minutes} minute; after that the items are released.",
                        "🧾 <b>Order {numbers} is reserved for you.</b>\nPay with the invoice below within "
                        "{minutes} minutes; after that the items are released.", minutes)
    return text.format(numbers=numbers, minutes=minutes)


def _invoice_title(checkout_id: int) -> str:
    """The invoice's title; the brand and the number alone when the language's words would not fit (a title
    is never cut inside its number)."""
    # Translators: the invoice's title, at most 32 characters with the number; {number} is a checkout number.
    title = _("chatshop checkout #{number}").format(number=checkout_id)
    return title if len(title) <= INVOICE_TITLE_MAX else f"chatshop #{checkout_id}"


def _orders_label(order_ids: list[int]) -> str:
    """The invoice's one price line for a Stars payment: its orders, as many numbers as fit whole."""
    for shown in range(len(order_ids), 0, -1):
        numbers = ", ".join(f"#{i}" for i in order_ids[:shown]) + (", …" if shown < len(order_ids) else "")
        # Translators: a line of the invoice, at most 32 characters; {numbers} is one or more order numbers
        # ("#12" or "#12, #13").
        label = _("Order {numbers}").format(numbers=numbers)
        if len(label) <= INVOICE_LABEL_MAX:
            return label
    return f"#{order_ids[0]}"


async def send_invoice(update: Update, context: ShopContext, checkout: Checkout, order_ids: list[int]) -> None:
    """Send the Telegram invoice for an unpaid checkout (card through the provider, or Stars)."""
    numbers = ", ".join(f"#{i}" for i in order_ids)
    if checkout.invoice_currency == STARS:
        prices = [LabeledPrice(_orders_label(order_ids), checkout.invoice_amount)]
        token = None
    else:
        # Translators: a line of the invoice (the price of the items), at most 32 characters.
        items = _("Items")
        if checkout.discount:
            # Translators: a line of the invoice (the price of the items after a discount code), at most 32
            # characters.
            items = render.short(_("Items, discount taken off"), INVOICE_LABEL_MAX)
        # One line for the items with the discount taken off: a negative line is refused by some providers.
        prices = [LabeledPrice(items, checkout.items_total - checkout.discount)]
        if checkout.shipping_total:
            # Translators: a line of the invoice (the shipping fee), at most 32 characters.
            prices.append(LabeledPrice(_("Shipping"), checkout.shipping_total))
        token = context.shop.options.provider_token
    count = len(order_ids)
    if checkout.shipping_code:
        # Translators: the invoice's description, at most 255 characters (cut beyond); {numbers} is the list of
        # the order numbers ("#12, #13"), {shipping} the name of the shipping method.
        description = ngettext("{count} order ({numbers}), delivered by {shipping}.",
                               "{count} orders ({numbers}), delivered by {shipping}.", count)
    else:
        # Translators: the invoice's description, at most 255 characters (cut beyond); {numbers} is the list of
        # the order numbers ("#12, #13").
        description = ngettext("{count} order ({numbers}) of digital goods, sent to this chat as soon as you pay.",
                               "{count} orders ({numbers}) of digital goods, sent to this chat as soon as you pay.",
                               count)
    description = description.format(count=count, numbers=numbers, shipping=checkout.shipping_name)
    if checkout.discount:
        # Translators: follows the invoice's description; {off} is the money a discount code took off.
        description += " " + _("Your discount code took off {off}.").format(
            off=render.money(checkout.discount, checkout.currency, lang(update)))
    await update.get_bot().send_invoice(
        chat_of(update),
        title=_invoice_title(checkout.id),
        description=render.short(description, INVOICE_DESCRIPTION_MAX),
        payload=invoice_payload(checkout.id),
        provider_token=token,
        currency=checkout.invoice_currency,
        prices=prices,
    )


@button_handler
async def on_pay_again(update: Update, context: ShopContext, pressed: cb.PayAgain) -> None:
    """Send the invoice of an unpaid order again (it was lost, deleted or scrolled away)."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        checkout = await unpaid.unpaid_checkout(session, update.effective_user.id, pressed.checkout_id,
                                                context.shop.clock())
        order_ids = [order.id for order in checkout.orders]
    await answer(query)
    await send_invoice(update, context, checkout, order_ids)


async def leave(update: Update, context: ShopContext) -> None:
    """Leave the checkout; the cart stays as it is."""
    async with context.shop.db.transaction() as session:
        await flow.leave(session, update.effective_user.id)
    await reply(update, _(LEFT), ReplyKeyboardRemove())


@button_handler
async def on_leave(update: Update, context: ShopContext, _pressed: cb.LeaveCheckout) -> None:
    """The Cancel button of a checkout step."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        left = await flow.leave(session, update.effective_user.id)
    await answer(query)
    if not left:
        await edit(query, _("This checkout is already over."))
        return
    await edit(query, _("Checkout cancelled."))
    await reply(update, _(LEFT), ReplyKeyboardRemove())


@button_handler
async def on_cancel_unpaid(update: Update, context: ShopContext, pressed: cb.CancelUnpaid) -> None:
    """Call off an order that is still awaiting payment; its items go back on sale."""
    query = update.callback_query
    user_id = update.effective_user.id
    async with context.shop.db.transaction() as session:
        checkout = await unpaid.cancel_checkout(session, user_id, pressed.checkout_id, context.shop.clock())
        # Pressed under the message of its Place order: that message shows every payment of it again.
        message_id = query.message.message_id if query.message else None
        together = (await unpaid.placed_together(session, user_id, message_id)
                    if message_id is not None and message_id == checkout.pay_message_id else [])
    context.shop.wake_outbox()
    await answer(query, _("Order cancelled."))
    if together:
        await edit(query, *placed_message(update, context, [(c, c.orders) for c in together]))
        return
    await edit(query, _("✖ This order was cancelled before payment; the items are back on sale."))


# What each step of the checkout takes; typed text at the steps answered with buttons is a search.
# The hints are translated when shown (handlers/flows.py).
FLOW = Flow(
    name="checkout",
    steps={
        CheckoutStep.REVIEW: OnStep(buttons={cb.ContinueCheckout: on_continue, cb.AddCode: on_add_code,
                                             cb.RemoveCode: on_remove_code}),
        CheckoutStep.CODE: OnStep(text=on_code, buttons={cb.AddCode: on_add_code, cb.RemoveCode: on_remove_code,
                                                         cb.ContinueCheckout: on_continue},
                                  hint=N_("Please type the discount code as text.")),
        CheckoutStep.CONTACT: OnStep(text=on_typed_contact, contact=on_shared_contact,
                                     buttons={cb.UseSavedDetails: on_use_saved},
                                     # Translators: "Share my contact" labels the key below the message.
                                     hint=N_("Please type your name and phone number, or tap Share my contact.")),
        CheckoutStep.ADDRESS: OnStep(text=on_address, hint=N_("Please type your shipping address as text.")),
        CheckoutStep.SHIPPING: OnStep(buttons={cb.ChooseShipping: on_shipping}),
        CheckoutStep.PAYMENT: OnStep(buttons={cb.ChoosePayment: on_payment, cb.ChooseShipping: on_shipping}),
        CheckoutStep.CONFIRM: OnStep(buttons={cb.PlaceOrder: on_place}),
    },
    buttons={cb.StartCheckout: on_checkout, cb.BuyNow: on_buy_now, cb.LeaveCheckout: on_leave},
    left=LEFT,
    leave_text=keyboards.CANCEL_TEXT,
    on_leave=leave,
)
