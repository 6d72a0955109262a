"""The sellers' HTTP API under arbitrary input: never a 5xx, always the documented error body, and
never another seller's data (property-based, with hypothesis)."""

from __future__ import annotations

import json

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from yarl import URL

from store.models import Order, Product, Seller, Variant
from store.services import sellers
from store.states import ProductStatus

from .conftest import BotRunner
from .factories import make_user
from .test_retailers import place_cod

# Path segments and values as a client might send them: digits of any script, NUL, very long numbers.
SEGMENT = st.one_of(
    st.text(max_size=24),
    st.sampled_from(["1", "²", "①", "٣", "00000000000000000001", "9" * 40, "-1", "1.5", "%00", "..", ""]),
)
ACTIONS = st.sampled_from(["accept", "ship", "deliver", "cancel", "explode"])
OWN = "{own}"  # replaced by the id of an order of the key's own shop
PATHS = st.one_of(
    st.just("/api/v1/orders"),
    st.builds(lambda s: f"/api/v1/orders/{s}", SEGMENT),
    st.builds(lambda s, a: f"/api/v1/orders/{s}/{a}", SEGMENT, st.one_of(ACTIONS, SEGMENT)),
    st.builds(lambda a: f"/api/v1/orders/{OWN}/{a}", ACTIONS),
    st.builds(lambda s: f"/api/v1/{s}", SEGMENT),
)
QUERY = st.dictionaries(st.sampled_from(["status", "limit", "offset", "x"]),
                        st.one_of(SEGMENT, st.sampled_from(["9" * 30, "18446744073709551616", "open", "paid"])),
                        max_size=3)
JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     st.text(max_size=40)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                           max_leaves=12)
BODIES = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda v: json.dumps(v).encode(), JSON_VALUES),
    st.builds(lambda c, t, r: json.dumps({"carrier": c, "tracking_number": t, "reason": r}).encode(),
              st.text(max_size=70), st.text(max_size=70), st.text(max_size=600)),
    st.sampled_from([b"[" * 50_000 + b"]" * 50_000, b'{"reason": "\\u0000 nul inside"}',
                     b'{"carrier": "UPS", "tracking_number": "1Z\\u0000"}']),
)
# Authorization: ours, none, garbage, and bytes that are not UTF-8 once on the wire (latin-1 text).
AUTH = st.one_of(st.just("mine"), st.just("mine"), st.just("mine"), st.just(None), st.text(max_size=60),
                 st.builds(lambda t: "Bearer " + t, st.text(alphabet=st.characters(min_codepoint=128,
                                                                                   max_codepoint=255), max_size=20)))


@pytest.fixture
async def shops(fake, store_url, clock):
    """The bot with its HTTP server, a key for one retailer, and an order of each of two retailers."""
    runner = BotRunner(fake, store_url, clock)
    await runner.start()
    async with runner.db.transaction() as session:
        mine, theirs = (await session.scalars(select(Seller).where(Seller.kind == "retailer")
                                              .order_by(Seller.id))).all()[:2]
        key = await sellers.issue_api_key(session, mine.id)
        variants = [await session.scalar(select(Variant.id).join(Product, Product.id == Variant.product_id)
                                         .where(Variant.seller_id == s.id, Variant.stock > 2,
                                                Product.status == ProductStatus.ACTIVE))
                    for s in (mine, theirs)]
        await make_user(session, 1)
    for variant in variants:
        await place_cod(runner.db, 1, variant)
    async with runner.db.read() as session:
        foreign = set(await session.scalars(select(Order.id).where(Order.seller_id == theirs.id)))
        own = await session.scalar(select(Order.id).where(Order.seller_id == mine.id))
    async with aiohttp.ClientSession(base_url=runner.runtime.web.url) as http:
        yield http, key, foreign, own
    await runner.stop()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), path=PATHS, query=QUERY, auth=AUTH, body=BODIES)
# Inputs that once got a 500, always tried.
@example("GET", "/api/v1/orders", {"offset": "9" * 30}, "mine", b"")
@example("GET", "/api/v1/orders", {"limit": "١٢"}, "mine", b"")
@example("GET", "/api/v1/orders/²", {}, "mine", b"")
@example("POST", "/api/v1/orders/①/accept", {}, "mine", b"")
@example("POST", f"/api/v1/orders/{OWN}/ship", {}, "mine", b"[" * 50_000 + b"]" * 50_000)
@example("POST", f"/api/v1/orders/{OWN}/cancel", {}, "mine", b'{"reason": "no \\u0000 thanks, bye"}')
@example("GET", "/api/v1/orders", {}, "Bearer \xe9\xff\xfe", b"")
@example("POST", f"/api/v1/orders/{OWN}/cancel", {}, "mine", b'{"reason": "lone \\ud800 surrogate"}')
async def test_no_request_gets_a_server_error_or_another_sellers_data(shops, method, path, query, auth, body):
    http, key, foreign, own = shops
    headers = {} if auth is None else {"Authorization": f"Bearer {key}" if auth == "mine" else auth}
    url = URL.build(path=path.replace(OWN, str(own)), query=query)
    try:
        async with http.request(method, url, headers=headers, data=body) as response:
            status, raw = response.status, await response.read()
    except (ValueError, aiohttp.InvalidURL):
        return  # a request the client itself refuses to send (a header or URL no HTTP peer would accept)
    assert status < 500, (method, path, query, body[:80], raw[:300])
    if status >= 400 and status != 405:
        document = json.loads(raw)
        assert {"error", "code", "message"} <= set(document), raw
    if status == 200:
        document = json.loads(raw)
        orders = document.get("orders", [document])
        assert not {order.get("id") for order in orders} & foreign
