"""A retailer's catalog and pools of codes over the HTTP API: a CSV file imported with a key, codes added to a
pool, and every refusal a clear 4xx that changes nothing and never repeats a code.

The API is the bot's own aiohttp application, served on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from yarl import URL

from bot import http_api
from bot.web import WebServer, init_web_app
from store.models import DigitalCode, Product, Variant
from store.services import digital, sellers
from store.services.search import CatalogSearch
from store.shop import Shop

from .test_digital_import import DIGITAL, SECRETS, new_seller, pool, variants_of


class Retailer:
    """A retailer's HTTP client for the API, with its key."""

    def __init__(self, http: aiohttp.ClientSession, key: str) -> None:
        self.http, self.auth = http, {"Authorization": f"Bearer {key}"}

    async def post(self, path: str, body: bytes | str = b"", content_type: str = "text/csv",
                   **kwargs) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
        """POST a body; the answer's status and JSON."""
        async with self.http.post(path, data=body, headers={**self.auth, "Content-Type": content_type},
                                  **kwargs) as response:
            return response.status, await response.json()

    async def catalog(self, csv: str, **query: str) -> tuple[int, dict]:
        """Send a catalog file."""
        return await self.post("/api/v1/catalog", csv.encode(), params=query)

    async def codes(self, sku: str, codes: list[str]) -> tuple[int, dict]:
        """Add codes as JSON."""
        return await self.post(f"/api/v1/variants/{sku}/codes", json.dumps({"codes": codes}), "application/json")


@pytest.fixture
async def api(db):
    """The API on 127.0.0.1, and two retailers with keys: yields (the first, the second, their seller ids)."""
    app = init_web_app(Shop(db=db, search=CatalogSearch(refresh_interval=0)))
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    north, trail = await new_seller(db, "Northfold Outfitters"), await new_seller(db, "Trailhead Supply")
    async with db.transaction() as session:
        keys = [await sellers.issue_api_key(session, seller_id) for seller_id in (north, trail)]
    try:
        async with aiohttp.ClientSession(base_url=server.url) as http:
            yield Retailer(http, keys[0]), Retailer(http, keys[1]), (north, trail)
    finally:
        await server.stop()


async def codes_in_store(db) -> int:
    """How many codes all pools hold."""
    async with db.sessions() as session:
        return await session.scalar(select(func.count(DigitalCode.id)))


async def test_a_retailer_imports_digital_goods_and_tops_up_a_pool(db, api, caplog):
    caplog.set_level(logging.DEBUG)
    north, _, (north_id, _) = api

    # A dry run first: the report, and nothing written.
    status, dry = await north.catalog(DIGITAL, dry_run="true")
    assert status == 200 and dry["dry_run"] is True
    assert (dry["created_products"], dry["created_variants"], dry["codes_added"], dry["rejected"]) == (4, 5, 5, [])
    assert await variants_of(db, north_id) == {} and await codes_in_store(db) == 0

    status, report = await north.catalog(DIGITAL)
    assert status == 200 and {**report, "dry_run": True} == dry
    assert (await variants_of(db, north_id))["GIFT-25"] == ("digital", "code", None, None, 3)

    # Two new codes, one the pool has, one repeated: the pool takes the two.
    status, added = await north.codes("gift-25", [" GC25-ZZZZ-0001 ", "GC25-AAAA-1111", "GC25-ZZZZ-0002",
                                                  "GC25-ZZZZ-0001"])
    assert (status, added) == (200, {"sku": "GIFT-25", "added": 2, "already_in_pool": 1, "available": 5})
    # One code a line, as text: sent again, nothing is added.
    status, again = await north.post("/api/v1/variants/GIFT-25/codes", "GC25-ZZZZ-0002\r\nGC25-ZZZZ-0001\n",
                                     "text/plain")
    assert (status, again) == (200, {"sku": "GIFT-25", "added": 0, "already_in_pool": 2, "available": 5})
    assert [code for code, _ in await pool(db, "GIFT-25")][-2:] == ["GC25-ZZZZ-0001", "GC25-ZZZZ-0002"]

    # The same file again adds no code and changes nothing.
    status, report = await north.catalog(DIGITAL)
    assert (report["unchanged"], report["codes_added"], report["codes_already_in_pool"]) == (5, 0, 5)
    assert (await variants_of(db, north_id))["GIFT-25"][-1] == 5

    for secret in (*SECRETS, "GC25-ZZZZ-0001"):
        assert secret not in caplog.text, secret


async def test_rejected_rows_come_back_with_line_column_and_reason_never_a_code(db, api):
    north, _, (north_id, _) = api
    status, report = await north.catalog(
        "sku,title,price,stock,option,kind,delivery,codes\n"
        "KEY-1,Puzzle Game Key,12,,Standard,digital,code,K-SECRET-1|K-SECRET-2\n"
        "KEY-2,Puzzle Game Key,20,7,Deluxe,digital,code,K-SECRET-3\n"
        "KEY-3,Puzzle Game Key,12.345,,Collector,digital,code,K-SECRET-4\n")
    assert status == 200 and (report["created_variants"], report["codes_added"], report["rejected_rows"]) == (1, 2, 2)
    assert report["rejected"] == [
        {"line": 4, "sku": "KEY-3", "column": "price", "code": "price_decimals",
         "reason": "That price isn't valid: USD has at most 2 decimals."},
        {"line": 3, "sku": "KEY-2", "column": "stock", "code": "code_stock_given",
         "reason": "leave it empty or 0: the stock of a code delivery is the number of codes left in its pool"},
    ]
    assert "K-SECRET" not in json.dumps(report)
    assert [code for code, _ in await pool(db, "KEY-2")] == []


async def test_a_catalog_the_api_cannot_read_is_refused_and_changes_nothing(db, api, monkeypatch):
    north, _, (north_id, _) = api
    monkeypatch.setattr(http_api, "MAX_CATALOG_BYTES", 4096)
    refusals = [
        # (body, content type, query): status, code
        ((DIGITAL, "application/json", {}), 415, "content_type_unsupported"),
        ((DIGITAL + "X-1,Big File,1,1,,,,,\n" * 300, "text/csv", {}), 413, "body_too_large"),
        (("sku,title,price,stock\nA-1,Caf\xe9 Mug,1,1\n".encode("latin-1"), "text/csv", {}), 400, "body_invalid"),
        (("sku,title,price,stock\nA-1,Mug\x00,1,1\n", "text/csv", {}), 400, "body_invalid"),
        (('sku,title,price,stock\nA-1,"Mug,1,1\n', "text/csv", {"dry_run": "false"}), 200, None),
        (("sku,title,colour\nA-1,Mug,red\n", "text/csv", {}), 422, "csv_header_invalid"),
        (("", "text/csv", {}), 422, "csv_empty"),
        ((DIGITAL, "text/csv", {"dry_run": "perhaps"}), 422, "flag_invalid"),
    ]
    for (body, content_type, query), status, code in refusals:
        got, answer = await north.post("/api/v1/catalog", body, content_type, params=query)
        assert got == status, (body[:40], answer)
        if code is not None:
            assert answer["code"] == code and answer["message"] and answer["error"], answer
    # (An unclosed quote runs to the end of the file: one row, refused, nothing imported.)
    assert await variants_of(db, north_id) == {}

    # A body sent in chunks, without a length, is cut off at the limit too.
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"sku,title,price,stock\n" + b"X-1,Big File,1,1\n" * 60

    async with north.http.post("/api/v1/catalog", data=chunks(),
                               headers={**north.auth, "Content-Type": "text/csv"}) as response:
        assert response.status == 413 and (await response.json())["message"].startswith(
            "The catalog file is larger than 4 KB: send it in several files")
    # Without a key, nothing is read.
    async with north.http.post("/api/v1/catalog", data=DIGITAL, headers={"Content-Type": "text/csv"}) as response:
        assert response.status == 401


async def test_codes_the_api_refuses_change_nothing(db, api, monkeypatch):
    north, trail, _ = api
    await north.catalog(DIGITAL)
    # The other retailer has a gift card with the same SKU.
    await trail.catalog("sku,title,price,stock,kind,delivery,codes\nGIFT-25,Trail Gift Card,25,,digital,code,T-1\n")
    before = await codes_in_store(db), await pool(db, "GIFT-25")

    too_many = [f"N-{n:04d}" for n in range(digital.CODES_PER_UPLOAD + 1)]
    refusals = [
        # (SKU, body, content type): status, code
        (("GIFT-99", {"codes": ["N-1"]}, "application/json"), 404, "sku_unknown"),
        (("GIFT 25!", {"codes": ["N-1"]}, "application/json"), 404, "sku_unknown"),
        (("GUIDE-1", {"codes": ["N-1"]}, "application/json"), 422, "not_a_code_pool"),
        (("GIFT-25", {"codes": too_many}, "application/json"), 422, "codes_too_many"),
        (("GIFT-25", {"codes": []}, "application/json"), 422, "codes_none"),
        (("GIFT-25", {"codes": ["  "]}, "application/json"), 422, "codes_none"),
        (("GIFT-25", {"codes": ["N" * 201]}, "application/json"), 422, "code_too_long"),
        (("GIFT-25", {"codes": ["N-1,N-2"]}, "application/json"), 422, "code_invalid"),
        (("GIFT-25", {"codes": ["N-1\nN-2"]}, "application/json"), 422, "code_invalid"),
        (("GIFT-25", {"codes": ["N-\ud800"]}, "application/json"), 422, "code_invalid"),
        (("GIFT-25", {"codes": "N-1"}, "application/json"), 400, "body_invalid"),
        (("GIFT-25", {"codes": [1, 2]}, "application/json"), 400, "body_invalid"),
        (("GIFT-25", ["N-1"], "application/json"), 400, "body_invalid"),
        (("GIFT-25", b"{not json", "application/json"), 400, "body_invalid"),
        (("GIFT-25", b"N-\xff\n", "text/plain"), 400, "body_invalid"),
        (("GIFT-25", b"N-1\x00\n", "text/plain"), 400, "body_invalid"),
        (("GIFT-25", b"N-1\n", "application/octet-stream"), 415, "content_type_unsupported"),
        (("GIFT-25", b"N-1\n" * 200_000, "text/plain"), 413, "body_too_large"),
    ]
    for (sku, body, content_type), status, code in refusals:
        raw = body if isinstance(body, bytes) else json.dumps(body)
        got, answer = await north.post(f"/api/v1/variants/{sku}/codes", raw, content_type)
        assert (got, answer["code"]) == (status, code), (sku, str(body)[:40], answer)
        assert answer["message"] and "N-1" not in answer["message"]
    assert (await codes_in_store(db), await pool(db, "GIFT-25")) == before

    # What the limits say.
    _, answer = await north.codes("GIFT-25", too_many)
    assert answer["message"] == "That is 1,001 codes: at most 1,000 per upload. Please send them in parts."
    _, answer = await north.codes("GIFT-99", ["N-1"])
    assert answer == {"error": "not_found", "code": "sku_unknown", "message": "There is no SKU GIFT-99 in this shop."}


async def test_another_retailers_sku_is_not_found(db, api):
    north, trail, (north_id, trail_id) = api
    await north.catalog(DIGITAL)

    # The other retailer names the first one's pool: it does not exist for them, and stays as it was.
    status, answer = await trail.codes("GIFT-25", ["T-1"])
    assert (status, answer["code"]) == (404, "sku_unknown")
    assert [code for code, _ in await pool(db, "GIFT-25")] == ["GC25-AAAA-1111", "GC25-BBBB-2222", "GC25-CCCC-3333"]
    # Its own file with the same SKUs makes its own products: the first retailer's are untouched.
    status, report = await trail.catalog(DIGITAL)
    assert status == 200 and (report["created_variants"], report["updated_variants"]) == (5, 0)
    async with db.sessions() as session:
        assert await session.scalar(select(func.count(Product.id)).where(Product.seller_id == trail_id)) == 4
        assert await session.scalar(select(func.count(Variant.id)).where(Variant.seller_id == north_id)) == 5


# Cells as a spreadsheet or a careless script might write them.
CELLS = st.one_of(st.text(max_size=12), st.sampled_from(
    ["digital", "physical", "code", "file", "text", "0", "", "12.5", "1e400", "https://x.example/a.pdf", "A|B|A",
     "\x00", "\ud800", '"', "GIFT-25", "-1", "²"]))
OPTIONAL = ["option", "kind", "delivery", "content", "codes", "product", "x"]


def csv_body(optional: list[str], rows: list[list[str]]) -> bytes:
    """A catalog file with the required columns and ``optional`` ones; each row cut to the header's length."""
    header = ["sku", "title", "price", "stock", *optional]
    lines = [",".join(header), *(",".join(row[:len(header)]) for row in rows)]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


CSV_BODIES = st.one_of(
    st.binary(max_size=300),
    st.builds(csv_body, st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=6),
              st.lists(st.lists(CELLS, min_size=4, max_size=11), max_size=5)),
    # One row whose digital columns are anything.
    st.builds(lambda *cells: csv_body(["kind", "delivery", "content", "codes"],
                                      [["FZ-1", "Fuzz Product", "5", *cells]]),
              CELLS, CELLS, CELLS, CELLS, CELLS),
)
CODE_BODIES = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda value: json.dumps({"codes": value}).encode(),
              st.one_of(st.lists(CELLS, max_size=6), CELLS, st.none(), st.integers())),
)
CONTENT_TYPES = st.sampled_from(["text/csv", "text/csv", "text/plain", "application/json", "application/json",
                                 "text/csv; charset=latin-1", ""])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(catalog=st.booleans(), csv=CSV_BODIES, codes=CODE_BODIES, content_type=st.one_of(st.none(), CONTENT_TYPES),
       sku=st.one_of(st.sampled_from(["GIFT-25", "GUIDE-1"]), st.text(min_size=1, max_size=20)),
       dry_run=st.sampled_from(["true", "false", "1", "maybe"]))
async def test_no_catalog_or_codes_request_gets_a_server_error(api, catalog, csv, codes, content_type, sku, dry_run):
    north, _, _ = api
    await north.catalog(DIGITAL)  # pools to add codes to (the second time, nothing changes)
    path = "/api/v1/catalog" if catalog else f"/api/v1/variants/{quote(sku, safe='')}/codes"
    # The endpoint's own kind of body, mostly with its own content type.
    body = csv if catalog else codes
    if content_type is None:
        content_type = "text/csv" if catalog else "application/json"
    headers = {**north.auth, "Content-Type": content_type} if content_type else north.auth
    try:
        async with north.http.post(URL(path, encoded=True), params={"dry_run": dry_run}, data=body,
                                   headers=headers) as response:
            status, raw = response.status, await response.read()
    except (ValueError, aiohttp.InvalidURL):
        return  # a request the client itself refuses to send
    assert status < 500, (path, content_type, body[:80], raw[:300])
    if status >= 400 and status != 405:
        assert {"error", "code", "message"} <= set(json.loads(raw)), raw
