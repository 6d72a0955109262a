"""Shopper alerts in the chat: ♡ Save and 🔔 Tell me when it's back on a card, /saved (the wishlist) and
/notifications (which kinds of message come). The rules are :mod:`store.services.alerts`'; the messages
themselves are rendered in :mod:`handlers.notifications` and written by the jobs in :mod:`bot.jobs`."""

from __future__ import annotations

from telegram import Update

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.common import answer, button_handler, edit, ensure_user, lang, message_handler, show
from handlers.context import ShopContext
from handlers.i18n import _
from handlers.messages import error_text
from handlers.product import card
from store.errors import ErrorCode, NotFound
from store.services import alerts
from store.services.creators import card_viewer

# --- on a product card -----------------------------------------------------------------------------------


async def _edit_card(update: Update, context: ShopContext, product_id: int, variant_id: int, note: str) -> None:
    """Answer the press with ``note`` and show the card again in place, the option it showed still selected (a
    product no longer on sale: the press is answered so, what it did stays done)."""
    async with context.shop.db.read() as session:
        product = await context.shop.search.product(session, product_id, now=context.shop.clock())
        who = await card_viewer(session, update.effective_user.id, product_id)
    if product is None:
        await answer(update.callback_query, error_text(NotFound(ErrorCode.PRODUCT_GONE)), alert=True)
        return
    await answer(update.callback_query, note)
    selected = product.variant(variant_id) or product.default_variant()
    await edit(update.callback_query, *card(product, selected, who, context, lang(update)))


@button_handler
async def on_toggle_saved(update: Update, context: ShopContext, pressed: cb.ToggleSaved) -> None:
    """♡ Save / ♥ Saved: put the product on the wishlist or take it off; the card is edited in place."""
    user_id, now = update.effective_user.id, context.shop.clock()
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        if pressed.save:
            await alerts.save(session, user_id, pressed.product_id, now)
        else:
            await alerts.unsave(session, user_id, pressed.product_id)
    await _edit_card(update, context, pressed.product_id, pressed.variant_id,
                     _("♥ Saved: /saved lists it, and I'll tell you if its price drops.") if pressed.save
                     else _("Taken off your saved products."))


@button_handler
async def on_watch(update: Update, context: ShopContext, pressed: cb.WatchStock) -> None:
    """🔔 Tell me when it's back (or, asked already, no longer wait); the card is edited in place."""
    user_id, now = update.effective_user.id, context.shop.clock()
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        if pressed.watch:
            await alerts.watch(session, user_id, pressed.product_id, pressed.variant_id, now)
        else:
            await alerts.unwatch(session, user_id, pressed.variant_id)
    await _edit_card(update, context, pressed.product_id, pressed.variant_id,
                     _("🔔 I'll message you once it's back in stock.") if pressed.watch
                     else _("OK, I won't tell you about this option."))


# --- /saved ------------------------------------------------------------------------------------------


async def _show_saved(update: Update, context: ShopContext, page: int) -> None:
    async with context.shop.db.read() as session:
        shown = await alerts.saved_page(session, update.effective_user.id, page, context.shop.clock())
    text, listed = render.saved_products(shown, context.shop.options.currency, lang(update))
    await show(update, text, keyboards.saved_list(listed, shown.page, shown.pages))


@message_handler
async def on_saved(update: Update, context: ShopContext) -> None:
    """/saved: the wishlist, newest first, a page at a time."""
    await _show_saved(update, context, 0)


@button_handler
async def on_saved_page(update: Update, context: ShopContext, pressed: cb.SavedPage) -> None:
    """Another page of /saved, turned in place."""
    await answer(update.callback_query)
    await _show_saved(update, context, pressed.page)


@button_handler
async def on_remove_saved(update: Update, context: ShopContext, pressed: cb.RemoveSaved) -> None:
    """✕ on /saved: take the product off the list; the page is shown again."""
    async with context.shop.db.transaction() as session:
        await alerts.unsave(session, update.effective_user.id, pressed.product_id)
    await answer(update.callback_query, _("Taken off your saved products."))
    await _show_saved(update, context, pressed.page)


# --- /notifications ------------------------------------------------------------------------------------


@message_handler
async def on_notifications(update: Update, context: ShopContext) -> None:
    """/notifications: each kind of message, on or off, a button each."""
    async with context.shop.db.read() as session:
        off = await alerts.muted(session, update.effective_user.id)
    await show(update, render.alert_settings(), keyboards.alert_kinds(off))


@button_handler
async def on_toggle_alert(update: Update, context: ShopContext, pressed: cb.ToggleAlert) -> None:
    """Turn a kind of message on or off; the buttons are edited in place."""
    async with context.shop.db.transaction() as session:
        await ensure_user(session, update)
        off = await alerts.set_muted(session, update.effective_user.id, pressed.kind, not pressed.on,
                                     context.shop.clock())
    await answer(update.callback_query)
    await show(update, render.alert_settings(), keyboards.alert_kinds(off))
