"""Reviews, ratings and the seller score: the one place their rules live.

A review is a buyer's 1 to 5 stars for one line of one of their delivered orders (a verified purchase), once
per line (``reviews.order_line_id`` is unique: a doubled tap inserts nothing the second time), with optional
words (:data:`TEXT_MAX` characters, whitespace tidied) and one photo (a Telegram file id). Its buyer may change
it once (:func:`edit_rating` counts it in ``edits``); then it is final. The order's seller (its owner in the
chat) or an operator replies once, publicly, and the buyer is told through the outbox. An operator hides a
review with a reason, kept; a hidden review neither shows nor counts.

``products.rating_count`` and ``rating_sum`` hold the visible reviews' count and stars, kept in the transaction
that changes a review, so a card's average is one division and search reads every rating in one query.

A delivered order's buyer is asked to rate it once, a while after delivery (:func:`ask_for_reviews`, a job),
unless they turned those messages off (a ``muted_alerts`` row of :attr:`AlertKind.REVIEW_REQUESTS`).

The seller score (:func:`seller_score`) is defined here and nowhere else; :class:`SellerScores` caches it per
process for a few minutes, so a card view never scans a big seller's orders.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, Expired, InvalidInput, NotAllowed, NotFound, ShopError
from store.models import MutedAlert, Order, OrderEvent, OrderLine, Product, Review, Seller, User
from store.rules import PROMISED_SHIP_DAYS, REVIEW_ASK_WITHIN
from store.services import outbox
from store.states import ActorKind, AlertKind, Notice, OrderStatus, OutboxChannel, ProductKind

STARS_MIN, STARS_MAX = 1, 5
TEXT_MAX = 500  # a review's words
REPLY_MAX = 300  # a seller's reply
REASON_MIN, REASON_MAX = 3, 300  # why an operator hid a review
PHOTO_ID_MAX = 255  # a Telegram file id (the column's size)
EDITS_MAX = 1
SCORE_WINDOW = timedelta(days=90)
SCORE_TTL = 600.0  # seconds a seller's score is kept by a process
# Who cancelled an order when the cancellation counts against its seller.
SELLER_SIDE = (ActorKind.SELLER, ActorKind.OPERATOR, ActorKind.API)


@dataclass(frozen=True, slots=True)
class ReviewView:
    """A review as shoppers read it (the buyer by first name only), with what its buyer may still do."""

    id: int
    product_id: int
    seller_id: int
    order_id: int
    rating: int
    text: str | None
    photo: str | None
    reply: str | None
    buyer_name: str
    edits: int
    created_at: datetime
    title: str = ""
    label: str = ""

    @property
    def editable(self) -> bool:
        """Whether its buyer may still change it."""
        return self.edits < EDITS_MAX


class Rating(NamedTuple):
    """A product's visible reviews: how many and their stars in all."""

    count: int
    total: int

    @property
    def average(self) -> float:
        """The average stars (0 with no review)."""
        return self.total / self.count if self.count else 0.0


@dataclass(frozen=True, slots=True)
class LineToRate:
    """A line of a delivered order as the rating keyboard shows it: its review so far, if any."""

    line_id: int
    title: str
    label: str
    review_id: int | None
    rating: int | None
    edits: int
    answered: bool = False  # its seller replied: it stays as it is

    @property
    def editable(self) -> bool:
        """Rated, and its buyer may still change it."""
        return self.review_id is not None and self.edits < EDITS_MAX and not self.answered


def tidy(text: str) -> str:
    """Words as typed, tidied: spaces collapsed, blank lines at most one in a row, no edges."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def check_stars(stars: int) -> None:
    """A rating is 1 to 5 stars."""
    if not STARS_MIN <= stars <= STARS_MAX:
        raise InvalidInput(ErrorCode.RATING_INVALID, min=STARS_MIN, max=STARS_MAX)


async def _bump(session: AsyncSession, product_id: int, count: int, stars: int) -> None:
    """Add to a product's visible rating (negative to take away), in this transaction."""
    await session.execute(update(Product).where(Product.id == product_id).values(
        rating_count=Product.rating_count + count, rating_sum=Product.rating_sum + stars))


# The buyer's first name, none once they asked to be forgotten (Telegram gives it back when they write again).
_AUTHOR = case((User.forget_requested_at.is_(None), User.first_name), else_="")
_VIEW = (Review.id, Review.product_id, Review.seller_id, Review.order_id, Review.rating, Review.text, Review.photo,
         Review.reply, _AUTHOR, Review.edits, Review.created_at, OrderLine.title, OrderLine.variant_label)


def _views():  # type: ignore[no-untyped-def]
    return (select(*_VIEW).join(User, User.id == Review.buyer_id)
            .join(OrderLine, OrderLine.id == Review.order_line_id))


async def review_view(session: AsyncSession, review_id: int, *, shown_only: bool = False) -> ReviewView:
    """One review (NotFound: no such review, or ``shown_only`` and it is hidden)."""
    query = _views().where(Review.id == review_id)
    if shown_only:
        query = query.where(Review.hidden_at.is_(None))
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(ErrorCode.REVIEW_UNKNOWN)
    return ReviewView(*row)


# --- the buyer ---------------------------------------------------------------------------------------


async def rate(session: AsyncSession, buyer_id: int, line_id: int, stars: int, now: datetime) -> ReviewView:
    """The buyer rates a line of one of their delivered orders: a new review (refused if the line has one)."""
    check_stars(stars)
    row = (await session.execute(
        select(OrderLine.product_id, Order.id, Order.buyer_id, Order.status, Order.seller_id)
        .join(Order, Order.id == OrderLine.order_id).where(OrderLine.id == line_id))).one_or_none()
    if row is None or row.buyer_id != buyer_id:
        raise NotFound(ErrorCode.REVIEW_LINE_UNKNOWN)
    if row.status != OrderStatus.DELIVERED:
        raise Expired(ErrorCode.REVIEW_NOT_DELIVERED)
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    # One statement that inserts nothing when the line has its review: a doubled tap, or two processes at once.
    added = await session.execute(insert(Review).values(
        order_line_id=line_id, order_id=row.id, product_id=row.product_id, seller_id=row.seller_id,
        buyer_id=buyer_id, rating=stars, edits=0, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["order_line_id"]).returning(Review.id))
    review_id = added.scalar_one_or_none()
    if review_id is None:
        raise ShopError(ErrorCode.REVIEW_EXISTS)
    await _bump(session, row.product_id, 1, stars)
    return await review_view(session, review_id)


async def _own(session: AsyncSession, buyer_id: int, review_id: int) -> Review:
    """One of the buyer's reviews, locked, still shown, and still theirs to change: once its seller replied,
    it stays as the reply answered it."""
    review = await session.scalar(select(Review).where(Review.id == review_id).with_for_update()
                                  .execution_options(populate_existing=True))
    if review is None or review.buyer_id != buyer_id or review.hidden_at is not None:
        raise NotFound(ErrorCode.REVIEW_UNKNOWN)
    if review.reply is not None:
        raise ShopError(ErrorCode.REVIEW_ANSWERED)
    return review


async def set_text(session: AsyncSession, buyer_id: int, review_id: int, text: str, now: datetime) -> ReviewView:
    """The buyer's words for their review (replacing any), tidied; at most TEXT_MAX characters."""
    text = tidy(text)
    if not 1 <= len(text) <= TEXT_MAX:
        raise InvalidInput(ErrorCode.REVIEW_TEXT_LENGTH, max=TEXT_MAX)
    review = await _own(session, buyer_id, review_id)
    review.text, review.updated_at = text, now
    await session.flush()
    return await review_view(session, review_id)


async def set_photo(session: AsyncSession, buyer_id: int, review_id: int, file_id: str, now: datetime) -> ReviewView:
    """The buyer's photo for their review (replacing any): a Telegram file id."""
    if not 1 <= len(file_id) <= PHOTO_ID_MAX:
        raise InvalidInput(ErrorCode.REVIEW_PHOTO_INVALID)
    review = await _own(session, buyer_id, review_id)
    review.photo, review.updated_at = file_id, now
    await session.flush()
    return await review_view(session, review_id)


async def check_editable(session: AsyncSession, buyer_id: int, review_id: int) -> ReviewView:
    """One of the buyer's reviews they may still change (refused once changed)."""
    review = await _own(session, buyer_id, review_id)
    if review.edits >= EDITS_MAX:
        raise ShopError(ErrorCode.REVIEW_EDITED)
    return await review_view(session, review_id)


async def edit_rating(session: AsyncSession, buyer_id: int, review_id: int, stars: int, now: datetime) -> ReviewView:
    """The buyer changes their review's stars: their one change (its words and photo may follow in the same
    dialogue); the product's rating follows."""
    check_stars(stars)
    review = await _own(session, buyer_id, review_id)
    product_id, before = review.product_id, review.rating
    changed = await session.execute(update(Review).where(Review.id == review_id, Review.edits < EDITS_MAX)
                                    .values(edits=Review.edits + 1, rating=stars, updated_at=now))
    if changed.rowcount != 1:
        raise ShopError(ErrorCode.REVIEW_EDITED)
    await _bump(session, product_id, 0, stars - before)
    return await review_view(session, review_id)


async def lines_to_rate(session: AsyncSession, buyer_id: int, order_id: int) -> list[LineToRate]:
    """The lines of one of the buyer's delivered orders with their reviews so far (refused if it is not
    theirs, or not delivered)."""
    order = await session.get(Order, order_id)
    if order is None or order.buyer_id != buyer_id:
        raise NotFound(ErrorCode.NOT_YOUR_ORDER)
    if order.status != OrderStatus.DELIVERED:
        raise Expired(ErrorCode.REVIEW_NOT_DELIVERED)
    rows = await session.execute(
        select(OrderLine.id, OrderLine.title, OrderLine.variant_label, Review.id, Review.rating,
               func.coalesce(Review.edits, 0), Review.reply.is_not(None))
        .outerjoin(Review, Review.order_line_id == OrderLine.id)
        .where(OrderLine.order_id == order_id).order_by(OrderLine.id))
    return [LineToRate(*row) for row in rows]


# --- the seller and operators ------------------------------------------------------------------------


async def _for_reply(session: AsyncSession, user_id: int, review_id: int, operators: frozenset[int]) -> Review:
    review = await session.scalar(select(Review).where(Review.id == review_id).with_for_update()
                                  .execution_options(populate_existing=True))
    if review is None or review.hidden_at is not None:
        raise NotFound(ErrorCode.REVIEW_UNKNOWN)
    if user_id not in operators:
        owner = await session.scalar(select(Seller.owner_user_id).where(Seller.id == review.seller_id))
        if owner != user_id:
            raise NotAllowed(ErrorCode.REVIEW_REPLY_NOT_YOURS)
    if review.reply is not None:
        raise ShopError(ErrorCode.REVIEW_REPLIED)
    return review


async def check_reply(session: AsyncSession, user_id: int, review_id: int, operators: frozenset[int]) -> ReviewView:
    """A review the person may reply to: its seller's owner, or an operator, and no reply yet."""
    await _for_reply(session, user_id, review_id, operators)
    return await review_view(session, review_id)


async def reply(session: AsyncSession, user_id: int, review_id: int, text: str, operators: frozenset[int],
                now: datetime) -> ReviewView:
    """The seller's one public reply to a review; its buyer is told through the outbox."""
    text = tidy(text)
    if not 1 <= len(text) <= REPLY_MAX:
        raise InvalidInput(ErrorCode.REVIEW_REPLY_LENGTH, max=REPLY_MAX)
    review = await _for_reply(session, user_id, review_id, operators)
    review.reply, review.replied_at = text, now
    await session.flush()
    await outbox.enqueue(session, key=f"review-{review_id}-reply", channel=OutboxChannel.TELEGRAM,
                         template=Notice.REVIEW_REPLY, payload={"review_id": review_id}, chat_id=review.buyer_id,
                         now=now)
    return await review_view(session, review_id)


def check_operator(user_id: int, operators: frozenset[int]) -> None:
    """Only operators hide reviews."""
    if user_id not in operators:
        raise NotAllowed(ErrorCode.ONLY_OPERATORS)


async def hide(session: AsyncSession, user_id: int, review_id: int, reason: str, operators: frozenset[int],
               now: datetime) -> ReviewView:
    """An operator hides a review, with the reason kept: it no longer shows nor counts in the rating."""
    check_operator(user_id, operators)
    reason = tidy(reason)
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidInput(ErrorCode.REVIEW_HIDE_REASON_LENGTH, min=REASON_MIN, max=REASON_MAX)
    review = await session.scalar(select(Review).where(Review.id == review_id).with_for_update()
                                  .execution_options(populate_existing=True))
    if review is None or review.hidden_at is not None:
        raise NotFound(ErrorCode.REVIEW_UNKNOWN)
    review.hidden_at, review.hidden_by, review.hidden_reason = now, user_id, reason
    await _bump(session, review.product_id, -1, -review.rating)
    await session.flush()
    return await review_view(session, review_id)


async def check_hideable(session: AsyncSession, user_id: int, review_id: int, operators: frozenset[int]) -> ReviewView:
    """A review an operator may hide (shown now)."""
    check_operator(user_id, operators)
    review = await session.get(Review, review_id)
    if review is None or review.hidden_at is not None:
        raise NotFound(ErrorCode.REVIEW_UNKNOWN)
    return await review_view(session, review_id)


# --- what shoppers read ----------------------------------------------------------------------------------


async def product_reviews(session: AsyncSession, product_id: int, offset: int, limit: int) -> tuple[
        list[ReviewView], int]:
    """One page of a product's shown reviews, newest first, and how many there are."""
    shown = (Review.product_id == product_id, Review.hidden_at.is_(None))
    total = await session.scalar(select(func.count(Review.id)).where(*shown)) or 0
    rows = await session.execute(_views().where(*shown).order_by(Review.created_at.desc(), Review.id.desc())
                                 .offset(offset).limit(limit))
    return [ReviewView(*row) for row in rows], total


async def product_rating(session: AsyncSession, product_id: int) -> Rating:
    """A product's visible reviews' count and stars."""
    row = (await session.execute(select(Product.rating_count, Product.rating_sum)
                                 .where(Product.id == product_id))).one_or_none()
    return Rating(row[0], row[1]) if row is not None else Rating(0, 0)


async def ratings(session: AsyncSession) -> dict[int, Rating]:
    """Every product that has visible reviews, with its rating (one query: search ranks by it)."""
    rows = await session.execute(select(Product.id, Product.rating_count, Product.rating_sum)
                                 .where(Product.rating_count > 0))
    return {row.id: Rating(row.rating_count, row.rating_sum) for row in rows}


async def can_reply(session: AsyncSession, user_id: int, seller_id: int) -> bool:
    """Whether the person owns the seller (and so replies to its reviews)."""
    return await session.scalar(select(Seller.owner_user_id).where(Seller.id == seller_id)) == user_id


# --- asking buyers -------------------------------------------------------------------------------------


async def ask_for_reviews(session: AsyncSession, now: datetime, delay: timedelta, batch: int = 50) -> int:
    """Ask the buyers of orders delivered at least ``delay`` ago to rate them: each order once (marked with
    ``review_asked_at``; one outbox message by its key), none for a buyer who turned these messages off, none
    for an order delivered longer than REVIEW_ASK_WITHIN ago (marked silently). Returns how many orders were
    marked (``batch``: perhaps more are due)."""
    due = list(await session.scalars(select(Order.id).where(
        Order.status == OrderStatus.DELIVERED, Order.review_asked_at.is_(None), Order.delivered_at <= now - delay)
        .order_by(Order.id).limit(batch)))
    for order_id in due:
        taken = await session.execute(update(Order).where(Order.id == order_id, Order.review_asked_at.is_(None))
                                      .values(review_asked_at=now).returning(Order.buyer_id, Order.delivered_at))
        row = taken.one_or_none()
        if row is None or row.delivered_at < now - REVIEW_ASK_WITHIN:
            continue
        muted = await session.get(MutedAlert, (row.buyer_id, AlertKind.REVIEW_REQUESTS))
        if muted is not None:
            continue
        await outbox.enqueue(session, key=f"review-ask-{order_id}", channel=OutboxChannel.TELEGRAM,
                             template=Notice.REVIEW_REQUEST, payload={"order_id": order_id}, chat_id=row.buyer_id,
                             now=now)
    return len(due)


# --- the seller score -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SellerScore:
    """A seller's score (see :func:`seller_score` for what each figure is); None where there is no data."""

    reviews: int
    stars: int  # the reviews' stars in all
    on_time: int | None  # basis points of the orders counted that shipped on time
    shipped_counted: int
    cancelled: int | None  # basis points of the orders counted that the seller side cancelled
    orders_counted: int

    @property
    def average(self) -> float:
        """The average stars of the seller's shown reviews (0 with none)."""
        return self.stars / self.reviews if self.reviews else 0.0

    @property
    def empty(self) -> bool:
        """Nothing to show."""
        return not self.reviews and self.on_time is None and self.cancelled is None


async def seller_score(session: AsyncSession, seller_id: int, now: datetime) -> SellerScore:
    """A seller's score, the one definition of its three figures:

    - **rating**: the average stars of the seller's shown (not hidden) reviews, and their count;
    - **shipped on time**: of the seller's physical orders paid (or placed, cash on delivery) in the last 90
      days, those shipped, or not shipped and not cancelled whose ship-by time (paid or placed +
      PROMISED_SHIP_DAYS) has passed, the share shipped by their ship-by time;
    - **cancelled by the seller**: of the seller's orders (physical and digital) paid or placed in the last
      90 days, the share cancelled by the seller, an operator or the seller's API. Buyers calling off unpaid
      orders and unpaid orders expiring never reach paid or placed, so never count.

    Two aggregate queries: the reviews by ``ix_reviews_seller_id``, the orders by ``ix_orders_seller_id`` with
    their events; cached per process by :class:`SellerScores`.
    """
    count, stars = (await session.execute(select(func.count(Review.id), func.coalesce(func.sum(Review.rating), 0))
                                          .where(Review.seller_id == seller_id, Review.hidden_at.is_(None)))).one()
    since = now - SCORE_WINDOW
    started = func.min(case((OrderEvent.to_status.in_((OrderStatus.PAID, OrderStatus.PLACED)),
                             OrderEvent.created_at)))
    shipped = func.min(case((OrderEvent.to_status == OrderStatus.SHIPPED, OrderEvent.created_at)))
    by_seller = func.max(case((and_(OrderEvent.to_status == OrderStatus.CANCELLED,
                                    OrderEvent.actor_kind.in_(SELLER_SIDE)), 1), else_=0))
    cancelled = func.max(case((OrderEvent.to_status == OrderStatus.CANCELLED, 1), else_=0))
    # An order is paid or placed after it is created: those created before the window (less a day for a
    # late payment) can't have started in it.
    rows = await session.execute(
        select(Order.kind, started, shipped, by_seller, cancelled).join(OrderEvent, OrderEvent.order_id == Order.id)
        .where(Order.seller_id == seller_id, Order.created_at >= since - timedelta(days=1))
        .group_by(Order.id, Order.kind))
    promised = timedelta(days=PROMISED_SHIP_DAYS)
    counted = cancelled_by_seller = ship_counted = on_time = 0
    for kind, started_at, shipped_at, seller_cancelled, any_cancel in rows:
        if started_at is None or _aware(started_at) < since:
            continue
        counted += 1
        cancelled_by_seller += seller_cancelled
        if kind != ProductKind.PHYSICAL:
            continue
        due = _aware(started_at) + promised
        if shipped_at is not None:
            ship_counted += 1
            on_time += _aware(shipped_at) <= due
        elif not any_cancel and due <= now:
            ship_counted += 1
    return SellerScore(reviews=count, stars=stars,
                       on_time=on_time * 10_000 // ship_counted if ship_counted else None,
                       shipped_counted=ship_counted,
                       cancelled=cancelled_by_seller * 10_000 // counted if counted else None,
                       orders_counted=counted)


def _aware(moment: datetime | str) -> datetime:
    """An aggregate's timestamp (SQLite returns MIN() of a timestamp as text, without its zone) in UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SellerScores:
    """The sellers' scores of one process, each kept SCORE_TTL seconds (a card view reads it from memory)."""

    def __init__(self, ttl: float = SCORE_TTL) -> None:
        self.ttl = ttl
        self._kept: dict[int, tuple[float, SellerScore]] = {}
        # One reading per seller at a time: card views arriving together wait for it instead of each reading.
        self._reading: dict[int, asyncio.Lock] = {}

    def peek(self, seller_id: int) -> SellerScore | None:
        """The score held for a seller, however old (None: not read yet)."""
        kept = self._kept.get(seller_id)
        return kept[1] if kept is not None else None

    async def get(self, session: AsyncSession, seller_id: int, now: datetime) -> SellerScore:
        """A seller's score, read again when the one held is older than the TTL."""
        kept = self._kept.get(seller_id)
        if kept is not None and time.monotonic() - kept[0] < self.ttl:
            return kept[1]
        async with self._reading.setdefault(seller_id, asyncio.Lock()):
            kept = self._kept.get(seller_id)
            if kept is not None and time.monotonic() - kept[0] < self.ttl:
                return kept[1]
            score = await seller_score(session, seller_id, now)
            self._kept[seller_id] = (time.monotonic(), score)
            return score

    def forget(self, seller_id: int | None = None) -> None:
        """Read a seller's score (None: every score) again on its next use."""
        if seller_id is None:
            self._kept.clear()
        else:
            self._kept.pop(seller_id, None)
