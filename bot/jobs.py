"""Periodic jobs of a bot process: expire unpaid checkouts, approve commissions, forget old updates,
erase buyers' contact past its time, tell shoppers the flash deals they asked about have started."""

from __future__ import annotations

import asyncio
import logging

from telegram.ext import Application

from handlers.context import ShopContext
from store.models import utcnow
from store.services.creators import approve_due
from store.services.deals import announce_started
from store.services.inbox import forget_finished
from store.services.personal_data import erase_expired
from store.services.unpaid import expire_checkouts

logger = logging.getLogger(__name__)

EXPIRY_JOB_INTERVAL = 30  # seconds between sweeps for unpaid checkouts
APPROVAL_JOB_INTERVAL = 600  # seconds between approvals of commissions past the return window
CLEANUP_JOB_INTERVAL = 3600  # seconds between clean-ups of finished inbox rows
DEALS_JOB_INTERVAL = 30  # seconds between looks for flash deals that started
DEALS_BATCH = 50
FORGET_BATCH = 2000


async def expire_unpaid(context: ShopContext) -> None:
    """Job: expire unpaid checkouts past their time and release their stock (the buyers are told)."""
    shop = context.shop
    async with shop.db.transaction() as session:
        expired = await expire_checkouts(session, shop.clock())
    if expired:
        logger.info("%d unpaid checkouts expired", len(expired))
        shop.wake_outbox()


async def announce_deals(context: ShopContext) -> None:
    """Job: write the reminders of flash deals that started (once each), a batch per short transaction, and
    wake the outbox to send them."""
    shop = context.shop
    while True:
        async with shop.db.transaction() as session:
            started = await announce_started(session, shop.clock(), shop.options.currency, DEALS_BATCH)
        if started:
            logger.info("%d flash deals started: their reminders are written", started)
            shop.wake_outbox()
        if started < DEALS_BATCH:
            return
        await asyncio.sleep(0)  # let updates in between


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
    jobs.run_repeating(announce_deals, interval=DEALS_JOB_INTERVAL, first=3, name="announce-deals")
    jobs.run_repeating(forget_updates, interval=CLEANUP_JOB_INTERVAL, first=60, name="forget-updates")
    jobs.run_repeating(erase_personal_data, interval=CLEANUP_JOB_INTERVAL, first=90, name="erase-personal-data")
