"""Reviews in the chat: one tap of stars on a delivered order's line (from the request a day after delivery, or
from /orders), then words and a photo if the buyer likes; one change; the Reviews pages of a product, with the
seller's one reply and an operator's Hide; the seller score's line on a card.

What each step takes is :data:`FLOW`, at the end; the steps are :mod:`store.services.review_flow`'s and the
rules :mod:`store.services.reviews`'.
"""

from __future__ import annotations

from html import escape
from typing import Any

from babel.dates import format_date
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from handlers import callbacks as cb
from handlers import keyboards, render
from handlers.common import answer, button_handler, chat_of, edit, lang, reply
from handlers.context import ShopContext
from handlers.fit import CAPTION_LIMIT, fit, fit_lines
from handlers.flows import SKIP, Flow, OnStep
from handlers.i18n import N_, _, current, ngettext
from store.errors import ErrorCode, Expired, NotFound, ShopError
from store.models import Order, Seller
from store.money import locale_for
from store.rules import PROMISED_SHIP_DAYS
from store.services import review_flow as flow
from store.services import reviews
from store.services.catalog import seller_page
from store.services.review_flow import ReviewStep
from store.services.reviews import LineToRate, ReviewView, SellerScore
from store.services.users import Step

SELLER_PAGE_SIZE = 8  # products per page of a seller's page
PAGE_SIZE = 4  # reviews per page: four of the longest words and replies fit one message
TITLE_MAX = 60
# Translators: "Skip" is a button; the review is published as it is once tapped.
ASK_WORDS = N_("Type a few words about it, or send a photo (a caption is welcome), or tap <b>Skip</b>.")


# --- what is said --------------------------------------------------------------------------------------


def score_line(score: SellerScore | None) -> str | None:
    """The seller score on a card, the figures there is data for: "🏪 Seller: ★ 4.8 (120) · 96% shipped on
    time · 1% cancelled by the seller" (None: no data)."""
    if score is None or score.empty:
        return None
    figures = []
    if score.reviews:
        figures.append(render.rating_short(score.reviews, score.stars))
    if score.on_time is not None:
        # Translators: a figure of the seller score: {percent} of its orders shipped within the promised time.
        figures.append(_("{percent} of orders shipped on time").format(percent=render.percent(score.on_time)))
    if score.cancelled is not None:
        # Translators: a figure of the seller score: {percent} of its orders the seller cancelled.
        figures.append(_("{percent} of orders cancelled by the seller").format(
            percent=render.percent(score.cancelled)))
    # Translators: {figures} are the seller score's figures, e.g. "★ 4.8 (120) · 96% of orders shipped on time".
    return _("🏪 Seller: {figures}").format(figures=" · ".join(figures))


def score_lines(score: SellerScore) -> list[str]:
    """The seller score on the seller's page: each figure with what it counts (see reviews.seller_score)."""
    if score.empty:
        return [_("No reviews or orders yet to score this shop on.")]
    lines = []
    if score.reviews:
        # Translators: {average} is the seller's average stars out of 5 (4.6), {count} how many reviews.
        lines.append(ngettext("⭐ Rating: ★ {average}, from {count} review of its products",
                              "⭐ Rating: ★ {average}, from {count} reviews of its products", score.reviews)
                     .format(average=render.average(score.reviews, score.stars), count=score.reviews))
    if score.on_time is not None:
        # Translators: {percent} of {count} orders of the last 90 days shipped within {days} days of payment.
        lines.append(ngettext("🚚 Shipped on time: {percent} of {count} order (within {days} days of payment; last "
                              "90 days)",
                              "🚚 Shipped on time: {percent} of {count} orders (within {days} days of payment; last "
                              "90 days)", score.shipped_counted)
                     .format(percent=render.percent(score.on_time), count=score.shipped_counted,
                             days=PROMISED_SHIP_DAYS))
    if score.cancelled is not None:
        # Translators: {percent} of {count} paid orders of the last 90 days that the seller cancelled.
        lines.append(ngettext("✖ Cancelled by the seller: {percent} of {count} paid order (last 90 days)",
                              "✖ Cancelled by the seller: {percent} of {count} paid orders (last 90 days)",
                              score.orders_counted)
                     .format(percent=render.percent(score.cancelled), count=score.orders_counted))
    return lines


def seller_page_text(name: str, score: SellerScore, total: int, products: list, start: int, currency: str,
                     language: str | None, ratings: dict) -> str:
    """A seller's page for shoppers: its score, explained, and a page of its products."""
    head = [f"🏪 <b>{escape(name)}</b>", *score_lines(score), "",
            # Translators: {count} is how many products the shop has on sale.
            ngettext("{count} product on sale:", "{count} products on sale:", total).format(count=total)]
    items = [render.product_line(start + i + 1, product, currency, language, rating=ratings.get(product.id))
             for i, product in enumerate(products)]
    return fit_lines(head, items, [])


@button_handler
async def on_seller_page(update: Update, context: ShopContext, pressed: cb.SellerPage) -> None:
    """🏪 The shop, from a card: the seller's score and its products, a page at a time (turned in place)."""
    shop = context.shop
    async with shop.db.read() as session:
        found = await seller_page(session, pressed.seller_id, pressed.page * SELLER_PAGE_SIZE, SELLER_PAGE_SIZE)
        if found is None:
            raise NotFound(ErrorCode.PRODUCT_GONE)
        score = await shop.search.scores.get(session, pressed.seller_id, shop.clock())
    name, total, products = found
    pages = max(1, -(-total // SELLER_PAGE_SIZE))
    if pressed.page >= pages:
        raise Expired(ErrorCode.CATEGORY_PAGE_GONE)
    await answer(update.callback_query)
    start = pressed.page * SELLER_PAGE_SIZE
    text = seller_page_text(name, score, total, products, start, shop.options.currency, lang(update),
                            shop.search.ratings)
    markup = keyboards.seller_page(products, start, pressed.page, pages, pressed.seller_id)
    if pressed.page:
        await edit(update.callback_query, text, markup)
    else:
        await reply(update, text, markup)


def _name(title: str, label: str) -> str:
    return render.item_name(title, label)


def rate_text(order_id: int, seller: str, lines: list[LineToRate]) -> str:
    """A delivered order's lines to rate, numbered, and how to stop these messages."""
    # Translators: {number} is an order number, {seller} the shop it came from.
    head = [_("⭐ <b>How was your order #{number} from {seller}?</b>").format(number=order_id, seller=escape(seller)),
            _("Tap the stars under each item (1 = poor, 5 = great): one tap rates it, and you can add words and "
              "a photo after.") + "\n"]
    items = [f"• {_name(line.title, line.label)}" + (f" — {render.stars(line.rating)}" if line.rating else "")
             for line in lines]
    # Translators: /notifications is a command, typed as it is.
    tail = ["\n" + _("Don't want these questions? Turn them off in /notifications.")]
    return fit_lines(head, items, tail)


def _review_block(number: int, review: ReviewView, seller: str) -> str:
    """One review on a Reviews page: stars, first name, date, words, and the seller's reply."""
    when = format_date(review.created_at, "medium", locale=locale_for(current()))
    if review.edits:
        # Translators: a review's heading: {stars} its stars (★★★★☆), {name} the buyer's first name, {date} when;
        # the buyer changed it since.
        head = _("{stars} {name} · {date} · changed")
    else:
        # Translators: a review's heading: {stars} its stars (★★★★☆), {name} the buyer's first name, {date} when.
        head = _("{stars} {name} · {date}")
    lines = [f"<b>{number}.</b> " + head.format(stars=render.stars(review.rating),
                                                 name=escape(render.short(review.buyer_name, 40)) if review.buyer_name
                                                 # Translators: who wrote a review whose buyer asked to be forgotten.
                                                 else _("a buyer"), date=when)]
    if review.text:
        lines.append(escape(review.text))
    if review.photo:
        # Translators: {number} is the review's number; its photo button below is "📷 {number}".
        lines.append(_("📷 Photo: tap 📷 {number} below.").format(number=number))
    if review.reply:
        # Translators: {seller} is the shop's name, {reply} its answer to the review, as written.
        lines.append("    " + _("💬 <i>{seller} replied:</i> {reply}").format(seller=escape(seller),
                                                                            reply=escape(review.reply)))
    return "\n".join(lines)


def reviews_text(title: str, seller: str, shown: list[ReviewView], start: int, total: int,
                 rating: tuple[int, int] | None) -> str:
    """A page of a product's reviews."""
    # Translators: {title} is a product's title.
    head = [_("⭐ <b>Reviews of {title}</b>").format(title=escape(render.short(title, TITLE_MAX)))]
    if rating is not None and rating[0]:
        head.append(render.rating_summary(*rating))
    if not shown:
        return "\n".join([*head, "", _("No reviews yet.")])
    blocks = ["\n" + _review_block(start + i + 1, review, seller) for i, review in enumerate(shown)]
    return fit("\n".join(head + blocks))


async def request_message(session: AsyncSession, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup] | None:
    """The review request the outbox sends (Notice.REVIEW_REQUEST): None once the order is no longer delivered or
    every line is rated."""
    order = await session.get(Order, data["order_id"])
    if order is None:
        return None
    try:
        lines = await reviews.lines_to_rate(session, order.buyer_id, order.id)
    except ShopError:
        return None
    if all(line.review_id is not None for line in lines):
        return None
    seller = await session.get(Seller, order.seller_id)
    return rate_text(order.id, seller.name if seller else "", lines), keyboards.rate_lines(lines)


async def reply_message(session: AsyncSession, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup] | None:
    """A seller's reply, for the review's buyer (Notice.REVIEW_REPLY)."""
    try:
        review = await reviews.review_view(session, data["review_id"])
    except ShopError:
        return None
    if review.reply is None:
        return None
    seller = await session.get(Seller, review.seller_id)
    # Translators: {seller} is a shop, {name} the product reviewed, {reply} the shop's answer, as written.
    text = _("💬 <b>{seller}</b> replied to your review of {name}:\n{reply}").format(
        seller=escape(seller.name if seller else ""), name=_name(review.title, review.label),
        reply=escape(review.reply))
    return text, keyboards.product_reviews(review.product_id)


# --- the buyer -----------------------------------------------------------------------------------------


def _published(review: ReviewView) -> str:
    """The review is done."""
    # Translators: {name} is the product reviewed, {stars} the stars given (★★★★☆).
    return _("✅ Your review of {name} is published: {stars}. Thank you!").format(
        name=_name(review.title, review.label), stars=render.stars(review.rating))


def _ratings_changed(context: ShopContext, review: ReviewView) -> None:
    """A review changed: this process's cards and search read the ratings, and its seller's score, again."""
    context.shop.search.mark_ratings_stale()
    context.shop.search.scores.forget(review.seller_id)


@button_handler
async def on_rate(update: Update, context: ShopContext, pressed: cb.RateLine) -> None:
    """One tap of stars: the review is written; the buyer may add words and a photo."""
    query, user_id = update.callback_query, update.effective_user.id
    async with context.shop.db.transaction() as session:
        review = await flow.rate(session, user_id, pressed.line_id, pressed.stars, context.shop.clock())
        lines = await reviews.lines_to_rate(session, user_id, review.order_id)
    _ratings_changed(context, review)
    # Translators: {stars} are the stars just given (★★★★★).
    await answer(query, _("Thank you! {stars}").format(stars=render.stars(review.rating)))
    try:  # the stars tapped give way to the line's new state (a doubled tap finds it so already)
        await query.edit_message_reply_markup(keyboards.rate_lines(lines))
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
    # Translators: {name} is the product just rated, {stars} the stars given (★★★★★).
    await reply(update, _("⭐ Thanks for rating {name} {stars}!").format(
        name=_name(review.title, review.label), stars=render.stars(review.rating)) + "\n" + _(ASK_WORDS),
        keyboards.review_words(review.id, added=False))


@button_handler
async def on_rate_order(update: Update, context: ShopContext, pressed: cb.RateOrder) -> None:
    """⭐ Rate on a delivered order: its lines, to rate or change."""
    async with context.shop.db.read() as session:
        lines = await reviews.lines_to_rate(session, update.effective_user.id, pressed.order_id)
        order = await session.get(Order, pressed.order_id)
        seller = await session.get(Seller, order.seller_id)
    await answer(update.callback_query)
    markup = keyboards.rate_lines(lines)
    text = rate_text(pressed.order_id, seller.name, lines)
    if not markup.inline_keyboard:
        text += "\n" + _("Every item of this order is rated, and each review has had its one change.")
    await reply(update, text, markup)


async def on_words(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """Words for the review being written (/skip: it stands as it is)."""
    if text.strip() == SKIP:
        async with context.shop.db.transaction() as session:
            review = await flow.finish(session, update.effective_user.id, step.data["review_id"])
        await reply(update, _published(review))
        return
    async with context.shop.db.transaction() as session:
        review = await flow.add_words(session, update.effective_user.id, text, context.shop.clock())
    if review.photo:
        await reply(update, _published(review))
        return
    await reply(update, _("✍️ Words added. Send a photo too if you like, or tap <b>Done</b>."),
                keyboards.review_words(review.id, added=True))


async def on_photo(update: Update, context: ShopContext, step: Step, photos: Any) -> None:
    """A photo (the largest size Telegram gives) for the review being written; its caption as words."""
    caption = update.effective_message.caption
    async with context.shop.db.transaction() as session:
        review = await flow.add_photo(session, update.effective_user.id, photos[-1].file_id, caption,
                                      context.shop.clock())
    if review.text:
        await reply(update, _published(review))
        return
    await reply(update, _("📷 Photo added. Type a few words too if you like, or tap <b>Done</b>."),
                keyboards.review_words(review.id, added=True))


@button_handler
async def on_done(update: Update, context: ShopContext, pressed: cb.ReviewDone) -> None:
    """Skip or Done: the review stands as it is."""
    async with context.shop.db.transaction() as session:
        review = await flow.finish(session, update.effective_user.id, pressed.review_id)
    await answer(update.callback_query)
    await edit(update.callback_query, _published(review))


@button_handler
async def on_edit(update: Update, context: ShopContext, pressed: cb.EditReview) -> None:
    """Change my review: the new stars (once)."""
    async with context.shop.db.transaction() as session:
        review = await reviews.check_editable(session, update.effective_user.id, pressed.review_id)
    await answer(update.callback_query)
    # Translators: {name} is the product reviewed, {stars} the stars given before (★★★☆☆).
    await reply(update, _("✏️ Your review of {name} has {stars}. You can change it once: tap the new stars.").format(
        name=_name(review.title, review.label), stars=render.stars(review.rating)), keyboards.edit_stars(review.id))


@button_handler
async def on_edit_stars(update: Update, context: ShopContext, pressed: cb.EditStars) -> None:
    """The new stars: the one change is made; new words or a photo may follow."""
    async with context.shop.db.transaction() as session:
        review = await flow.edit(session, update.effective_user.id, pressed.review_id, pressed.stars,
                                 context.shop.clock())
    _ratings_changed(context, review)
    await answer(update.callback_query)
    # Translators: {name} is the product reviewed, {stars} its new stars (★★★★☆).
    await edit(update.callback_query, _("✏️ Changed: {name} {stars}.").format(
        name=_name(review.title, review.label), stars=render.stars(review.rating)))
    # Translators: "Skip" is a button; the review stays as changed once tapped.
    await reply(update, _("New words or a new photo replace the old ones: type them, or send a photo, or tap "
                          "<b>Skip</b>."), keyboards.review_words(review.id, added=False))


# --- a product's reviews -------------------------------------------------------------------------------


@button_handler
async def on_reviews(update: Update, context: ShopContext, pressed: cb.ReviewsPage) -> None:
    """A page of a product's reviews, newest first: a new message from the card, turned in place after."""
    user_id, operators = update.effective_user.id, context.shop.options.operator_ids
    async with context.shop.db.read() as session:
        product = await context.shop.search.product(session, pressed.product_id, now=context.shop.clock())
        if product is None:
            raise NotFound(ErrorCode.PRODUCT_GONE)
        shown, total = await reviews.product_reviews(session, product.id, pressed.page * PAGE_SIZE, PAGE_SIZE)
        rating = await reviews.product_rating(session, product.id)
        replies = user_id in operators or await reviews.can_reply(session, user_id, product.seller_id)
    pages = max(1, -(-total // PAGE_SIZE))
    if pressed.page >= pages:
        raise Expired(ErrorCode.REVIEWS_PAGE_GONE)
    await answer(update.callback_query)
    text = reviews_text(product.title, product.seller_name, shown, pressed.page * PAGE_SIZE, total, rating)
    markup = keyboards.reviews_page(product.id, shown, pressed.page * PAGE_SIZE, pressed.page, pages,
                                    replies=replies, hides=user_id in operators)
    if pressed.turn:
        await edit(update.callback_query, text, markup)
    else:
        await reply(update, text, markup)


@button_handler
async def on_review_photo(update: Update, context: ShopContext, pressed: cb.ReviewPhoto) -> None:
    """A review's photo, with its stars and words as the caption."""
    async with context.shop.db.read() as session:
        review = await reviews.review_view(session, pressed.review_id, shown_only=True)
    if review.photo is None:
        raise NotFound(ErrorCode.REVIEW_UNKNOWN)
    await answer(update.callback_query)
    caption = f"{render.stars(review.rating)} {escape(review.buyer_name or '')} · {_name(review.title, review.label)}"
    if review.text:
        caption += "\n" + escape(review.text)
    await update.get_bot().send_photo(chat_of(update), review.photo, caption=fit(caption, CAPTION_LIMIT),
                                      parse_mode=ParseMode.HTML)


# --- the seller's reply, an operator's Hide --------------------------------------------------------------


@button_handler
async def on_reply(update: Update, context: ShopContext, pressed: cb.ReplyReview) -> None:
    """Reply: the next message is the seller's public reply."""
    async with context.shop.db.transaction() as session:
        review = await flow.start_reply(session, update.effective_user.id, pressed.review_id,
                                        context.shop.options.operator_ids)
    await answer(update.callback_query)
    # Translators: {name} is a buyer's first name, {stars} their stars (★★★☆☆), {max} a number of characters.
    await reply(update, ngettext(
        "💬 Your reply to {name}'s review ({stars}): type it in one message, at most {max} character. Everyone "
        "sees it, and it can't be changed. /cancel to stop.",
        "💬 Your reply to {name}'s review ({stars}): type it in one message, at most {max} characters. Everyone "
        "sees it, and it can't be changed. /cancel to stop.", reviews.REPLY_MAX).format(
        name=escape(review.buyer_name or ""), stars=render.stars(review.rating), max=reviews.REPLY_MAX))


async def on_reply_text(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """The reply typed: published; the buyer is told."""
    async with context.shop.db.transaction() as session:
        review = await flow.submit_reply(session, update.effective_user.id, text, context.shop.options.operator_ids,
                                         context.shop.clock())
    context.shop.wake_outbox()
    # Translators: {name} is the buyer's first name.
    await reply(update, _("✅ Your reply is published; {name} is told.").format(
        name=escape(review.buyer_name or "")), keyboards.product_reviews(review.product_id))


@button_handler
async def on_hide(update: Update, context: ShopContext, pressed: cb.HideReview) -> None:
    """Hide (operators): the next message is the reason."""
    async with context.shop.db.transaction() as session:
        review = await flow.start_hide(session, update.effective_user.id, pressed.review_id,
                                       context.shop.options.operator_ids)
    await answer(update.callback_query)
    # Translators: {name} is a buyer's first name, {stars} their stars (★★★☆☆).
    await reply(update, _("🚫 Why hide {name}'s review ({stars})? Type the reason: it is kept for the record. "
                          "/cancel to stop.").format(name=escape(review.buyer_name or ""),
                                                     stars=render.stars(review.rating)))


async def on_hide_reason(update: Update, context: ShopContext, step: Step, text: str) -> None:
    """The reason typed: the review is hidden, no longer shown nor counted."""
    async with context.shop.db.transaction() as session:
        review = await flow.submit_hide(session, update.effective_user.id, text, context.shop.options.operator_ids,
                                        context.shop.clock())
    _ratings_changed(context, review)
    # Translators: {name} is a buyer's first name.
    await reply(update, _("🚫 {name}'s review is hidden: it no longer shows or counts in the rating.").format(
        name=escape(review.buyer_name or "")), keyboards.product_reviews(review.product_id))


# What each step of reviews takes (the hints are translated when said: handlers/flows.py).
FLOW = Flow(
    name="reviews",
    steps={
        ReviewStep.WORDS: OnStep(text=on_words, photo=on_photo, buttons={cb.ReviewDone: on_done}, hint=ASK_WORDS,
                                 ends_on_command=True),
        # Words are in: a photo may follow; typed text is a search again.
        ReviewStep.PHOTO: OnStep(photo=on_photo, buttons={cb.ReviewDone: on_done},
                                 hint=N_("Send a photo for your review if you like, or tap <b>Done</b>.")),
        ReviewStep.REPLY: OnStep(text=on_reply_text, hint=N_("Please type your reply to the review."),
                                 ends_on_command=True),
        ReviewStep.HIDE: OnStep(text=on_hide_reason, hint=N_("Please type why the review is hidden."),
                                ends_on_command=True),
    },
    buttons={cb.RateLine: on_rate, cb.RateOrder: on_rate_order, cb.EditReview: on_edit, cb.EditStars: on_edit_stars,
             cb.ReviewsPage: on_reviews, cb.ReviewPhoto: on_review_photo, cb.ReplyReview: on_reply,
             cb.HideReview: on_hide, cb.SellerPage: on_seller_page},
)
