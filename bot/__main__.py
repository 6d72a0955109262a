"""Entry point: ``python -m bot [run|sandbox|migrate|worker|import-catalog|payouts]``.

Without a bot token, a bare ``python -m bot`` on a local setup (SQLite, no webhook, the HTTP server on
loopback) starts the sandbox (:mod:`bot.sandbox`): the real bot against a Bot API emulator, with a web
chat on the bot's HTTP server. Anywhere else a missing token stops start-up, as any missing setting does.

Start-up problems (a missing or malformed setting, an unreachable database, a
store that needs migrating) stop the process with one line naming the cause.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterable
from datetime import date

from bot import redact
from bot.app import build_application
from bot.config import Settings, SettingsError, load_settings, missing
from bot.import_catalog import import_catalog
from bot.payouts import payouts
from bot.runtime import BotRuntime
from bot.sandbox.run import first_try, serve_sandbox
from bot.startup import StartupError, check_bot_api, check_http_port, check_translations, prepare_store
from bot.worker import run_worker

logger = logging.getLogger("bot")


def configure_logging(level: str, secrets: Iterable[str | None] = ()) -> None:
    """Log one line per record to stderr, secrets and personal data hidden; keep the HTTP client quiet."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact.install(secrets)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # /readyz checks migrations on every probe


def main(argv: list[str] | None = None) -> int:
    """Run the command named on the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="chatshop: a marketplace in Telegram")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (the default: without BOT_TOKEN on a local SQLite setup, the sandbox)")
    commands.add_parser("sandbox", help="run the sandbox: the real bot against a Bot API stand-in, with a web chat")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("worker", help="deliver the outbox (notifications, webhooks) without serving updates")
    importer = commands.add_parser("import-catalog", help="import or update a seller's catalog from a CSV file")
    importer.add_argument("file", help="CSV file (columns documented in the README)")
    importer.add_argument("--seller", type=int, required=True, help="id of the seller the products belong to")
    importer.add_argument("--dry-run", action="store_true", help="check every row and report, change nothing")
    payer = commands.add_parser("payouts", help="list approved, unpaid creator commission (CSV)")
    payer.add_argument("--until", type=date.fromisoformat, required=True, metavar="YYYY-MM-DD",
                       help="include commission approved up to the end of this day (UTC)")
    payer.add_argument("--mark-paid", action="store_true", help="record the payout so nothing is paid twice")
    args = parser.parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"chatshop: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.secrets)
    if command == "sandbox" or (args.command is None and settings.bot_token is None and first_try(settings)):
        return sandbox(settings)
    if settings.bot_token is None and command in ("run", "worker"):
        print(f"chatshop: {missing('BOT_TOKEN')}", file=sys.stderr)
        return 2
    try:
        asyncio.run(prepare_store(settings, migrate=command == "migrate"))
    except StartupError as exc:
        print(f"chatshop: {exc}", file=sys.stderr)
        return 1
    if command == "migrate":
        return 0
    if command == "import-catalog":
        return asyncio.run(import_catalog(settings, args.file, seller_id=args.seller, dry_run=args.dry_run))
    if command == "payouts":
        return asyncio.run(payouts(settings, until=args.until, mark_paid=args.mark_paid))
    try:
        check_translations()
        if command == "worker":
            return asyncio.run(run_worker(settings))
        check_http_port(settings)
        asyncio.run(check_bot_api(settings))
    except StartupError as exc:
        return refused(exc)
    asyncio.run(serve(settings))
    return 0


def refused(exc: StartupError) -> int:
    """Say why start-up stopped, in one line; the exit status: 2 when a setting is at fault, else 1."""
    print(f"chatshop: {exc}", file=sys.stderr)
    return 2 if "setting" in str(exc) else 1


def sandbox(settings: Settings) -> int:
    """Run the sandbox on HTTP_HOST:HTTP_PORT until SIGINT or SIGTERM."""
    try:
        check_translations()
        check_http_port(settings)
        asyncio.run(serve_sandbox(settings))
    except StartupError as exc:
        return refused(exc)
    return 0


async def serve(settings: Settings) -> None:
    """Run the bot until SIGINT or SIGTERM (long polling, or the webhook when WEBHOOK_URL is set)."""
    await BotRuntime(settings, build_application(settings)).run()


if __name__ == "__main__":
    sys.exit(main())
