"""External retailers: signed order webhooks that survive downtime, and the HTTP API.

The retailer's receiver is a real aiohttp server on 127.0.0.1 that verifies
every request with the standardwebhooks library's own verifier.
"""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bot.worker import OutboxWorker, PublicResolver, webhook_headers, webhook_session
from handlers.messages import error_text
from store.errors import ErrorCode, InvalidInput
from store.models import Order, OrderLine, OutboxMessage, Return, Seller, Variant, utcnow
from store.services import cart as cart_service
from store.services import checkout as co
from store.services import outbox, returns, sellers
from store.services.fulfilment import Actor, accept, deliver, ship
from store.services.webhook_targets import parse_networks
from store.states import OutboxChannel, PaymentMethod, ReturnReason

from .conftest import BotRunner, eventually
from .factories import make_category, make_product, make_seller, make_user

# The tests' receivers listen on 127.0.0.1, a network sellers' webhooks may not reach unless allowed.
LOOPBACK = parse_networks("127.0.0.0/8")
WEBHOOKS = (OutboxChannel.WEBHOOK,)
RULES = co.CheckoutRules(currency="USD", expiry=timedelta(minutes=30))


class Receiver:
    """A retailer's webhook endpoint: verifies signatures, can be 'down' for a number of requests."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self.down_for = 0
        self.accepted: list[dict] = []
        self.ids: list[str] = []
        self.refused: list[str] = []
        self.attempts = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.down_for > 0:
            self.down_for -= 1
            return web.Response(status=503, text="maintenance")
        body = await request.read()
        try:
            payload = Webhook(self.secret).verify(body, dict(request.headers))
        except WebhookVerificationError as exc:
            self.refused.append(str(exc))
            return web.Response(status=400, text="bad signature")
        message_id = request.headers["webhook-id"]
        if message_id not in self.ids:  # the idempotency key: a redelivery is not applied twice
            self.ids.append(message_id)
            self.accepted.append(payload)
        return web.Response(status=204)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hooks/chatshop", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hooks/chatshop"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


class FakeTelegram:
    """Stands in for the Bot API where a test needs no chat messages."""

    async def send_message(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


@pytest.fixture
async def retailer(db):
    """A retailer with one product (5 in stock) and a buyer with it in the cart."""
    async with db.transaction() as session:
        shop = await make_seller(session, "Gadget Hub")
        other = await make_seller(session, "Other Shop")
        category = await make_category(session)
        await make_product(session, shop, category, "USB Lamp", [("", 1500, 5)])
        await make_product(session, other, category, "Desk Fan", [("", 2500, 5)])
        await make_user(session, 1)
        variants = (await session.scalars(select(Variant.id).order_by(Variant.id))).all()
    return {"seller": shop.id, "other": other.id, "lamp": variants[0], "fan": variants[1]}


async def place_cod(db, user_id: int, variant_id: int) -> int:
    """A cash-on-delivery order of one unit; returns the order id."""
    async with db.transaction() as session:
        await cart_service.add_to_cart(session, user_id, variant_id)
        cart = await cart_service.get_cart(session, user_id)
        total = co.quote(cart, await co.get_shipping(session, "standard"), RULES.currency).total.amount
        placed = await co.place_order(session, user_id, contact_name="Ann Lee", phone="+12025550143",
                                      address="1 Main St, Springfield 12345", shipping_code="standard",
                                      payment_method=PaymentMethod.COD, expected_total=total, rules=RULES, now=utcnow())
    return placed.orders[0].id


async def test_webhooks_survive_a_receiver_outage_and_arrive_once_each(db, retailer):
    async with Receiver() as receiver:
        async with db.transaction() as session:
            receiver.secret = await sellers.set_webhook(session, retailer["seller"], receiver.url, LOOPBACK)
        order_id = await place_cod(db, 1, retailer["lamp"])
        async with db.transaction() as session:
            await accept(session, order_id, Actor("api", seller_id=retailer["seller"]), utcnow())
            await ship(session, order_id, Actor("api", seller_id=retailer["seller"]), "DHL", "JD0146000033", utcnow())

        # The retailer's server is down for the first four attempts.
        receiver.down_for = 4
        later = [utcnow()]
        worker = OutboxWorker(db, FakeTelegram(), clock=lambda: later[0], webhook_networks=LOOPBACK)
        worker.http = webhook_session(LOOPBACK)
        try:
            for _ in range(12):
                await worker.run_once()
                later[0] += timedelta(minutes=5)  # past any backoff, without sleeping
        finally:
            await worker.http.close()

    assert receiver.attempts >= 7
    assert [event["type"] for event in receiver.accepted] == ["order.created", "order.accepted", "order.shipped"]
    assert len(set(receiver.ids)) == 3
    shipped = receiver.accepted[-1]["data"]
    assert shipped["id"] == order_id and shipped["status"] == "shipped"
    assert shipped["shipping"]["tracking_number"] == "JD0146000033"
    assert shipped["lines"][0]["sku"] and shipped["total"] == 1500 + 499
    async with db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage)
                                      .where(OutboxMessage.channel == OutboxChannel.WEBHOOK))).all()
    assert {row.status for row in rows} == {"sent"}
    assert max(row.attempts for row in rows) >= 2  # the failed attempts were recorded


async def test_the_receiver_rejects_a_tampered_body_and_a_stale_timestamp(db, retailer):
    async with Receiver() as receiver:
        async with db.transaction() as session:
            receiver.secret = await sellers.set_webhook(session, retailer["seller"], receiver.url, LOOPBACK)
        body = json.dumps({"type": "order.paid", "data": {"id": 1, "total": 1999}}).encode()
        async with aiohttp.ClientSession() as http:
            good = webhook_headers(receiver.secret, "order-1-paid", body, utcnow())
            async with http.post(receiver.url, data=body, headers=good) as response:
                assert response.status == 204
            tampered = body.replace(b"1999", b"1")
            async with http.post(receiver.url, data=tampered, headers=good) as response:
                assert response.status == 400
            stale = webhook_headers(receiver.secret, "order-1-paid", body, utcnow() - timedelta(minutes=10))
            async with http.post(receiver.url, data=body, headers=stale) as response:
                assert response.status == 400
    assert len(receiver.accepted) == 1 and len(receiver.refused) == 2


async def test_undelivered_webhooks_are_delivered_after_a_bot_restart(fake, store_url, clock):
    runner = BotRunner(fake, store_url, clock, webhook_allowed_networks="127.0.0.0/8")
    await runner.start()
    async with Receiver() as receiver:
        async with runner.db.transaction() as session:
            seller_id = await session.scalar(select(Seller.id).where(Seller.kind == "retailer").limit(1))
            receiver.secret = await sellers.set_webhook(session, seller_id, receiver.url, LOOPBACK)
            variant = await session.scalar(select(Variant.id).where(Variant.seller_id == seller_id,
                                                                     Variant.stock > 2).limit(1))
            await make_user(session, 1)
        receiver.down_for = 1_000  # the retailer is down while the bot runs
        order_id = await place_cod(runner.db, 1, variant)
        runner.application.shop.wake_outbox()
        await runner.stop()

        receiver.down_for = 0  # back up; the bot restarts
        await runner.start()
        try:
            async def delivered():  # type: ignore[no-untyped-def]
                return receiver.accepted
            await eventually(delivered, timeout=20)
        finally:
            await runner.stop()
    assert [(e["type"], e["data"]["id"]) for e in receiver.accepted] == [("order.created", order_id)]


# --- the HTTP API -------------------------------------------------------------------------------


@pytest.fixture
async def api(fake, store_url, clock):
    """The bot running with its HTTP server; yields (base URL, runner)."""
    runner = BotRunner(fake, store_url, clock)
    await runner.start()
    yield runner.runtime.web.url, runner
    await runner.stop()


async def two_retailers(session) -> tuple[Seller, Seller, str, str, int, int]:  # type: ignore[no-untyped-def]
    """The demo's first two retailers with an API key each, and a variant of each with stock to spare."""
    shop, other = (await session.scalars(select(Seller).where(Seller.kind == "retailer")
                                         .order_by(Seller.id))).all()[:2]
    key = await sellers.issue_api_key(session, shop.id)
    other_key = await sellers.issue_api_key(session, other.id)
    mine = await session.scalar(select(Variant.id).where(Variant.seller_id == shop.id, Variant.stock > 2))
    theirs = await session.scalar(select(Variant.id).where(Variant.seller_id == other.id, Variant.stock > 2))
    return shop, other, key, other_key, mine, theirs


async def test_http_api_moves_an_order_through_fulfilment_with_the_same_rules(api):
    base, runner = api
    async with runner.db.transaction() as session:
        shop, other, key, other_key, mine, theirs = await two_retailers(session)
        await make_user(session, 1)
        await make_user(session, 2)
    order_id = await place_cod(runner.db, 1, mine)
    foreign_id = await place_cod(runner.db, 2, theirs)
    auth = {"Authorization": f"Bearer {key}"}

    async with aiohttp.ClientSession(base_url=base) as http:
        # No key, a wrong key, a key of the right shape but unknown: 401.
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer csk_" + "x" * 43}):
            async with http.get("/api/v1/orders", headers=headers) as response:
                assert response.status == 401 and (await response.json())["error"] == "unauthorized"

        async with http.get("/api/v1/orders", headers=auth) as response:
            listed = await response.json()
        assert response.status == 200 and [o["id"] for o in listed["orders"]] == [order_id]
        assert listed["orders"][0]["buyer"]["address"] == "1 Main St, Springfield 12345"

        # Another seller's order does not exist for this key.
        for method, path in (("GET", f"/api/v1/orders/{foreign_id}"), ("POST", f"/api/v1/orders/{foreign_id}/accept")):
            async with http.request(method, path, headers=auth) as response:
                assert response.status == 404
        # Skipping a step is refused with a JSON error.
        async with http.post(f"/api/v1/orders/{order_id}/deliver", headers=auth) as response:
            assert response.status == 409 and (await response.json())["error"] == "invalid_transition"
        async with http.post(f"/api/v1/orders/{order_id}/accept", headers=auth) as response:
            assert response.status == 200 and (await response.json())["status"] == "accepted"
        # Malformed bodies: 4xx with a JSON error, never a 500.
        for body in (b"not json", b"[]", json.dumps({"carrier": "UPS"}).encode(),
                     json.dumps({"carrier": "UPS", "tracking_number": "#!"}).encode()):
            async with http.post(f"/api/v1/orders/{order_id}/ship", data=body, headers=auth) as response:
                assert response.status == 422, body
                assert "message" in await response.json()
        async with http.post(f"/api/v1/orders/{order_id}/ship", headers=auth,
                             json={"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}) as response:
            shipped = await response.json()
        assert shipped["status"] == "shipped" and shipped["shipping"]["carrier"] == "UPS"
        for path in ("/api/v1/orders/abc", f"/api/v1/orders/{order_id}/explode", "/api/v1/orders/99999999"):
            async with http.post(path, headers=auth) as response:
                assert response.status in (404, 405)
        async with http.get("/api/v1/orders?status=bogus", headers=auth) as response:
            assert response.status == 422
        async with http.post(f"/api/v1/orders/{order_id}/deliver", headers=auth) as response:
            assert (await response.json())["status"] == "delivered"
        async with http.post(f"/api/v1/orders/{foreign_id}/cancel", json={"reason": "not mine"},
                             headers={"Authorization": f"Bearer {other_key}"}) as response:
            assert response.status == 200 and (await response.json())["cancel_reason"] == "not mine"

    async with runner.db.transaction() as session:
        order = await session.get(Order, order_id)
        assert order.status == "delivered"
        events = await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like(f"order-{order_id}-%")))
        assert {f"order-{order_id}-accepted-buyer", f"order-{order_id}-shipped-buyer"} <= set(events)


# --- webhooks reach public addresses only ---------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://10.0.0.5/hook", "http://192.168.1.1/hook", "http://172.16.0.9/hook",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook", "http://0.0.0.0/hook", "http://localhost:80/x",
    "https://api.localhost/x", "http://[::ffff:127.0.0.1]/hook", "http://100.64.0.1/hook", "http://[fd00::1]/x",
    # Written so that only the HTTP client or a resolver reads them as loopback.
    "http://１２７.０.０.１/hook", "http://127。0。0。1/hook", "http://2130706433/", "http://127.1/",
    "http://0x7f000001/", "http://0/",
    # IPv6 that leads into IPv4 private space (6to4 of 10.0.0.1, NAT64 of the metadata address), site-local.
    "http://[2002:a00:1::1]/hook", "http://[64:ff9b::a9fe:a9fe]/hook", "http://[fec0::1]/hook", "http://[::10.0.0.1]/x",
])
async def test_a_webhook_into_a_private_network_is_refused_when_set(db, retailer, url):
    with pytest.raises(InvalidInput) as refused:
        async with db.transaction() as session:
            await sellers.set_webhook(session, retailer["seller"], url)
    assert refused.value.code == ErrorCode.WEBHOOK_PRIVATE_ADDRESS
    assert "private network" in error_text(refused.value)
    async with db.read() as session:
        assert (await session.get(Seller, retailer["seller"])).webhook_url is None


async def test_public_webhooks_and_networks_an_operator_allows_are_taken(db, retailer):
    async with db.transaction() as session:
        assert await sellers.set_webhook(session, retailer["seller"], "https://hooks.example.com/orders")
        assert await sellers.set_webhook(session, retailer["seller"], "http://10.1.2.3/hook",
                                         parse_networks("10.1.0.0/16"))


class StubResolver:
    """Resolves every name to the addresses given (as a DNS record may, at any time)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(self, host, port=0, family=0):  # type: ignore[no-untyped-def]
        return [{"hostname": host, "host": a, "port": port, "family": family, "proto": 0, "flags": 0}
                for a in self.addresses]

    async def close(self) -> None:
        pass


async def test_a_name_that_resolves_into_a_private_network_is_not_connected_to():
    resolver = PublicResolver(())
    resolver.resolver = StubResolver("127.0.0.1", "169.254.169.254")
    with pytest.raises(OSError, match="private network"):
        await resolver.resolve("hooks.example.com", 443)
    # Mixed answers keep only the public addresses; an allowed network is reachable.
    resolver.resolver = StubResolver("10.0.0.8", "93.184.216.34")
    assert [entry["host"] for entry in await resolver.resolve("hooks.example.com", 443)] == ["93.184.216.34"]
    resolver = PublicResolver(LOOPBACK)
    resolver.resolver = StubResolver("127.0.0.1")
    assert [entry["host"] for entry in await resolver.resolve("hooks.example.com", 443)] == ["127.0.0.1"]


async def test_a_redirect_from_the_receiver_is_not_followed(db, retailer):
    """A receiver must not forward signed events (and buyers' data) somewhere else."""
    hits: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=204)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{port}/internal")

    app = web.Application()
    app.router.add_post("/internal", elsewhere)
    app.router.add_post("/hook", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with db.transaction() as session:
            await sellers.set_webhook(session, retailer["seller"], f"http://127.0.0.1:{port}/hook", LOOPBACK)
        await place_cod(db, 1, retailer["lamp"])
        worker = OutboxWorker(db, FakeTelegram(), webhook_networks=LOOPBACK)
        worker.http = webhook_session(LOOPBACK)
        try:
            await worker.run_once()
        finally:
            await worker.http.close()
    finally:
        await runner.cleanup()
    assert hits == []
    async with db.read() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.WEBHOOK))
    assert row.status == "pending" and "redirect, not followed" in row.last_error and "/hook" not in row.last_error


async def test_events_are_not_sent_to_a_webhook_that_came_to_point_inside(db, retailer):
    async with Receiver() as receiver:
        async with db.transaction() as session:
            receiver.secret = await sellers.set_webhook(session, retailer["seller"], receiver.url, LOOPBACK)
        await place_cod(db, 1, retailer["lamp"])
        # Without the operator's permission the same receiver is out of reach.
        worker = OutboxWorker(db, FakeTelegram())
        worker.http = webhook_session()
        try:
            await worker.run_once()
        finally:
            await worker.http.close()
    assert receiver.attempts == 0
    async with db.read() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.WEBHOOK))
    assert row.status == "dead" and "private network" in row.last_error


async def test_webhook_events_are_retried_for_days_in_order_and_replayed_by_an_operator(db, retailer):
    async with Receiver() as receiver:
        async with db.transaction() as session:
            receiver.secret = await sellers.set_webhook(session, retailer["seller"], receiver.url, LOOPBACK)
            (await session.get(Seller, retailer["seller"])).notify_chat_id = 3001
        order_id = await place_cod(db, 1, retailer["lamp"])
        receiver.down_for = 10_000  # the retailer's server is down for days
        clock = [utcnow()]
        worker = OutboxWorker(db, FakeTelegram(), clock=lambda: clock[0], webhook_networks=LOOPBACK,
                              operators=frozenset({9001}), webhook_retry=timedelta(days=3))
        worker.http = webhook_session(LOOPBACK)

        async def for_a_while(hours: float) -> None:
            end = clock[0] + timedelta(hours=hours)
            while clock[0] < end:
                await worker.run_once()
                clock[0] += timedelta(minutes=30)  # past any backoff, without sleeping

        async def webhook_rows() -> list[tuple[str, str]]:
            async with db.read() as session:
                rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook")
                                             .order_by(OutboxMessage.id))
                return [(row.key, row.status) for row in rows]

        try:
            await for_a_while(24)
            # Far more than twelve attempts, still pending; the seller and the operators were told, once each.
            assert receiver.attempts > 20 and (await webhook_rows()) == [(f"order-{order_id}-created", "pending")]
            async with db.read() as session:
                told = sorted(await session.scalars(select(OutboxMessage.chat_id)
                                                    .where(OutboxMessage.template == "webhook_failing")))
            assert told == [3001, 9001]

            # Accepted meanwhile: a later event waits behind the first, never overtakes it.
            async with db.transaction() as session:
                await accept(session, order_id, Actor("api", seller_id=retailer["seller"]), clock[0])
            await for_a_while(60)  # past the three days: the first is held, and holds the second back
            assert await webhook_rows() == [(f"order-{order_id}-created", "held"),
                                            (f"order-{order_id}-accepted", "pending")]
            receiver.down_for = 0
            await for_a_while(2)
            assert receiver.accepted == []

            # An operator replays the shop's events: both arrive, in order.
            async with db.transaction() as session:
                assert await outbox.replay_dead(session, retailer["seller"], clock[0]) == 1
            await for_a_while(2)
        finally:
            await worker.http.close()
    assert [event["type"] for event in receiver.accepted] == ["order.created", "order.accepted"]


async def test_a_seller_who_sets_a_new_webhook_is_not_held_back_by_old_events(db, retailer):
    async with db.transaction() as session:
        await sellers.set_webhook(session, retailer["seller"], "https://hooks.example.com/a")
    order_id = await place_cod(db, 1, retailer["lamp"])
    async with db.transaction() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.WEBHOOK)
                              .values(status="held"))  # out of retries
        await accept(session, order_id, Actor("api", seller_id=retailer["seller"]), utcnow())
    async with db.transaction() as session:
        assert await outbox.claim_due(session, utcnow() + timedelta(minutes=1), channels=WEBHOOKS) == []
    async with db.transaction() as session:
        await sellers.set_webhook(session, retailer["seller"], "https://hooks.example.com/b")
    async with db.transaction() as session:
        claimed = await outbox.claim_due(session, utcnow() + timedelta(minutes=1), channels=WEBHOOKS)
    assert [delivery.key for delivery in claimed] == [f"order-{order_id}-accepted"]


# --- returns: signed return.* events and the HTTP API ------------------------------------------------

RETURN_WINDOW = timedelta(days=14)


async def delivered_cod(db, seller_id: int, variant_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Buyer 1's cash-on-delivery order of one unit, fulfilled by the seller's API; (order id, its line id)."""
    order_id = await place_cod(db, 1, variant_id)
    api_actor = Actor("api", seller_id=seller_id)
    async with db.transaction() as session:
        await accept(session, order_id, api_actor, utcnow())
        await ship(session, order_id, api_actor, "DHL", "JD0146000033", utcnow())
        await deliver(session, order_id, api_actor, utcnow())
        line_id = await session.scalar(select(OrderLine.id).where(OrderLine.order_id == order_id))
    return order_id, line_id


async def ask(db, order_id: int, line_id: int) -> int:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        ret = await returns.request(session, 1, order_id, {line_id: 1}, ReturnReason.WRONG_ITEM, "Blue, not red",
                                    None, utcnow(), RETURN_WINDOW)
    return ret.id


async def test_a_retailer_hears_each_step_of_a_return_on_its_webhook(db, retailer):
    async with Receiver() as receiver:
        async with db.transaction() as session:
            receiver.secret = await sellers.set_webhook(session, retailer["seller"], receiver.url, LOOPBACK)
        order_id, line_id = await delivered_cod(db, retailer["seller"], retailer["lamp"])
        return_id = await ask(db, order_id, line_id)
        api_actor = Actor("api", seller_id=retailer["seller"])
        async with db.transaction() as session:
            await returns.approve(session, return_id, api_actor, utcnow())
        async with db.transaction() as session:
            await returns.received(session, return_id, api_actor, utcnow())

        worker = OutboxWorker(db, FakeTelegram(), clock=utcnow, webhook_networks=LOOPBACK)
        worker.http = webhook_session(LOOPBACK)
        try:
            for _ in range(10):  # one event of a lane at a time, in order
                await worker.run_once()
        finally:
            await worker.http.close()

    kinds = [event["type"] for event in receiver.accepted]
    # The lamp was the whole order: once refunded, the order is too.
    assert kinds[-4:] == ["return.requested", "return.approved", "return.refunded", "order.refunded"]
    refunded = receiver.accepted[-2]["data"]
    assert (refunded["id"], refunded["order_id"], refunded["status"]) == (return_id, order_id, "refunded")
    assert refunded["reason"] == "wrong_item" and refunded["note"] == "Blue, not red"
    assert refunded["amount"] == 1500 and refunded["refund_status"] == "due" and refunded["actions"] == []
    assert refunded["lines"] == [{"sku": refunded["lines"][0]["sku"], "title": "USB Lamp", "option": "",
                                  "quantity": 1, "amount": 1500}]
    # No buyer contact travels with a return.
    assert "1 Main St" not in json.dumps(receiver.accepted[-4:-1])


async def test_the_http_api_acts_on_returns_with_the_same_rules(api):
    base, runner = api
    async with runner.db.transaction() as session:
        shop, _other, key, other_key, mine, _theirs = await two_retailers(session)
        stock_before = await session.scalar(select(Variant.stock).where(Variant.id == mine))
        await make_user(session, 1)
    order_id, line_id = await delivered_cod(runner.db, shop.id, mine)
    return_id = await ask(runner.db, order_id, line_id)
    auth, theirs = {"Authorization": f"Bearer {key}"}, {"Authorization": f"Bearer {other_key}"}

    async with aiohttp.ClientSession(base_url=base) as http:
        async with http.get("/api/v1/returns", headers=auth) as response:
            listed = await response.json()
        assert response.status == 200 and [r["id"] for r in listed["returns"]] == [return_id]
        assert listed["returns"][0]["actions"] == ["approve", "reject", "refund"]
        # Another seller's key sees nothing of it and cannot act on it.
        async with http.get(f"/api/v1/returns/{return_id}", headers=theirs) as response:
            assert response.status == 404 and (await response.json())["code"] == "return_unknown"
        async with http.post(f"/api/v1/returns/{return_id}/approve", headers=theirs) as response:
            assert response.status == 404
        # Bad input: a 4xx with a clear JSON body.
        for path, status in (("/api/v1/returns/abc", 404), (f"/api/v1/returns/{return_id}/explode", 404),
                             ("/api/v1/returns?status=bogus", 422)):
            async with http.request("GET" if "?" in path or path.endswith("abc") else "POST", path,
                                    headers=auth) as response:
                assert response.status == status and "message" in await response.json(), path
        async with http.post(f"/api/v1/returns/{return_id}/reject", json={"reason": "x"}, headers=auth) as response:
            assert response.status == 422 and (await response.json())["code"] == "reason_length"
        # Received before approval is out of order: 409, nothing changes.
        async with http.post(f"/api/v1/returns/{return_id}/received", headers=auth) as response:
            assert response.status == 409 and (await response.json())["error"] == "invalid_transition"
        async with http.post(f"/api/v1/returns/{return_id}/approve", headers=auth) as response:
            approved = await response.json()
        assert approved["status"] == "approved" and approved["actions"] == ["received", "refund"]
        async with http.post(f"/api/v1/returns/{return_id}/received", headers=auth) as response:
            refunded = await response.json()
        assert refunded["status"] == "refunded" and refunded["refund_status"] == "due"
        async with http.get("/api/v1/returns?status=refunded", headers=auth) as response:
            assert [r["id"] for r in (await response.json())["returns"]] == [return_id]

    async with runner.db.read() as session:
        assert await session.scalar(select(Variant.stock).where(Variant.id == mine)) == stock_before
        assert (await session.get(Order, order_id)).status == "refunded"
        assert (await session.get(Return, return_id)).status == "refunded"

