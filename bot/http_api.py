"""The retailers' HTTP API: list orders and move them through fulfilment with an API key.

Same rules as the chat buttons (:mod:`store.services.fulfilment`). Every
answer is JSON; bad input gets a 4xx with ``{"error": code, "message": text}``,
never a 500.

    GET  /api/v1/orders?status=open|paid|placed|accepted|shipped|delivered|cancelled&limit=&offset=
    GET  /api/v1/orders/{id}
    POST /api/v1/orders/{id}/accept
    POST /api/v1/orders/{id}/ship       {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}
    POST /api/v1/orders/{id}/deliver
    POST /api/v1/orders/{id}/cancel     {"reason": "out of stock at the warehouse"}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from store.errors import Expired, InvalidInput, NotAllowed, NotFound, ShopError
from store.services import fulfilment, sellers
from store.services.events import load_order, order_document
from store.services.fulfilment import Actor
from store.shop import Shop

logger = logging.getLogger(__name__)

SHOP = web.AppKey("shop", Shop)
ACTOR = web.RequestKey("actor", Actor)
MAX_BODY = 16 * 1024
STATUS_FILTERS = {
    "open": fulfilment.OPEN_STATES,
    **{state: (state,) for state in ("pending_payment", "placed", "paid", "accepted", "shipped", "delivered",
                                     "cancelled", "refunded", "expired")},
}

routes = web.RouteTableDef()


def error(status: int, code: str, message: str) -> web.Response:
    """A JSON error answer."""
    return web.json_response({"error": code, "message": message}, status=status)


@web.middleware
async def api_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
    """Authenticate API requests by key and turn refusals into JSON errors."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else ""
    async with request.app[SHOP].db.read() as session:
        seller = await sellers.seller_by_api_key(session, key) if key else None
    if seller is None:
        return error(401, "unauthorized", "A valid API key is required: Authorization: Bearer <key>.")
    request[ACTOR] = Actor("api", seller_id=seller.id)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    except NotFound as exc:
        return error(404, "not_found", exc.message)
    except NotAllowed as exc:
        return error(403, "forbidden", exc.message)
    except Expired as exc:
        return error(409, "invalid_transition", exc.message)
    except (InvalidInput, ShopError) as exc:
        return error(422, "invalid", exc.message)


def _order_id(request: web.Request) -> int:
    raw = request.match_info["order_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"Order {raw[:20]!r} does not exist.")
    return int(raw)


async def _body(request: web.Request, *fields: str) -> dict[str, str]:
    """The JSON object of a request with these string fields."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise InvalidInput("The body is too large.")
    try:
        body = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    for field in fields:
        if not isinstance(body.get(field), str):
            raise InvalidInput(f"Field {field!r} is required and must be a string.")
    return body


async def _order_json(shop: Shop, order_id: int) -> dict:
    async with shop.db.read() as session:
        return await order_document(session, await load_order(session, order_id))


@routes.get("/api/v1/orders")
async def list_orders(request: web.Request) -> web.Response:
    """The seller's orders in a state (default: open), newest first."""
    shop, actor = request.app[SHOP], request[ACTOR]
    statuses = STATUS_FILTERS.get(request.query.get("status", "open"))
    if statuses is None:
        raise InvalidInput(f"Unknown status; use one of {', '.join(STATUS_FILTERS)}.")
    try:
        limit = int(request.query.get("limit", "50"))
        offset = int(request.query.get("offset", "0"))
    except ValueError:
        raise InvalidInput("limit and offset must be whole numbers.") from None
    if not 1 <= limit <= 200 or offset < 0:
        raise InvalidInput("limit is 1 to 200 and offset at least 0.")
    async with shop.db.read() as session:
        rows, total = await fulfilment.list_seller_orders(session, [actor.seller_id], statuses, offset, limit)
    return web.json_response({"orders": [await _order_json(shop, row.id) for row in rows], "total": total,
                              "limit": limit, "offset": offset})


@routes.get("/api/v1/orders/{order_id}")
async def get_order(request: web.Request) -> web.Response:
    """One of the seller's orders."""
    shop, actor = request.app[SHOP], request[ACTOR]
    order_id = _order_id(request)
    async with shop.db.read() as session:
        await fulfilment.order_for_seller_view(session, order_id, actor)
    return web.json_response(await _order_json(shop, order_id))


@routes.post("/api/v1/orders/{order_id}/{action}")
async def act(request: web.Request) -> web.Response:
    """Accept, ship, deliver or cancel one of the seller's orders."""
    shop, actor = request.app[SHOP], request[ACTOR]
    order_id, action = _order_id(request), request.match_info["action"]
    now = shop.clock()
    if action == "accept":
        async with shop.db.transaction() as session:
            await fulfilment.accept(session, order_id, actor, now)
    elif action == "ship":
        body = await _body(request, "carrier", "tracking_number")
        async with shop.db.transaction() as session:
            await fulfilment.ship(session, order_id, actor, body["carrier"], body["tracking_number"], now)
    elif action == "deliver":
        async with shop.db.transaction() as session:
            await fulfilment.deliver(session, order_id, actor, now)
    elif action == "cancel":
        body = await _body(request, "reason")
        async with shop.db.transaction() as session:
            await fulfilment.cancel(session, order_id, actor, body["reason"], now)
    else:
        raise NotFound(f"Unknown action {action[:20]!r}: use accept, ship, deliver or cancel.")
    shop.wake_outbox()
    logger.info("seller %s: order %s %s over HTTP", actor.seller_id, order_id, action)
    return web.json_response(await _order_json(shop, order_id))
