"""Bulk catalog import: a seller uploads a CSV, re-uploads it, dry-runs it, and reads what was rejected."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import textwrap

import pytest
from sqlalchemy import func, select

from handlers.messages import error_text, rejected_row
from store.errors import ErrorCode, InvalidInput, NotAllowed, NotFound
from store.models import Category, Product, Variant
from store.services import catalog_import
from store.services.catalog import catalog_version
from store.services.catalog_import import check_columns, import_rows, read_csv
from store.services.search import CatalogSearch
from store.services.seller_catalog import set_status

from .conftest import TOKEN
from .factories import make_seller

SHIRTS = """\
sku,title,price,stock,option,category,description,brand,photo
TEE-S,Linen Summer Tee,19.99,5,S,Clothing,Breathable linen.,Northfold,https://img.example.com/tee.jpg
TEE-M,Linen Summer Tee,19.99,8,M,,,,
TEE-L,Linen Summer Tee,21.50,0,L,,,,
KETTLE-1,Enamel Camp Kettle,34,12,,Camping Gear,,Trailhead,
"""


def reasons(report) -> list[tuple[int, str]]:
    """Each rejected row's line and the reason the seller reads."""
    return [(r.line, rejected_row(r.problems)) for r in report.rejected]


async def run_import(db, seller_id: int, text: str, *, dry_run: bool = False, progress=None):
    """Import a CSV text as the command does, in USD."""
    async with db.sessions() as session:
        return await import_rows(session, seller_id, read_csv(io.StringIO(textwrap.dedent(text))),
                                 currency="USD", dry_run=dry_run, progress=progress)


async def new_seller(db, name: str = "Northfold Outfitters", status: str = "approved") -> int:
    """Add a seller; return its id."""
    async with db.transaction() as session:
        seller = await make_seller(session, name)
        seller.status = status
        return seller.id


async def catalog_of(db, seller_id: int) -> dict[str, list[tuple[str, str, int, int]]]:
    """The seller's products by title: (sku, label, price, stock) of each variant, in position order."""
    async with db.sessions() as session:
        rows = await session.execute(
            select(Product.title, Variant.sku, Variant.label, Variant.price, Variant.stock)
            .join(Variant, Variant.product_id == Product.id)
            .where(Product.seller_id == seller_id).order_by(Product.id, Variant.position))
        catalog: dict[str, list[tuple[str, str, int, int]]] = {}
        for title, *variant in rows:
            catalog.setdefault(title, []).append(tuple(variant))
        return catalog


async def counts(db) -> tuple[int, int, int, int]:
    """Products, variants and categories in the store, and the catalog version."""
    async with db.sessions() as session:
        return (await session.scalar(select(func.count(Product.id))),
                await session.scalar(select(func.count(Variant.id))),
                await session.scalar(select(func.count(Category.id))),
                await catalog_version(session))


async def test_an_import_creates_products_with_their_variants_grouped(db):
    seller_id = await new_seller(db)
    report = await run_import(db, seller_id, SHIRTS)

    # Rows sharing a title become one product; each row is a variant.
    assert (report.rows, report.created_products, report.created_variants) == (4, 2, 4)
    assert (report.updated_variants, report.unchanged, report.rejected) == (0, 0, [])
    assert await catalog_of(db, seller_id) == {
        "Linen Summer Tee": [("TEE-S", "S", 1999, 5), ("TEE-M", "M", 1999, 8), ("TEE-L", "L", 2150, 0)],
        "Enamel Camp Kettle": [("KETTLE-1", "", 3400, 12)],
    }
    # Product fields come from the rows that give them; unknown categories are created and reported.
    assert report.new_categories == ["Clothing", "Camping Gear"]
    async with db.sessions() as session:
        tee = await session.scalar(select(Product).where(Product.title == "Linen Summer Tee"))
        assert (tee.description, tee.brand, tee.photo, tee.status) == (
            "Breathable linen.", "Northfold", "https://img.example.com/tee.jpg", "active")


async def test_the_product_column_groups_skus_whose_titles_differ(db):
    seller_id = await new_seller(db)
    report = await run_import(db, seller_id, """\
        product,sku,title,price,stock,option
        mug,MUG-BLU,Speckled Mug,14,3,Blue
        mug,MUG-GRN,Speckled Mug,14,4,Green
        ,PLATE-1,Speckled Plate,9.5,10,
        """)
    assert report.rejected == []
    assert await catalog_of(db, seller_id) == {
        "Speckled Mug": [("MUG-BLU", "Blue", 1400, 3), ("MUG-GRN", "Green", 1400, 4)],
        "Speckled Plate": [("PLATE-1", "", 950, 10)],
    }
    # Without a category column, new products go to "Other".
    assert report.new_categories == ["Other"]


async def test_a_reimport_updates_existing_skus_and_duplicates_nothing(db):
    seller_id = await new_seller(db)
    await run_import(db, seller_id, SHIRTS)
    before = await counts(db)

    # The same file again: nothing changes, not even the catalog version.
    again = await run_import(db, seller_id, SHIRTS)
    assert (again.created_products, again.created_variants, again.updated_variants, again.unchanged) == (0, 0, 0, 4)
    assert again.new_categories == [] and await counts(db) == before

    # New prices and stock for two SKUs, and a new size joins the tee.
    report = await run_import(db, seller_id, """\
        sku,title,price,stock,option
        TEE-M,Linen Summer Tee,17.99,20,M
        KETTLE-1,Enamel Camp Kettle,34,11,
        TEE-XL,Linen Summer Tee,21.50,2,XL
        TEE-S,Linen Summer Tee,19.99,5,S
        """)
    assert (report.created_products, report.created_variants, report.updated_variants, report.unchanged) == (
        0, 1, 2, 1)
    products, variants, categories, version = await counts(db)
    assert (products, variants, categories) == (before[0], before[1] + 1, before[2]) and version > before[3]
    assert await catalog_of(db, seller_id) == {
        "Linen Summer Tee": [("TEE-S", "S", 1999, 5), ("TEE-M", "M", 1799, 20), ("TEE-L", "L", 2150, 0),
                             ("TEE-XL", "XL", 2150, 2)],
        "Enamel Camp Kettle": [("KETTLE-1", "", 3400, 11)],
    }


async def test_a_dry_run_reports_the_same_and_changes_nothing(db):
    seller_id = await new_seller(db)
    text = SHIRTS + "BAD-1,Broken Row,12.345,1,,,,,\n"
    before = await counts(db)

    dry = await run_import(db, seller_id, text, dry_run=True)
    assert await counts(db) == before and await catalog_of(db, seller_id) == {}

    real = await run_import(db, seller_id, text)
    assert dry.dry_run and not real.dry_run
    for name in ("rows", "created_products", "created_variants", "updated_variants", "unchanged", "rejected",
                 "new_categories"):
        assert getattr(dry, name) == getattr(real, name), name
    assert real.created_variants == 4 and len(real.rejected) == 1


async def test_each_bad_row_is_reported_with_its_line_and_reason_and_good_rows_are_imported(db):
    seller_id = await new_seller(db)
    report = await run_import(db, seller_id, """\
        sku,title,price,stock,option,description,photo
        OK-1,Walnut Cutting Board,45,3,,"Oiled walnut,
        end grain.",
        PRICE-1,Cedar Coaster Set,12.345,4,,,
        STOCK-1,Cedar Coaster Set,12,-1,,,
        STOCK-2,Cedar Coaster Set,12,2.5,,,

        TITLE-1,,12,1,,,
        OK-1,Walnut Cutting Board,45,3,,,
        URL-1,Olive Wood Spoon,8,1,,,ftp://img.example.com/spoon.jpg
        LONG-1,Olive Wood Spoon,8,1,{long},,
        MANY-1,Olive Wood Spoon,8,1,,,,surplus
        ,Olive Wood Spoon,8,1,,,
        OK-2,Olive Wood Spoon,8,1,,,
        """.replace("{long}", "x" * 65))

    # Line numbers are the file's: the header is line 1, a quoted field spans
    # lines 2-3, and the blank line 7 still counts.
    lines = {r.line: (r.sku, rejected_row(r.problems)) for r in report.rejected}
    assert sorted(lines) == [4, 5, 6, 8, 9, 10, 11, 12, 13]
    assert lines[4] == ("PRICE-1", "price: That price isn't valid: USD has at most 2 decimals.")
    assert lines[5][1].startswith("stock: Stock is a whole number") and lines[6][1].startswith("stock:")
    assert lines[8][1].startswith("title: A title needs 3 to 120 characters")
    assert lines[9] == ("OK-1", "sku: OK-1 is already on line 2 of this file.")
    assert lines[10][1].startswith("photo: A photo is an http(s) URL")
    assert lines[11][1].startswith("option: An option label has at most 64 characters")
    assert lines[12][1].startswith("the row has more fields than the header")
    assert lines[13] == ("", "sku: A SKU has 1 to 64 letters, digits, dashes, dots or underscores.")

    # The good rows went in all the same.
    assert (report.created_variants, report.rows) == (2, 11)
    assert await catalog_of(db, seller_id) == {
        "Walnut Cutting Board": [("OK-1", "", 4500, 3)],
        "Olive Wood Spoon": [("OK-2", "", 800, 1)],
    }


async def test_variants_of_one_product_need_distinct_option_labels_and_agreeing_product_fields(db):
    seller_id = await new_seller(db)
    report = await run_import(db, seller_id, """\
        sku,title,price,stock,option,brand
        CAP-RED,Wool Cap,15,2,Red,Northfold
        CAP-RED2,Wool Cap,15,2,Red,
        CAP-NONE,Wool Cap,15,2,,
        CAP-BLU,Wool Cap,15,2,Blue,Trailhead
        CAP-GRY,Wool Cap,15,2,Grey,Northfold
        """)
    assert reasons(report) == [
        (3, "option: 'Red' is already the option of CAP-RED in 'Wool Cap'."),
        (4, "option: 'Wool Cap' has several variants, so each needs its own option label (e.g. S, M, L)."),
        (5, "brand differs from line 2 of the same product ('Wool Cap')."),
    ]
    assert await catalog_of(db, seller_id) == {"Wool Cap": [("CAP-RED", "Red", 1500, 2), ("CAP-GRY", "Grey", 1500, 2)]}


    # Next upload: a new SKU takes "Navy", so an existing one cannot take it too.
    report = await run_import(db, seller_id, """\
        sku,title,price,stock,option
        CAP-NVY,Wool Cap,15,2,Navy
        CAP-GRY,Wool Cap,15,2,Navy
        """)
    assert reasons(report) == [
        (3, "option: 'Navy' is already the option of CAP-NVY in 'Wool Cap'.")]


async def test_a_product_has_at_most_twenty_variants(db):
    seller_id = await new_seller(db)
    text = "sku,title,price,stock,option\n" + "".join(f"PEN-{n},Fountain Pen,30,1,Ink {n}\n" for n in range(21))
    report = await run_import(db, seller_id, text)
    assert report.created_variants == 20
    assert [r.sku for r in report.rejected] == ["PEN-20"]
    assert reasons(report) == [(22, "sku: 'Fountain Pen' already has 20 variants, the most a product can have.")]


async def test_a_removed_products_skus_are_refused_and_its_title_starts_a_new_product(db):
    seller_id = await new_seller(db)
    await run_import(db, seller_id, SHIRTS)
    async with db.transaction() as session:
        kettle_id = await session.scalar(select(Product.id).where(Product.title == "Enamel Camp Kettle"))
        await set_status(session, seller_id, kettle_id, "removed")

    report = await run_import(db, seller_id, """\
        sku,title,price,stock
        KETTLE-1,Enamel Camp Kettle,34,12
        KETTLE-2,Enamel Camp Kettle,36,5
        """)
    assert [r.sku for r in report.rejected] == ["KETTLE-1"]
    assert reasons(report) == [(2, "sku: KETTLE-1 belongs to a removed product ('Enamel Camp Kettle').")]
    assert (report.created_products, report.created_variants) == (1, 1)
    async with db.sessions() as session:
        product_id = await session.scalar(select(Variant.product_id).where(Variant.sku == "KETTLE-2"))
    assert product_id != kettle_id

async def test_rows_of_one_product_join_it_across_batches(db, monkeypatch):
    # Tiny batches: each is its own transaction, and the product made in the
    # first is found again by the rows of later ones.
    monkeypatch.setattr(catalog_import, "BATCH_SIZE", 2)
    seller_id = await new_seller(db)
    done: list[int] = []
    text = "sku,title,price,stock,option\n" + "".join(f"SOCK-{n},Merino Socks,9,{n},Size {n}\n" for n in range(5))
    report = await run_import(db, seller_id, text, progress=done.append)
    assert done == [2, 2, 1]
    assert (report.created_products, report.created_variants) == (1, 5)
    assert [sku for sku, *_ in (await catalog_of(db, seller_id))["Merino Socks"]] == [f"SOCK-{n}" for n in range(5)]


async def test_a_seller_cannot_overwrite_another_sellers_sku(db):
    north = await new_seller(db, "Northfold Outfitters")
    trail = await new_seller(db, "Trailhead Supply")
    await run_import(db, north, "sku,title,price,stock\nBOTTLE-1,Steel Water Bottle,25,10\n")

    # The same SKU string from another seller is that seller's own, new variant.
    report = await run_import(db, trail, "sku,title,price,stock\nBOTTLE-1,Trail Flask,18,4\n")
    assert (report.created_products, report.created_variants, report.updated_variants) == (1, 1, 0)
    assert await catalog_of(db, north) == {"Steel Water Bottle": [("BOTTLE-1", "", 2500, 10)]}
    assert await catalog_of(db, trail) == {"Trail Flask": [("BOTTLE-1", "", 1800, 4)]}


async def test_an_unknown_or_unapproved_seller_is_refused(db):
    with pytest.raises(NotFound) as refused:
        await run_import(db, 999, SHIRTS)
    assert error_text(refused.value) == "There is no seller with id 999."
    pending = await new_seller(db, "Pending Pottery", status="pending")
    with pytest.raises(NotAllowed) as refused:
        await run_import(db, pending, SHIRTS)
    assert refused.value.code == ErrorCode.SELLER_NOT_APPROVED
    assert "is pending: only an approved seller can import" in error_text(refused.value)
    assert (await counts(db))[:2] == (0, 0)


def test_a_header_must_name_the_required_columns_and_only_known_ones():
    assert check_columns(["SKU", " Title", "price", "stock"]) == [
        "sku", "title", "price", "stock"]
    with pytest.raises(InvalidInput) as error:
        check_columns(["sku", "title", "colour", "size", "stock"])
    message = error_text(error.value)
    assert "unknown column(s): colour, size" in message and "missing required column(s): price" in message
    with pytest.raises(InvalidInput) as error:
        read_csv(io.StringIO(""))
    assert error_text(error.value).startswith("The file is empty: a header row is required (sku, title, price,")
    # A BOM left in the text is not part of the first column's name.
    assert next(read_csv(io.StringIO("\ufeffsku,title,price,stock\nA,Abc,1,1\n"))) == (
        2, {"sku": "A", "title": "Abc", "price": "1", "stock": "1"})


async def test_search_finds_imported_products_and_follows_a_new_title(db):
    seller_id = await new_seller(db)
    search = CatalogSearch(refresh_interval=0)
    await run_import(db, seller_id, SHIRTS)
    async with db.sessions() as session:
        found = await search.search(session, "camp kettle")
        kettle_id = await session.scalar(select(Product.id).where(Product.title == "Enamel Camp Kettle"))
    assert found.product_ids[:1] == (kettle_id,)

    # The seller renames the kettle in the next upload: search follows the new name.
    await run_import(db, seller_id, "sku,title,price,stock\nKETTLE-1,Copper Percolator,34,12\n")
    async with db.sessions() as session:
        assert (await search.search(session, "copper percolator")).product_ids[:1] == (kettle_id,)
        assert kettle_id not in (await search.search(session, "enamel kettle")).product_ids


async def test_python_m_bot_import_catalog_prints_the_report_and_exits_1_on_rejected_rows(tmp_path):
    (tmp_path / "catalog.csv").write_text(
        "\ufeffsku,title,price,stock,option,category\n"
        "HAT-S,Sun Hat,24.00,3,S,Clothing\n"
        "HAT-M,Sun Hat,24.00,0,M,\n"
        "HAT-X,Sun Hat,24.001,1,XL,\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in {"CURRENCY", "TELEGRAM_API_BASE_URL"}}
    env.update(BOT_TOKEN=TOKEN, DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}", LOG_LEVEL="WARNING")

    async def command(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "import-catalog", *args, cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode, stdout.decode(), stderr.decode()

    # Seller 2 is a demo retailer, there on a fresh store.
    status, stdout, stderr = await command("catalog.csv", "--seller", "2")
    assert status == 1, stderr
    assert "Imported catalog.csv for seller 2 (Urban Stride):" in stdout
    assert "variants created:   2" in stdout and "rejected:           1" in stdout
    assert "line 4 (HAT-X): price: That price isn't valid: USD has at most 2 decimals." in stdout
    assert "3/3" in stderr  # the progress bar, on stderr

    # Without the bad row, a re-import changes nothing and exits 0.
    (tmp_path / "fixed.csv").write_text("sku,title,price,stock,option\nHAT-S,Sun Hat,24,3,S\nHAT-M,Sun Hat,24,0,M\n")
    status, stdout, _ = await command("fixed.csv", "--seller", "2", "--dry-run")
    assert status == 0 and "Dry run (nothing was written)" in stdout and "unchanged:          2" in stdout

    # A missing file or an unknown seller: one line on stderr, exit 2.
    status, stdout, stderr = await command("missing.csv", "--seller", "2")
    assert (status, stdout, stderr) == (2, "", "chatshop: no such file: missing.csv\n")
    status, _, stderr = await command("fixed.csv", "--seller", "99")
    assert status == 2 and stderr == "chatshop: fixed.csv: There is no seller with id 99.\n"

