"""Reviews in the chat, as steps: after the stars, the buyer's words and photo; a seller's reply; an operator's
reason for hiding one.

Each call checks the person is at the step it answers (locked, :func:`store.services.users.at_step`); the
rules are :mod:`store.services.reviews`'.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, NotFound
from store.models import Review
from store.services import reviews
from store.services.reviews import ReviewView
from store.services.users import at_step, clear_step, get_step, set_step


class ReviewStep(StrEnum):
    """The steps of writing, answering and hiding reviews."""

    WORDS = "review:words"  # the buyer's words or photo, after the stars (or after changing them)
    PHOTO = "review:photo"  # words are in: a photo may follow (typed text is a search again)
    REPLY = "review:reply"  # the seller's reply
    HIDE = "review:hide"  # an operator's reason


async def rate(session: AsyncSession, user_id: int, line_id: int, stars: int, now: datetime) -> ReviewView:
    """One tap of stars on a delivered line: the review is written; words or a photo may follow."""
    review = await reviews.rate(session, user_id, line_id, stars, now)
    await set_step(session, user_id, ReviewStep.WORDS, {"review_id": review.id})
    return review


async def edit(session: AsyncSession, user_id: int, review_id: int, stars: int, now: datetime) -> ReviewView:
    """The buyer's one change: new stars, then (optionally) new words or photo."""
    review = await reviews.edit_rating(session, user_id, review_id, stars, now)
    await set_step(session, user_id, ReviewStep.WORDS, {"review_id": review.id, "edit": True})
    return review


async def add_words(session: AsyncSession, user_id: int, text: str, now: datetime) -> ReviewView:
    """The buyer's words for the review they are writing: one message (what they type next is theirs again,
    a search: only a photo may follow); with a photo already in, the dialogue ends."""
    step = await at_step(session, user_id, ReviewStep.WORDS, over=ErrorCode.REVIEW_STEP_OVER)
    review = await reviews.set_text(session, user_id, step.data["review_id"], text, now)
    await _next(session, user_id, review, step.data)
    return review


async def add_photo(session: AsyncSession, user_id: int, file_id: str, caption: str | None,
                    now: datetime) -> ReviewView:
    """The buyer's photo (and its caption, as words) for the review they are writing; with words already in,
    the dialogue ends."""
    step = await at_step(session, user_id, ReviewStep.WORDS, ReviewStep.PHOTO, over=ErrorCode.REVIEW_STEP_OVER)
    if caption and caption.strip():
        await reviews.set_text(session, user_id, step.data["review_id"], caption, now)
    review = await reviews.set_photo(session, user_id, step.data["review_id"], file_id, now)
    await _next(session, user_id, review, step.data)
    return review


async def _next(session: AsyncSession, user_id: int, review: ReviewView, data: dict) -> None:
    """After words or a photo: over once both are in, else waiting for the one missing (words, or a photo)."""
    if review.text and review.photo:
        await clear_step(session, user_id)
    else:
        await set_step(session, user_id, ReviewStep.WORDS if not review.text else ReviewStep.PHOTO, data)


async def finish(session: AsyncSession, user_id: int, review_id: int) -> ReviewView:
    """Done (or Skip): the review stands as it is; the dialogue ends if it was about this review."""
    row = await session.get(Review, review_id)
    if row is None or row.buyer_id != user_id:
        raise NotFound(ErrorCode.REVIEW_UNKNOWN)
    step = await get_step(session, user_id)
    if step is not None and step.name in (ReviewStep.WORDS, ReviewStep.PHOTO) \
            and step.data.get("review_id") == review_id:
        await clear_step(session, user_id)
    return await reviews.review_view(session, review_id)


async def start_reply(session: AsyncSession, user_id: int, review_id: int,
                      operators: frozenset[int]) -> ReviewView:
    """Reply to a review: the next message is the reply (its seller's owner, or an operator; once)."""
    review = await reviews.check_reply(session, user_id, review_id, operators)
    await set_step(session, user_id, ReviewStep.REPLY, {"review_id": review_id})
    return review


async def submit_reply(session: AsyncSession, user_id: int, text: str, operators: frozenset[int],
                       now: datetime) -> ReviewView:
    """The reply typed: published, its buyer told; the dialogue ends."""
    step = await at_step(session, user_id, ReviewStep.REPLY, over=ErrorCode.REVIEW_STEP_OVER)
    review = await reviews.reply(session, user_id, step.data["review_id"], text, operators, now)
    await clear_step(session, user_id)
    return review


async def start_hide(session: AsyncSession, user_id: int, review_id: int, operators: frozenset[int]) -> ReviewView:
    """Hide a review (operators): the next message is the reason."""
    review = await reviews.check_hideable(session, user_id, review_id, operators)
    await set_step(session, user_id, ReviewStep.HIDE, {"review_id": review_id})
    return review


async def submit_hide(session: AsyncSession, user_id: int, text: str, operators: frozenset[int],
                      now: datetime) -> ReviewView:
    """The reason typed: the review is hidden; the dialogue ends."""
    step = await at_step(session, user_id, ReviewStep.HIDE, over=ErrorCode.REVIEW_STEP_OVER)
    review = await reviews.hide(session, user_id, step.data["review_id"], text, operators, now)
    await clear_step(session, user_id)
    return review
