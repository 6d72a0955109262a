"""/language: the person chooses the language the bot speaks to them (else their Telegram app's)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers import callbacks as cb
from handlers import i18n
from handlers.common import answer, button_handler, edit, ensure_user, expired, reply
from handlers.context import ShopContext
from handlers.i18n import _
from handlers.menus import show_menu
from store.services import sellers, users


def _keyboard(chosen: str | None) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(("✓ " if code == chosen else "") + name,
                                  callback_data=cb.ChooseLanguage(code).pack())]
            for code, name in i18n.LANGUAGES.items()]
    # Translators: a button: speak the language the person's Telegram app is set to.
    label = _("My Telegram app's language")
    rows.append([InlineKeyboardButton(("✓ " if chosen is None else "") + label,
                                      callback_data=cb.ChooseLanguage("").pack())])
    return InlineKeyboardMarkup(rows)


async def on_language(update: Update, context: ShopContext) -> None:
    """/language: the languages the bot speaks, the one in use ticked."""
    chosen = context.shop.languages.get(update.effective_user.id)
    await reply(update, _("🌐 Which language should I speak?"), _keyboard(chosen))


@button_handler
async def on_choose_language(update: Update, context: ShopContext, pressed: cb.ChooseLanguage) -> None:
    """A language was chosen: it is kept in the store, and this answer and the menu are in it already."""
    chosen = pressed.language or None
    if chosen is not None and chosen not in i18n.LANGUAGES:
        await expired(update)
        return
    person = update.effective_user
    shop = context.shop
    async with shop.db.transaction() as session:
        await ensure_user(session, update)
        await users.choose_language(session, person.id, chosen)
        seller = await sellers.seller_of_user(session, person.id)
    shop.languages[person.id] = chosen
    language = i18n.language_of(chosen, person.language_code)
    i18n.use(language)
    await answer(update.callback_query)
    await edit(update.callback_query, _("🌐 I will speak {language} with you. /language changes it.")
               .format(language=i18n.LANGUAGES[language]), _keyboard(chosen))
    await show_menu(update.get_bot(), person.id, operator=person.id in shop.options.operator_ids,
                    seller=seller is not None, chosen=chosen is not None)
