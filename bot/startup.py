"""Start-up checks: the store is reachable and migrated (with the demo catalog), the Bot API answers.

Each problem becomes a :class:`StartupError` whose message is the one line
the operator sees.
"""

from __future__ import annotations

import logging
import socket

from sqlalchemy import text
from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot.config import Settings
from bot.request import AiohttpRequest
from handlers import i18n
from store.db import Database
from store.demo import load_demo_catalog
from store.migrate import pending, upgrade
from store.services.currency import adopt_currency

logger = logging.getLogger(__name__)

# Held on PostgreSQL while one process migrates and loads the demo catalog, so
# several processes starting together on an empty database do it once.
PREPARE_LOCK_KEY = 0x63686174  # "chat"


class StartupError(Exception):
    """Something outside the code stops the bot from starting; the message says what."""


async def prepare_store(settings: Settings, *, migrate: bool) -> None:
    """Create the schema on an empty store (or migrate when asked) and load the demo catalog."""
    database = Database(settings.database_url)
    try:
        try:
            lock = await database.engine.connect()
        except Exception as exc:  # any driver error: refused, unknown host, bad password, missing database
            where = database.engine.url.render_as_string(hide_password=True)
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise StartupError(f"cannot reach the database at {where}: {reason}") from None
        try:
            if not database.is_sqlite:
                await lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PREPARE_LOCK_KEY})
            await _prepare(database, settings, migrate=migrate)
        finally:
            await lock.close()  # ends the session, which releases the advisory lock
    finally:
        await database.dispose()


async def _prepare(database: Database, settings: Settings, *, migrate: bool) -> None:
    """Migrate an empty store (or any store when asked), refuse one that is behind, load the demo."""
    missing = await pending(database)
    fresh = "0001" in missing
    if missing and not (fresh or migrate):
        raise StartupError(f"the database is behind by {len(missing)} migration(s): run `python -m bot migrate`")
    if missing:
        await upgrade(database)
        logger.info("database migrated: %s", ", ".join(missing))
    async with database.transaction() as session:
        kept = await adopt_currency(session, settings.currency)
    if kept is not None:
        raise StartupError(f"setting CURRENCY={settings.currency} but the store's prices are in {kept}: "
                           f"set CURRENCY={kept} (changing it would re-denominate every price)")
    if settings.demo_catalog:
        async with database.transaction() as session:
            await load_demo_catalog(session)


async def check_bot_api(settings: Settings) -> None:
    """Make sure the Bot API answers and accepts the token before anything starts."""
    where = settings.api_urls[0] if settings.api_urls else "https://api.telegram.org"
    urls = dict(zip(("base_url", "base_file_url"), settings.api_urls)) if settings.api_urls else {}
    try:
        async with Bot(settings.bot_token, request=AiohttpRequest(), **urls):
            pass  # entering asks getMe
    except InvalidToken:
        raise StartupError("setting BOT_TOKEN was rejected by the Bot API: check it with @BotFather") from None
    except NetworkError as exc:
        raise StartupError(f"cannot reach the Bot API at {where}: {exc.message}") from None




def check_http_port(settings: Settings) -> None:
    """Make sure the bot's HTTP server can listen where it is told to."""
    if settings.http_port == 0:
        return
    try:
        with socket.create_server((settings.http_host, settings.http_port)):
            pass
    except OSError as exc:
        raise StartupError(f"setting HTTP_PORT: cannot listen on {settings.http_host}:{settings.http_port} "
                           f"({exc.strerror or exc})") from None


def check_translations() -> None:
    """Make sure every language's catalog is compiled from its latest translations."""
    try:
        i18n.check_catalogs()
    except i18n.CatalogError as exc:
        raise StartupError(str(exc)) from None
