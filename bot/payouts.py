"""`python -m bot payouts --until DATE [--mark-paid]`: approved, unpaid creator commission as CSV.

Lists, per creator and currency, the commission approved up to the end of
``DATE`` (23:59:59.999999 UTC) and not paid yet. With ``--mark-paid`` the same
transaction records one payout per row and marks its commissions paid, so a
second run lists nothing; the CSV then shows the payout ids. Columns::

    creator_id,code,user_id,currency,amount,entries,amount_decimal,payout_id

``amount`` is in minor units, ``amount_decimal`` the same amount with the
currency's decimals ("12.50" USD, "1250" JPY), ``entries`` the number of
commissions, ``payout_id`` empty unless the row was just marked paid.
"""

from __future__ import annotations

import csv
import sys
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TextIO

from bot.config import Settings
from handlers.messages import error_text
from store.db import Database
from store.errors import ShopError
from store.models import utcnow
from store.money import digits
from store.services import earnings
from store.services.earnings import PayableRow

HEADER = ("creator_id", "code", "user_id", "currency", "amount", "entries", "amount_decimal", "payout_id")


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in UTC."""
    return datetime.combine(day, time.max, tzinfo=UTC)


def decimal_amount(amount: int, currency: str) -> str:
    """Minor units as a plain decimal string with the currency's number of decimals: 1250 USD -> "12.50"."""
    return format(Decimal(amount).scaleb(-digits(currency)), "f")


def write_csv(rows: list[PayableRow], out: TextIO) -> None:
    """Write the payout rows, header first."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow((row.creator_id, row.code, row.user_id, row.currency, row.amount, row.count,
                         decimal_amount(row.amount, row.currency), "" if row.payout_id is None else row.payout_id))


async def payouts(settings: Settings, *, until: date, mark_paid: bool, out: TextIO = sys.stdout) -> int:
    """Print the creator commission payable up to ``until`` as CSV (and mark it paid); return the exit status."""
    cutoff = end_of_day(until)
    database = Database(settings.database_url)
    try:
        if mark_paid:
            async with database.transaction() as session:
                paid = await earnings.mark_paid(session, cutoff, utcnow())
                rows = await earnings.payout_rows(session, [payout.id for payout in paid])
        else:
            async with database.read() as session:
                rows = await earnings.payable(session, cutoff)
    except ShopError as exc:
        print(f"chatshop: payouts: {error_text(exc)}", file=sys.stderr)
        return 2
    finally:
        await database.dispose()
    write_csv(rows, out)
    return 0
