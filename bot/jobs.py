"""Periodic jobs of a bot process: expire unpaid checkouts, approve commissions, forget old updates,
erase buyers' contact past its time, tell shoppers the flash deals they asked about have started, that the
options they asked about are back in stock, and that their saved products got cheaper."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application

from handlers.context import ShopContext
from store.models import utcnow
from store.services.alerts import tell_price_drops, tell_restocked
from store.services.creators import approve_due
from store.services.deals import announce_started
from store.services.inbox import forget_finished
from store.services.personal_data import erase_expired
from store.services.returns import approve_overdue
from store.services.reviews import ask_for_reviews
from store.services.unpaid import expire_checkouts
from store.shop import Shop

logger = logging.getLogger(__name__)

EXPIRY_JOB_INTERVAL = 30  # seconds between sweeps for unpaid checkouts
APPROVAL_JOB_INTERVAL = 600  # seconds between approvals of commissions past the return window
CLEANUP_JOB_INTERVAL = 3600  # seconds between clean-ups of finished inbox rows
DEALS_JOB_INTERVAL = 30  # seconds between looks for flash deals that started
DEALS_BATCH = 50
REVIEWS_JOB_INTERVAL = 600  # seconds between looks for delivered orders whose buyers are due to be asked
REVIEWS_BATCH = 50
RESTOCK_JOB_INTERVAL = 60  # seconds between looks for options back in stock that shoppers asked about
RESTOCK_BATCH = 200
PRICE_DROP_JOB_INTERVAL = 600  # seconds between looks for saved products that got cheaper
PRICE_DROP_BATCH = 100
FORGET_BATCH = 2000
RETURNS_JOB_INTERVAL = 300  # seconds between looks for return requests left unanswered too long
RETURNS_BATCH = 50


async def expire_unpaid(context: ShopContext) -> None:
    """Job: expire unpaid checkouts past their time and release their stock (the buyers are told)."""
    shop = context.shop
    async with shop.db.transaction() as session:
        expired = await expire_checkouts(session, shop.clock())
    if expired:
        logger.info("%d unpaid checkouts expired", len(expired))
        shop.wake_outbox()


async def in_batches(context: ShopContext, work: Callable[[AsyncSession, Shop], Awaitable[int]], batch: int,
                     done: str) -> None:
    """Run ``work`` (which handles at most ``batch`` items and says how many) a short transaction at a time
    until it finds fewer, logging ``done`` (a %d format) and waking the outbox after each batch that did some."""
    shop = context.shop
    while True:
        async with shop.db.transaction() as session:
            handled = await work(session, shop)
        if handled:
            logger.info(done, handled)
            shop.wake_outbox()
        if handled < batch:
            return
        await asyncio.sleep(0)  # let updates in between


async def announce_deals(context: ShopContext) -> None:
    """Job: write the reminders of flash deals that started (once each), and wake the outbox to send them."""
    await in_batches(context, lambda session, shop: announce_started(session, shop.clock(), shop.options.currency,
                                                                     DEALS_BATCH),
                     DEALS_BATCH, "%d flash deals started: their reminders are written")


async def tell_back_in_stock(context: ShopContext) -> None:
    """Job: tell shoppers the sold-out options they asked about are back (once each, whatever brought the
    stock back)."""
    await in_batches(context, lambda session, shop: tell_restocked(session, shop.clock(), shop.options.currency,
                                                                   RESTOCK_BATCH),
                     RESTOCK_BATCH, "%d back-in-stock requests answered")


async def tell_price_drops_job(context: ShopContext) -> None:
    """Job: tell shoppers their saved products got cheaper (one message a day at most), a batch of shoppers at
    a time."""
    await in_batches(context, lambda session, shop: tell_price_drops(session, shop.clock(), shop.options.currency,
                                                                     PRICE_DROP_BATCH),
                     PRICE_DROP_BATCH, "price drops looked at for %d shoppers")


async def ask_reviews(context: ShopContext) -> None:
    """Job: ask the buyers of orders delivered REVIEW_ASK_HOURS ago to rate them (once each)."""
    await in_batches(context, lambda session, shop: ask_for_reviews(session, shop.clock(),
                                                                    shop.options.review_ask_delay, REVIEWS_BATCH),
                     REVIEWS_BATCH, "%d delivered orders' buyers asked for reviews")


async def approve_returns(context: ShopContext) -> None:
    """Job: approve the return requests their sellers left unanswered for RETURN_AUTO_APPROVE_HOURS (sellers and
    buyers are told)."""
    await in_batches(context, lambda session, shop: approve_overdue(session, shop.clock(),
                                                                    shop.options.return_auto_approve, RETURNS_BATCH),
                     RETURNS_BATCH, "%d return requests approved automatically")


async def approve_commissions(context: ShopContext) -> None:
    """Job: approve pending commissions of orders delivered more than the return window ago."""
    shop = context.shop
    async with shop.db.transaction() as session:
        approved = await approve_due(session, shop.clock(), shop.options.return_window)
    if approved:
        logger.info("approved %d commissions past the return window", approved)


async def forget_updates(context: ShopContext) -> None:
    """Job: drop finished inbox rows older than Telegram could redeliver them, a few thousand per
    short transaction."""
    while True:
        async with context.shop.db.transaction() as session:
            dropped = await forget_finished(session, utcnow(), FORGET_BATCH)
        if dropped < FORGET_BATCH:
            return
        await asyncio.sleep(0)  # let updates in between


async def erase_personal_data(context: ShopContext) -> None:
    """Job: erase buyers' phone and address PERSONAL_DATA_DAYS after their orders ended (and all of the
    contact of those who asked to be forgotten, once their orders ended), a batch per short transaction."""
    shop = context.shop
    while True:
        async with shop.db.transaction() as session:
            erased = await erase_expired(session, shop.clock(), shop.options.personal_data_days)
        if not erased:
            return
        logger.info("erased the buyer contact of %d orders", erased)
        await asyncio.sleep(0)  # let updates in between


def schedule_jobs(application: Application) -> None:
    """Put the jobs on the application's job queue (they run once it is started)."""
    jobs = application.job_queue
    if jobs is None:
        return
    jobs.run_repeating(expire_unpaid, interval=EXPIRY_JOB_INTERVAL, first=1, name="expire-unpaid")
    jobs.run_repeating(approve_commissions, interval=APPROVAL_JOB_INTERVAL, first=5, name="approve-commissions")
    jobs.run_repeating(approve_returns, interval=RETURNS_JOB_INTERVAL, first=7, name="approve-returns")
    jobs.run_repeating(announce_deals, interval=DEALS_JOB_INTERVAL, first=3, name="announce-deals")
    jobs.run_repeating(ask_reviews, interval=REVIEWS_JOB_INTERVAL, first=13, name="ask-reviews")
    jobs.run_repeating(tell_back_in_stock, interval=RESTOCK_JOB_INTERVAL, first=7, name="back-in-stock")
    jobs.run_repeating(tell_price_drops_job, interval=PRICE_DROP_JOB_INTERVAL, first=11, name="price-drops")
    jobs.run_repeating(forget_updates, interval=CLEANUP_JOB_INTERVAL, first=60, name="forget-updates")
    jobs.run_repeating(erase_personal_data, interval=CLEANUP_JOB_INTERVAL, first=90, name="erase-personal-data")
