"""Tables of the store: people, catalog, carts, checkouts, orders and payments.

Money is always an integer number of minor units (cents) in the currency named
beside it. Relations are ``lazy="raise"`` so that an accidental lazy load in
async code fails loudly instead of doing hidden I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from store.states import (
    Approval,
    CodeStatus,
    CommissionStatus,
    InboxState,
    OutboxStatus,
    ProductKind,
    ProductStatus,
    SellerKind,
)

# Surrogate keys: BIGINT on PostgreSQL; INTEGER on SQLite, where only
# "INTEGER PRIMARY KEY" is an auto-incrementing rowid alias.
Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so values are normalised to UTC on the way in and
    tagged UTC on the way out; comparisons in SQL then agree on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    """Declarative base of every store table."""


class User(Base):
    """A Telegram user known to the shop, with the contact details they last used."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    # The language they chose with /language (handlers.i18n.LANGUAGES); else language_code decides.
    language: Mapped[str | None] = mapped_column(String(8))
    contact_name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    last_address: Mapped[str | None] = mapped_column(Text)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person asked to be forgotten: their open orders' contact is erased once they end.
    forget_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The discount code the shopper entered (typed at checkout or brought by a link), tried on every checkout
    # until they remove it or it is used up.
    promo_code: Mapped[str | None] = mapped_column(String(20))
    # When they were last told of saved products getting cheaper (at most one such message a day).
    price_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Seller(Base):
    """The platform's own shop or an external retailer."""

    __tablename__ = "sellers"
    __table_args__ = (UniqueConstraint("api_key_hash", name="uq_sellers_api_key_hash"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16), default=SellerKind.RETAILER)
    status: Mapped[str] = mapped_column(String(16), default=Approval.APPROVED)
    owner_user_id: Mapped[int | None] = mapped_column(BigInteger)
    notify_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    commission_bp: Mapped[int] = mapped_column(Integer, default=1000)
    # External retailers: where order events are POSTed, signed with the secret
    # (Standard Webhooks, "whsec_..."), and the SHA-256 of their HTTP API key.
    webhook_url: Mapped[str | None] = mapped_column(String(512))
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    api_key_hash: Mapped[str | None] = mapped_column(String(64))
    # Whether the seller's orders ask the buyer for a phone number (couriers call it); off, none is collected.
    buyer_phone: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Where and how buyers send goods back (an address or a note), shown to a buyer once their return is approved.
    return_instructions: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Category(Base):
    """A shelf of the catalog, shown in display order."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CatalogState(Base):
    """One row: a version that grows with every catalog change (search index freshness), and the
    currency every price, fee and total in the store is in, with its minor-unit digits (None until the
    shop first starts; store/services/currency.py)."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str | None] = mapped_column(String(3))
    minor_digits: Mapped[int | None] = mapped_column(SmallInteger)


class Product(Base):
    """A product of one seller; what the shopper buys is one of its variants."""

    __tablename__ = "products"
    __table_args__ = (Index("ix_products_catalog_version", "catalog_version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    brand: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(512))
    # Physical (shipped) or digital (delivered in the chat, paid in Stars): ProductKind.
    kind: Mapped[str] = mapped_column(String(16), default=ProductKind.PHYSICAL, server_default=ProductKind.PHYSICAL)
    status: Mapped[str] = mapped_column(String(16), default=ProductStatus.ACTIVE)
    # Creator commission in basis points (1/100 of a percent); None: the seller's default.
    commission_bp: Mapped[int | None] = mapped_column(Integer)
    # The catalog version of this product's last change: the search index
    # reloads only products newer than the version it has seen.
    catalog_version: Mapped[int] = mapped_column(BigInteger, default=0)
    # Its visible reviews: how many and the sum of their stars (the average is one division away), kept by
    # store/services/reviews.py in the transaction that changes a review.
    rating_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    seller: Mapped[Seller] = relationship(lazy="raise")
    category: Mapped[Category] = relationship(lazy="raise")
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", lazy="raise", order_by="Variant.position"
    )


class Variant(Base):
    """A buyable option of a product (size, colour) with its own SKU, price and stock."""

    __tablename__ = "variants"
    __table_args__ = (
        UniqueConstraint("seller_id", "sku", name="uq_variants_seller_sku"),
        CheckConstraint("stock >= 0", name="ck_variants_stock_not_negative"),
        CheckConstraint("price > 0", name="ck_variants_price_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"))
    sku: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64), default="")
    price: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A digital variant's delivery (Delivery; None for a physical one). For a file, ``content`` is its Telegram
    # file id (or an https URL) and ``content_type`` "document" or "photo"; for a text, the text or link
    # itself; a pool of codes is its own table, and its stock the codes left. Shown to buyers only, once paid.
    delivery: Mapped[str | None] = mapped_column(String(8))
    content: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(16))

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")


class DigitalCode(Base):
    """One code of a digital variant's pool: sold once, to one order line, never twice."""

    __tablename__ = "digital_codes"
    __table_args__ = (
        UniqueConstraint("variant_id", "code", name="uq_digital_codes_variant_code"),
        Index("ix_digital_codes_variant_status", "variant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    code: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=CodeStatus.FREE)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CartLine(Base):
    """A variant in a shopper's cart, with the price the shopper saw when adding it."""

    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("user_id", "variant_id", name="uq_cart_lines_user_variant"),
        CheckConstraint("quantity > 0", name="ck_cart_lines_quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    seen_price: Mapped[int] = mapped_column(BigInteger)
    # The creator whose link brought the shopper here (last click within the attribution window).
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("creators.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    variant: Mapped[Variant] = relationship(lazy="raise")


class UserStep(Base):
    """Where a user is in a multi-step conversation, and what they have typed so far."""

    __tablename__ = "user_steps"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ShippingMethod(Base):
    """A way to ship an order; its fee is charged once per seller's order."""

    __tablename__ = "shipping_methods"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Checkout(Base):
    """One purchase of a whole cart, paid once, split into one order per seller."""

    __tablename__ = "checkouts"
    __table_args__ = (Index("ix_checkouts_status_expires", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))  # CheckoutStatus
    payment_method: Mapped[str] = mapped_column(String(16))  # PaymentMethod
    currency: Mapped[str] = mapped_column(String(3))
    items_total: Mapped[int] = mapped_column(BigInteger)
    shipping_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    # What the invoice asks for: the total in `currency`, or Telegram Stars (XTR).
    invoice_currency: Mapped[str] = mapped_column(String(3))
    invoice_amount: Mapped[int] = mapped_column(BigInteger)
    shipping_code: Mapped[str] = mapped_column(String(32))
    shipping_name: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The buyer's message "reserved for you ... Pay / Cancel", shown as paid once the payment is in.
    pay_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # What discount codes took off the items (``total`` is items - discount + shipping).
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    orders: Mapped[list[Order]] = relationship(back_populates="checkout", lazy="raise", order_by="Order.id")


class Order(Base):
    """The part of a checkout that one seller fulfils."""

    __tablename__ = "orders"
    __table_args__ = (
        # A seller's recent orders (the seller score), and the delivered orders whose buyers are still to be
        # asked for a review (only those: the index stays small).
        Index("ix_orders_seller_created", "seller_id", "created_at"),
        Index("ix_orders_review_due", "delivered_at",
              sqlite_where=text("status = 'delivered' AND review_asked_at IS NULL"),
              postgresql_where=text("status = 'delivered' AND review_asked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    # Every line of an order is of this kind (a cart of both is two checkouts): ProductKind.
    kind: Mapped[str] = mapped_column(String(16), default=ProductKind.PHYSICAL, server_default=ProductKind.PHYSICAL)
    currency: Mapped[str] = mapped_column(String(3))
    items_total: Mapped[int] = mapped_column(BigInteger)
    shipping_fee: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Money owed back to the buyer after a cancel: "due" (to be refunded by hand,
    # or a Stars refund in flight) or "refunded".
    refund_status: Mapped[str | None] = mapped_column(String(16))
    # The code's discount on this order's items (``total`` is items_total - discount + shipping_fee), the part
    # of it the platform pays (the seller is paid as if it were not taken off), the code, and the use of the
    # code it counts against (given back when every order of that use is cancelled or expires).
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    platform_discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    coupon_code: Mapped[str | None] = mapped_column(String(20))
    coupon_use_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_uses.id"), index=True)
    # Who and where the order goes to (the phone None when its seller asks none), each seller's copy
    # erased with its own order: PERSONAL_DATA_DAYS after it ended, or once ended for a buyer who asked.
    contact_name: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its buyer was asked to rate what they bought (once, a while after delivery).
    review_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    checkout: Mapped[Checkout] = relationship(back_populates="orders", lazy="raise")
    seller: Mapped[Seller] = relationship(lazy="raise")
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", lazy="raise", order_by="OrderLine.id")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", lazy="raise", order_by="OrderEvent.id")


class DataAccess(Base):
    """A buyer's phone and address given to someone else: who, when, for which order, by which channel."""

    __tablename__ = "data_access"
    __table_args__ = (Index("ix_data_access_order_channel", "order_id", "channel"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    buyer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    channel: Mapped[str] = mapped_column(String(16))  # AccessChannel
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"))
    # The person who opened it in a chat (an operator, a seller's staff), when it was a person.
    viewer_id: Mapped[int | None] = mapped_column(BigInteger)
    # Given again the same way within an hour: counted here (first and last time), not a row each.
    times: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderLine(Base):
    """A snapshot of what was bought: title, option, unit price and quantity at order time."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),
        CheckConstraint("returned >= 0 AND returned <= quantity", name="ck_order_lines_returned_within_quantity"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(120))
    variant_label: Mapped[str] = mapped_column(String(64), default="")
    sku: Mapped[str] = mapped_column(String(64))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(BigInteger)
    # Snapshot of the attribution: the creator and the commission rate (basis points) at order time.
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("creators.id"))
    commission_bp: Mapped[int] = mapped_column(Integer, default=0)
    # The discount code's part of this line (what was paid is line_total - discount), and the flash deal whose
    # price it was bought at (its quantity cap is given back if the order is cancelled or expires).
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("flash_deals.id"))
    # Units asked back by returns that stand (requested, approved or refunded): never more than were bought.
    returned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")


class OrderEvent(Base):
    """One status change of an order: from, to, who did it and when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor_kind: Mapped[str] = mapped_column(String(16))  # ActorKind
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events", lazy="raise")


class Payment(Base):
    """Money received for a checkout, recorded once per Telegram charge id."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    telegram_charge_id: Mapped[str] = mapped_column(String(255), unique=True)
    provider_charge_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # PaymentStatus
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(Base):
    """Something to deliver after commit: a chat message, a signed webhook, a Stars refund.

    Written in the same transaction as the change that causes it and delivered
    by a worker with retries; ``key`` makes each delivery idempotent.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_lane", "lane", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # telegram | webhook | stars_refund
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"))
    # Deliveries in one lane (one chat, one seller's webhook) go out in order, one at a time.
    lane: Mapped[str] = mapped_column(String(48))
    template: Mapped[str] = mapped_column(String(48))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Creator(Base):
    """Someone who shares product links and earns commission on what they sell."""

    __tablename__ = "creators"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=Approval.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShowcaseItem(Base):
    """A product a creator picked for their showcase."""

    __tablename__ = "showcase_items"
    __table_args__ = (UniqueConstraint("creator_id", "product_id", name="uq_showcase_creator_product"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Click(Base):
    """A deep link opened: which creator's link, for which product (None: the showcase), by whom."""

    __tablename__ = "clicks"
    __table_args__ = (
        Index("ix_clicks_user_time", "user_id", "created_at"),
        Index("ix_clicks_creator_time", "creator_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Commission(Base):
    """A creator's commission on one order line: pending, then approved or reversed, then paid."""

    __tablename__ = "commissions"
    __table_args__ = (
        Index("ix_commissions_creator_status", "creator_id", "status"),
        # One sale entry per line; one claw-back entry per line and return.
        Index("uq_commissions_sale_line", "order_line_id", unique=True,
              sqlite_where=text("return_id IS NULL"), postgresql_where=text("return_id IS NULL")),
        UniqueConstraint("order_line_id", "return_id", name="uq_commissions_line_return"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    # None for the sale; a return's id for the negative entry that takes back the commission on what it returned
    # once the sale's commission was approved (store/services/returns.py).
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    currency: Mapped[str] = mapped_column(String(3))
    sales: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=CommissionStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"))


class Payout(Base):
    """Money paid to a creator for approved commissions, so none is paid twice."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxUpdate(Base):
    """A Telegram update as received, stored before Telegram is told it arrived.

    Updates of one ``lane`` (the person, or the chat) are handled one at a time in
    the order received; a NULL lane is handled at once (pre-checkout queries). The
    raw update is erased once it is finished; the row stays a week, so a second
    delivery of the same ``update_id`` is recognised and ignored.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        # A lane's rows in a state, oldest first: what the claim and hand-over queries look for. (Not a
        # partial index: with bound parameters neither database proves a query's "state = ?" implies
        # an index's "state IN (...)", and a week of finished rows would then be scanned per claim.)
        Index("ix_inbox_lane_state", "lane", "state", "update_id"),
        # The unfinished rows, by state: what the sweep and the backlog metrics read.
        Index("ix_inbox_state_lane", "state", "lane"),
        Index("ix_inbox_finished_at", "finished_at"),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    lane: Mapped[int | None] = mapped_column(BigInteger)
    priority: Mapped[int] = mapped_column(SmallInteger, default=0)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=InboxState.PENDING)
    owner: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Coupon(Base):
    """A discount code: a seller's (paid by the seller, on its own goods), the platform's (paid by the
    platform: sellers are paid the full price), or a creator's personal code (the platform's, and it
    attributes the lines it applies to the creator).

    ``scope`` is the seller's id, or 0 for the platform's codes and creators' codes: a code is unique in its
    scope, and no shop's code is also a platform code (store/services/coupons.py).
    """

    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("scope", "code", name="uq_coupons_scope_code"),
        Index("ix_coupons_code", "code"),
        CheckConstraint("uses >= 0", name="ck_coupons_uses_not_negative"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="ck_coupons_uses_within_max"),
        CheckConstraint("(percent_off IS NULL) <> (amount_off IS NULL)", name="ck_coupons_one_kind_of_discount"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    scope: Mapped[int] = mapped_column(BigInteger)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    # A creator's code (their current one is active; a code they replaced stays theirs, inactive).
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("creators.id"), index=True)
    # Upper case, A-Z and 0-9, 4 to 20 characters (what the shopper types is upper-cased).
    code: Mapped[str] = mapped_column(String(20))
    # Either a percentage off (1..100) or an amount off in minor units.
    percent_off: Mapped[int | None] = mapped_column(SmallInteger)
    amount_off: Mapped[int | None] = mapped_column(BigInteger)
    # What the goods it applies to must cost together (minor units) for it to apply.
    min_spend: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Uses in all (None: no limit) and per shopper (None: no limit); ``uses``: held now.
    max_uses: Mapped[int | None] = mapped_column(Integer)
    per_shopper: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponProduct(Base):
    """A product a coupon is limited to (a coupon with none applies to all of its scope's goods)."""

    __tablename__ = "coupon_products"

    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)


class CouponUse(Base):
    """One Place order that used a coupon: held while any of its orders stands, given back otherwise."""

    __tablename__ = "coupon_uses"
    __table_args__ = (Index("ix_coupon_uses_coupon_user", "coupon_id", "user_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PriceChange(Base):
    """A variant's price from a moment on (its history: what a flash deal must beat)."""

    __tablename__ = "price_changes"
    __table_args__ = (
        Index("ix_price_changes_variant_at", "variant_id", "changed_at"),
        # The recent changes, whatever the variant (saved products that may have got cheaper: alerts).
        Index("ix_price_changes_at", "changed_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    price: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlashDeal(Base):
    """A variant sold at a lower price for a while (at most 72 hours), optionally for a number of units."""

    __tablename__ = "flash_deals"
    __table_args__ = (
        Index("ix_flash_deals_variant_time", "variant_id", "starts_at", "ends_at"),
        Index("ix_flash_deals_time", "starts_at", "ends_at"),
        CheckConstraint("sold >= 0", name="ck_flash_deals_sold_not_negative"),
        CheckConstraint("cap IS NULL OR sold <= cap", name="ck_flash_deals_sold_within_cap"),
        CheckConstraint("price > 0", name="ck_flash_deals_price_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    price: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Units on sale at the deal price (None: no cap), and units held by orders now.
    cap: Mapped[int | None] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the reminders of its start were written (once).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DealReminder(Base):
    """A shopper who asked to be told when a flash deal starts."""

    __tablename__ = "deal_reminders"

    deal_id: Mapped[int] = mapped_column(ForeignKey("flash_deals.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Review(Base):
    """A buyer's stars (and words, and a photo) for one delivered order line; one public reply by its seller."""

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_reviews_rating_1_to_5"),
        Index("ix_reviews_product_created", "product_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str | None] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(255))  # a Telegram file id
    # Times the buyer changed it after writing it (they may once).
    edits: Mapped[int] = mapped_column(Integer, default=0)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An operator hid it (with the reason, kept): it no longer shows or counts.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by: Mapped[int | None] = mapped_column(BigInteger)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Return(Base):
    """Goods of one order a buyer sends back (or keeps, refunded without return), and the money owed for them."""

    __tablename__ = "returns"
    __table_args__ = (Index("ix_returns_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # ReturnStatus
    reason: Mapped[str] = mapped_column(String(24))  # ReturnReason
    note: Mapped[str | None] = mapped_column(Text)  # the buyer's words
    photo: Mapped[str | None] = mapped_column(String(255))  # a Telegram file id
    # What goes back to the buyer (the returned lines' share of what was paid), in the order's currency.
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    # The seller refunded without asking for the goods.
    without_goods: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # RefundStatus once refunded: due (to be made outside Telegram, or a Stars refund in flight) or refunded.
    refund_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[ReturnLine]] = relationship(lazy="raise", order_by="ReturnLine.id")
    events: Mapped[list[ReturnEvent]] = relationship(lazy="raise", order_by="ReturnEvent.id")


class ReturnLine(Base):
    """Units of one order line in a return, and their share of what was paid."""

    __tablename__ = "return_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_return_lines_quantity_positive"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)


class ReturnEvent(Base):
    """One status change of a return: from, to, who did it and when."""

    __tablename__ = "return_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(16))  # ActorKind
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedItem(Base):
    """A product on a shopper's wishlist, with the lowest price they have been shown for it (a drop below it
    is news)."""

    __tablename__ = "saved_items"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True, index=True)
    price_seen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockAlert(Base):
    """A shopper waiting for a sold-out option to be back (told once, then the row goes)."""

    __tablename__ = "stock_alerts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MutedAlert(Base):
    """A kind of message (AlertKind) a shopper turned off with /notifications."""

    __tablename__ = "muted_alerts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
