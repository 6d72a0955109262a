"""What every handler reaches through ``context.shop``: the store, the search index, the shop options."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram.ext import Application, CallbackContext, ExtBot

from store.db import Database
from store.models import utcnow
from store.services.checkout import CARD, COD, STARS_METHOD, CheckoutRules
from store.services.search import CatalogSearch

SHOP_KEY = "shop"


@dataclass(slots=True)
class UpdateTrace:
    """What happened to the update being handled: which handler took it and how it ended."""

    handler: str = "-"
    outcome: str = "ok"  # ok | error | duplicate | unhandled


# Set by the application for each update; handlers and the error handler fill it in.
CURRENT_TRACE: ContextVar[UpdateTrace | None] = ContextVar("current_trace", default=None)


def trace() -> UpdateTrace:
    """The trace of the update being handled (a throwaway one outside update handling)."""
    return CURRENT_TRACE.get() or UpdateTrace()


@dataclass(frozen=True, slots=True)
class ShopOptions:
    """Shop settings the handlers need (the bot builds them from its configuration)."""

    currency: str = "USD"
    provider_token: str | None = None
    stars_enabled: bool = False
    stars_per_unit: int = 50
    cash_on_delivery: bool = True
    checkout_expiry: timedelta = timedelta(minutes=30)
    phone_region: str = "US"
    operator_ids: frozenset[int] = frozenset()
    low_stock_threshold: int = 3
    creator_auto_approve: bool = False
    default_commission_bp: int = 1000
    attribution_window: timedelta = timedelta(days=7)
    return_window: timedelta = timedelta(days=14)

    @property
    def payment_methods(self) -> tuple[str, ...]:
        """The payment methods offered at checkout, in display order."""
        methods = []
        if self.provider_token:
            methods.append(CARD)
        if self.stars_enabled:
            methods.append(STARS_METHOD)
        if self.cash_on_delivery:
            methods.append(COD)
        return tuple(methods)

    @property
    def rules(self) -> CheckoutRules:
        """The checkout rules of the store derived from these options."""
        return CheckoutRules(currency=self.currency, expiry=self.checkout_expiry,
                             stars_per_unit=self.stars_per_unit, phone_region=self.phone_region,
                             low_stock_threshold=self.low_stock_threshold)


@dataclass(slots=True)
class Shop:
    """The resources of one bot process."""

    db: Database
    search: CatalogSearch
    options: ShopOptions = field(default_factory=ShopOptions)
    clock: Callable[[], datetime] = utcnow
    # Called after a change that wrote to the outbox, so an in-process worker delivers at once.
    outbox_waker: Callable[[], None] | None = None

    def wake_outbox(self) -> None:
        """Ask the outbox worker of this process (if any) to look, once what was written is committed."""
        if self.outbox_waker is not None:
            self.db.after_commit(self.outbox_waker)


class ShopContext(CallbackContext[ExtBot, dict, dict, dict]):
    """PTB's callback context with the shop attached."""

    @property
    def shop(self) -> Shop:
        """The shop this application serves."""
        return self.application.bot_data[SHOP_KEY]


def attach(application: Application, shop: Shop) -> None:
    """Make ``shop`` reachable from every handler of ``application``."""
    application.bot_data[SHOP_KEY] = shop
