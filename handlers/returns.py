"""Returns in the chat: a buyer asks from a delivered order (units, reason, words or a photo), the seller
decides from the notice or /returns (approve, reject with a reason, received, refund without the goods).

What each step takes is :data:`FLOW`, at the end; the steps are
:mod:`store.services.return_flow`'s and the rules :mod:`store.services.returns`'.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.common import answer, button_handler, edit, ensure_user, lang, message_handler, reply
from handlers.context import ShopContext
from handlers.fit import fit_lines
from handlers.flows import SKIP, Flow, OnStep
from handlers.i18n import N_, _, ngettext
from handlers.messages import PAYMENT_METHOD, RETURN_REASON, RETURN_STATUS
from store.errors import ErrorCode, NotAllowed
from store.models import Order, Return
from store.services import fulfilment, return_flow, returns
from store.services.fulfilment import Actor
from store.services.return_flow import ReturnStep
from store.services.sellers import seller_of_user
from store.states import OrderStatus, PaymentMethod, ProductKind, ReturnAction, ReturnStatus

PAGE_SIZE = 6
NOTE_SHOWN = 300  # of the buyer's words, in a seller's list line

ASK_DETAILS = N_("Add a few words or a photo if it helps the seller (optional), then tap <b>Send request</b>.")
INSTRUCTIONS_HINT = N_("Please type your return instructions.")
REJECT_HINT = N_("Please type why the return is rejected.")
ASK_INSTRUCTIONS = N_("📮 Where and how should buyers send goods back? Type the address or a note: buyers see it "
                      "once you approve their return. It is kept for later returns (/returns changes it). "
                      "/cancel to stop.")


def actor(update: Update, context: ShopContext) -> Actor:
    """The person behind the update as a return's actor (operator or seller)."""
    return Actor.in_chat(update.effective_user.id, context.shop.options.operator_ids)


# --- what a return says -----------------------------------------------------------------------------------


def return_lines(ret: Return, order: Order, language: str | None) -> list[str]:
    """The units a return holds, one line each, with their share of the refund."""
    lines = {line.id: line for line in order.lines}
    shown = []
    for part in ret.lines:
        line = lines[part.order_line_id]
        shown.append(f"• {part.quantity} × {render.item_name(line.title, line.variant_label)}"
                     f" — {render.money(part.amount, ret.currency, language)}")
    return shown


def seller_return_text(ret: Return, order: Order, instructions: str | None, auto_hours: int,
                       language: str | None, *, by_the_shop: bool = False) -> str:
    """A return as its seller reads it: state, reason, the buyer's words, what goes back, the refund, and what
    to do now."""
    # Translators: {number} is a return's number, {order} the order's number, {status} the return's state.
    head = [_("↩️ <b>Return #{number}</b> · order #{order} — {status}").format(
        number=ret.id, order=order.id, status=RETURN_STATUS[ret.status])]
    # Translators: {reason} is why the buyer returns the goods ("Doesn't fit").
    head.append(_("Reason: {reason}").format(reason=RETURN_REASON[ret.reason]))
    if ret.note:
        head.append(f"“{escape(render.short(ret.note, NOTE_SHOWN))}”")
    # Translators: {amount} is what the buyer gets back, {method} how they paid ("💳 Card").
    tail = [_("Refund: <b>{amount}</b> ({method})").format(amount=render.money(ret.amount, ret.currency, language),
                                                          method=PAYMENT_METHOD[order.checkout.payment_method])]
    if ret.photo:
        tail.append(_("📷 The buyer's photo follows."))
    if by_the_shop and ret.status == ReturnStatus.APPROVED:
        # Translators: {hours} is how long a seller has to answer a return request; "Received" names the button
        # "📦 Received: refund".
        tail.append(ngettext("Approved automatically: no answer came within {hours} hour. Tap Received when the "
                             "goods are back.",
                             "Approved automatically: no answer came within {hours} hours. Tap Received when the "
                             "goods are back.", auto_hours).format(hours=auto_hours))
    elif ret.status == ReturnStatus.REQUESTED:
        # Translators: {hours} is how long a seller has to answer a return request.
        tail.append(ngettext("Please answer within {hours} hour; after that it is approved automatically.",
                             "Please answer within {hours} hours; after that it is approved automatically.",
                             auto_hours).format(hours=auto_hours))
    elif ret.status == ReturnStatus.APPROVED:
        # Translators: "Received" names the button "📦 Received: refund".
        tail.append(_("Tap Received when the goods are back: the buyer is refunded then."))
    if ret.status in returns.OPEN and order.kind == ProductKind.PHYSICAL and not instructions:
        tail.append(_("You have no return instructions yet: set them in /returns so buyers know where to send "
                      "goods."))
    return fit_lines(head, return_lines(ret, order, language), tail)


def _refund_how(ret: Return, order: Order) -> str:
    method = order.checkout.payment_method
    if method == PaymentMethod.STARS and order.status == OrderStatus.REFUNDED:
        return _("The Stars go back to your Telegram balance.")
    if method == PaymentMethod.STARS:
        return _("Telegram refunds Stars only for a whole payment, so the seller pays this amount back to you "
                 "directly.")
    if method == PaymentMethod.CARD:
        return _("The seller refunds it to your card through their payment provider.")
    return _("You paid in cash: the seller pays it back to you.")


def buyer_return_text(ret: Return, order: Order, instructions: str | None, language: str | None) -> str:
    """A decision on a buyer's return, as its buyer reads it."""
    amount = render.money(ret.amount, ret.currency, language)
    if ret.status == ReturnStatus.REJECTED:
        # Translators: {number} is a return's number, {order} the order's number, {reason} the seller's words.
        return _("✖ Your return #{number} (order #{order}) was rejected by the seller: {reason}").format(
            number=ret.id, order=order.id, reason=escape(ret.reject_reason or ""))
    if ret.status == ReturnStatus.REFUNDED:
        # Translators: {number} is a return's number, {order} the order's number, {amount} the money back.
        head = _("💸 Your return #{number} (order #{order}) is refunded: <b>{amount}</b>.").format(
            number=ret.id, order=order.id, amount=amount)
        return fit_lines([head], return_lines(ret, order, language), [_refund_how(ret, order)])
    # Translators: {number} is a return's number, {order} the order's number; how to send the goods follows.
    head = _("✅ Your return #{number} (order #{order}) is approved. Please send back:").format(
        number=ret.id, order=order.id)
    if instructions:
        # Translators: the seller's return instructions (an address or a note) follow.
        how = [_("The seller's instructions:"), escape(instructions)]
    else:
        how = [_("The seller will tell you where to send it.")]
    # Translators: {amount} is the money back.
    how.append(_("You get {amount} back once the seller receives it.").format(amount=amount))
    return fit_lines([head], return_lines(ret, order, language), how)


def order_returns_lines(listed: list[Return], language: str | None, instructions: str | None) -> list[str]:
    """An order's returns, a line each, for its buyer's order view (where to send the goods of an approved
    one, when its seller said)."""
    lines = []
    for ret in listed:
        # Translators: {number} is a return's number, {status} its state, {amount} the money it gives back.
        lines.append(_("↩️ Return #{number}: {status} · {amount}").format(
            number=ret.id, status=RETURN_STATUS[ret.status], amount=render.money(ret.amount, ret.currency, language)))
        if ret.status == ReturnStatus.APPROVED and instructions:
            lines.append("    📮 " + escape(render.short(instructions, NOTE_SHOWN)))
    return lines


# --- the buyer asks ---------------------------------------------------------------------------------------


def _units_text(view: returns.Returnable, language: str | None) -> str:
    # Translators: {number} is an order's number, {date} the date and time (UTC) its return window ends.
    return _("↩️ <b>Return from order #{number}</b>\nTap an item once for each unit that goes back, then "
             "<b>Continue</b>. Returns are open until {date}.").format(
        number=view.order_id, date=render.when(view.until, language))


@button_handler
async def on_start(update: Update, context: ShopContext, pressed: cb.StartReturn) -> None:
    """↩️ Return on a delivered order: the units to choose."""
    shop = context.shop
    async with shop.db.transaction() as session:
        await ensure_user(session, update)
        view, chosen = await return_flow.begin(session, update.effective_user.id, pressed.order_id, shop.clock(),
                                               shop.options.return_window)
    await answer(update.callback_query)
    await reply(update, _units_text(view, lang(update)), keyboards.return_units(view, chosen))


@button_handler
async def on_units(update: Update, context: ShopContext, pressed: cb.ReturnUnits) -> None:
    """One more unit of a line (none after the last), the keyboard edited in place."""
    shop = context.shop
    async with shop.db.transaction() as session:
        view, chosen = await return_flow.pick(session, update.effective_user.id, pressed.line_id, shop.clock(),
                                              shop.options.return_window)
    await answer(update.callback_query)
    await edit(update.callback_query, _units_text(view, lang(update)), keyboards.return_units(view, chosen))


@button_handler
async def on_next(update: Update, context: ShopContext, _pressed: cb.ReturnNext) -> None:
    """The units are chosen: the reasons."""
    async with context.shop.db.transaction() as session:
        await return_flow.units_chosen(session, update.effective_user.id)
    await answer(update.callback_query)
    await edit(update.callback_query, _("Why are you returning it?"), keyboards.return_reasons())


@button_handler
async def on_why(update: Update, context: ShopContext, pressed: cb.ReturnWhy) -> None:
    """The reason: words and a photo are welcome, then Send."""
    async with context.shop.db.transaction() as session:
        await return_flow.choose_reason(session, update.effective_user.id, pressed.reason)
    await answer(update.callback_query)
    # Translators: {reason} is the reason chosen ("Doesn't fit").
    await edit(update.callback_query, "\n".join([_("Reason: {reason} ✓").format(reason=RETURN_REASON[pressed.reason]),
                                                 _(ASK_DETAILS)]), keyboards.return_send())


async def on_note(update: Update, context: ShopContext, _step: object, text: str) -> None:
    """Words for the seller (/skip: none)."""
    if text.strip() == SKIP:
        await reply(update, _("No words then: tap Send request when you're ready."), keyboards.return_send())
        return
    async with context.shop.db.transaction() as session:
        await return_flow.add_note(session, update.effective_user.id, text)
    await reply(update, _("✓ Noted. Add a photo, or tap Send request."), keyboards.return_send())


async def on_photo(update: Update, context: ShopContext, _step: object, photo: tuple) -> None:
    """A photo for the seller (the largest size Telegram made of it)."""
    async with context.shop.db.transaction() as session:
        await return_flow.add_photo(session, update.effective_user.id, photo[-1].file_id,
                                    update.effective_message.caption)
    await reply(update, _("✓ Photo added. Tap Send request when you're ready."), keyboards.return_send())


@button_handler
async def on_send(update: Update, context: ShopContext, _pressed: cb.SendReturn) -> None:
    """Send the request: the seller is told."""
    shop = context.shop
    async with shop.db.transaction() as session:
        ret = await return_flow.send(session, update.effective_user.id, shop.clock(), shop.options.return_window,
                                     shop.options.return_auto_approve)
    shop.wake_outbox()
    await answer(update.callback_query)
    hours = shop.options.return_auto_approve_hours
    # Translators: {number} is the return's number, {hours} how long the seller has to answer.
    await edit(update.callback_query, ngettext(
        "📨 Return #{number} is sent to the seller. They have {hours} hour to answer; if they don't, it is approved "
        "automatically. You'll hear here.",
        "📨 Return #{number} is sent to the seller. They have {hours} hours to answer; if they don't, it is "
        "approved automatically. You'll hear here.", hours).format(number=ret.id, hours=hours))


@button_handler
async def on_leave(update: Update, context: ShopContext, _pressed: cb.LeaveReturn) -> None:
    """Leave the request unsent."""
    async with context.shop.db.transaction() as session:
        await return_flow.leave(session, update.effective_user.id)
    await answer(update.callback_query)
    await edit(update.callback_query, _("Return not sent. Nothing was changed."))


# --- the seller decides -----------------------------------------------------------------------------------


async def _seller_view(context: ShopContext, ret: Return, order: Order, language: str | None) -> str:
    instructions = order.seller.return_instructions
    return seller_return_text(ret, order, instructions, context.shop.options.return_auto_approve_hours, language)


@button_handler
async def on_decide(update: Update, context: ShopContext, pressed: cb.DecideReturn) -> None:
    """The seller's (or an operator's) decision on a return."""
    shop, user_id = context.shop, update.effective_user.id
    who = actor(update, context)
    query = update.callback_query
    if pressed.action == ReturnAction.REJECT:
        async with shop.db.transaction() as session:
            ret = await return_flow.ask_reject_reason(session, user_id, pressed.return_id, who)
        await answer(query)
        # Translators: {number} is a return's number.
        await reply(update, _("✖ Return #{number}: why is it rejected? The buyer will read your reason. /cancel to "
                              "decide later.").format(number=ret.id))
        return
    async with shop.db.transaction() as session:
        if pressed.action == ReturnAction.APPROVE:
            ret, _seller = await return_flow.approve(session, user_id, pressed.return_id, who, shop.clock())
        elif pressed.action == ReturnAction.RECEIVED:
            ret = await returns.received(session, pressed.return_id, who, shop.clock())
        else:
            ret = await returns.refund_without_goods(session, pressed.return_id, who, shop.clock())
        if ret is not None:
            ret, order = await returns.for_seller(session, ret.id, who)
    await answer(query)
    if ret is None:
        await reply(update, _(ASK_INSTRUCTIONS))
        return
    shop.wake_outbox()
    await edit(query, await _seller_view(context, ret, order, lang(update)),
               keyboards.return_decision(ret.id, returns.actions(ret, order.kind)))


async def on_reject_reason(update: Update, context: ShopContext, _step: object, text: str) -> None:
    """The reason of a rejection: the buyer is told (a rejection always has one: /skip is no reason)."""
    if text.strip() == SKIP:
        await reply(update, _(REJECT_HINT))
        return
    async with context.shop.db.transaction() as session:
        ret = await return_flow.submit_reject_reason(session, update.effective_user.id, text,
                                                     actor(update, context), context.shop.clock())
    if ret.status != ReturnStatus.REJECTED:
        # Translators: {number} is a return's number, {status} its state ("closed with a refund").
        await reply(update, _("Return #{number} was decided meanwhile ({status}): nothing was changed.").format(
            number=ret.id, status=RETURN_STATUS[ret.status]))
        return
    context.shop.wake_outbox()
    # Translators: {number} is a return's number.
    await reply(update, _("Return #{number} is rejected; the buyer is told why.").format(number=ret.id))


async def on_instructions(update: Update, context: ShopContext, _step: object, text: str) -> None:
    """The shop's return instructions typed: kept, and the return waiting for them approved."""
    if text.strip() == SKIP:
        await reply(update, _(INSTRUCTIONS_HINT))
        return
    shop = context.shop
    async with shop.db.transaction() as session:
        instructions, ret = await return_flow.submit_instructions(session, update.effective_user.id, text,
                                                                  actor(update, context), shop.clock())
        if ret is not None:
            ret, order = await returns.for_seller(session, ret.id, actor(update, context))
    lines = [_("✅ Return instructions saved:"), escape(instructions)]
    if ret is None:
        await reply(update, "\n".join(lines))
        return
    shop.wake_outbox()
    await reply(update, "\n".join(lines))
    await reply(update, await _seller_view(context, ret, order, lang(update)),
                keyboards.return_decision(ret.id, returns.actions(ret, order.kind)))


async def _page(update: Update, context: ShopContext, page: int) -> tuple[str, InlineKeyboardMarkup]:
    who = actor(update, context)
    language = lang(update)
    async with context.shop.db.read() as session:
        seller_ids = await fulfilment.sellers_for_actor(session, who)
        if seller_ids == []:
            raise NotAllowed(ErrorCode.NOT_A_SELLER)
        listed, total = await returns.seller_returns(session, seller_ids, returns.OPEN, page * PAGE_SIZE, PAGE_SIZE)
        shop = await seller_of_user(session, update.effective_user.id)
    pages = max(1, -(-total // PAGE_SIZE))
    head = [_("↩️ <b>Returns to act on</b>") if total else _("↩️ No returns to act on right now.")]
    if shop is not None:
        head.append(_("Your return instructions:") + " " + (escape(render.short(shop.return_instructions, 200))
                                                            if shop.return_instructions else _("none yet")))
    buttons = [(ret.id, f"#{ret.id} · " + _("order #{number}").format(number=ret.order_id) + " · "
                + render.money(ret.amount, ret.currency, language) + " · " + RETURN_STATUS[ret.status])
               for ret in listed]
    return "\n".join(head), keyboards.seller_returns(buttons, page, pages)


@message_handler
async def on_returns(update: Update, context: ShopContext) -> None:
    """/returns: the seller's returns still to act on (every shop's for an operator), and the instructions."""
    await reply(update, *await _page(update, context, 0))


@button_handler
async def on_returns_page(update: Update, context: ShopContext, pressed: cb.SellerReturnsPage) -> None:
    """A page of /returns, edited in place."""
    text, markup = await _page(update, context, pressed.page)
    await answer(update.callback_query)
    await edit(update.callback_query, text, markup)


@button_handler
async def on_seller_return(update: Update, context: ShopContext, pressed: cb.SellerReturn) -> None:
    """One return from /returns, with what may be done now."""
    who = actor(update, context)
    async with context.shop.db.read() as session:
        ret, order = await returns.for_seller(session, pressed.return_id, who)
    await answer(update.callback_query)
    await reply(update, await _seller_view(context, ret, order, lang(update)),
                keyboards.return_decision(ret.id, returns.actions(ret, order.kind)))


@button_handler
async def on_edit_instructions(update: Update, context: ShopContext, _pressed: cb.EditReturnInstructions) -> None:
    """✏️ Return instructions: the next message replaces them."""
    async with context.shop.db.transaction() as session:
        shop = await seller_of_user(session, update.effective_user.id)
        if shop is None:
            raise NotAllowed(ErrorCode.NOT_A_SELLER)
        await return_flow.ask_instructions(session, update.effective_user.id, shop.id)
    await answer(update.callback_query)
    await reply(update, _(ASK_INSTRUCTIONS))


# What each step of a return takes (the hints are translated when said: handlers/flows.py).
FLOW = Flow(
    name="returns",
    steps={
        ReturnStep.UNITS: OnStep(buttons={cb.ReturnUnits: on_units, cb.ReturnNext: on_next},
                                 hint=N_("Tap the items that go back, then Continue.")),
        ReturnStep.REASON: OnStep(buttons={cb.ReturnWhy: on_why}, hint=N_("Please tap the reason for the return.")),
        ReturnStep.DETAILS: OnStep(text=on_note, photo=on_photo, buttons={cb.SendReturn: on_send},
                                   hint=ASK_DETAILS),
        ReturnStep.INSTRUCTIONS: OnStep(text=on_instructions, hint=INSTRUCTIONS_HINT, ends_on_command=True),
        ReturnStep.REJECT_REASON: OnStep(text=on_reject_reason, hint=REJECT_HINT, ends_on_command=True),
    },
    buttons={cb.StartReturn: on_start, cb.LeaveReturn: on_leave, cb.DecideReturn: on_decide,
             cb.SellerReturn: on_seller_return, cb.SellerReturnsPage: on_returns_page,
             cb.EditReturnInstructions: on_edit_instructions},
)
