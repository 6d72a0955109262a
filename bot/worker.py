"""The outbox worker: delivers chat notices, signed webhooks and Stars refunds, with retries.

It runs inside the bot process by default, or alone as ``python -m bot worker``.
It claims due rows in short transactions (one per lane: a chat, a seller's
webhook), delivers each as its own task with no transaction open, and records
each outcome in its own transaction.

Telegram's limits are kept here: PTB's ``AIORateLimiter`` spaces all sends
(at most one every 1/30 s, so never more than about 30 per second, and it
retries a 429 after the delay Telegram names), and the worker itself keeps at
least one second between two messages to the same chat. A user who blocked
the bot (403) is marked and their notice is not retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from standardwebhooks.webhooks import Webhook
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from yarl import URL

from bot.config import Settings
from bot.observability import OUTBOX_DELIVERED, OUTBOX_FAILURES, OUTBOX_GIVEN_UP
from bot.request import AiohttpRequest, outside_transactions
from handlers import i18n
from handlers.fit import TEXT_LIMIT, fit, plain_text
from handlers.menus import show_menu
from handlers.notifications import render_notice, send_rest
from store.db import Database
from store.errors import InvalidInput
from store.models import utcnow
from store.services import outbox, personal_data
from store.services.fulfilment import complete_stars_refund
from store.services.sellers import get_seller, webhook_failing
from store.services.users import mark_blocked, recipient_language
from store.services.webhook_targets import Network, check_target, is_public
from store.states import AccessChannel, Notice, OutboxChannel, OutboxStatus

logger = logging.getLogger(__name__)

MESSAGES_PER_SECOND = 30
GROUP_MESSAGES_PER_MINUTE = 20
CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
# What Telegram says when it refuses a message for its content (formatting, length, buttons).
CONTENT_REFUSALS = ("entities", "entity", "too long", "parse", "button", "keyboard", "markup", "empty")
WEBHOOK_RETRY = timedelta(days=3)  # the default of WEBHOOK_RETRY_DAYS
WEBHOOK_ALERT_AFTER = timedelta(hours=1)  # a webhook failing this long is said in the seller's and operators' chats
BATCH = 100
IDLE_POLL = 0.5  # seconds between looks at the outbox when it is empty


def rate_limited_bot(settings: Settings) -> ExtBot:
    """A bot for notifications: PTB's rate limiter with no bursts, retrying 429 answers."""
    # No bursts: one send per 1/30 s overall, and one per 3 s to a group (20 per minute).
    limiter = AIORateLimiter(overall_max_rate=1, overall_time_period=1 / MESSAGES_PER_SECOND,
                             group_max_rate=1, group_time_period=60 / GROUP_MESSAGES_PER_MINUTE, max_retries=3)
    kwargs = {}
    if settings.api_urls:
        kwargs["base_url"], kwargs["base_file_url"] = settings.api_urls
    return ExtBot(settings.bot_token, rate_limiter=limiter, request=AiohttpRequest(), **kwargs)


def webhook_headers(secret: str, message_id: str, body: bytes, when: datetime) -> dict[str, str]:
    """Standard Webhooks headers for a body: id, timestamp and the HMAC-SHA256 signature."""
    signature = Webhook(secret).sign(message_id, when, body.decode())
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
    }


class OutboxWorker:
    """Delivers the outbox of one store until stopped."""

    def __init__(self, db: Database, bot: ExtBot, *, clock: Callable[[], datetime] = utcnow,
                 batch: int = BATCH, idle_poll: float = IDLE_POLL, operators: frozenset[int] = frozenset(),
                 webhook_networks: tuple[Network, ...] = (), webhook_retry: timedelta = WEBHOOK_RETRY) -> None:
        self.db, self.bot, self.clock = db, bot, clock
        self.operators = operators  # told when a delivery is given up
        self.webhook_networks = webhook_networks  # private networks sellers' webhooks may reach
        self.webhook_retry = webhook_retry  # how long a seller's webhook event is retried
        self.batch, self.idle_poll = batch, idle_poll
        self.http: aiohttp.ClientSession | None = None
        self._chat_ready: dict[int, float] = {}
        self._wake = asyncio.Event()
        self.delivered = 0

    def wake(self) -> None:
        """Look at the outbox now (something was just written to it)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then finish the deliveries already started.

        Each claimed delivery runs as its own task, and new rows are claimed as
        soon as there is room: a slow chat or webhook holds up only its own lane.
        """
        self.http = webhook_session(self.webhook_networks)
        in_flight: set[asyncio.Task] = set()
        try:
            while not stop.is_set():
                claimed: list[outbox.Delivery] = []
                if len(in_flight) < self.batch:
                    try:
                        async with self.db.transaction() as session:
                            claimed = await outbox.claim_due(session, self.clock(), self.batch - len(in_flight))
                    except Exception:  # a store outage must not kill the worker: log and try again
                        logger.exception("claiming outbox rows failed")
                for delivery in claimed:
                    task = asyncio.create_task(self._attempt(delivery))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if claimed:
                    continue
                self._wake.clear()
                waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
                await asyncio.wait(waiters | in_flight, timeout=self.idle_poll, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            await self.http.close()
            self.http = None

    async def run_once(self) -> int:
        """Claim one batch of due deliveries and attempt them; return how many were attempted."""
        async with self.db.transaction() as session:
            claimed = await outbox.claim_due(session, self.clock(), self.batch)
        if not claimed:
            return 0
        # One delivery per lane (chat or seller webhook) was claimed: they proceed side by side.
        await asyncio.gather(*(self._attempt(delivery) for delivery in claimed))
        return len(claimed)

    async def _attempt(self, delivery: outbox.Delivery) -> None:
        try:
            await self._deliver(delivery)
        except Exception as exc:  # an unexpected error: record it and retry later
            logger.exception("delivery %s (%s) failed unexpectedly", delivery.key, delivery.template)
            await self._failed(delivery, f"{type(exc).__name__}: {exc}")

    async def _deliver(self, delivery: outbox.Delivery) -> None:
        if delivery.channel == OutboxChannel.TELEGRAM:
            await self._send_message(delivery)
        elif delivery.channel == OutboxChannel.WEBHOOK:
            await self._post_webhook(delivery)
        elif delivery.channel == OutboxChannel.STARS_REFUND:
            await self._refund_stars(delivery)
        else:
            await self._failed(delivery, f"unknown channel {delivery.channel}", give_up=True)

    async def _sent(self, delivery: outbox.Delivery) -> None:
        async with self.db.transaction() as session:
            await outbox.mark_sent(session, delivery.id, self.clock())
            await _record_contact_given(session, delivery, self.clock())
        self.delivered += 1
        OUTBOX_DELIVERED.labels(delivery.channel).inc()

    async def _failed(self, delivery: outbox.Delivery, error: str, *, retry_after: float | None = None,
                      give_up: bool = False, tell: bool = True) -> None:
        """Record a failed attempt; one given up (or a webhook event held) is counted and, when ``tell``,
        said to the operators (not for what needs no one: a buyer who blocked the bot, a webhook removed)."""
        webhook = delivery.channel == OutboxChannel.WEBHOOK
        now = self.clock()
        async with self.db.transaction() as session:
            status = await outbox.mark_failed(
                session, delivery.id, error, now, give_up=give_up,
                retry_after=timedelta(seconds=retry_after) if retry_after is not None else None,
                retry_for=self.webhook_retry if webhook else None)
            since = await outbox.failing_since(session, delivery.id) if webhook else None
            if since is not None and now - since >= WEBHOOK_ALERT_AFTER:
                # Once per stuck event: the seller's chat and the operators hear the webhook is failing.
                await webhook_failing(session, delivery.seller_id, delivery.id, self.operators, now)
        OUTBOX_FAILURES.labels(delivery.channel).inc()
        ended = status in (OutboxStatus.DEAD, OutboxStatus.HELD)
        log = logger.error if ended and tell else logger.warning
        log("delivery %s (%s) attempt %d failed%s: %s", delivery.key, delivery.channel, delivery.attempts + 1,
            {OutboxStatus.DEAD: ", giving up", OutboxStatus.HELD: ", held until replayed"}.get(status, ""), error)
        if ended and tell:
            OUTBOX_GIVEN_UP.labels(delivery.channel, delivery.template or "-").inc()
            await self._tell_operators(delivery, error)

    async def _tell_operators(self, delivery: outbox.Delivery, error: str) -> None:
        """A delivery given up for good is said in the operators' chats (ids and the reason only)."""
        text = (f"⚠️ Outbox gave up on delivery #{delivery.id} ({delivery.template or delivery.channel}"
                f"{f' to chat {delivery.chat_id}' if delivery.chat_id else ''}): {error}")
        for operator_id in sorted(self.operators):
            if operator_id == delivery.chat_id:
                continue
            try:
                await self.bot.send_message(operator_id, fit(text, TEXT_LIMIT), parse_mode=None)
            except TelegramError as exc:
                logger.warning("could not tell operator %s of delivery %s: %s", operator_id, delivery.id, exc)

    async def _pace(self, chat_id: int) -> None:
        """Wait until CHAT_INTERVAL has passed since the last message to this chat was delivered."""
        wait = self._chat_ready.get(chat_id, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _send_message(self, delivery: outbox.Delivery) -> None:
        async with self.db.transaction() as session:
            language = i18n.language_of(*await recipient_language(session, delivery.chat_id))
            with i18n.speaking(language):
                notice = await render_notice(session, delivery.template, delivery.payload, self.clock())
        if notice is None:
            await self._sent(delivery)  # what it was about is gone: nothing to say
            return
        await self._pace(delivery.chat_id)
        try:
            try:
                await self.bot.send_message(delivery.chat_id, fit(notice.text), parse_mode="HTML",
                                            reply_markup=notice.markup, disable_web_page_preview=True)
            except BadRequest as exc:
                reason = exc.message.lower()
                if not any(word in reason for word in CONTENT_REFUSALS):
                    raise  # not about what it says (chat not found, no rights): no second try
                # Refused for its content: the plain text instead (and without buttons if they were the cause).
                logger.warning("notice %s refused (%s); sending it as plain text", delivery.key, exc.message)
                markup = None if any(word in reason for word in ("button", "keyboard", "markup")) else notice.markup
                await self.bot.send_message(delivery.chat_id, plain_text(notice.text), parse_mode=None,
                                            reply_markup=markup, disable_web_page_preview=True)
            # The rest of a long notice, and its files (a retry sends the whole notice again: at least once).
            await send_rest(self.bot, delivery.chat_id, notice)
            # Stamped once sent: the send may have queued in the rate limiter for a while.
            self._chat_ready[delivery.chat_id] = time.monotonic() + CHAT_INTERVAL
        except Forbidden as exc:
            await self._blocked(delivery.chat_id)
            await self._failed(delivery, f"Forbidden: {exc.message}", give_up=True, tell=False)
            return
        except TelegramError as exc:
            await self._refused(delivery, exc)
            return
        await self._sent(delivery)
        if notice.seller_commands:
            with i18n.speaking(language):
                await show_menu(self.bot, delivery.chat_id, seller=True, operator=delivery.chat_id in self.operators)

    async def _refused(self, delivery: outbox.Delivery, exc: TelegramError) -> None:
        """A Bot API call failed: wait as told (RetryAfter), give up on a bad request, retry the rest."""
        if isinstance(exc, RetryAfter):
            await self._failed(delivery, str(exc), retry_after=_seconds(exc.retry_after))
        elif isinstance(exc, BadRequest):
            await self._failed(delivery, f"BadRequest: {exc.message}", give_up=True)
        else:
            await self._failed(delivery, f"{type(exc).__name__}: {exc}")

    async def _blocked(self, chat_id: int) -> None:
        async with self.db.transaction() as session:
            newly = await mark_blocked(session, chat_id, self.clock())
        if newly:
            logger.info("user %s blocked the bot; notices to them are dropped", chat_id)

    async def _post_webhook(self, delivery: outbox.Delivery) -> None:
        async with self.db.transaction() as session:
            seller = await get_seller(session, delivery.seller_id)
        if seller is None or not seller.webhook_url or not seller.webhook_secret:
            await self._failed(delivery, "the seller has no webhook any more", give_up=True, tell=False)
            return
        try:
            check_target(seller.webhook_url, self.webhook_networks)
        except (InvalidInput, ValueError):
            await self._failed(delivery, "the webhook points inside a private network", give_up=True)
            return
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        # Signed with the wall clock: receivers reject timestamps more than a few minutes off.
        headers = webhook_headers(seller.webhook_secret, delivery.key, body, utcnow())
        try:
            # No redirects: a public receiver must not forward signed events (and buyers' data) elsewhere.
            async with self.http.post(seller.webhook_url, data=body, headers=headers,
                                      allow_redirects=False) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            await self._failed(delivery, f"{type(exc).__name__}: {exc}")
            return
        if 200 <= status < 300:
            await self._sent(delivery)
        else:
            # The host only: a webhook's path or query may hold the receiver's own token.
            host = URL(seller.webhook_url).host
            what = "a redirect, not followed" if 300 <= status < 400 else "refused"
            await self._failed(delivery, f"HTTP {status} from {host} ({what})")

    async def _refund_stars(self, delivery: outbox.Delivery) -> None:
        data = delivery.payload
        try:
            await self.bot.refund_star_payment(data["user_id"], data["charge_id"])
        except TelegramError as exc:
            if not (isinstance(exc, BadRequest) and "already_refunded" in exc.message.lower()):
                await self._refused(delivery, exc)
                return
        async with self.db.transaction() as session:
            await complete_stars_refund(session, data["checkout_id"], data["charge_id"], self.clock())
            await outbox.mark_sent(session, delivery.id, self.clock())
        self.delivered += 1
        OUTBOX_DELIVERED.labels(delivery.channel).inc()


class PublicResolver(AbstractResolver):
    """Resolves a webhook's host to its public addresses only (and those of allowed networks): a name
    that points inside a private network fails to connect, whenever it came to point there."""

    def __init__(self, allowed: tuple[Network, ...]) -> None:
        self.allowed = allowed
        self.resolver = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        found = await self.resolver.resolve(host, port, family)
        public = [entry for entry in found if is_public(entry["host"], self.allowed)]
        if not public:
            raise OSError(f"{host} resolves only to addresses inside a private network")
        return public

    async def close(self) -> None:
        await self.resolver.close()


def webhook_session(allowed: tuple[Network, ...] = ()) -> aiohttp.ClientSession:
    """The HTTP client of sellers' webhooks: public addresses only, short timeouts, no transaction open."""
    connector = aiohttp.TCPConnector(resolver=PublicResolver(allowed))
    return aiohttp.ClientSession(connector=connector, timeout=WEBHOOK_TIMEOUT, trace_configs=[outside_transactions()])


async def _record_contact_given(session, delivery: outbox.Delivery, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """A new-order notice in a seller's chat, and an order event at a seller's webhook, give the seller
    the buyer's contact: recorded for the buyer's data export."""
    buyer = (delivery.payload.get("data") or {}).get("buyer") or {}
    if delivery.template == Notice.SELLER_ORDER:
        # The notice is rendered from the order as it is when sent: an erased contact shows as erased.
        order_id, erased_too = delivery.payload.get("order_id"), False
        channel = AccessChannel.SELLER_CHAT
    elif delivery.channel == OutboxChannel.WEBHOOK and (buyer.get("phone") or buyer.get("address")):
        # The body was built when the event happened: it carried the contact even if erased since.
        order_id, erased_too = delivery.payload["data"].get("id"), True
        channel = AccessChannel.WEBHOOK
    else:
        return
    if isinstance(order_id, int):
        await personal_data.record_access(session, [order_id], channel, now, seller_id=delivery.seller_id,
                                          erased_too=erased_too)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def run_worker(settings: Settings) -> int:
    """``python -m bot worker``: deliver the outbox until SIGINT or SIGTERM."""
    db = Database(settings.database_url)
    bot = rate_limited_bot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await bot.initialize()
    try:
        logger.info("outbox worker started")
        await OutboxWorker(db, bot, operators=settings.operators, webhook_networks=settings.webhook_networks,
                           webhook_retry=timedelta(days=settings.webhook_retry_days)).run(stop)
    finally:
        await bot.shutdown()
        await db.dispose()
        logger.info("outbox worker stopped")
    return 0
