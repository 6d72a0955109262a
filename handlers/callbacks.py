"""Every kind of button the bot shows, each one class: its prefix on the wire and its typed fields.

A button is defined once here; the keyboard that shows it builds an instance
(``AddToCart(variant_id=7)``) and :meth:`Button.pack` writes its callback data
(``a:7``, at most Telegram's 64 bytes); the handler registration matches its
prefix (:meth:`Button.matches`) and the handler receives the instance that
:func:`unpack` read back, which rejects anything that is not exactly one of
these shapes (unknown prefix, wrong number of fields, a non-number where a
number belongs, a value outside its enum).

Buttons carry ids, never facts: a handler re-loads the rows a button names
and checks owner and state before acting.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, ClassVar

from store.states import (
    AlertKind,
    CartAction,
    Delivery,
    PaymentMethod,
    ProductKind,
    ProductStatus,
    ReturnAction,
    ReturnReason,
    SellerAction,
)

MAX_BYTES = 64  # Telegram's limit on callback data
SEP = ":"
_INT = re.compile(r"0|[1-9][0-9]{0,17}")


class VariantField(StrEnum):
    """What of a variant a seller edits."""

    PRICE = "price"
    STOCK = "stock"


# Enum values written shorter on the wire than in code (and as buttons already in chats carry them).
_WIRE: dict[type[Enum], dict[Enum, str]] = {
    SellerAction: {SellerAction.ACCEPT: "acc", SellerAction.SHIP: "shp",
                   SellerAction.DELIVER: "dlv", SellerAction.CANCEL: "cxl"},
    VariantField: {VariantField.PRICE: "p", VariantField.STOCK: "s"},
}
_FROM_WIRE: dict[type[Enum], dict[str, Enum]] = {
    kind: {code: member for member, code in codes.items()} for kind, codes in _WIRE.items()}


class CallbackError(ValueError):
    """Callback data that is not one of ours (forged, stale or damaged)."""


class Button:
    """A kind of button. Subclasses are frozen dataclasses whose fields are int, bool, str or a StrEnum."""

    prefix: ClassVar[str]
    _kinds: ClassVar[dict[str, type[Button]]] = {}

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or SEP in prefix or prefix in Button._kinds:
            raise TypeError(f"button prefix {prefix!r} is empty, has {SEP!r} or is taken")
        cls.prefix = prefix
        Button._kinds[prefix] = cls

    def pack(self) -> str:
        """This button's callback data; ValueError if a field is malformed or it would not fit."""
        parts = [self.prefix]
        for name, kind in _fields(type(self)):
            parts.append(_encode(kind, getattr(self, name), f"{type(self).__name__}.{name}"))
        data = SEP.join(parts)
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def matches(cls, data: object) -> bool:
        """Whether callback data names this kind of button (the handler registration's pattern)."""
        return isinstance(data, str) and (data == cls.prefix or data.startswith(cls.prefix + SEP))


@functools.cache
def _fields(kind: type[Button]) -> tuple[tuple[str, type], ...]:
    hints = typing.get_type_hints(kind)
    return tuple((field.name, hints[field.name]) for field in dataclasses.fields(kind))  # type: ignore[arg-type]


def _encode(kind: type, value: object, what: str) -> str:
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{what}: expected a bool, got {value!r}")
        return "1" if value else "0"
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{what}: expected a non-negative integer, got {value!r}")
        return str(value)
    if issubclass(kind, Enum):
        member = kind(value)
        return _WIRE[kind][member] if kind in _WIRE else member.value
    if not isinstance(value, str) or SEP in value:
        raise ValueError(f"{what}: expected text without {SEP!r}, got {value!r}")
    return value


def _decode(kind: type, raw: str) -> object:
    if kind is bool:
        if raw not in ("0", "1"):
            raise CallbackError(f"not a flag: {raw!r}")
        return raw == "1"
    if kind is int:
        if not _INT.fullmatch(raw):
            raise CallbackError(f"not an id: {raw!r}")
        return int(raw)
    if issubclass(kind, Enum):
        if kind in _WIRE:
            if raw not in _FROM_WIRE[kind]:
                raise CallbackError(f"not a {kind.__name__}: {raw!r}")
            return _FROM_WIRE[kind][raw]
        try:
            return kind(raw)
        except ValueError:
            raise CallbackError(f"not a {kind.__name__}: {raw!r}") from None
    return raw


def unpack(data: str | None) -> Button:
    """Read callback data back into its button; raise :class:`CallbackError` unless it is exactly one of ours."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        raise CallbackError("empty or oversized callback data")
    prefix, *raw = data.split(SEP)
    kind = Button._kinds.get(prefix)
    fields = _fields(kind) if kind is not None else ()
    if kind is None or len(raw) != len(fields):
        raise CallbackError(f"unknown callback shape: {prefix!r}/{len(raw)}")
    return kind(**{name: _decode(field_kind, value) for (name, field_kind), value in zip(fields, raw)})


def fit_text(text: str, budget: int) -> str:
    """Cut ``text`` to at most ``budget`` UTF-8 bytes without splitting a character."""
    encoded = text.encode("utf-8")[:budget]
    return encoded.decode("utf-8", errors="ignore").rstrip()


# --- shopping -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Noop(Button, prefix="n"):
    """A button that only shows something (a page number)."""


@dataclass(frozen=True)
class Menu(Button, prefix="m"):
    """The start menu."""


@dataclass(frozen=True)
class Categories(Button, prefix="cs"):
    """The list of categories."""


@dataclass(frozen=True)
class CategoryPage(Button, prefix="c"):
    """A page of a category's products."""

    category_id: int
    page: int


@dataclass(frozen=True)
class SearchPage(Button, prefix="sp"):
    """A page of search results; the (shortened) query rides along."""

    query: str
    page: int


@dataclass(frozen=True)
class SearchPlain(Button, prefix="sn"):
    """A page of search results for the words only, the filters they stated dropped (price, options,
    category); the (shortened) words ride along."""

    query: str
    page: int


@dataclass(frozen=True)
class ShowProduct(Button, prefix="p"):
    """A product's card."""

    product_id: int


@dataclass(frozen=True)
class ShowOption(Button, prefix="po"):
    """A product's card opened on one of its options (the one a search's filters matched)."""

    product_id: int
    variant_id: int


@dataclass(frozen=True)
class PickVariant(Button, prefix="pv"):
    """One of a product's options, picked on its card."""

    product_id: int
    variant_id: int


@dataclass(frozen=True)
class AddToCart(Button, prefix="a"):
    """One unit of a variant into the cart."""

    variant_id: int


@dataclass(frozen=True)
class ShowCart(Button, prefix="cart"):
    """The cart, as a new message."""


@dataclass(frozen=True)
class ChangeCartLine(Button, prefix="cl"):
    """−, + or ✕ on a cart line."""

    line_id: int
    action: CartAction


@dataclass(frozen=True)
class OrdersPage(Button, prefix="os"):
    """A page of the shopper's orders."""

    page: int


@dataclass(frozen=True)
class ShowOrder(Button, prefix="o"):
    """One of the shopper's orders (``page``: the list to go back to)."""

    order_id: int
    page: int


@dataclass(frozen=True)
class CancelUnpaid(Button, prefix="ou"):
    """Call off a checkout that is still awaiting payment."""

    checkout_id: int


@dataclass(frozen=True)
class PayAgain(Button, prefix="pa"):
    """Send an unpaid checkout's invoice again."""

    checkout_id: int


@dataclass(frozen=True)
class GetAgain(Button, prefix="ga"):
    """Send a paid digital order's files, codes or links again (to its buyer)."""

    order_id: int


# --- the checkout (its steps: handlers/checkout.py's FLOW) ---------------------------------------------


@dataclass(frozen=True)
class StartCheckout(Button, prefix="co"):
    """Checkout, under the cart: review it first."""


@dataclass(frozen=True)
class BuyNow(Button, prefix="bn"):
    """Buy now, on a product card: a checkout of one unit of the variant, the cart left as it is."""

    variant_id: int


@dataclass(frozen=True)
class ContinueCheckout(Button, prefix="cg"):
    """The review is fine: on to the contact details."""


@dataclass(frozen=True)
class AddCode(Button, prefix="ca"):
    """At the review: type a discount code."""


@dataclass(frozen=True)
class RemoveCode(Button, prefix="cr"):
    """At the review: take the discount code off."""


@dataclass(frozen=True)
class UseSavedDetails(Button, prefix="us"):
    """At the contact step: deliver to the contact and address of the last order."""


@dataclass(frozen=True)
class ChooseShipping(Button, prefix="sh"):
    """A shipping method, by code."""

    code: str


@dataclass(frozen=True)
class ChoosePayment(Button, prefix="pm"):
    """A way to pay."""

    method: PaymentMethod


@dataclass(frozen=True)
class PlaceOrder(Button, prefix="pl"):
    """Place the orders, for the total the confirmation showed (``shown``: the start of its fingerprint)."""

    total: int
    shown: str


@dataclass(frozen=True)
class LeaveCheckout(Button, prefix="x"):
    """Leave the checkout (the cart stays)."""


# --- creators ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecideCreator(Button, prefix="cd"):
    """An operator approves or rejects a creator application."""

    creator_id: int
    approve: bool


@dataclass(frozen=True)
class ShareLink(Button, prefix="lk"):
    """A creator's link to a product."""

    product_id: int


@dataclass(frozen=True)
class ToggleShowcase(Button, prefix="sc"):
    """Put a product in (or take it out of) the creator's showcase."""

    product_id: int
    add: bool


@dataclass(frozen=True)
class ShowcasePage(Button, prefix="sw"):
    """A page of a creator's showcase."""

    creator_id: int
    page: int


# --- sellers and operators -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DecideSeller(Button, prefix="sd"):
    """An operator approves or rejects a seller application."""

    seller_id: int
    approve: bool


@dataclass(frozen=True)
class SellerOrderAction(Button, prefix="sa"):
    """Accept, ship, deliver or cancel an order (what is allowed: ``store.services.orders.allowed_actions``)."""

    order_id: int
    action: SellerAction


@dataclass(frozen=True)
class SellerOrdersPage(Button, prefix="sl"):
    """A page of the seller's orders in a filter ("open", "paid", ...)."""

    filter: str
    page: int


@dataclass(frozen=True)
class SellerOrder(Button, prefix="sv"):
    """One order, as its seller sees it."""

    order_id: int


@dataclass(frozen=True)
class FileNewProduct(Button, prefix="pc"):
    """The category a product being added goes under."""

    category_id: int


@dataclass(frozen=True)
class PublishNewProduct(Button, prefix="pd"):
    """The product being added has all its variants: publish it."""


@dataclass(frozen=True)
class MyProductsPage(Button, prefix="mp"):
    """A page of the seller's products."""

    page: int


@dataclass(frozen=True)
class ManageProduct(Button, prefix="mg"):
    """One of the seller's products, with what can be changed."""

    product_id: int


@dataclass(frozen=True)
class EditVariant(Button, prefix="mv"):
    """Ask for a variant's new price or stock."""

    product_id: int
    variant_id: int
    field: VariantField


@dataclass(frozen=True)
class EditDescription(Button, prefix="md"):
    """Ask for a product's new description."""

    product_id: int


@dataclass(frozen=True)
class SetProductStatus(Button, prefix="ms"):
    """Pause, resume or remove a product."""

    product_id: int
    status: ProductStatus


@dataclass(frozen=True)
class EditCommission(Button, prefix="mc"):
    """Ask for a product's creator commission."""

    product_id: int


# --- personal data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForgetMe(Button, prefix="fg"):
    """/forget's answer: erase the person's data, or keep it."""

    erase: bool


# --- language ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChooseLanguage(Button, prefix="lg"):
    """/language's answer: one of the languages the bot speaks, or "" for the Telegram app's language."""

    language: str


# --- a seller's digital goods --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChooseProductKind(Button, prefix="nk"):
    """Whether the product being added is physical (shipped) or digital (delivered in the chat)."""

    kind: ProductKind


@dataclass(frozen=True)
class ChooseDelivery(Button, prefix="nd"):
    """How the digital product being added reaches its buyers: a file, codes, or a link or text."""

    delivery: Delivery


@dataclass(frozen=True)
class EditGoods(Button, prefix="dg"):
    """A digital variant's goods, by how it is delivered: add codes to its pool, replace its file, or change its
    link or text."""

    product_id: int
    variant_id: int


# --- flash deals ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlashDealOn(Button, prefix="fd"):
    """A seller's variant: schedule a flash deal on it (or see the one it has)."""

    product_id: int
    variant_id: int


@dataclass(frozen=True)
class StartDealNow(Button, prefix="fn"):
    """The flash deal being scheduled starts now."""


@dataclass(frozen=True)
class CancelDeal(Button, prefix="fx"):
    """A seller calls off one of their flash deals."""

    deal_id: int


@dataclass(frozen=True)
class RemindDeal(Button, prefix="fr"):
    """A shopper asks to be told when a flash deal starts."""

    deal_id: int


# --- shopper alerts: saved products, back in stock, /notifications ---------------------------------------


@dataclass(frozen=True)
class ToggleSaved(Button, prefix="ws"):
    """♡ Save on a card (``save``: put it on the wishlist, else take it off); the card keeps the option shown."""

    product_id: int
    variant_id: int
    save: bool


@dataclass(frozen=True)
class WatchStock(Button, prefix="wb"):
    """🔔 Tell me when it's back, on a card showing a sold-out option (``watch``: ask, else no longer wait)."""

    product_id: int
    variant_id: int
    watch: bool


@dataclass(frozen=True)
class SavedPage(Button, prefix="wl"):
    """A page of /saved."""

    page: int


@dataclass(frozen=True)
class RemoveSaved(Button, prefix="wr"):
    """✕ on /saved: take a product off the wishlist (``page``: the page to show again)."""

    product_id: int
    page: int


@dataclass(frozen=True)
class ToggleAlert(Button, prefix="wn"):
    """A kind of message on /notifications, turned on or off (``on``: what it becomes)."""

    kind: AlertKind
    on: bool


# --- coupons (sellers' and the platform's; the new-coupon steps: handlers/coupons.py's FLOW) ---------------


class CouponPreset(StrEnum):
    """A new-coupon step answered with a button instead of typing."""

    NO_MINIMUM = "nomin"
    STARTS_NOW = "now"
    NO_END = "noend"
    NO_USE_LIMIT = "nouses"
    ONCE_PER_SHOPPER = "once"
    NO_SHOPPER_LIMIT = "noper"
    ALL_PRODUCTS = "all"


@dataclass(frozen=True)
class CouponsPage(Button, prefix="kul"):
    """A page of a shop's coupons (``platform``: the platform's, for operators)."""

    platform: bool
    page: int


@dataclass(frozen=True)
class NewCoupon(Button, prefix="kun"):
    """➕ New coupon, for the shop's or (``platform``) the platform's coupons."""

    platform: bool


@dataclass(frozen=True)
class SetCouponActive(Button, prefix="kua"):
    """Pause or resume a coupon (``page``: the list to show again)."""

    coupon_id: int
    platform: bool
    active: bool
    page: int


@dataclass(frozen=True)
class PresetCouponAnswer(Button, prefix="kup"):
    """A new-coupon step's answer by button: no minimum, starts now, no end, no limit, all products."""

    preset: CouponPreset


@dataclass(frozen=True)
class ConfirmCoupon(Button, prefix="kuc"):
    """Create the coupon the summary shows, or cancel it."""

    create: bool


# --- reviews (the steps: handlers/reviews.py's FLOW) ------------------------------------------------------


@dataclass(frozen=True)
class RateLine(Button, prefix="rvr"):
    """One tap of 1 to 5 stars on a line of a delivered order: its review."""

    line_id: int
    stars: int


@dataclass(frozen=True)
class RateOrder(Button, prefix="rvo"):
    """A delivered order's lines to rate (or change a rating of), from /orders."""

    order_id: int


@dataclass(frozen=True)
class ReviewDone(Button, prefix="rvd"):
    """Skip or Done after the stars: the review stands as it is."""

    review_id: int


@dataclass(frozen=True)
class EditReview(Button, prefix="rve"):
    """Change a review (once): the stars again."""

    review_id: int


@dataclass(frozen=True)
class EditStars(Button, prefix="rvs"):
    """A review's new stars (its buyer's one change)."""

    review_id: int
    stars: int


@dataclass(frozen=True)
class ReviewsPage(Button, prefix="rvl"):
    """A page of a product's reviews, newest first (``turn``: in place of the page shown, else a new message)."""

    product_id: int
    page: int
    turn: bool


@dataclass(frozen=True)
class ReviewPhoto(Button, prefix="rvp"):
    """A review's photo, sent as a photo."""

    review_id: int


@dataclass(frozen=True)
class ReplyReview(Button, prefix="rvy"):
    """The seller replies to a review (once)."""

    review_id: int


@dataclass(frozen=True)
class HideReview(Button, prefix="rvh"):
    """An operator hides a review (a reason is asked)."""

    review_id: int


# --- returns (the steps: handlers/returns.py's FLOW) -------------------------------------------------------


@dataclass(frozen=True)
class StartReturn(Button, prefix="rt"):
    """↩️ Return on a delivered order: choose what goes back."""

    order_id: int


@dataclass(frozen=True)
class ReturnUnits(Button, prefix="rtu"):
    """One more unit of an order line in the return (back to none after the last)."""

    line_id: int


@dataclass(frozen=True)
class ReturnNext(Button, prefix="rtn"):
    """The units are chosen: on to the reason."""


@dataclass(frozen=True)
class ReturnWhy(Button, prefix="rtw"):
    """The reason of a return, from the list."""

    reason: ReturnReason


@dataclass(frozen=True)
class SendReturn(Button, prefix="rts"):
    """Send the return request to the seller."""


@dataclass(frozen=True)
class LeaveReturn(Button, prefix="rtx"):
    """Leave the return request unsent."""


@dataclass(frozen=True)
class DecideReturn(Button, prefix="rd"):
    """A seller's (or an operator's) decision on a return: approve, reject, received, refund without it."""

    return_id: int
    action: ReturnAction


@dataclass(frozen=True)
class SellerReturn(Button, prefix="rs"):
    """One return, as its seller sees it, with what may be done now."""

    return_id: int


@dataclass(frozen=True)
class SellerReturnsPage(Button, prefix="rl"):
    """A page of the returns the seller still has to act on."""

    page: int


@dataclass(frozen=True)
class EditReturnInstructions(Button, prefix="ri"):
    """Type the shop's return instructions (where and how goods come back)."""


@dataclass(frozen=True)
class SellerPage(Button, prefix="shp"):
    """A seller's page for shoppers: its score, explained, and a page of its products."""

    seller_id: int
    page: int
