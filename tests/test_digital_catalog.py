"""A seller's digital goods in the store: what each variant delivers, checked when it is added or replaced; codes
added to a pool by its seller alone, which are its stock; the steps of adding one in the chat."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from store.errors import ErrorCode, Expired, InvalidInput, NotFound, ShopError
from store.models import DigitalCode, Product, Variant
from store.services import catalog_flow as flow
from store.services import digital
from store.services import seller_catalog as catalog
from store.services.catalog_flow import ProductStep
from store.services.seller_catalog import VariantInput
from store.services.users import get_step
from store.states import Delivery, ProductKind

from .factories import make_category, make_seller

OWNER = 700


@pytest.fixture
async def shop(db):
    """Two shops and a category."""
    async with db.transaction() as session:
        mine, theirs = await make_seller(session, "Key Shop"), await make_seller(session, "Other Shop")
        category = await make_category(session, "Software")
    return {"mine": mine.id, "theirs": theirs.id, "category": category.id}


async def create(db, shop, kind=ProductKind.DIGITAL, **variant):  # type: ignore[no-untyped-def]
    """Add a product of one variant ("" label, 9.99) to my shop; returns its view."""
    fields = {"label": "", "price": 999, "stock": 0, **variant}
    async with db.transaction() as session:
        return await catalog.create_product(session, shop["mine"], title="Photo Editor", description="",
                                            category_id=shop["category"], photo=None,
                                            variants=[VariantInput(**fields)], kind=kind)


async def stored(db, variant_id: int) -> Variant:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return await session.get(Variant, variant_id)


async def test_a_digital_product_keeps_what_each_variant_delivers(db, shop):
    product = await create(db, shop, stock=5, delivery="file", content="BQACAgIAAxk-file_1", content_type="document")
    assert product.kind == ProductKind.DIGITAL and product.variants[0].delivery == Delivery.FILE
    variant = await stored(db, product.variants[0].id)
    assert (variant.content, variant.content_type, variant.stock) == ("BQACAgIAAxk-file_1", "document", 5)

    product = await create(db, shop, stock=50, delivery="text", content="  https://videos.example/class  ")
    assert (await stored(db, product.variants[0].id)).content == "https://videos.example/class"

    # A pool of codes starts empty: its stock is its codes.
    product = await create(db, shop, delivery="code")
    variant = await stored(db, product.variants[0].id)
    assert (variant.delivery, variant.content, variant.stock) == ("code", None, 0)

    # A physical product is as before.
    product = await create(db, shop, kind="physical", stock=3)
    assert product.kind == ProductKind.PHYSICAL and product.variants[0].delivery is None


@pytest.mark.parametrize(("kind", "variant", "code"), [
    ("digital", {}, ErrorCode.DELIVERY_NEEDED),
    ("physical", {"delivery": "file", "content": "f1", "content_type": "document"}, ErrorCode.DELIVERY_OF_PHYSICAL),
    ("software", {"delivery": "code"}, ErrorCode.KIND_UNKNOWN),
    ("digital", {"delivery": "email"}, ErrorCode.DELIVERY_UNKNOWN),
    ("digital", {"delivery": "code", "stock": 10}, ErrorCode.CODE_STOCK_GIVEN),
    ("digital", {"delivery": "file", "content_type": "document"}, ErrorCode.FILE_NEEDED),
    ("digital", {"delivery": "file", "content": "f1", "content_type": "video"}, ErrorCode.FILE_NEEDED),
    ("digital", {"delivery": "file", "content": "not a file id", "content_type": "document"},
     ErrorCode.FILE_URL_INVALID),
    ("digital", {"delivery": "file", "content": "http://example.com/a.pdf", "content_type": "document"},
     ErrorCode.FILE_URL_INVALID),
    ("digital", {"delivery": "text", "content": "   "}, ErrorCode.CONTENT_NEEDED),
    ("digital", {"delivery": "text", "content": "x" * (digital.TEXT_MAX + 1)}, ErrorCode.CONTENT_TOO_LONG),
])
async def test_what_a_variant_delivers_is_checked_and_a_refusal_adds_nothing(db, shop, kind, variant, code):
    with pytest.raises(InvalidInput) as refused:
        await create(db, shop, kind, **variant)
    assert refused.value.code == code
    async with db.read() as session:
        assert await session.scalar(select(func.count(Product.id))) == 0


async def test_codes_are_added_by_their_seller_only_and_are_the_stock(db, shop):
    codes = await create(db, shop, delivery="code")
    pid, vid = codes.id, codes.variants[0].id
    async with db.transaction() as session:
        view, added = await catalog.add_variant_codes(session, shop["mine"], pid, vid, "A-1\n\n A-2 \nA-1;A-3")
    assert (added.added, added.known, added.available) == (3, 0, 3) and view.variants[0].stock == 3
    async with db.transaction() as session:
        _view, added = await catalog.add_variant_codes(session, shop["mine"], pid, vid, "A-3, A-4")
    assert (added.added, added.known, added.available) == (1, 1, 4)

    # Another shop, a file variant, a hand-typed stock: refused, the pool unchanged.
    file = await create(db, shop, stock=5, delivery="file", content="f1", content_type="document")
    refusals = [
        (lambda s: catalog.add_variant_codes(s, shop["theirs"], pid, vid, "B-1"), ErrorCode.PRODUCT_NOT_YOURS),
        (lambda s: catalog.add_variant_codes(s, shop["mine"], pid, file.variants[0].id, "B-1"),
         ErrorCode.OPTION_NOT_IN_PRODUCT),
        (lambda s: catalog.add_variant_codes(s, shop["mine"], file.id, file.variants[0].id, "B-1"),
         ErrorCode.NOT_A_CODE_POOL),
        (lambda s: catalog.add_variant_codes(s, shop["mine"], pid, vid, " \n ,; "), ErrorCode.CODES_NONE),
        (lambda s: catalog.add_variant_codes(s, shop["mine"], pid, vid, "\n".join(map(str, range(1001)))),
         ErrorCode.CODES_TOO_MANY),
        (lambda s: catalog.update_variant(s, shop["mine"], pid, vid, stock=50), ErrorCode.STOCK_IS_CODES),
    ]
    for attempt, code in refusals:
        with pytest.raises(ShopError) as refused:
            async with db.transaction() as session:
                await attempt(session)
        assert refused.value.code == code
    async with db.transaction() as session:  # its price is the seller's to change, as any variant's
        await catalog.update_variant(session, shop["mine"], pid, vid, price=1299)
    variant = await stored(db, vid)
    async with db.read() as session:
        free = await session.scalar(select(func.count(DigitalCode.id)).where(DigitalCode.variant_id == vid))
    assert (variant.stock, free, variant.price) == (4, 4, 1299)


async def test_a_file_or_a_text_is_replaced_by_its_seller_only_and_as_what_it_is(db, shop):
    file = await create(db, shop, stock=5, delivery="file", content="f1", content_type="document")
    text = await create(db, shop, stock=5, delivery="text", content="https://a.example")
    async with db.transaction() as session:
        await catalog.replace_file(session, shop["mine"], file.id, file.variants[0].id, "f2", "photo")
        await catalog.replace_text(session, shop["mine"], text.id, text.variants[0].id, "https://b.example")
    assert ((await stored(db, file.variants[0].id)).content, (await stored(db, text.variants[0].id)).content) == (
        "f2", "https://b.example")

    refusals = [
        (lambda s: catalog.replace_file(s, shop["theirs"], file.id, file.variants[0].id, "f3", "document"),
         NotFound, ErrorCode.PRODUCT_NOT_YOURS),
        (lambda s: catalog.replace_file(s, shop["mine"], text.id, text.variants[0].id, "f3", "document"),
         InvalidInput, ErrorCode.DELIVERY_MISMATCH),
        (lambda s: catalog.replace_text(s, shop["mine"], file.id, file.variants[0].id, "hello"),
         InvalidInput, ErrorCode.DELIVERY_MISMATCH),
        (lambda s: catalog.replace_text(s, shop["theirs"], text.id, text.variants[0].id, "hello"),
         NotFound, ErrorCode.PRODUCT_NOT_YOURS),
    ]
    for attempt, kind, code in refusals:
        with pytest.raises(kind) as refused:
            async with db.transaction() as session:
                await attempt(session)
        assert refused.value.code == code
    assert (await stored(db, text.variants[0].id)).content == "https://b.example"


def test_a_variant_sold_as_codes_is_typed_without_a_stock():
    assert catalog.parse_code_variant("9.99", "USD") == VariantInput("", 999, 0, delivery=Delivery.CODE)
    assert catalog.parse_code_variant(" Pro ; 19.99 ", "USD") == VariantInput("Pro", 1999, 0, delivery=Delivery.CODE)
    with pytest.raises(InvalidInput) as refused:
        catalog.parse_code_variant("Pro; 19.99; 10", "USD")
    assert refused.value.code == ErrorCode.CODE_VARIANT_FORMAT


def test_a_list_of_codes_sent_as_a_file_is_small_utf8_text():
    catalog.check_codes_file("keys.txt", None, 100)
    catalog.check_codes_file("keys", "text/plain", None)
    catalog.check_codes_file("KEYS.CSV", "application/octet-stream", 100)
    for name, mime, size, code in [("keys.pdf", "application/pdf", 10, ErrorCode.CODES_FILE_NOT_TEXT),
                                   ("keys.txt", "text/plain", catalog.CODES_FILE_MAX_BYTES + 1,
                                    ErrorCode.CODES_FILE_TOO_BIG)]:
        with pytest.raises(InvalidInput) as refused:
            catalog.check_codes_file(name, mime, size)
        assert refused.value.code == code
    assert catalog.codes_text("\ufeffKEY-1\r\nKEY-2".encode()) == "KEY-1\r\nKEY-2"
    for data, code in [(b"\xff\xfeK\x00", ErrorCode.CODES_FILE_NOT_TEXT),
                       (b"KEY\x00", ErrorCode.CODES_FILE_NOT_TEXT),
                       (b"K" * (catalog.CODES_FILE_MAX_BYTES + 1), ErrorCode.CODES_FILE_TOO_BIG)]:
        with pytest.raises(InvalidInput) as refused:
            catalog.codes_text(data)
        assert refused.value.code == code


async def at(db, user_id: int) -> str | None:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        step = await get_step(session, user_id)
    return step.name if step is not None else None


async def walk_to_kind(db, shop) -> None:  # type: ignore[no-untyped-def]
    """The seller's product is titled, described, filed and has no photo: next, physical or digital."""
    async with db.transaction() as session:
        await flow.begin(session, OWNER)
        await flow.submit_title(session, OWNER, "Photo Editor")
        await flow.submit_description(session, OWNER, None)
        await flow.choose_category(session, OWNER, shop["category"])
        await flow.submit_photo(session, OWNER, None)
    assert await at(db, OWNER) == ProductStep.KIND


async def test_adding_a_file_product_step_by_step(db, shop):
    await walk_to_kind(db, shop)
    async with db.transaction() as session:
        assert await flow.choose_kind(session, OWNER, "digital") == ProductKind.DIGITAL
        assert await flow.choose_delivery(session, OWNER, "file") == Delivery.FILE
    assert await at(db, OWNER) == ProductStep.FILE

    # Too big a file, or a step that is over: refused, the step stays.
    for attempt, code in [(lambda s: flow.submit_file(s, OWNER, "f1", digital.FILE_MAX_BYTES + 1, digital.DOCUMENT),
                           ErrorCode.FILE_TOO_BIG),
                          (lambda s: flow.add_variant(s, OWNER, "9.99; 5", "USD"), ErrorCode.ADD_PRODUCT_STEP_OVER),
                          (lambda s: flow.choose_kind(s, OWNER, "physical"), ErrorCode.ADD_PRODUCT_STEP_OVER)]:
        with pytest.raises(ShopError) as refused:
            async with db.transaction() as session:
                await attempt(session)
        assert refused.value.code == code
    assert await at(db, OWNER) == ProductStep.FILE

    async with db.transaction() as session:
        await flow.submit_file(session, OWNER, "f1", 1024, digital.DOCUMENT)
        typed = await flow.add_variant(session, OWNER, "9.99; 5", "USD")
        product = await flow.publish(session, OWNER, shop["mine"])
    assert [(v.price, v.stock, v.delivery) for v in typed] == [(999, 5, Delivery.FILE)]
    assert product.kind == ProductKind.DIGITAL and await at(db, OWNER) is None
    variant = await stored(db, product.variants[0].id)
    assert (variant.delivery, variant.content, variant.content_type) == ("file", "f1", "document")


async def test_a_code_product_is_typed_without_stock_and_filled_after_publishing(db, shop):
    await walk_to_kind(db, shop)
    async with db.transaction() as session:
        await flow.choose_kind(session, OWNER, "digital")
        await flow.choose_delivery(session, OWNER, "code")
        with pytest.raises(InvalidInput):
            await flow.add_variant(session, OWNER, "Standard; 9.99; 10", "USD")
    async with db.transaction() as session:
        await flow.add_variant(session, OWNER, "Standard; 9.99", "USD")
        product = await flow.publish(session, OWNER, shop["mine"])
    pid, vid = product.id, product.variants[0].id
    assert (product.variants[0].delivery, product.variants[0].stock) == (Delivery.CODE, 0)

    # Its stock is not a step: codes are.
    with pytest.raises(InvalidInput) as refused:
        async with db.transaction() as session:
            await flow.ask_edit(session, OWNER, shop["mine"], ProductStep.EDIT_STOCK, pid, vid)
    assert refused.value.code == ErrorCode.STOCK_IS_CODES
    with pytest.raises(NotFound):
        async with db.transaction() as session:
            await flow.ask_goods(session, OWNER, shop["theirs"], pid, vid)
    async with db.transaction() as session:
        await flow.ask_goods(session, OWNER, shop["mine"], pid, vid)
    assert await at(db, OWNER) == ProductStep.EDIT_CODES
    async with db.transaction() as session:
        view, added = await flow.submit_codes(session, OWNER, shop["mine"], "K-1\nK-2")
    assert (added.added, view.variants[0].stock, await at(db, OWNER)) == (2, 2, None)
    with pytest.raises(Expired):  # the step is over: more codes need the button again
        async with db.transaction() as session:
            await flow.submit_codes(session, OWNER, shop["mine"], "K-3")


async def test_a_physical_product_goes_from_its_kind_to_its_variants(db, shop):
    await walk_to_kind(db, shop)
    async with db.transaction() as session:
        await flow.choose_kind(session, OWNER, "physical")
        await flow.add_variant(session, OWNER, "M; 19.99; 3", "USD")
        product = await flow.publish(session, OWNER, shop["mine"])
    assert product.kind == ProductKind.PHYSICAL and product.variants[0].delivery is None
