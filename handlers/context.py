"""What every handler reaches: ``context.shop`` (:class:`store.shop.Shop`) and the trace of its update."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from telegram.ext import Application, CallbackContext, ExtBot

from store.shop import Shop

SHOP_KEY = "shop"


@dataclass(slots=True)
class UpdateTrace:
    """What happened to the update being handled: which handler took it and how it ended."""

    handler: str = "-"
    outcome: str = "ok"  # ok | error | duplicate | unhandled | retry
    # Whether a store outage may leave the update to be handled again (then nobody is told of it).
    may_retry: bool = False
    # Whether the update's callback query was answered (Telegram takes one answer per query).
    answered: bool = False


# Set by the application for each update; handlers and the error handler fill it in.
CURRENT_TRACE: ContextVar[UpdateTrace | None] = ContextVar("current_trace", default=None)


def trace() -> UpdateTrace:
    """The trace of the update being handled (a throwaway one outside update handling)."""
    return CURRENT_TRACE.get() or UpdateTrace()


class ShopContext(CallbackContext[ExtBot, dict, dict, dict]):
    """PTB's callback context with the shop attached."""

    @property
    def shop(self) -> Shop:
        """The shop this application serves."""
        return self.application.bot_data[SHOP_KEY]


def attach(application: Application, shop: Shop) -> None:
    """Make ``shop`` reachable from every handler of ``application``."""
    application.bot_data[SHOP_KEY] = shop
