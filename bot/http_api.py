"""The retailers' HTTP API: list orders and move them through fulfilment with an API key.

Same rules as the chat buttons (:mod:`store.services.fulfilment`; what may be
done with an order now is its ``actions``, from
:func:`store.services.orders.allowed_actions`). Every answer is JSON; bad input
gets a 4xx with ``{"error": kind, "code": code, "message": text}``, never a
500: ``code`` is the store's stable :class:`store.errors.ErrorCode` (or one of
this API's own: ``unauthorized``, ``body_invalid`` ...), ``message`` the
sentence a person reads.

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

from handlers.messages import error_text
from store.errors import ErrorCode, Expired, NotAllowed, NotFound, ShopError
from store.services import fulfilment, personal_data, sellers
from store.services.events import load_order, order_document
from store.services.fulfilment import Actor
from store.services.orders import OPEN_FILTER, filter_statuses
from store.shop import Shop
from store.states import AccessChannel, ActorKind, OrderStatus, SellerAction

logger = logging.getLogger(__name__)

SHOP = web.AppKey("shop", Shop)
ACTOR = web.RequestKey("actor", Actor)
MAX_BODY = 16 * 1024
ACTIONS = [str(action) for action in SellerAction]
# The HTTP status and the error kind of each kind of refusal from the store (the most specific first).
REFUSALS: tuple[tuple[type[ShopError], int, str], ...] = (
    (NotFound, 404, "not_found"),
    (NotAllowed, 403, "forbidden"),
    (Expired, 409, "invalid_transition"),
    (ShopError, 422, "invalid"),
)

routes = web.RouteTableDef()


class ApiError(Exception):
    """A request this API refuses before it reaches the store (a bad key, body or query)."""

    def __init__(self, status: int, kind: str, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.code, self.message = status, kind, code, message


def invalid(code: str, message: str) -> ApiError:
    """A 422 for a malformed request."""
    return ApiError(422, "invalid", code, message)


def error(status: int, kind: str, code: str, message: str) -> web.Response:
    """A JSON error answer."""
    return web.json_response({"error": kind, "code": code, "message": message}, status=status)


@web.middleware
async def api_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
    """Authenticate API requests by key and turn refusals into JSON errors."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not key.isascii() or not key.isprintable():
        key = ""  # no key of ours looks like that (and a header that is not UTF-8 is not hashed)
    async with request.app[SHOP].db.read() as session:
        seller = await sellers.seller_by_api_key(session, key) if key else None
    if seller is None:
        return error(401, "unauthorized", "unauthorized", "A valid API key is required: Authorization: Bearer <key>.")
    request[ACTOR] = Actor(ActorKind.API, seller_id=seller.id)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        kind = exc.reason.lower().replace(" ", "_")
        return error(exc.status, kind, kind, exc.reason)
    except ApiError as exc:
        return error(exc.status, exc.kind, exc.code, exc.message)
    except ShopError as exc:
        status, kind = next((status, kind) for refusal, status, kind in REFUSALS if isinstance(exc, refusal))
        return error(status, kind, exc.code, error_text(exc))


def _order_id(request: web.Request) -> int:
    raw = request.match_info["order_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "not_found", ErrorCode.ORDER_UNKNOWN, f"Order {raw[:20]!r} does not exist.")
    return int(raw)


async def _body(request: web.Request, *fields: str) -> dict[str, str]:
    """The JSON object of a request with these string fields."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise invalid("body_too_large", "The body is too large.")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise invalid("body_too_large", "The body is too large.")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[... nested too deep
        raise invalid("body_invalid", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise invalid("body_invalid", "The body must be a JSON object.")
    for field in fields:
        if not isinstance(body.get(field), str):
            raise invalid("field_missing", f"Field {field!r} is required and must be a string.")
        if any(ord(ch) < 32 and ch not in "\t\n" for ch in body[field]) or not _utf8(body[field]):
            raise invalid("field_invalid", f"Field {field!r} holds control characters or is not valid text.")
    return body


def _utf8(text: str) -> bool:
    """Whether a string can be stored (JSON allows lone surrogates such as "\\ud800"; UTF-8 does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _whole(request: web.Request, name: str, default: int, most: int) -> int:
    """A whole-number query parameter of ASCII digits, at most ``most``."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or int(raw) > most:
        raise invalid("page_invalid", f"{name} must be a whole number from 0 to {most}.")
    return int(raw)


async def _orders_json(shop: Shop, order_ids: list[int], actor: Actor) -> list[dict]:
    """The orders as the API shows them; that their buyers' contact was given out is recorded."""
    async with shop.db.transaction() as session:
        documents = [await order_document(session, await load_order(session, order_id)) for order_id in order_ids]
        await personal_data.record_access(session, order_ids, AccessChannel.HTTP_API, shop.clock(),
                                          seller_id=actor.seller_id)
    return documents


@routes.get("/api/v1/orders")
async def list_orders(request: web.Request) -> web.Response:
    """The seller's orders in a state (default: open), newest first."""
    shop, actor = request.app[SHOP], request[ACTOR]
    statuses = filter_statuses(request.query.get("status", OPEN_FILTER))
    if statuses is None:
        raise invalid("status_unknown", f"Unknown status; use one of {', '.join([OPEN_FILTER, *OrderStatus])}.")
    limit, offset = _whole(request, "limit", 50, 200), _whole(request, "offset", 0, 10**9)
    if limit < 1:
        raise invalid("page_invalid", "limit must be a whole number from 1 to 200.")
    async with shop.db.read() as session:
        rows, total = await fulfilment.list_seller_orders(session, [actor.seller_id], statuses, offset, limit)
    return web.json_response({"orders": await _orders_json(shop, [row.id for row in rows], actor), "total": total,
                              "limit": limit, "offset": offset})


@routes.get("/api/v1/orders/{order_id}")
async def get_order(request: web.Request) -> web.Response:
    """One of the seller's orders."""
    shop, actor = request.app[SHOP], request[ACTOR]
    order_id = _order_id(request)
    async with shop.db.read() as session:
        await fulfilment.order_for_seller_view(session, order_id, actor)
    return web.json_response((await _orders_json(shop, [order_id], actor))[0])


# What each action's body must hold.
ACTION_FIELDS = {SellerAction.SHIP: ("carrier", "tracking_number"), SellerAction.CANCEL: ("reason",)}


@routes.post("/api/v1/orders/{order_id}/{action}")
async def act(request: web.Request) -> web.Response:
    """Accept, ship, deliver or cancel one of the seller's orders."""
    shop, actor = request.app[SHOP], request[ACTOR]
    order_id, name = _order_id(request), request.match_info["action"]
    if name not in tuple(SellerAction):
        raise ApiError(404, "not_found", "action_unknown",
                       f"Unknown action {name[:20]!r}: use {', '.join(ACTIONS[:-1])} or {ACTIONS[-1]}.")
    action, now = SellerAction(name), shop.clock()
    fields = ACTION_FIELDS.get(action, ())
    body = await _body(request, *fields) if fields else {}
    async with shop.db.transaction() as session:
        if action == SellerAction.ACCEPT:
            await fulfilment.accept(session, order_id, actor, now)
        elif action == SellerAction.SHIP:
            await fulfilment.ship(session, order_id, actor, body["carrier"], body["tracking_number"], now)
        elif action == SellerAction.DELIVER:
            await fulfilment.deliver(session, order_id, actor, now)
        else:
            await fulfilment.cancel(session, order_id, actor, body["reason"], now)
    shop.wake_outbox()
    logger.info("seller %s: order %s %s over HTTP", actor.seller_id, order_id, action.value)
    return web.json_response((await _orders_json(shop, [order_id], actor))[0])
