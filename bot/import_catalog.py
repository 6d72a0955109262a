"""`python -m bot import-catalog FILE.csv --seller ID [--dry-run]`: a seller's catalog from a CSV file.

Reads the file, shows progress on stderr, hands the rows to
:mod:`store.services.catalog_import` and prints its report on stdout. Exit
status: 0 when every row was imported, 1 when some were rejected (the others
were still imported, unless it was a dry run), 2 when nothing could be done (no
such file, a bad header, an unknown or unapproved seller).

Columns (README.md, "Bulk catalog import", says more): ``sku``, ``title``,
``price``, ``stock`` required; ``option``, ``category``, ``description``,
``brand``, ``photo``, ``product`` optional; for digital goods ``kind``
(physical, the default, or digital), ``delivery`` (file, code or text),
``content`` (a file's https address, or the link or text) and ``codes`` (a
pool's codes, separated by ``|`` or line breaks; the row's stock is then empty
or 0). The report counts the codes added, never shows one.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from tqdm import tqdm

from bot.config import Settings
from handlers import messages
from store.db import Database
from store.errors import ShopError
from store.services.catalog_import import ImportReport, import_rows, read_csv


def fail(message: str) -> int:
    """Print one line on stderr and return the exit status of a command that could not run."""
    print(f"chatshop: {message}", file=sys.stderr)
    return 2


def count_rows(path: Path) -> int:
    """Count the data rows, reading the whole file once (so a bad encoding shows before any write)."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        return max(0, sum(1 for _ in csv.reader(file)) - 1)


def format_report(report: ImportReport, path: str) -> list[str]:
    """The lines printed after an import: the counts, the new categories, then each rejected row."""
    action = "Dry run (nothing was written) of" if report.dry_run else "Imported"
    lines = [
        f"{action} {path} for seller {report.seller_id} ({report.seller_name}):",
        f"  rows read:          {report.rows}",
        f"  products created:   {report.created_products}",
        f"  variants created:   {report.created_variants}",
        f"  variants updated:   {report.updated_variants}",
        f"  unchanged:          {report.unchanged}",
        f"  rejected:           {len(report.rejected)}",
    ]
    if report.codes_added or report.codes_already_in_pool:
        lines.append(f"  codes added:        {report.codes_added}")
        lines.append(f"  codes skipped:      {report.codes_already_in_pool} (already in the pool)")
    if report.new_categories:
        lines.append(f"  new categories:     {', '.join(report.new_categories)}")
    if report.rejected:
        lines.append("Rejected rows:")
        for row in report.rejected:
            where = f"line {row.line} ({row.sku})" if row.sku else f"line {row.line}"
            lines.append(f"  {where}: {messages.rejected_row(row.problems)}")
    return lines


async def import_catalog(settings: Settings, path: str, *, seller_id: int, dry_run: bool) -> int:
    """Import a CSV file into a seller's catalog, print the report and return the exit status."""
    file_path = Path(path)
    try:
        total = count_rows(file_path)
    except FileNotFoundError:
        return fail(f"no such file: {path}")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return fail(f"cannot read {path} as UTF-8 CSV: {exc}")
    bar: tqdm | None = None

    def progress(done: int) -> None:
        # The bar starts with the first batch, once the seller has been checked,
        # so that a refusal is the only line on stderr.
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="row", file=sys.stderr, desc="dry run" if dry_run else "import")
        bar.update(done)

    database = Database(settings.database_url)
    try:
        # utf-8-sig: spreadsheet programs often start a UTF-8 CSV with a byte-order mark.
        with file_path.open(encoding="utf-8-sig", newline="") as file:
            rows = read_csv(file)
            async with database.sessions() as session:
                report = await import_rows(session, seller_id, rows, currency=settings.currency,
                                           dry_run=dry_run, progress=progress)
    except ShopError as exc:
        return fail(f"{path}: {messages.error_text(exc)}")
    finally:
        if bar is not None:
            bar.close()
        await database.dispose()
    print("\n".join(format_report(report, path)))
    return 1 if report.rejected else 0
