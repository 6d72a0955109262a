"""A person's data in the chat: /privacy says what is kept and who sees it, /mydata sends it, /forget erases it."""

from __future__ import annotations

import json

from telegram import InputFile, Update

from handlers import callbacks as cb
from handlers import keyboards
from handlers.common import answer, button_handler, chat_of, edit, reply
from handlers.context import ShopContext
from store.models import User
from store.services import personal_data

PRIVACY = (
    "🔒 <b>Your data on chatshop</b>\n"
    "• <b>What we keep:</b> your Telegram id, first name and username; your cart; for each order the items, "
    "the amounts and the name, phone and address it goes to (the last ones are offered again next time); "
    "the creators' links you opened (so the creator earns the commission).\n"
    "• <b>Who sees it:</b> a seller sees your name, phone and address only on that seller's own orders (in "
    "their chat, their HTTP API or their webhook); an operator may open an order to help. Each time your phone "
    "and address are given out we record who, when and how. Creators see counts, never who you are. Logs carry "
    "ids only.\n"
    "• <b>How long:</b> the phone and address on an order are erased {days} days after it is delivered or "
    "cancelled; the order keeps its items, amounts and dates for the seller's accounts.\n"
    "• /mydata sends you everything we keep about you, with the list of who received your address. "
    "/forget erases it."
)
FORGET_ASK = (
    "🗑 <b>Erase your data?</b>\n"
    "Your name, username, saved contact and address, cart, an unfinished checkout and the links you opened are "
    "erased now, and so are the name, phone and address on your orders that are over. An order still on its way "
    "keeps them until it is delivered or cancelled (the seller needs them to deliver it), then they are erased "
    "too. Orders keep their items, amounts and dates for the seller's accounts. This can't be undone."
)
KEPT = "Nothing was erased. /privacy says what we keep and why."
ERASED_BEFORE = "You asked us to erase your data already (from another /forget message): it was erased."


async def on_privacy(update: Update, context: ShopContext) -> None:
    """/privacy: what is kept, who sees it, for how long, and the commands to get or erase it."""
    await reply(update, PRIVACY.format(days=context.shop.options.personal_data_days))


async def on_mydata(update: Update, context: ShopContext) -> None:
    """/mydata: everything kept about the person, as a JSON file."""
    shop = context.shop
    user_id = update.effective_user.id
    async with shop.db.read() as session:
        document = await personal_data.export(session, user_id, shop.clock())
    body = json.dumps(document, ensure_ascii=False, indent=2).encode()
    given = sum(entry["times"] for entry in document["contact_given_to"])
    caption = (f"📄 Everything chatshop keeps about you: {len(document['orders'])} orders; your phone and address "
               f"were given out {given} time{'s' if given != 1 else ''} (see contact_given_to). /forget erases it.")
    await update.get_bot().send_document(chat_of(update), InputFile(body, filename="chatshop-my-data.json"),
                                         caption=caption)


async def on_forget(update: Update, context: ShopContext) -> None:
    """/forget: say what erasing does, and ask to confirm."""
    await reply(update, FORGET_ASK, keyboards.forget())


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
        await edit(query, ERASED_BEFORE if erased else KEPT)
        return
    async with shop.db.transaction() as session:
        forgotten = await personal_data.forget(session, update.effective_user.id, shop.clock())
    await answer(query, "Erased.")
    await edit(query, forgotten_text(forgotten))


def forgotten_text(forgotten: personal_data.Forgotten) -> str:
    """What /forget did, in words."""
    parts = ["🗑 <b>Done.</b> Your name, saved contact and address, cart, checkout and link clicks are erased."]
    if forgotten.erased_orders:
        parts.append(f"The name, phone and address on {_orders(forgotten.erased_orders)} are erased too.")
    if forgotten.open_orders:
        one = len(forgotten.open_orders) == 1
        parts.append(f"Your {_orders(forgotten.open_orders)} {'is' if one else 'are'} still on the way: the seller "
                     "keeps your contact to deliver, and it is erased as soon as "
                     f"{'it is' if one else 'they are'} delivered or cancelled.")
    parts.append("If you write to the bot again, Telegram shows us your name again; /mydata shows what is kept.")
    return "\n".join(parts)


def _orders(ids: tuple[int, ...]) -> str:
    shown = ", ".join(f"#{order_id}" for order_id in ids[:20])
    more = f" and {len(ids) - 20} more" if len(ids) > 20 else ""
    return f"order{'s' if len(ids) != 1 else ''} {shown}{more}"
