"""Every state and kind the store records, each defined once.

The values are what the database and the HTTP API carry; what a person reads
for each is written at the edge (``handlers/render.py``), one label map per
enum, where it can be translated.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """Where an order stands (the rules of moving between them: :mod:`store.services.orders`)."""

    PENDING_PAYMENT = "pending_payment"
    PLACED = "placed"  # cash on delivery: the same path as paid, unpaid
    PAID = "paid"
    ACCEPTED = "accepted"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    EXPIRED = "expired"


class CheckoutStatus(StrEnum):
    """Where a checkout (one payment for one or more orders) stands."""

    PENDING_PAYMENT = "pending_payment"
    PLACED = "placed"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class PaymentMethod(StrEnum):
    """How a checkout is paid."""

    CARD = "card"
    STARS = "stars"
    COD = "cod"  # cash on delivery


class PaymentStatus(StrEnum):
    """What became of a payment received."""

    CAPTURED = "captured"
    REFUND_DUE = "refund_due"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    """An order's refund: due (to be made outside Telegram, or waiting for the Stars refund), or done."""

    DUE = "due"
    DONE = "refunded"


class OrderEventType(StrEnum):
    """What happened to an order, as sellers' webhooks name it (``order.<type>``)."""

    CREATED = "created"
    PAID = "paid"
    ACCEPTED = "accepted"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class SellerAction(StrEnum):
    """What a seller (or an operator) may do with an order."""

    ACCEPT = "accept"
    SHIP = "ship"
    DELIVER = "deliver"
    CANCEL = "cancel"


class ActorKind(StrEnum):
    """Who made an order's state change."""

    BUYER = "buyer"
    SELLER = "seller"
    OPERATOR = "operator"
    SYSTEM = "system"
    API = "api"


class Approval(StrEnum):
    """An application (a seller's shop, a creator) as operators decided it."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class SellerKind(StrEnum):
    """The platform's own shop, or an external retailer."""

    PLATFORM = "platform"
    RETAILER = "retailer"


class ProductKind(StrEnum):
    """What a product is, which decides how it reaches the buyer and how it may be paid (Telegram's rules)."""

    PHYSICAL = "physical"  # shipped: address and shipping step; paid by card (a provider) or cash on delivery
    DIGITAL = "digital"  # delivered in the chat after payment; paid in Telegram Stars only


class Delivery(StrEnum):
    """How a digital variant reaches its buyer (set by its seller)."""

    FILE = "file"  # a document or photo the seller sent the bot (its Telegram file id), or a file's https URL
    CODE = "code"  # one code from the variant's pool per unit (license keys, gift codes)
    TEXT = "text"  # a link or text, the same for every buyer


class CodeStatus(StrEnum):
    """A code of a digital variant's pool."""

    FREE = "free"  # in the pool: counted in the variant's stock
    RESERVED = "reserved"  # held for an order awaiting payment
    SOLD = "sold"  # paid for: the buyer's (shown to them alone)
    SPENT = "spent"  # refunded after it was shown: never sold again


class ProductStatus(StrEnum):
    """Whether shoppers can find and buy a product."""

    ACTIVE = "active"
    PAUSED = "paused"
    REMOVED = "removed"


class PaymentState(StrEnum):
    """How an order's payment stands, as webhooks and the HTTP API say it."""

    PAID = "paid"
    CASH_ON_DELIVERY = "cash_on_delivery"
    UNPAID = "unpaid"


class CommissionStatus(StrEnum):
    """A creator's commission on one order line."""

    PENDING = "pending"
    APPROVED = "approved"
    REVERSED = "reversed"
    PAID = "paid"


class OutboxStatus(StrEnum):
    """Where a notice to deliver stands."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    HELD = "held"  # a seller's webhook event out of retries: it holds back the later ones until replayed


class OutboxChannel(StrEnum):
    """Where a notice goes."""

    TELEGRAM = "telegram"
    WEBHOOK = "webhook"
    STARS_REFUND = "stars_refund"


class AccessChannel(StrEnum):
    """How a buyer's phone and address reached someone other than the buyer."""

    SELLER_CHAT = "seller_chat"  # the new-order notice, or the order opened in the seller's chat
    OPERATOR = "operator"  # an operator opened the order in the chat
    HTTP_API = "http_api"  # the seller's HTTP API returned the order
    WEBHOOK = "webhook"  # the seller's webhook received an event of the order


class Notice(StrEnum):
    """A chat message the outbox delivers (``handlers/notifications.py`` writes each one)."""

    SELLER_ORDER = "seller_order"  # a new order for the seller's chat
    BUYER_ORDER = "buyer_order"  # an order's news for its buyer
    SELLER_STOCK = "seller_stock"  # a variant low or out of stock (codes, for a pool of codes)
    DIGITAL_GOODS = "digital_goods"  # a paid digital order's files, codes or links, for its buyer
    CHECKOUT_EXPIRED = "checkout_expired"
    SELLER_APPLICATION = "seller_application"  # for the operators
    SELLER_DECISION = "seller_decision"
    CREATOR_APPLICATION = "creator_application"
    CREATOR_DECISION = "creator_decision"
    STARS_REFUND = "refund_stars"  # not a message: Telegram refunds a Stars charge
    REFUND_DUE = "refund_due"  # money that could not be applied, for the sellers and the operators
    PAYMENT_REFUNDED = "payment_refunded"  # for the buyer, once Telegram refunded a Stars charge
    WEBHOOK_FAILING = "webhook_failing"  # a seller's webhook has failed for an hour (seller and operators)
    DEAL_STARTED = "deal_started"  # a flash deal a shopper asked to be reminded of has started
    REVIEW_REQUEST = "review_request"  # a delivered order's buyer is asked to rate what they bought
    REVIEW_REPLY = "review_reply"  # the seller answered a buyer's review
    SELLER_RETURN = "seller_return"  # a return asked for, or news of one, for the seller's chat
    BUYER_RETURN = "buyer_return"  # a return's news for its buyer
    BACK_IN_STOCK = "back_in_stock"  # an option a shopper asked about has units again
    PRICE_DROP = "price_drop"  # saved products got cheaper (one message a day at most)


class ReturnStatus(StrEnum):
    """Where a return stands (the rules of moving between them: :mod:`store.services.returns`)."""

    REQUESTED = "requested"  # the buyer asked; the seller approves or rejects (or time approves it)
    APPROVED = "approved"  # the buyer sends the goods back as the seller's instructions say
    REJECTED = "rejected"
    REFUNDED = "refunded"  # the goods came back (or the seller refunded without them): money back, stock back


class ReturnAction(StrEnum):
    """What a seller (or an operator) may do with a return, as the HTTP API names them."""

    APPROVE = "approve"
    REJECT = "reject"
    RECEIVED = "received"  # the goods came back: refund
    REFUND = "refund"  # refund without the goods back


class ReturnReason(StrEnum):
    """Why a buyer returns goods (the list the buyer picks from; a text may add to it)."""

    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    DOES_NOT_FIT = "does_not_fit"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class ReturnEventType(StrEnum):
    """What happened to a return, as sellers' webhooks name it (``return.<type>``)."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    REFUNDED = "refunded"


class AlertKind(StrEnum):
    """A kind of message a shopper may turn off with /notifications (order news cannot be)."""

    REVIEW_REQUESTS = "reviews"  # "how was it?" after a delivery
    BACK_IN_STOCK = "restock"  # an option asked about is back
    PRICE_DROPS = "prices"  # a saved product got cheaper


class CartAction(StrEnum):
    """What a shopper does to a cart (the last three are buttons on a cart line)."""

    ADD = "add"
    INCREASE = "inc"
    DECREASE = "dec"
    REMOVE = "del"


class InboxState(StrEnum):
    """Where a received update stands. The first three are unfinished: they hold the person's lane."""

    PENDING = "pending"  # stored, waiting for a process to take it
    CLAIMED = "claimed"  # taken by a process (``owner``) until ``lease_until``
    APPLIED = "applied"  # its effect is committed; the reply may not be sent yet
    DONE = "done"
    FAILED = "failed"  # a handler failed: it is not tried again


UNFINISHED = (InboxState.PENDING, InboxState.CLAIMED, InboxState.APPLIED)
