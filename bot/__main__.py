"""Entry point: ``python -m bot [run|migrate|worker|import-catalog]``.

Start-up problems (a missing or malformed setting, an unreachable database, a
store that needs migrating) stop the process with one line naming the cause.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError

from bot.app import build_application
from bot.config import Settings, SettingsError, load_settings
from bot.request import AiohttpRequest
from store.db import Database
from store.demo import load_demo_catalog
from store.migrate import pending, upgrade

logger = logging.getLogger("bot")


class StartupError(Exception):
    """Something outside the code stops the bot from starting; the message says what."""


def configure_logging(level: str) -> None:
    """Log one line per record to stderr; keep the HTTP client quiet."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def prepare_store(settings: Settings, *, migrate: bool) -> None:
    """Create the schema on an empty store (or migrate when asked) and load the demo catalog."""
    database = Database(settings.database_url)
    try:
        try:
            missing = await pending(database)
        except Exception as exc:  # any driver error: refused, unknown host, bad password, missing database
            where = database.engine.url.render_as_string(hide_password=True)
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise StartupError(f"cannot reach the database at {where}: {reason}") from None
        fresh = "0001" in missing
        if missing and not (fresh or migrate):
            raise StartupError(f"the database is behind by {len(missing)} migration(s): run `python -m bot migrate`")
        if missing:
            await upgrade(database)
            logger.info("database migrated: %s", ", ".join(missing))
        if settings.demo_catalog:
            async with database.transaction() as session:
                await load_demo_catalog(session)
    finally:
        await database.dispose()


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


def main(argv: list[str] | None = None) -> int:
    """Run the command named on the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="chatshop: a marketplace in Telegram")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("worker", help="deliver the outbox (notifications, webhooks) without serving updates")
    importer = commands.add_parser("import-catalog", help="import or update a seller's catalog from a CSV file")
    importer.add_argument("file", help="CSV file (columns documented in the README)")
    importer.add_argument("--seller", type=int, required=True, help="id of the seller the products belong to")
    importer.add_argument("--dry-run", action="store_true", help="check every row and report, change nothing")
    args = parser.parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"chatshop: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        asyncio.run(prepare_store(settings, migrate=command == "migrate"))
    except StartupError as exc:
        print(f"chatshop: {exc}", file=sys.stderr)
        return 1
    if command == "migrate":
        return 0
    if command == "import-catalog":
        from bot.import_catalog import import_catalog

        return asyncio.run(import_catalog(settings, args.file, seller_id=args.seller, dry_run=args.dry_run))
    if command == "worker":
        from bot.worker import run_worker

        return asyncio.run(run_worker(settings))
    try:
        asyncio.run(check_bot_api(settings))
    except StartupError as exc:
        print(f"chatshop: {exc}", file=sys.stderr)
        return 2 if "BOT_TOKEN" in str(exc) else 1
    application = build_application(settings)
    logger.info("starting chatshop by long polling")
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
