"""Checkout, a conversation kept in the store: review, contact, address, shipping, payment, confirm.

The step a shopper is at lives in the store (``user_steps``) and is read on
every update, so a restarted bot, or another bot process, continues where the
shopper was. Each button re-checks that the shopper is still at the step it
belongs to.
"""

from __future__ import annotations

import logging
from html import escape

from telegram import LabeledPrice, ReplyKeyboardRemove, Update

from handlers import keyboards, render
from handlers.callbacks import fit_text
from handlers.common import button_handler, edit, ensure_user, lang, reply
from handlers.context import ShopContext
from store.errors import Expired, InvalidInput, OutOfStock
from store.money import STARS
from store.services import checkout as co
from store.services.cart import get_cart
from store.services.users import Step, clear_step, get_step, get_user, set_step

logger = logging.getLogger(__name__)

REVIEW = "checkout:review"
CONTACT = "checkout:contact"
ADDRESS = "checkout:address"
SHIPPING = "checkout:shipping"
PAYMENT = "checkout:payment"
CONFIRM = "checkout:confirm"
STEPS = (REVIEW, CONTACT, ADDRESS, SHIPPING, PAYMENT, CONFIRM)
# Steps answered by typing; the others are answered with buttons.
TEXT_STEPS = (CONTACT, ADDRESS)

WRONG_STEP = "This step of the checkout is over. Tap /cart to start the checkout again."
LEFT = "Checkout cancelled. Your cart is kept: /cart"


async def _step_of(context: ShopContext, user_id: int) -> Step | None:
    async with context.shop.db.transaction() as session:
        return await get_step(session, user_id)


async def _require(context: ShopContext, user_id: int, name: str) -> Step:
    """The shopper's step, if it is ``name``; otherwise the button is stale."""
    step = await _step_of(context, user_id)
    if step is None or step.name != name:
        raise Expired(WRONG_STEP)
    return step


@button_handler
async def on_checkout(update: Update, context: ShopContext) -> None:
    """Start checkout with a review that re-validates prices and stock."""
    query = update.callback_query
    user_id = update.effective_user.id
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        review = await co.review_cart(session, user_id)
        if review.cart.lines:
            await set_step(session, user_id, REVIEW)
    await query.answer()
    options = context.shop.options
    if not review.cart.lines:
        text = "Your cart is empty, so there is nothing to check out."
        if review.changes:
            text = "\n".join(review.changes) + "\n\n" + text
        await reply(update, escape(text))
        return
    await reply(update, render.review(review.cart, review.changes, options.currency, lang(update)),
                keyboards.review())


@button_handler
async def on_continue(update: Update, context: ShopContext) -> None:
    """After the review: ask for contact details."""
    query = update.callback_query
    user_id = update.effective_user.id
    await _require(context, user_id, REVIEW)
    async with context.shop.db.transaction() as session:
        await set_step(session, user_id, CONTACT)
        user = await get_user(session, user_id)
    await query.answer()
    await edit(query, "🧾 Review done.")
    saved = f"{user.contact_name} {user.phone}" if user and user.contact_name and user.phone else None
    await reply(update, render.ASK_CONTACT, keyboards.ask_contact(saved))


async def on_contact(update: Update, context: ShopContext) -> None:
    """A shared contact: at the contact step it answers it; elsewhere it is explained."""
    user_id = update.effective_user.id
    step = await _step_of(context, user_id)
    if step is None or step.name != CONTACT:
        await reply(update, "Thanks! I only need your contact during checkout: /cart")
        return
    contact = update.effective_message.contact
    if contact.user_id is not None and contact.user_id != user_id:
        await reply(update, "Please share your own contact, or type your name and phone number.")
        return
    name = " ".join(filter(None, [contact.first_name, contact.last_name]))
    number = contact.phone_number if contact.phone_number.startswith("+") else f"+{contact.phone_number}"
    await _take_contact(update, context, step, f"{name} {number}")


async def on_step_text(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """Text typed while in checkout: an answer to a typing step, or a nudge towards the buttons."""
    if text == keyboards.CANCEL_TEXT:
        await leave(update, context)
    elif step.name == CONTACT:
        await _take_contact(update, context, step, text)
    elif step.name == ADDRESS:
        await _take_address(update, context, step, text)
    else:
        await reply(update, "Please use the buttons above to continue your checkout, or /cancel to leave it.")


async def _take_contact(update: Update, context: ShopContext, step: Step, text: str) -> None:
    user_id = update.effective_user.id
    options = context.shop.options
    try:
        name, phone = co.parse_contact(text, options.phone_region, update.effective_user.full_name)
    except InvalidInput as exc:
        await reply(update, escape(exc.message))
        return
    async with context.shop.db.transaction() as session:
        await set_step(session, user_id, ADDRESS, {**step.data, "name": name, "phone": phone})
        user = await get_user(session, user_id)
    prompt = render.ASK_ADDRESS + (render.ASK_ADDRESS_AGAIN if user and user.last_address else "")
    await reply(update, f"📇 {escape(name)}, {escape(phone)} ✓\n\n{prompt}",
                keyboards.ask_address(user.last_address if user else None))


async def _take_address(update: Update, context: ShopContext, step: Step, text: str) -> None:
    user_id = update.effective_user.id
    try:
        address = co.clean_address(text)
    except InvalidInput as exc:
        await reply(update, escape(exc.message))
        return
    async with context.shop.db.transaction() as session:
        cart = await get_cart(session, user_id)
        options = await co.shipping_options(session)
        await set_step(session, user_id, SHIPPING, {**step.data, "address": address})
    sellers = len({line.seller_id for line in cart.lines})
    await reply(update, f"🏠 {escape(address)} ✓", ReplyKeyboardRemove())
    await reply(update, render.shipping_choice(sellers),
                keyboards.shipping(options, context.shop.options.currency, lang(update)))


@button_handler
async def on_shipping(update: Update, context: ShopContext, code: str) -> None:
    """A shipping method was chosen: ask how to pay."""
    query = update.callback_query
    user_id = update.effective_user.id
    step = await _require(context, user_id, SHIPPING)
    async with context.shop.db.transaction() as session:
        shipping = await co.get_shipping(session, code)
        await set_step(session, user_id, PAYMENT, {**step.data, "shipping": shipping.code,
                                                   "shipping_name": shipping.name})
    await query.answer()
    await edit(query, render.payment_choice(), keyboards.payment(context.shop.options.payment_methods))


@button_handler
async def on_payment(update: Update, context: ShopContext, method: str) -> None:
    """A payment method was chosen: show everything for confirmation."""
    query = update.callback_query
    user_id = update.effective_user.id
    options = context.shop.options
    if method not in options.payment_methods:
        raise Expired("That payment option is not offered. Please choose another.")
    step = await _require(context, user_id, PAYMENT)
    async with context.shop.db.transaction() as session:
        cart = await get_cart(session, user_id)
        if not cart.lines:
            await clear_step(session, user_id)
            raise Expired("Your cart is empty now, so there is nothing to check out.")
        price = co.quote(cart, await co.get_shipping(session, step.data["shipping"]))
        details = {**step.data, "payment": method}
        await set_step(session, user_id, CONFIRM, details)
    await query.answer()
    await edit(query, render.confirm(cart, price, details, options.currency, lang(update)),
               keyboards.confirm(price.total))


@button_handler
async def on_place(update: Update, context: ShopContext, total: int) -> None:
    """Place the orders for the total the shopper confirmed, then ask for payment if needed."""
    query = update.callback_query
    user_id = update.effective_user.id
    options = context.shop.options
    step = await _require(context, user_id, CONFIRM)
    data = step.data
    try:
        async with context.shop.db.transaction() as session:
            placed = await co.place_order(
                session, user_id, contact_name=data["name"], phone=data["phone"], address=data["address"],
                shipping_code=data["shipping"], payment_method=data["payment"], expected_total=total,
                rules=options.rules, now=context.shop.clock(),
            )
            await clear_step(session, user_id)
    except (OutOfStock, Expired) as exc:
        async with context.shop.db.transaction() as session:
            await clear_step(session, user_id)
        await query.answer()
        await edit(query, f"⚠️ {escape(exc.message)}\n\nYour cart is kept: check it with /cart and "
                          "check out again.")
        return
    context.shop.wake_outbox()
    await query.answer("Order placed!")
    checkout = placed.checkout
    numbers = ", ".join(f"#{order.id}" for order in placed.orders)
    language = lang(update)
    if checkout.payment_method == co.COD:
        await edit(query, f"🎉 <b>Thank you! Your order {numbers} is placed.</b>\n"
                          f"Pay {render.money(checkout.total, checkout.currency, language)} in cash on delivery.\n"
                          "You'll get a message here at every step. See /orders any time.")
        return
    await edit(query, f"🧾 <b>Order {numbers} is reserved for you.</b>\nPay with the invoice below within "
                      f"{int(options.checkout_expiry.total_seconds() // 60)} minutes; after that the items "
                      "are released.", keyboards.awaiting_payment(checkout.id))
    await send_invoice(update, context, placed)


async def send_invoice(update: Update, context: ShopContext, placed: co.Placed) -> None:
    """Send the Telegram invoice for a placed checkout (card through the provider, or Stars)."""
    checkout = placed.checkout
    options = context.shop.options
    if checkout.invoice_currency == STARS:
        prices = [LabeledPrice(f"Order {', '.join(f'#{o.id}' for o in placed.orders)}", checkout.invoice_amount)]
        token = None
    else:
        prices = [LabeledPrice(fit_text(f"Items, order #{o.id}", 32), o.items_total) for o in placed.orders]
        if checkout.shipping_total:
            prices.append(LabeledPrice("Shipping", checkout.shipping_total))
        token = options.provider_token
    count = len(placed.orders)
    await update.effective_chat.send_invoice(
        title=f"chatshop checkout #{checkout.id}",
        description=fit_text(f"{count} order{'s' if count != 1 else ''}, delivered by {checkout.shipping_name}.",
                             255),
        payload=co.invoice_payload(checkout.id),
        provider_token=token,
        currency=checkout.invoice_currency,
        prices=prices,
    )


async def leave(update: Update, context: ShopContext) -> None:
    """Leave the checkout; the cart stays as it is."""
    async with context.shop.db.transaction() as session:
        await clear_step(session, update.effective_user.id)
    await reply(update, LEFT, ReplyKeyboardRemove())


@button_handler
async def on_leave(update: Update, context: ShopContext) -> None:
    """The Cancel button of a checkout step."""
    query = update.callback_query
    await query.answer()
    step = await _step_of(context, update.effective_user.id)
    if step is None or step.name not in STEPS:
        await edit(query, "This checkout is already over.")
        return
    await edit(query, "Checkout cancelled.")
    await leave(update, context)


@button_handler
async def on_cancel_unpaid(update: Update, context: ShopContext, checkout_id: int) -> None:
    """Call off an order that is still awaiting payment; its items go back on sale."""
    query = update.callback_query
    async with context.shop.db.transaction() as session:
        await co.cancel_checkout(session, update.effective_user.id, checkout_id, context.shop.clock())
    context.shop.wake_outbox()
    await query.answer("Order cancelled.")
    await edit(query, "✖ This order was cancelled before payment; the items are back on sale.")
