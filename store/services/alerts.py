"""Shopper alerts: saved products (the wishlist), back-in-stock requests, price drops, and the kinds of
message a shopper turned off.

- **Saved** (:func:`save`, :func:`unsave`, :func:`saved_page`): a product on the wishlist keeps
  ``price_seen``, the lowest price the shopper was shown for it (a live flash deal's price counts).
- **Back in stock** (:func:`watch`, :func:`tell_restocked`): a shopper on a sold-out option asks to be
  told. A job looks for requests whose option has units again and whose product is on sale, writes one
  outbox message per shopper and option and deletes the request in the same transaction: told once,
  whatever path brought the stock back (a seller's edit, a catalog import, an order cancelled or expired,
  a return), none of which needs to know about alerts.
- **Price drops** (:func:`tell_price_drops`): a saved product whose lowest price now is below
  ``price_seen`` is news; the shopper gets at most one message a day (``users.price_alert_at``) listing
  every such product, and ``price_seen`` becomes the new price, so a drop is told once and only a later,
  further drop is told again.
- **Muted kinds** (:func:`muted`, :func:`set_muted`): a row in ``muted_alerts`` turns a kind off
  (AlertKind: review requests, back in stock, price drops).

A muted or blocked shopper's back-in-stock request is deleted without a message when its option is back:
they asked for one message at one moment, and a wish kept silently would surprise them weeks later, when
they turn the kind on again. A muted shopper's price drops are not looked at at all (``price_seen`` stays):
turning price drops on again tells the drops of the last :data:`DROP_LOOKBACK`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, Expired, NotAllowed, NotFound
from store.models import FlashDeal, MutedAlert, PriceChange, Product, SavedItem, StockAlert, User, Variant
from store.services import deals, outbox
from store.states import AlertKind, Notice, OutboxChannel, ProductStatus

SAVED_PAGE_SIZE = 8
DROP_GAP = timedelta(days=1)  # at most one price-drop message per shopper in this long
# Price changes younger than this make a product a candidate for a drop (see :func:`tell_price_drops`): longer
# than the daily cap, so a drop held back by it is still found once the cap has passed, with a day to spare
# for a bot that was down.
DROP_LOOKBACK = timedelta(days=2)
DROP_LISTED = 10  # products one price-drop message names (the rest are counted)
_KINDS = frozenset(kind.value for kind in AlertKind)


async def _insert_once(session: AsyncSession, table: type, key: list[str], **values: object) -> None:
    """Insert a row unless one with the same key is there: one statement, so a doubled tap handled by two
    processes at once inserts it once and fails neither."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=key))


# --- prices -----------------------------------------------------------------------------------------


def _lowest_prices(now: datetime):  # type: ignore[no-untyped-def]
    """Each product's lowest price now, a live flash deal's price counting (columns product_id, price)."""
    price = func.min(func.coalesce(FlashDeal.price, Variant.price))
    return (select(Variant.product_id.label("product_id"), price.label("price"))
            .outerjoin(FlashDeal, deals.live_on(now)).group_by(Variant.product_id))


async def lowest_price(session: AsyncSession, product_id: int, now: datetime) -> int | None:
    """The product's lowest price now (a live flash deal's counting), None without variants."""
    row = (await session.execute(_lowest_prices(now).where(Variant.product_id == product_id))).one_or_none()
    return row.price if row is not None else None


# --- saved products -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SavedEntry:
    """A saved product as the wishlist shows it: on sale or paused, its lowest price now, whether any unit
    is left."""

    product_id: int
    title: str
    status: str
    price: int
    in_stock: bool


@dataclass(frozen=True, slots=True)
class SavedPage:
    """One page of a shopper's saved products, newest saved first."""

    entries: tuple[SavedEntry, ...]
    page: int
    pages: int
    total: int


async def _product_on_sale(session: AsyncSession, product_id: int) -> None:
    status = await session.scalar(select(Product.status).where(Product.id == product_id))
    if status != ProductStatus.ACTIVE:
        raise NotFound(ErrorCode.PRODUCT_GONE)


async def save(session: AsyncSession, user_id: int, product_id: int, now: datetime) -> None:
    """Put a product on sale on the shopper's wishlist, at the price they see now (saving again changes
    nothing)."""
    await _product_on_sale(session, product_id)
    price = await lowest_price(session, product_id, now)
    await _insert_once(session, SavedItem, ["user_id", "product_id"],
                       user_id=user_id, product_id=product_id, price_seen=price or 0, created_at=now)


async def unsave(session: AsyncSession, user_id: int, product_id: int) -> None:
    """Take a product off the shopper's wishlist (not there: nothing to do)."""
    await session.execute(delete(SavedItem).where(SavedItem.user_id == user_id, SavedItem.product_id == product_id))


async def saved_page(session: AsyncSession, user_id: int, page: int, now: datetime,
                     size: int = SAVED_PAGE_SIZE) -> SavedPage:
    """A page of the shopper's saved products, newest first: removed products are left out, paused and
    sold-out ones shown as such (a page past the end shows the last one)."""
    where = (SavedItem.user_id == user_id, Product.status != ProductStatus.REMOVED)
    total = await session.scalar(select(func.count()).select_from(SavedItem)
                                 .join(Product, Product.id == SavedItem.product_id).where(*where)) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    # Priced for this shopper's saved products only (not every product of the catalog).
    prices = _lowest_prices(now).where(Variant.product_id.in_(
        select(SavedItem.product_id).where(SavedItem.user_id == user_id))).subquery()
    stock = (select(func.coalesce(func.max(Variant.stock), 0)).where(Variant.product_id == Product.id)
             .scalar_subquery())
    rows = await session.execute(
        select(Product.id, Product.title, Product.status, prices.c.price, stock)
        .select_from(SavedItem).join(Product, Product.id == SavedItem.product_id)
        .join(prices, prices.c.product_id == Product.id).where(*where)
        .order_by(SavedItem.created_at.desc(), SavedItem.product_id.desc()).offset(page * size).limit(size))
    entries = tuple(SavedEntry(pid, title, status, price, in_stock > 0) for pid, title, status, price, in_stock in rows)
    return SavedPage(entries, page, pages, total)


# --- back in stock ----------------------------------------------------------------------------------


async def watch(session: AsyncSession, user_id: int, product_id: int, variant_id: int, now: datetime) -> None:
    """Ask to be told when a sold-out option of a product on sale is back (asking twice changes nothing)."""
    row = (await session.execute(select(Variant.stock, Product.status).join(Product, Product.id == Variant.product_id)
                                 .where(Variant.id == variant_id, Variant.product_id == product_id))).one_or_none()
    if row is None or row.status != ProductStatus.ACTIVE:
        raise NotFound(ErrorCode.PRODUCT_GONE)
    if row.stock > 0:
        raise Expired(ErrorCode.OPTION_IN_STOCK)
    if AlertKind.BACK_IN_STOCK in await muted(session, user_id):
        raise NotAllowed(ErrorCode.RESTOCK_ALERTS_OFF)
    await _insert_once(session, StockAlert, ["user_id", "variant_id"], user_id=user_id, variant_id=variant_id,
                       created_at=now)


async def unwatch(session: AsyncSession, user_id: int, variant_id: int) -> None:
    """No longer wait for an option (not waiting: nothing to do)."""
    await session.execute(delete(StockAlert).where(StockAlert.user_id == user_id, StockAlert.variant_id == variant_id))


def _is_muted(kind: AlertKind):  # type: ignore[no-untyped-def]
    """Whether the user of the query's ``User`` row turned ``kind`` off."""
    return exists().where(MutedAlert.user_id == User.id, MutedAlert.kind == kind)


async def tell_restocked(session: AsyncSession, now: datetime, currency: str, batch: int = 200) -> int:
    """Write one message per request whose option has units again (its product on sale) and delete the
    requests, told or not (muted, blocked); requests of removed products go without a word. Returns how many
    requests were handled (``batch``: perhaps more are due)."""
    # Requests are few (sold-out options someone waits for); the variants' primary key and the requests'
    # index on variant_id make this a short join whatever the catalog's size.
    rows = (await session.execute(
        select(StockAlert.user_id, StockAlert.variant_id, StockAlert.created_at, Variant.product_id,
               Product.status, User.blocked_at, _is_muted(AlertKind.BACK_IN_STOCK).label("muted"))
        .join(Variant, Variant.id == StockAlert.variant_id).join(Product, Product.id == Variant.product_id)
        .join(User, User.id == StockAlert.user_id)
        .where(or_(and_(Variant.stock > 0, Product.status == ProductStatus.ACTIVE),
                   Product.status == ProductStatus.REMOVED))
        .order_by(StockAlert.variant_id, StockAlert.user_id).limit(batch))).all()
    for row in rows:
        # Deleting is the claim: of two processes running this job, one deletes the row and tells.
        taken = await session.execute(delete(StockAlert).where(StockAlert.user_id == row.user_id,
                                                               StockAlert.variant_id == row.variant_id))
        if taken.rowcount != 1 or row.status != ProductStatus.ACTIVE or row.muted or row.blocked_at is not None:
            continue
        await outbox.enqueue(session, key=f"restock-{row.variant_id}-{row.user_id}-{int(row.created_at.timestamp())}",
                             channel=OutboxChannel.TELEGRAM, template=Notice.BACK_IN_STOCK,
                             payload={"product_id": row.product_id, "variant_id": row.variant_id,
                                      "currency": currency},
                             chat_id=row.user_id, now=now)
    return len(rows)


# --- price drops ------------------------------------------------------------------------------------


async def tell_price_drops(session: AsyncSession, now: datetime, currency: str, batch: int = 100) -> int:
    """Tell shoppers whose saved products got cheaper than they saw them: one message per shopper (at most one
    a day), ``price_seen`` set to the new prices. Returns how many shoppers were looked at (``batch``: perhaps
    more are due)."""
    # Cheap on a big wishlist table: only products whose price may have fallen are looked at, those with a
    # price change recorded in the last DROP_LOOKBACK (price_changes is written only when a price really
    # changes; ix_price_changes_at) or a flash deal live now (ix_flash_deals_time); their saved rows come by
    # ix_saved_items_product_id.
    # A drop is told within DROP_LOOKBACK or not at all (a bot down for days, a shopper with price drops off).
    recent = (select(Variant.product_id).join(PriceChange, PriceChange.variant_id == Variant.id)
              .where(PriceChange.changed_at > now - DROP_LOOKBACK).correlate(None))
    on_deal = select(Variant.product_id).join(FlashDeal, deals.live_on(now)).correlate(None)
    prices = _lowest_prices(now).where(or_(Variant.product_id.in_(recent), Variant.product_id.in_(on_deal))).subquery()
    due = (select(SavedItem.user_id, SavedItem.product_id, SavedItem.price_seen, prices.c.price)
           .join(prices, prices.c.product_id == SavedItem.product_id)
           .join(Product, Product.id == SavedItem.product_id).join(User, User.id == SavedItem.user_id)
           .where(prices.c.price < SavedItem.price_seen, Product.status == ProductStatus.ACTIVE,
                  User.blocked_at.is_(None), ~_is_muted(AlertKind.PRICE_DROPS),
                  or_(User.price_alert_at.is_(None), User.price_alert_at <= now - DROP_GAP)))
    users = list(await session.scalars(select(due.subquery().c.user_id).distinct().order_by("user_id").limit(batch)))
    if not users:
        return 0
    drops: dict[int, list] = {}
    for row in await session.execute(due.where(SavedItem.user_id.in_(users))
                                     .order_by(SavedItem.user_id, SavedItem.created_at.desc(), SavedItem.product_id)):
        drops.setdefault(row.user_id, []).append(row)
    for user_id, rows in drops.items():
        # The daily cap is the claim: of two processes running this job, one moves it and tells.
        claimed = await session.execute(
            update(User).where(User.id == user_id, or_(User.price_alert_at.is_(None),
                                                       User.price_alert_at <= now - DROP_GAP))
            .values(price_alert_at=now))
        if claimed.rowcount != 1:
            continue
        for row in rows:
            await session.execute(update(SavedItem).where(SavedItem.user_id == user_id,
                                                          SavedItem.product_id == row.product_id)
                                  .values(price_seen=row.price))
        listed = [{"product_id": row.product_id, "price": row.price, "was": row.price_seen}
                  for row in rows[:DROP_LISTED]]
        await outbox.enqueue(session, key=f"prices-{user_id}-{int(now.timestamp())}", channel=OutboxChannel.TELEGRAM,
                             template=Notice.PRICE_DROP,
                             payload={"items": listed, "more": len(rows) - len(listed), "currency": currency},
                             chat_id=user_id, now=now)
    return len(users)


# --- muted kinds -----------------------------------------------------------------------------------


async def muted(session: AsyncSession, user_id: int) -> set[AlertKind]:
    """The kinds of message the shopper turned off."""
    kinds = await session.scalars(select(MutedAlert.kind).where(MutedAlert.user_id == user_id))
    return {AlertKind(kind) for kind in kinds if kind in _KINDS}


async def set_muted(session: AsyncSession, user_id: int, kind: AlertKind, off: bool, now: datetime) -> set[AlertKind]:
    """Turn a kind of message off (``off``) or on again; returns the kinds off now."""
    if off:
        await _insert_once(session, MutedAlert, ["user_id", "kind"], user_id=user_id, kind=kind, created_at=now)
    else:
        await session.execute(delete(MutedAlert).where(MutedAlert.user_id == user_id, MutedAlert.kind == kind))
    return await muted(session, user_id)


async def is_muted(session: AsyncSession, user_id: int, kind: AlertKind) -> bool:
    """Whether the shopper turned ``kind`` off (for the services that send such messages)."""
    return await session.get(MutedAlert, (user_id, kind)) is not None
