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
    GET  /api/v1/returns?status=open|requested|approved|rejected|refunded&limit=&offset=
    GET  /api/v1/returns/{id}
    POST /api/v1/returns/{id}/approve
    POST /api/v1/returns/{id}/reject    {"reason": "worn and washed"}
    POST /api/v1/returns/{id}/received  the goods are back: refund (stock back)
    POST /api/v1/returns/{id}/refund    refund without the goods back
    POST /api/v1/catalog?dry_run=false  a CSV file (Content-Type: text/csv), imported as by
                                        ``python -m bot import-catalog`` (store.services.catalog_import)
    POST /api/v1/variants/{sku}/codes   {"codes": ["AAAA-1111", ...]}, or text/plain with one code a line

Codes and the contents of digital goods are never answered back, nor logged:
an answer counts them.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from handlers.messages import error_text, refusal
from store.errors import ErrorCode, Expired, NotAllowed, NotFound, ShopError
from store.services import catalog_import, digital, fulfilment, personal_data, returns, sellers
from store.services.catalog_import import ImportReport
from store.services.events import load_order, order_document
from store.services.fulfilment import Actor
from store.services.orders import OPEN_FILTER, filter_statuses
from store.shop import Shop
from store.states import AccessChannel, ActorKind, OrderStatus, ReturnAction, ReturnStatus, SellerAction

logger = logging.getLogger(__name__)

SHOP = web.AppKey("shop", Shop)
ACTOR = web.RequestKey("actor", Actor)
MAX_BODY = 16 * 1024
# A catalog file: about 10,000 rows, imported in a few seconds; a bigger catalog is sent in parts (rows are
# matched by SKU, so the parts add up).
MAX_CATALOG_BYTES = 2 * 1024 * 1024
# One upload of codes: CODES_PER_UPLOAD of them, even long ones, in JSON.
MAX_CODES_BYTES = 512 * 1024
# What separates codes in a list (digital.clean_codes), so it cannot be part of one code.
CODE_SEPARATORS = re.compile(r"[\r\n,;]")
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


def _page(request: web.Request) -> tuple[int, int]:
    """A list's ``limit`` (1 to 200, default 50) and ``offset`` query parameters."""
    limit, offset = _whole(request, "limit", 50, 200), _whole(request, "offset", 0, 10**9)
    if limit < 1:
        raise invalid("page_invalid", "limit must be a whole number from 1 to 200.")
    return limit, offset


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
    limit, offset = _page(request)
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


# --- returns -------------------------------------------------------------------------------------


def _return_id(request: web.Request) -> int:
    raw = request.match_info["return_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "not_found", ErrorCode.RETURN_UNKNOWN, f"Return {raw[:20]!r} does not exist.")
    return int(raw)


async def _return_json(shop: Shop, return_id: int, actor: Actor) -> dict[str, Any]:
    async with shop.db.read() as session:
        ret, order = await returns.for_seller(session, return_id, actor)
        return returns.document(ret, order)


@routes.get("/api/v1/returns")
async def list_returns(request: web.Request) -> web.Response:
    """The seller's returns in a state (default: open, those still to act on), newest first."""
    shop, actor = request.app[SHOP], request[ACTOR]
    name = request.query.get("status", OPEN_FILTER)
    if name != OPEN_FILTER and name not in tuple(ReturnStatus):
        raise invalid("status_unknown", f"Unknown status; use one of {', '.join([OPEN_FILTER, *ReturnStatus])}.")
    statuses = returns.OPEN if name == OPEN_FILTER else (ReturnStatus(name),)
    limit, offset = _page(request)
    async with shop.db.read() as session:
        rows, total = await returns.seller_returns(session, [actor.seller_id], statuses, offset, limit)
        documents = await returns.documents(session, rows)
    return web.json_response({"returns": documents, "total": total, "limit": limit, "offset": offset})


@routes.get("/api/v1/returns/{return_id}")
async def get_return(request: web.Request) -> web.Response:
    """One of the seller's returns."""
    return web.json_response(await _return_json(request.app[SHOP], _return_id(request), request[ACTOR]))


@routes.post("/api/v1/returns/{return_id}/{action}")
async def act_on_return(request: web.Request) -> web.Response:
    """Approve, reject, receive or refund one of the seller's returns."""
    shop, actor = request.app[SHOP], request[ACTOR]
    return_id, name = _return_id(request), request.match_info["action"]
    if name not in tuple(ReturnAction):
        raise ApiError(404, "not_found", "action_unknown",
                       f"Unknown action {name[:20]!r}: use {', '.join(ReturnAction)}.")
    action, now = ReturnAction(name), shop.clock()
    body = await _body(request, "reason") if action == ReturnAction.REJECT else {}
    async with shop.db.transaction() as session:
        if action == ReturnAction.APPROVE:
            await returns.approve(session, return_id, actor, now, shop.options.return_auto_approve)
        elif action == ReturnAction.REJECT:
            await returns.reject(session, return_id, actor, body["reason"], now)
        elif action == ReturnAction.RECEIVED:
            await returns.received(session, return_id, actor, now)
        else:
            await returns.refund_without_goods(session, return_id, actor, now)
    shop.wake_outbox()
    logger.info("seller %s: return %s %s over HTTP", actor.seller_id, return_id, action.value)
    return web.json_response(await _return_json(shop, return_id, actor))


# --- the catalog ---------------------------------------------------------------------------------


async def _read_capped(request: web.Request, most: int, message: str) -> bytes:
    """The raw body, refused with 413 and ``message`` past ``most`` bytes (read as it comes, not held whole)."""
    if request.content_length is not None and request.content_length > most:
        raise ApiError(413, "too_large", "body_too_large", message)
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > most:
            raise ApiError(413, "too_large", "body_too_large", message)
    return bytes(body)


def _size(size: int) -> str:
    """A size in bytes as a person reads it: "2 MB", "512 KB"."""
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def _text(raw: bytes, what: str) -> str:
    """A body as UTF-8 text (a byte-order mark dropped), without control characters but tabs and line breaks."""
    try:
        body = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_request", "body_invalid", f"The {what} must be UTF-8 text.") from None
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in body):
        raise ApiError(400, "bad_request", "body_invalid", f"The {what} holds control characters.")
    return body


def _flag(request: web.Request, name: str) -> bool:
    """A true/false query parameter, false when absent."""
    raw = request.query.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise invalid("flag_invalid", f"{name} must be true or false.")
    return raw in ("true", "1")


def _report_json(report: ImportReport) -> dict[str, Any]:
    """An import's report as the API answers it: each reason a row was refused, never a code or a content."""
    return {
        "seller_id": report.seller_id, "dry_run": report.dry_run, "rows": report.rows,
        "created_products": report.created_products, "created_variants": report.created_variants,
        "updated_variants": report.updated_variants, "unchanged": report.unchanged,
        "codes_added": report.codes_added, "codes_already_in_pool": report.codes_already_in_pool,
        "new_categories": report.new_categories, "rejected_rows": len(report.rejected),
        "rejected": [{"line": row.line, "sku": row.sku, "column": problem.column, "code": problem.code,
                      "reason": refusal(problem.code, problem.data)}
                     for row in report.rejected for problem in row.problems],
    }


@routes.post("/api/v1/catalog")
async def import_catalog(request: web.Request) -> web.Response:
    """Create or update the seller's catalog from a CSV file; answer the import's report."""
    shop, actor = request.app[SHOP], request[ACTOR]
    dry_run = _flag(request, "dry_run")
    if request.content_type != "text/csv":
        raise ApiError(415, "unsupported_media_type", "content_type_unsupported",
                       "Send the catalog as a CSV file, with Content-Type: text/csv.")
    raw = await _read_capped(request, MAX_CATALOG_BYTES, (
        f"The catalog file is larger than {_size(MAX_CATALOG_BYTES)}: send it in several files "
        "(rows are matched by SKU, so the parts add up)."))
    try:
        # Read whole before anything is written, so that a file that is not CSV changes nothing.
        rows = list(catalog_import.read_csv(io.StringIO(_text(raw, "catalog file"), newline="")))
    except csv.Error as exc:
        raise ApiError(400, "bad_request", "body_invalid", f"The catalog file is not valid CSV ({exc}).") from None
    async with shop.db.sessions() as session:
        report = await catalog_import.import_rows(session, actor.seller_id, rows, currency=shop.options.currency,
                                                  dry_run=dry_run)
    return web.json_response(_report_json(report))


async def _codes(request: web.Request) -> list[str]:
    """The codes a request sends, cleaned as every upload of codes is (trimmed, each once, capped)."""
    too_large = (f"The body is larger than {_size(MAX_CODES_BYTES)}: send at most "
                 f"{digital.CODES_PER_UPLOAD} codes a request.")
    if request.content_type == "application/json":
        raw = await _read_capped(request, MAX_CODES_BYTES, too_large)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            body = None
        codes = body.get("codes") if isinstance(body, dict) else None
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            raise ApiError(400, "bad_request", "body_invalid",
                           'The body must be a JSON object {"codes": ["...", ...]}: a list of strings.')
        if any(CODE_SEPARATORS.search(code) or any(ord(ch) < 32 and ch != "\t" for ch in code) or not _utf8(code)
               for code in codes):
            raise invalid("code_invalid", "A code is one line of text, without commas or semicolons.")
        text = "\n".join(codes)
    elif request.content_type == "text/plain":
        text = _text(await _read_capped(request, MAX_CODES_BYTES, too_large), "list of codes")
    else:
        raise ApiError(415, "unsupported_media_type", "content_type_unsupported",
                       'Send {"codes": [...]} as application/json, or one code a line as text/plain.')
    return digital.clean_codes(text)


@routes.post("/api/v1/variants/{sku}/codes")
async def add_codes(request: web.Request) -> web.Response:
    """Add codes to the pool of one of the seller's variants; answer how many were new and how many are free."""
    shop, actor = request.app[SHOP], request[ACTOR]
    codes = await _codes(request)
    async with shop.db.transaction() as session:
        sku, added = await catalog_import.add_codes_to_sku(session, actor.seller_id, request.match_info["sku"],
                                                           codes)
    logger.info("seller %s: %d codes added to a pool over HTTP (%d already in it)", actor.seller_id, added.added,
                added.known)
    return web.json_response({"sku": sku, "added": added.added, "already_in_pool": added.known,
                              "available": added.available})
