"""Digital goods in the catalog file: a seller imports files, links and pools of codes, imports them again,
and reads why a row was refused, and no report or log line ever shows a code or a content."""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update

from bot.import_catalog import format_report
from handlers.messages import rejected_row
from store.models import DigitalCode, Product, Variant
from store.services import digital

from .test_catalog_import import SHIRTS, counts, new_seller, reasons, run_import

DIGITAL = """\
sku,title,price,stock,option,kind,delivery,content,codes
GUIDE-1,Trail Cooking Guide,9.99,1000,,digital,file,https://files.example.com/trail-cooking.pdf,
MAP-1,Ridge Trail Map,4,500,,digital,file,https://files.example.com/Ridge-Map.JPG,
GIFT-25,Gift Card,25,,$25,digital,code,,GC25-AAAA-1111|GC25-BBBB-2222|GC25-CCCC-3333
GIFT-50,Gift Card,50,0,$50,,code,,"GC50-DDDD-4444
GC50-EEEE-5555"
CLASS-1,Knot-Tying Class,15,30,,digital,text,https://meet.example.com/knots?pwd=s3cret,
"""
# What the buyers get, which no report or log line may show.
SECRETS = ("GC25-AAAA-1111", "GC25-BBBB-2222", "GC25-CCCC-3333", "GC50-DDDD-4444", "GC50-EEEE-5555",
           "trail-cooking.pdf", "Ridge-Map", "s3cret")


async def variants_of(db, seller_id: int) -> dict[str, tuple]:
    """Each of the seller's variants by SKU: (product kind, delivery, content, content type, stock)."""
    async with db.sessions() as session:
        rows = await session.execute(
            select(Variant.sku, Product.kind, Variant.delivery, Variant.content, Variant.content_type, Variant.stock)
            .join(Product, Product.id == Variant.product_id).where(Variant.seller_id == seller_id))
        return {sku: tuple(rest) for sku, *rest in rows}


async def pool(db, sku: str) -> list[tuple[str, str]]:
    """The codes of a variant's pool and their states, in the order they were added."""
    async with db.sessions() as session:
        rows = await session.execute(select(DigitalCode.code, DigitalCode.status)
                                     .join(Variant, Variant.id == DigitalCode.variant_id)
                                     .where(Variant.sku == sku).order_by(DigitalCode.id))
        return [tuple(row) for row in rows]


async def test_rows_are_physical_unless_they_say_digital(db):
    seller_id = await new_seller(db)
    report = await run_import(db, seller_id, SHIRTS)
    assert report.rejected == [] and (report.codes_added, report.codes_already_in_pool) == (0, 0)
    variants = await variants_of(db, seller_id)
    assert {kind for kind, *_ in variants.values()} == {"physical"}
    assert variants["TEE-S"] == ("physical", None, None, None, 5)


async def test_a_seller_imports_a_file_a_photo_a_pool_of_codes_and_a_link(db):
    seller_id = await new_seller(db)
    report = await run_import(db, seller_id, DIGITAL)

    assert reasons(report) == []
    # The two gift cards are one product with two options (its kind given on its first row only).
    assert (report.created_products, report.created_variants, report.codes_added) == (4, 5, 5)
    assert await variants_of(db, seller_id) == {
        "GUIDE-1": ("digital", "file", "https://files.example.com/trail-cooking.pdf", "document", 1000),
        "MAP-1": ("digital", "file", "https://files.example.com/Ridge-Map.JPG", "photo", 500),
        # A pool's stock is its codes.
        "GIFT-25": ("digital", "code", None, None, 3),
        "GIFT-50": ("digital", "code", None, None, 2),
        "CLASS-1": ("digital", "text", "https://meet.example.com/knots?pwd=s3cret", None, 30),
    }
    assert await pool(db, "GIFT-50") == [("GC50-DDDD-4444", "free"), ("GC50-EEEE-5555", "free")]


async def test_codes_in_a_cell_are_trimmed_taken_once_and_capped(db):
    seller_id = await new_seller(db)
    too_many = "|".join(f"K-{n:04d}" for n in range(digital.CODES_PER_UPLOAD + 1))
    report = await run_import(db, seller_id, f"""\
sku,title,price,stock,option,kind,delivery,codes
KEY-1,Puzzle Game Key,12,,Standard,digital,code,"  K-1 | K-2 |K-1
K-3 ;K-2,,K-4  "
KEY-2,Puzzle Game Key,20,,Deluxe,digital,code,{too_many}
KEY-3,Puzzle Game Key,30,,Collector,digital,code,{"X" * 201}
""")
    assert await pool(db, "KEY-1") == [("K-1", "free"), ("K-2", "free"), ("K-3", "free"), ("K-4", "free")]
    assert report.codes_added == 4
    assert reasons(report) == [
        (4, "codes: That is 1,001 codes: at most 1,000 per upload. Please send them in parts."),
        (5, "codes: A code is too long: 200 characters at most."),
    ]
    # A refused row adds none of its codes.
    assert await pool(db, "KEY-2") == [] and await pool(db, "KEY-3") == []


async def test_importing_the_file_again_adds_no_code_and_changes_nothing(db):
    seller_id = await new_seller(db)
    await run_import(db, seller_id, DIGITAL)
    before = await counts(db), await variants_of(db, seller_id), await pool(db, "GIFT-25")

    again = await run_import(db, seller_id, DIGITAL)
    assert (again.created_products, again.created_variants, again.updated_variants, again.unchanged) == (0, 0, 0, 5)
    assert (again.codes_added, again.codes_already_in_pool) == (0, 5)
    assert (await counts(db), await variants_of(db, seller_id), await pool(db, "GIFT-25")) == before

    # New codes with old ones: only the new are added, and the stock grows by them.
    report = await run_import(db, seller_id, """\
sku,title,price,stock,option,kind,delivery,codes
GIFT-25,Gift Card,25,0,$25,digital,code,GC25-CCCC-3333|GC25-FFFF-6666
""")
    assert (report.codes_added, report.codes_already_in_pool, report.updated_variants) == (1, 1, 1)
    assert (await variants_of(db, seller_id))["GIFT-25"][-1] == 4


async def test_a_sold_code_is_never_added_again(db):
    seller_id = await new_seller(db)
    await run_import(db, seller_id, DIGITAL)
    async with db.transaction() as session:
        await session.execute(update(DigitalCode).where(DigitalCode.code == "GC25-AAAA-1111").values(status="sold"))
        await session.execute(update(Variant).where(Variant.sku == "GIFT-25").values(stock=2))

    report = await run_import(db, seller_id, DIGITAL)
    assert (report.codes_added, report.unchanged) == (0, 5)
    assert (await variants_of(db, seller_id))["GIFT-25"][-1] == 2


async def test_a_file_without_kind_or_delivery_columns_keeps_what_each_product_is(db):
    seller_id = await new_seller(db)
    await run_import(db, seller_id, DIGITAL)

    # A price list written for every product: the digital ones stay digital, the pool's stock stays its codes.
    report = await run_import(db, seller_id, """\
sku,title,price,stock,option
GUIDE-1,Trail Cooking Guide,7.99,1000,
GIFT-25,Gift Card,22,,$25
CLASS-1,Knot-Tying Class,15,25,
""")
    assert reasons(report) == [] and report.updated_variants == 3
    variants = await variants_of(db, seller_id)
    assert variants["GUIDE-1"] == ("digital", "file", "https://files.example.com/trail-cooking.pdf", "document", 1000)
    assert variants["GIFT-25"][-1] == 3 and variants["CLASS-1"][-1] == 25


async def test_a_dry_run_counts_the_codes_it_would_add_and_adds_none(db):
    seller_id = await new_seller(db)
    before = await counts(db)
    dry = await run_import(db, seller_id, DIGITAL, dry_run=True)
    assert await counts(db) == before and await pool(db, "GIFT-25") == []

    real = await run_import(db, seller_id, DIGITAL)
    for name in ("rows", "created_products", "created_variants", "updated_variants", "unchanged", "rejected",
                 "codes_added", "codes_already_in_pool"):
        assert getattr(dry, name) == getattr(real, name), name
    again = await run_import(db, seller_id, DIGITAL, dry_run=True)
    assert (again.codes_added, again.codes_already_in_pool, again.unchanged) == (0, 5, 5)


async def test_each_digital_row_is_checked_against_its_kind_and_delivery(db):
    seller_id = await new_seller(db)
    report = await run_import(db, seller_id, """\
sku,title,price,stock,kind,delivery,content,codes
A-1,Paper Notebook,5,3,,code,,
A-2,Paper Planner,5,3,physical,,https://files.example.com/a.pdf,K-1
A-3,Sketch Guide,5,3,digital,,,
A-4,Sketch Guide 2,5,5,digital,code,https://files.example.com/a.pdf,K-2
A-5,Sketch Guide 3,5,3,digital,file,http://files.example.com/a.pdf,
A-6,Sketch Guide 4,5,3,digital,file,https://files.example.com/setup.exe,
A-7,Sketch Guide 5,5,,digital,text,,K-3
A-8,Sketch Guide 6,5,3,ebook,pdf,,
A-9,Sketch Guide 7,5,3,digital,text,{long},
""".replace("{long}", "x" * 3001))
    # (Bad values are found first, then what does not fit the product: the report is in that order.)
    assert sorted(reasons(report)) == [
        (2, "delivery: only a digital product has a delivery"),
        (3, "content: only a digital product has a delivery codes: This option is not sold as codes, so codes "
            "can't be added to it."),
        (4, "delivery: a digital product needs a delivery: file, code or text"),
        (5, "content: a code delivery has no content: its codes go in the codes column stock: leave it empty or 0: "
            "the stock of a code delivery is the number of codes left in its pool"),
        (6, "content: the file must be an https:// address"),
        (7, "content: from an https:// address Telegram sends only PDF, ZIP and GIF files and JPEG or PNG photos: "
            "send any other file to the bot in the chat"),
        (8, "codes: This option is not sold as codes, so codes can't be added to it. stock: Stock is required. "
            "content: a text delivery needs the link or text the buyer gets"),
        (9, "kind: the kind must be physical or digital delivery: the delivery must be file, code or text"),
        (10, "content: That link or text is too long: 3000 characters at most."),
    ]
    assert report.created_variants == 0 and (await counts(db))[:2] == (0, 0)


async def test_a_products_kind_and_a_variants_delivery_never_change(db):
    seller_id = await new_seller(db)
    await run_import(db, seller_id, SHIRTS)
    await run_import(db, seller_id, DIGITAL)

    report = await run_import(db, seller_id, """\
sku,title,price,stock,option,kind,delivery,content
TEE-S,Linen Summer Tee,19.99,5,S,digital,text,https://example.com/
TEE-XS,Linen Summer Tee,19.99,5,XS,digital,text,https://example.com/
GIFT-25,Gift Card,25,,$25,physical,,
GIFT-50,Gift Card,50,0,$50,,text,https://example.com/
GIFT-99,Gift Card,99,4,$99,,,
""")
    assert reasons(report) == [
        (2, "kind: 'Linen Summer Tee' is a physical product and can't become digital: import the digital one as a "
            "new product (new SKUs, and another title or product key)"),
        (3, "kind: 'Linen Summer Tee' is a physical product and can't become digital: import the digital one as a "
            "new product (new SKUs, and another title or product key)"),
        (4, "kind: 'Gift Card' is a digital product and can't become physical: import the physical one as a new "
            "product (new SKUs, and another title or product key)"),
        (5, "delivery: GIFT-50 already has another delivery, and a delivery can't change: give the new one a new SKU"),
        # A new option of a digital product needs its delivery.
        (6, "delivery: a digital product needs a delivery: file, code or text"),
    ]
    variants = await variants_of(db, seller_id)
    assert variants["TEE-S"][:2] == ("physical", None) and variants["GIFT-50"][1:] == ("code", None, None, 2)


async def test_rows_of_one_new_product_agree_on_its_kind(db):
    seller_id = await new_seller(db)
    report = await run_import(db, seller_id, """\
sku,title,price,stock,option,kind,delivery,content
SONG-1,Campfire Songs,3,100,MP3,,file,https://files.example.com/songs.zip
SONG-2,Campfire Songs,5,100,Sheet music,digital,file,https://files.example.com/sheets.pdf
SONG-3,Campfire Songs,20,4,Songbook,physical,,
""")
    # The kind given on a later row is the new product's, and a row saying otherwise is refused.
    assert reasons(report) == [
        (4, "kind: 'Campfire Songs' is a digital product and can't become physical: import the physical one as a new "
            "product (new SKUs, and another title or product key)")]
    assert {sku: v[:2] for sku, v in (await variants_of(db, seller_id)).items()} == {
        "SONG-1": ("digital", "file"), "SONG-2": ("digital", "file")}


async def test_no_report_or_log_line_shows_a_code_or_a_content(db, caplog):
    caplog.set_level(logging.DEBUG)
    seller_id = await new_seller(db)
    # Good rows, then the same codes and contents on refused rows.
    refused = """\
GIFT-75,Gift Card,75,9,$75,digital,code,,GC25-AAAA-1111|GC50-EEEE-5555
GUIDE-2,Trail Cooking Guide 2,9,5,,digital,file,https://files.example.com/trail-cooking.pdf.exe,
CLASS-2,Knot-Tying Class 2,15,x,,digital,text,https://meet.example.com/knots?pwd=s3cret,GC50-DDDD-4444
"""
    reports = [await run_import(db, seller_id, DIGITAL + refused, dry_run=True),
               await run_import(db, seller_id, DIGITAL + refused),
               await run_import(db, seller_id, DIGITAL + refused)]
    assert [len(report.rejected) for report in reports] == [3, 3, 3]

    shown = "\n".join(line for report in reports for line in format_report(report, "catalog.csv"))
    shown += repr(reports) + "".join(rejected_row(row.problems) for report in reports for row in report.rejected)
    assert "codes added:        5" in shown and "codes skipped:      5 (already in the pool)" in shown
    for secret in SECRETS:
        assert secret not in shown and secret not in caplog.text, secret
    assert "catalog import for seller" in caplog.text  # the import did log, counts only


async def test_a_pool_is_capped_per_row_not_per_file(db):
    seller_id = await new_seller(db)
    rows = "".join(f"POOL-{n},Ticket Pool,5,,Batch {n},digital,code,"
                   f"{'|'.join(f'T{n}-{i:04d}' for i in range(digital.CODES_PER_UPLOAD))}\n" for n in range(2))
    report = await run_import(db, seller_id, "sku,title,price,stock,option,kind,delivery,codes\n" + rows)
    assert reasons(report) == [] and report.codes_added == 2 * digital.CODES_PER_UPLOAD
    async with db.sessions() as session:
        assert await session.scalar(select(func.count(DigitalCode.id))) == 2 * digital.CODES_PER_UPLOAD
