"""Payments: pre-checkout re-validation and recording a successful payment once."""

from __future__ import annotations

import logging

from telegram import Update, User
from telegram.constants import ParseMode
from telegram.error import TelegramError

from handlers import i18n, render
from handlers.checkout import placed_message
from handlers.common import reply
from handlers.context import ShopContext
from handlers.fit import fit
from handlers.i18n import _
from handlers.messages import error_text
from store.errors import ShopError
from store.models import Checkout
from store.services import payments, unpaid, users
from store.services.inbox import AlreadyApplied
from store.services.payments import Applied
from store.states import ProductKind

logger = logging.getLogger(__name__)


async def _speak_their_language(context: ShopContext, person: User) -> None:
    """A pre-checkout query is handled out of the person's lane, so the inbox did not read their chosen
    language with it: read it for the refusal (their app's language if the store cannot say)."""
    chosen = context.shop.languages.get(person.id)
    if chosen is None:
        try:
            async with context.shop.db.read() as session:
                chosen = (await users.chosen_languages(session, [person.id]))[person.id]
        except Exception:  # the store is failing: the refusal must still go within Telegram's 10 s
            logger.warning("could not read the language of user %s; answering in their app's", person.id)
    i18n.use(i18n.language_of(chosen, person.language_code))


async def on_pre_checkout(update: Update, context: ShopContext) -> None:
    """Check the checkout is still open, unchanged and reserved before Telegram charges the buyer."""
    query = update.pre_checkout_query
    try:
        async with context.shop.db.transaction() as session:
            await payments.check_pre_checkout(session, query.from_user.id, query.invoice_payload, query.currency,
                                        query.total_amount, context.shop.clock())
    except ShopError as exc:
        logger.info("pre-checkout refused for user %s: %s", query.from_user.id, exc.code)
        await _speak_their_language(context, query.from_user)
        await query.answer(ok=False, error_message=error_text(exc))
        return
    except AlreadyApplied:
        raise  # another process has this query: it answers
    except Exception:
        # Telegram waits 10 s for an answer: say no at once rather than let the buyer hang.
        logger.exception("pre-checkout of user %s failed", query.from_user.id)
        await _speak_their_language(context, query.from_user)
        await query.answer(ok=False,
                           error_message=_("Sorry, we couldn't check your order just now. Please try again."))
        return
    await query.answer(ok=True)


async def on_successful_payment(update: Update, context: ShopContext) -> None:
    """Mark the checkout's orders paid, once per charge id."""
    message = update.effective_message
    payment = message.successful_payment
    user_id = update.effective_user.id
    # Logged before anything else: if recording fails, this line is how the money is traced.
    logger.info("payment received: user %s, %s %s, charge %s, provider charge %s, payload %s", user_id,
                payment.total_amount, payment.currency, payment.telegram_payment_charge_id,
                payment.provider_payment_charge_id, payment.invoice_payload)
    try:
        async with context.shop.db.transaction() as session:
            outcome = await payments.record_payment(
                session, user_id, payment.invoice_payload, currency=payment.currency,
                amount=payment.total_amount, charge_id=payment.telegram_payment_charge_id,
                provider_charge_id=payment.provider_payment_charge_id, now=context.shop.clock(),
                operators=context.shop.options.operator_ids,
            )
            order_ids = [order.id for order in outcome.checkout.orders]
            asked = outcome.checkout.pay_message_id
            digital = any(order.kind == ProductKind.DIGITAL for order in outcome.checkout.orders)
            # The payments its Place order made, as they stand now: its message is written again from them.
            together = (await unpaid.placed_together(session, user_id, asked)
                        if outcome.status == Applied.PAID else [])
    except ShopError as exc:
        logger.error("payment %s of user %s not matched: %s", payment.telegram_payment_charge_id, user_id,
                     exc.code)
        await reply(update, _("We received your payment but couldn't match it to an order. Our team will sort it "
                              "out and refund you if needed."))
        return
    numbers = ", ".join(f"#{order_id}" for order_id in order_ids)
    if outcome.status == Applied.DUPLICATE:
        logger.info("payment %s seen again; nothing to do", payment.telegram_payment_charge_id)
    elif outcome.status == Applied.REFUND_DUE:
        logger.warning("payment %s for checkout %s is due for refund", payment.telegram_payment_charge_id,
                       outcome.checkout.id)
        # Translators: {numbers} is one or more order numbers ("#12" or "#12, #13": one per seller).
        await reply(update, _("We received your payment, but order {numbers} could no longer be reserved. "
                              "The payment will be refunded.").format(numbers=numbers))
    else:
        amount = render.money(payment.total_amount, payment.currency)
        if digital:
            # Translators: {amount} is an amount of Telegram Stars ("⭐ 250"), {numbers} one or more order numbers.
            text = _("✅ <b>Payment of {amount} received — thank you!</b>\nOrder {numbers} is paid; your goods "
                     "follow in a moment.")
        else:
            # Translators: {amount} is an amount of money, {numbers} one or more order numbers ("#12" or "#12, #13").
            text = _("✅ <b>Payment of {amount} received — thank you!</b>\nOrder {numbers} is paid; the "
                     "seller will prepare it. See /orders any time.")
        await reply(update, text.format(amount=amount, numbers=numbers))
        if together:
            await _show_paid(update, context, asked, together)
    # The notices (a digital order's goods among them) go once the buyer has read that the payment is in
    # (had the reply failed, the worker still finds them on its next look).
    context.shop.wake_outbox()


async def _show_paid(update: Update, context: ShopContext, message_id: int, together: list[Checkout]) -> None:
    """The message that asked for the payment says it is paid (and how the Place order's other payments stand,
    with Pay / Cancel only for those still awaited)."""
    text, markup = placed_message(update, context, [(checkout, checkout.orders) for checkout in together])
    try:
        await update.get_bot().edit_message_text(fit(text), chat_id=update.effective_chat.id, message_id=message_id,
                                                 parse_mode=ParseMode.HTML, reply_markup=markup)
    except TelegramError as exc:  # deleted by the shopper, or too old to edit: the reply above says it all
        logger.info("payment message %s not updated: %s", message_id, exc)
