"""A person's data in the chat: /privacy says what is kept and who sees it, /mydata sends it, /forget erases it."""

from __future__ import annotations

import json

from telegram import InputFile, Update

from handlers import callbacks as cb
from handlers import keyboards
from handlers.common import answer, button_handler, chat_of, edit, reply
from handlers.context import ShopContext
from handlers.i18n import N_, _, ngettext
from store.models import User
from store.services import personal_data

FORGET_ASK = N_(
    "🗑 <b>Erase your data?</b>\n"
    "Your name, username, saved contact and address, cart, an unfinished checkout, the links you opened, the "
    "products you saved and your back-in-stock requests are erased now, and so are the name, phone and address on "
    "your orders that are over and the words and photos of your decided returns. An order still on its way "
    "keeps them until it is delivered or cancelled (the seller needs them to deliver it), then they are erased "
    "too. Orders keep their items, amounts and dates for the seller's accounts; your reviews stay, without your "
    "name. This can't be undone."
)
KEPT = N_("Nothing was erased. /privacy says what we keep and why.")
ERASED_BEFORE = N_("You asked us to erase your data already (from another /forget message): it was erased.")


def privacy_text(days: int) -> str:
    """/privacy's text: what is kept, who sees it, for how long (``days`` after an order is over)."""
    return "\n".join([
        _("🔒 <b>Your data on chatshop</b>"),
        _("• <b>What we keep:</b> your Telegram id, first name and username; your cart; for each order the items, "
          "the amounts and the name, phone and address it goes to (the last ones are offered again next time); "
          "the creators' links you opened (so the creator earns the commission); your reviews (shown with your "
          "first name), your returns with their words and photo, the products you saved and the alerts you asked "
          "for."),
        _("• <b>Who sees it:</b> a seller sees your name, phone and address only on that seller's own orders (in "
          "their chat, their HTTP API or their webhook); an operator may open an order to help. Each time your "
          "phone and address are given out we record who, when and how. Creators see counts, never who you are. "
          "Logs carry ids only."),
        # Translators: {days} is a number of days.
        ngettext("• <b>How long:</b> the phone and address on an order are erased {days} day after it is delivered "
                 "or cancelled; the order keeps its items, amounts and dates for the seller's accounts.",
                 "• <b>How long:</b> the phone and address on an order are erased {days} days after it is delivered "
                 "or cancelled; the order keeps its items, amounts and dates for the seller's accounts.",
                 days).format(days=days),
        _("• /mydata sends you everything we keep about you, with the list of who received your address. "
          "/forget erases it."),
    ])


async def on_privacy(update: Update, context: ShopContext) -> None:
    """/privacy: what is kept, who sees it, for how long, and the commands to get or erase it."""
    await reply(update, privacy_text(context.shop.options.personal_data_days))


async def on_mydata(update: Update, context: ShopContext) -> None:
    """/mydata: everything kept about the person, as a JSON file."""
    shop = context.shop
    user_id = update.effective_user.id
    async with shop.db.read() as session:
        document = await personal_data.export(session, user_id, shop.clock())
    body = json.dumps(document, ensure_ascii=False, indent=2).encode()
    given = sum(entry["times"] for entry in document["contact_given_to"])
    count = len(document["orders"])
    # Translators: in "Everything chatshop keeps about you: {orders}; ...".
    orders = ngettext("{count} order", "{count} orders", count).format(count=count)
    # Translators: in "your phone and address were given out {times}".
    times = ngettext("{count} time", "{count} times", given).format(count=given)
    # Translators: {orders} is "3 orders", {times} is "2 times"; contact_given_to is a name in the file sent,
    # keep it as it is.
    caption = _("📄 Everything chatshop keeps about you: {orders}; your phone and address were given out {times} "
                "(see contact_given_to). /forget erases it.").format(orders=orders, times=times)
    await update.get_bot().send_document(chat_of(update), InputFile(body, filename="chatshop-my-data.json"),
                                         caption=caption)


async def on_forget(update: Update, context: ShopContext) -> None:
    """/forget: say what erasing does, and ask to confirm."""
    await reply(update, _(FORGET_ASK), keyboards.forget())


@button_handler
async def on_forget_answer(update: Update, context: ShopContext, pressed: cb.ForgetMe) -> None:
    """Erase the person's data (or not), as they answered /forget."""
    query = update.callback_query
    shop = context.shop
    if not pressed.erase:
        async with shop.db.read() as session:
            user = await session.get(User, update.effective_user.id)
        await answer(query)
        erased = user is not None and user.forget_requested_at is not None
        await edit(query, _(ERASED_BEFORE if erased else KEPT))
        return
    async with shop.db.transaction() as session:
        forgotten = await personal_data.forget(session, update.effective_user.id, shop.clock())
    await answer(query, _("Erased."))
    await edit(query, forgotten_text(forgotten))


def forgotten_text(forgotten: personal_data.Forgotten) -> str:
    """What /forget did, in words."""
    parts = [_("🗑 <b>Done.</b> Your name, username, saved contact and address, cart, checkout, link clicks, "
               "saved products and back-in-stock requests are erased, and so are the words and photos of your "
               "decided returns.")]
    if erased := forgotten.erased_orders:
        # Translators: {orders} is one or more order numbers ("#12" or "#12, #13 and 5 more").
        parts.append(ngettext("The name, phone and address on order {orders} are erased too.",
                              "The name, phone and address on orders {orders} are erased too.", len(erased))
                     .format(orders=_numbers(erased)))
    if still := forgotten.open_orders:
        # Translators: {orders} is one or more order numbers ("#12" or "#12, #13 and 5 more").
        parts.append(ngettext("Your order {orders} is still on the way: the seller keeps your contact to deliver, "
                              "and it is erased as soon as it is delivered or cancelled.",
                              "Your orders {orders} are still on the way: the seller keeps your contact to deliver, "
                              "and it is erased as soon as they are delivered or cancelled.", len(still))
                     .format(orders=_numbers(still)))
    parts.append(_("If you write to the bot again, Telegram shows us your name again; /mydata shows what is kept."))
    return "\n".join(parts)


def _numbers(ids: tuple[int, ...]) -> str:
    """Order numbers, the first 20 of them: "#12, #13 and 5 more"."""
    shown = ", ".join(f"#{order_id}" for order_id in ids[:20])
    if len(ids) <= 20:
        return shown
    more = len(ids) - 20
    # Translators: {numbers} is a list of order numbers ("#12, #13"), {count} how many more are not listed.
    return ngettext("{numbers} and {count} more", "{numbers} and {count} more", more).format(numbers=shown,
                                                                                              count=more)
