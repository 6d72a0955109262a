"""The resources of one process that serves the shop (the bot, the HTTP API): the store, the search
index, the shop's options and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store.db import Database
from store.models import utcnow
from store.rules import CHECKOUT_EXPIRY, LOW_STOCK_THRESHOLD, REVIEW_ASK_DELAY, STARS_PER_UNIT
from store.services.checkout import CheckoutRules
from store.services.search import CatalogSearch
from store.services.webhook_targets import Network
from store.states import PaymentMethod


@dataclass(frozen=True, slots=True)
class ShopOptions:
    """Shop settings the handlers need (the bot builds them from its configuration)."""

    currency: str = "USD"
    provider_token: str | None = None
    stars_enabled: bool = True  # digital goods are sold (paid in Telegram Stars)
    stars_per_unit: int = STARS_PER_UNIT
    cash_on_delivery: bool = True
    checkout_expiry: timedelta = CHECKOUT_EXPIRY
    phone_region: str = "US"
    operator_ids: frozenset[int] = frozenset()
    webhook_networks: tuple[Network, ...] = ()  # private networks sellers' webhooks may reach
    low_stock_threshold: int = LOW_STOCK_THRESHOLD
    creator_auto_approve: bool = False
    default_commission_bp: int = 1000
    attribution_window: timedelta = timedelta(days=7)
    creator_code_percent: int = 10  # what a creator's personal discount code takes off (the platform pays)
    return_window: timedelta = timedelta(days=14)
    return_auto_approve: timedelta = timedelta(hours=48)  # a return request unanswered this long is approved
    personal_data_days: int = 90  # a buyer's phone and address are erased this long after the order ended
    review_ask_delay: timedelta = REVIEW_ASK_DELAY  # a delivered order's buyer is asked to rate it this long after

    @property
    def return_auto_approve_hours(self) -> int:
        """The auto-approval time of returns, in whole hours (as sellers and buyers are told it)."""
        return int(self.return_auto_approve // timedelta(hours=1))

    @property
    def payment_methods(self) -> tuple[PaymentMethod, ...]:
        """How physical goods may be paid, in display order (never Stars: Telegram allows them for digital
        goods only, which are paid in nothing else)."""
        methods = []
        if self.provider_token:
            methods.append(PaymentMethod.CARD)
        if self.cash_on_delivery:
            methods.append(PaymentMethod.COD)
        return tuple(methods)

    @property
    def rules(self) -> CheckoutRules:
        """The checkout rules of the store derived from these options."""
        return CheckoutRules(currency=self.currency, expiry=self.checkout_expiry,
                             stars_per_unit=self.stars_per_unit, phone_region=self.phone_region,
                             low_stock_threshold=self.low_stock_threshold, payment_methods=self.payment_methods,
                             digital_sold=self.stars_enabled)


@dataclass(slots=True)
class Shop:
    """The resources of one bot process."""

    db: Database
    search: CatalogSearch
    options: ShopOptions = field(default_factory=ShopOptions)
    clock: Callable[[], datetime] = utcnow
    # Called after a change that wrote to the outbox, so an in-process worker delivers at once.
    outbox_waker: Callable[[], None] | None = None
    # The language chosen with /language by each person whose updates this process holds: read when the
    # inbox claims their lane, changed by /language, dropped when the lane is handed back.
    languages: dict[int, str | None] = field(default_factory=dict)

    def wake_outbox(self) -> None:
        """Ask the outbox worker of this process (if any) to look, once what was written is committed."""
        if self.outbox_waker is not None:
            self.db.after_commit(self.outbox_waker)
