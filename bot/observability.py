"""Metrics (Prometheus text format) and the one log line per update.

Metrics are process-wide: updates by type and outcome, handler latency, the
time updates waited in the inbox, outbox deliveries and failures; the inbox
and outbox backlogs and orders by state are read from the store when
``/metrics`` is scraped. Log lines carry ids only:
no tokens, phone numbers or addresses.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram import Update

from store.db import Database
from store.models import utcnow
from store.services.inbox import backlog as inbox_backlog
from store.services.orders import count_by_status
from store.services.outbox import backlog
from store.states import UNFINISHED, OutboxStatus

logger = logging.getLogger("chatshop.updates")

REGISTRY = CollectorRegistry()
UPDATES = Counter("chatshop_updates", "Updates handled, by type and outcome", ["type", "outcome"],
                  registry=REGISTRY)
HANDLER_SECONDS = Histogram("chatshop_handler_seconds", "Time to handle one update, by handler", ["handler"],
                            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
                            registry=REGISTRY)
OUTBOX_DELIVERED = Counter("chatshop_outbox_delivered", "Outbox deliveries that succeeded", ["channel"],
                           registry=REGISTRY)
OUTBOX_GIVEN_UP = Counter("chatshop_outbox_given_up", "Outbox deliveries given up for good, by channel and notice",
                          ["channel", "template"], registry=REGISTRY)
OUTBOX_FAILURES = Counter("chatshop_outbox_failures", "Outbox delivery attempts that failed", ["channel"],
                          registry=REGISTRY)
OUTBOX_BACKLOG = Gauge("chatshop_outbox_rows", "Outbox rows by status", ["status"], registry=REGISTRY)
ORDERS = Gauge("chatshop_orders", "Orders by state", ["status"], registry=REGISTRY)
INBOX_WAIT = Histogram("chatshop_inbox_wait_seconds", "Time from receiving an update to handling it",
                       buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=REGISTRY)
INBOX_IN_HAND = Gauge("chatshop_inbox_in_hand", "Updates this process holds (running or waiting for their lane)",
                      registry=REGISTRY)
INBOX_BACKLOG = Gauge("chatshop_inbox_rows", "Unfinished updates in the inbox by state", ["state"],
                      registry=REGISTRY)
INBOX_OLDEST = Gauge("chatshop_inbox_oldest_pending_seconds", "Age of the oldest update nobody has taken yet",
                     registry=REGISTRY)

KINDS = ("message", "edited_message", "callback_query", "inline_query", "pre_checkout_query", "shipping_query",
         "chosen_inline_result", "my_chat_member", "chat_member")


def update_kind(update: Update) -> str:
    """The type of an update: message, callback_query, successful_payment, ..."""
    if update.message is not None and update.message.successful_payment is not None:
        return "successful_payment"
    return next((kind for kind in KINDS if getattr(update, kind, None) is not None), "other")


def record_update(update: Update, handler: str, outcome: str, seconds: float, waited: float = 0.0) -> None:
    """Count an update and write its log line (handling time, then the time it waited in the inbox)."""
    kind = update_kind(update)
    UPDATES.labels(kind, outcome).inc()
    if outcome != "duplicate":
        HANDLER_SECONDS.labels(handler).observe(seconds)
        INBOX_WAIT.observe(waited)
    user = update.effective_user.id if update.effective_user else "-"
    logger.info("update %s user %s type %s handler %s outcome %s %.1fms waited %.1fms", update.update_id, user,
                kind, handler, outcome, seconds * 1000, waited * 1000)


async def render_metrics(db: Database) -> bytes:
    """The metrics in Prometheus text format, with store-derived gauges read now."""
    async with db.read(scan=True) as session:
        rows = await backlog(session)
        orders = await count_by_status(session)
        inbox = await inbox_backlog(session)
    for status in OutboxStatus:
        OUTBOX_BACKLOG.labels(status).set(rows.get(status, 0))
    for state in UNFINISHED:
        INBOX_BACKLOG.labels(state).set(inbox.rows.get(state, 0))
    INBOX_OLDEST.set((utcnow() - inbox.oldest_pending).total_seconds() if inbox.oldest_pending else 0)
    ORDERS.clear()  # a state with no orders left must not keep its old count
    for status, count in orders.items():
        ORDERS.labels(status).set(count)
    return generate_latest(REGISTRY)
