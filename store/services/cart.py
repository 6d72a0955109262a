"""Carts: one per user, lines of (variant, quantity), kept within stock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from store.errors import ErrorCode, Expired, NotFound, ShopError
from store.models import CartLine, FlashDeal, Product, Seller, Variant, utcnow
from store.services import deals
from store.states import CartAction, ProductKind, ProductStatus

# Three buttons per line must fit in one inline keyboard (Telegram allows about 100).
MAX_LINES = 25
MAX_QUANTITY = 99

@dataclass(frozen=True, slots=True)
class CartLineView:
    """One line of a cart as the shopper sees it now."""

    id: int
    variant_id: int
    product_id: int
    seller_id: int
    seller_name: str
    title: str
    label: str
    sku: str
    unit_price: int
    seen_price: int
    quantity: int
    stock: int
    available: bool
    creator_id: int | None = None
    commission_bp: int = 0
    kind: str = ProductKind.PHYSICAL
    # The flash deal whose price ``unit_price`` is (None: the variant's own price).
    deal_id: int | None = None

    @property
    def digital(self) -> bool:
        """Whether the line is a digital product (paid in Stars, delivered in the chat)."""
        return self.kind == ProductKind.DIGITAL

    @property
    def total(self) -> int:
        """Unit price times quantity."""
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class CartView:
    """A shopper's cart, lines grouped by seller in the order they were added."""

    lines: tuple[CartLineView, ...]

    @property
    def total(self) -> int:
        """What the lines cost now."""
        return sum(line.total for line in self.lines)

    @property
    def count(self) -> int:
        """Number of units in the cart."""
        return sum(line.quantity for line in self.lines)

    def of_kind(self, kind: ProductKind) -> CartView:
        """The lines of one kind: a cart of both kinds is paid as two checkouts."""
        return CartView(tuple(line for line in self.lines if line.kind == kind))

    @property
    def kinds(self) -> tuple[ProductKind, ...]:
        """The kinds of product in the cart, physical first."""
        return tuple(kind for kind in ProductKind if any(line.kind == kind for line in self.lines))

    def by_seller(self) -> list[tuple[str, list[CartLineView]]]:
        """Lines grouped per seller, sellers in the order of their first line."""
        groups: dict[int, tuple[str, list[CartLineView]]] = {}
        for line in self.lines:
            groups.setdefault(line.seller_id, (line.seller_name, []))[1].append(line)
        return list(groups.values())


@dataclass(frozen=True, slots=True)
class CartChange:
    """What a cart action did (``done``), the cart after it, and the line's quantity now (0: removed)."""

    cart: CartView
    done: CartAction
    quantity: int


# What a line shows of its variant, product and seller today (with the cart line's own columns, a cart's line).
_ITEM_COLUMNS = (Variant.id.label("variant_id"), Variant.product_id, Product.seller_id,
                 Seller.name.label("seller_name"), Product.title, Variant.label, Variant.sku,
                 Variant.price.label("unit_price"), Variant.stock, Product.status, Product.commission_bp,
                 Seller.commission_bp.label("seller_commission_bp"), Product.kind)
# One joined query for a cart's lines with today's price, stock and seller (instead of one per table).
_LINE_COLUMNS = (CartLine.id, CartLine.seen_price, CartLine.quantity, CartLine.creator_id, *_ITEM_COLUMNS)


# Built once (run with ``user_id`` and ``now``): a cart is read on most of a shopper's updates.
_LINES = (select(*_LINE_COLUMNS, *deals.DEAL_COLUMNS)
          .join(Variant, Variant.id == CartLine.variant_id)
          .join(Product, Product.id == Variant.product_id)
          .join(Seller, Seller.id == Product.seller_id)
          .outerjoin(FlashDeal, deals.LIVE_AT_NOW)
          .where(CartLine.user_id == bindparam("user_id"))
          .order_by(CartLine.id))
# One variant as a line (run with ``variant_id`` and ``now``): what Buy now orders.
_ITEM = (select(*_ITEM_COLUMNS, *deals.DEAL_COLUMNS)
         .join(Product, Product.id == Variant.product_id)
         .join(Seller, Seller.id == Product.seller_id)
         .outerjoin(FlashDeal, deals.LIVE_AT_NOW)
         .where(Variant.id == bindparam("variant_id")))


def _line_view(row, *, line_id: int, seen_price: int, quantity: int,  # type: ignore[no-untyped-def]
               creator_id: int | None) -> CartLineView:
    """A line from a row of ``_ITEM_COLUMNS`` and the deal's columns, and what the line itself holds: priced at
    its variant's live flash deal while the deal still has its quantity."""
    commission = row.commission_bp if row.commission_bp is not None else row.seller_commission_bp
    deal = deals.live_of(row, row.variant_id)
    on_deal = deal is not None and deal.covers(quantity)
    return CartLineView(
        id=line_id, variant_id=row.variant_id, product_id=row.product_id, seller_id=row.seller_id,
        seller_name=row.seller_name, title=row.title, label=row.label, sku=row.sku,
        unit_price=deal.price if on_deal else row.unit_price, seen_price=seen_price, quantity=quantity,
        stock=row.stock, available=row.status == ProductStatus.ACTIVE,
        creator_id=creator_id, commission_bp=commission, kind=row.kind, deal_id=deal.id if on_deal else None,
    )


def _cart_line_view(row) -> CartLineView:  # type: ignore[no-untyped-def]
    return _line_view(row, line_id=row.id, seen_price=row.seen_price, quantity=row.quantity, creator_id=row.creator_id)


async def get_cart(session: AsyncSession, user_id: int, now: datetime | None = None) -> CartView:
    """Return the user's cart with the prices at ``now`` (a live flash deal's; None: the wall clock) and
    current stock."""
    rows = await session.execute(_LINES, {"user_id": user_id, "now": now or utcnow()})
    return CartView(tuple(_cart_line_view(row) for row in rows))


async def one_item(session: AsyncSession, variant_id: int, creator_id: int | None = None,
                   now: datetime | None = None) -> CartView:
    """One unit of a variant as a cart of its own, with its price at ``now`` (a live flash deal's; None: the
    wall clock) and current stock (what Buy now orders).

    The shopper's cart is not touched: the line is not saved (its id is 0).
    """
    row = (await session.execute(_ITEM, {"variant_id": variant_id, "now": now or utcnow()})).one_or_none()
    if row is None:
        return CartView(())
    line = _line_view(row, line_id=0, seen_price=0, quantity=1, creator_id=creator_id)
    return CartView((replace(line, seen_price=line.unit_price),))


async def cart_count(session: AsyncSession, user_id: int) -> int:
    """Return the number of units in the user's cart."""
    return await session.scalar(select(func.coalesce(func.sum(CartLine.quantity), 0)).where(
        CartLine.user_id == user_id)) or 0


async def add_to_cart(session: AsyncSession, user_id: int, variant_id: int, quantity: int = 1, *,
                      creator_id: int | None = None, sold: tuple[str, ...] = tuple(ProductKind),
                      now: datetime | None = None) -> CartChange:
    """Put ``quantity`` units of a variant in the user's cart, within the stock on hand, if the shop can take
    payment for its kind of goods (``sold``: digital goods need Telegram Stars, physical ones a card provider
    or cash on delivery).

    ``creator_id`` is the creator the shopper's last link click attributes the
    line to; a later attributed add moves the line to the newer creator. The line is seen at its price at
    ``now`` (a live flash deal's while it has the quantity; None: the wall clock).
    """
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ShopError(ErrorCode.QUANTITY_OUT_OF_RANGE, max=MAX_QUANTITY)
    variant = await session.scalar(
        select(Variant).where(Variant.id == variant_id).options(joinedload(Variant.product))
    )
    if variant is None or variant.product.status != ProductStatus.ACTIVE:
        raise NotFound(ErrorCode.PRODUCT_GONE)
    if variant.product.kind not in sold:
        raise ShopError(ErrorCode.DIGITAL_NOT_SOLD if variant.product.kind == ProductKind.DIGITAL
                        else ErrorCode.PHYSICAL_NOT_SOLD)
    line = await session.scalar(
        select(CartLine).where(CartLine.user_id == user_id, CartLine.variant_id == variant_id)
    )
    in_cart = line.quantity if line else 0
    if variant.stock <= 0:
        raise ShopError(ErrorCode.OPTION_SOLD_OUT)
    if in_cart + quantity > variant.stock:
        raise ShopError(ErrorCode.STOCK_SHORT_WITH_CART, stock=variant.stock, in_cart=in_cart)
    if in_cart + quantity > MAX_QUANTITY:
        raise ShopError(ErrorCode.QUANTITY_CAP, max=MAX_QUANTITY)
    if line is None:
        lines = await session.scalar(select(func.count(CartLine.id)).where(CartLine.user_id == user_id))
        if lines >= MAX_LINES:
            raise ShopError(ErrorCode.CART_FULL, max=MAX_LINES)
        line = CartLine(user_id=user_id, variant_id=variant_id, quantity=quantity, seen_price=variant.price,
                        creator_id=creator_id)
        session.add(line)
    else:
        line.quantity += quantity
        if creator_id is not None:
            line.creator_id = creator_id
    await session.flush()
    cart = await get_cart(session, user_id, now)
    # The shopper sees the line's price as it is now: a flash deal's while it lasts for the quantity.
    line.seen_price = next(view.unit_price for view in cart.lines if view.id == line.id)
    await session.flush()
    cart = CartView(tuple(replace(view, seen_price=view.unit_price) if view.id == line.id else view
                          for view in cart.lines))
    return CartChange(cart, CartAction.ADD, line.quantity)


async def change_line(session: AsyncSession, user_id: int, line_id: int, action: CartAction | str,
                      now: datetime | None = None) -> CartChange:
    """Increase, decrease or remove one of the user's cart lines; buttons never go below 1 or above stock."""
    line = await session.scalar(
        select(CartLine)
        .where(CartLine.id == line_id)
        .options(joinedload(CartLine.variant).joinedload(Variant.product))
    )
    if line is None or line.user_id != user_id:
        raise Expired(ErrorCode.CART_LINE_GONE)
    if action == CartAction.REMOVE:
        await session.delete(line)
    elif action == CartAction.INCREASE:
        if line.variant.product.status != ProductStatus.ACTIVE:
            raise ShopError(ErrorCode.PRODUCT_GONE)
        if line.quantity + 1 > MAX_QUANTITY:
            raise ShopError(ErrorCode.QUANTITY_CAP, max=MAX_QUANTITY)
        if line.quantity + 1 > line.variant.stock:
            raise ShopError(ErrorCode.STOCK_SHORT, stock=line.variant.stock)
        line.quantity += 1
    elif action == CartAction.DECREASE:
        if line.quantity <= 1:
            raise ShopError(ErrorCode.QUANTITY_MINIMUM)
        line.quantity -= 1
    else:
        raise Expired(ErrorCode.BUTTON_EXPIRED)
    await session.flush()
    quantity = 0 if action == CartAction.REMOVE else line.quantity
    return CartChange(await get_cart(session, user_id, now), CartAction(action), quantity)


async def clear_cart(session: AsyncSession, user_id: int) -> None:
    """Empty the user's cart."""
    await session.execute(delete(CartLine).where(CartLine.user_id == user_id))
