"""The bot's HTTP client for the Bot API: a `telegram.request.BaseRequest` on aiohttp.

PTB's default `HTTPXRequest` caps a polling bot at a few hundred updates per second
on one core; `AiohttpRequest` sends the same bytes (form fields exactly as
`HTTPXRequest` encodes them, multipart when files are attached) through one
`aiohttp.ClientSession` per instance. `BaseRequest.post` still turns the status and
body into results or `telegram.error` exceptions (RetryAfter, Forbidden, ...).

Use one instance for ordinary calls and a second, small one for getUpdates, as
`ApplicationBuilder` does with its own requests:

    ApplicationBuilder().token(token)
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))

Constructor arguments and defaults follow `HTTPXRequest`: a pool of 256 connections,
5 s read, write and connect timeouts, 1 s pool timeout, 20 s write timeout for
uploads; a timeout a call passes wins, `None` meaning no limit.

Not supported, compared with `HTTPXRequest`: HTTP/2 (`http_version`), proxies
(neither a `proxy` argument nor the `HTTPS_PROXY`/`ALL_PROXY` environment
variables), `socket_options` and `httpx_kwargs`. `write_timeout` is not a per-write
limit, as aiohttp has none: a request without files is covered by `read_timeout`
(its small body is buffered at once, and the read timer starts when it is sent);
for an upload, `connect + write + read` bounds the whole request.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from typing import TYPE_CHECKING

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from store.db import check_no_transaction

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput, UploadFileDict

logger = logging.getLogger(__name__)

_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
# aiohttp labels an empty POST application/octet-stream; httpx sends no Content-Type.
_NO_BODY_SKIP = frozenset({"Content-Type"})
POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)

# httpx's (HTML5) escaping of multipart parameters; aiohttp then escapes only backslashes,
# as httpx does, so both send the same Content-Disposition for any file name.
_HTML5_ESCAPES = {'"': "%22", **{chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B}}
_HTML5_ESCAPE_RE = re.compile("|".join(re.escape(c) for c in _HTML5_ESCAPES))


def _form_param(value: str) -> str:
    return _HTML5_ESCAPE_RE.sub(lambda m: _HTML5_ESCAPES[m.group(0)], value)


async def _check_no_transaction(session: aiohttp.ClientSession, context: object,
                                params: aiohttp.TraceRequestStartParams) -> None:
    check_no_transaction(f"HTTP {params.method} to {params.url.host}")


def outside_transactions() -> aiohttp.TraceConfig:
    """A trace for aiohttp sessions: every request checks that no store transaction is open in its task
    (a network call can take seconds; a transaction held that long blocks other writers)."""
    config = aiohttp.TraceConfig()
    config.on_request_start.append(_check_no_transaction)
    return config


class AiohttpRequest(BaseRequest):
    """`BaseRequest` on one `aiohttp.ClientSession`, created in `initialize()` on the running loop."""

    __slots__ = (
        "_connect_timeout",
        "_default_timeout",
        "_keepalive_timeout",
        "_media_write_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_ttl_dns_cache",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        *,
        keepalive_timeout: float = 15.0,
        ttl_dns_cache: int | None = 300,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._keepalive_timeout = keepalive_timeout
        self._ttl_dns_cache = ttl_dns_cache
        self._default_timeout = self._client_timeout(connect_timeout, read_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds, used when a call passes none."""
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        """The most requests this instance has in flight at once."""
        return self._pool_size

    @property
    def is_initialized(self) -> bool:
        """True between `initialize()` and `shutdown()`."""
        return self._session is not None and not self._session.closed

    async def initialize(self) -> None:
        """Open the session and its connection pool; a no-op if already open."""
        if self.is_initialized:
            return
        connector = aiohttp.TCPConnector(
            limit=self._pool_size,
            keepalive_timeout=self._keepalive_timeout,
            ttl_dns_cache=self._ttl_dns_cache,
            # The CA bundle HTTPXRequest trusts, so slim images without system CAs still work.
            ssl=ssl.create_default_context(cafile=certifi.where()),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            timeout=self._default_timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            trace_configs=[outside_transactions()],
        )
        # Our own gate, not the connector's limit, so a full pool is told apart from a slow connect.
        self._pool = asyncio.Semaphore(self._pool_size)
        logger.debug("aiohttp Bot API session opened (pool of %d)", self._pool_size)

    async def shutdown(self) -> None:
        """Close the session and its connections; a no-op if already closed."""
        session, self._session = self._session, None
        if session is None or session.closed:
            return
        await session.close()
        logger.debug("aiohttp Bot API session closed")

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; return the HTTP status and the raw body."""
        session, pool = self._session, self._pool
        if session is None or pool is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        files = request_data.multipart_data if request_data is not None and request_data.contains_files else None
        if read_timeout is BaseRequest.DEFAULT_NONE:
            read_timeout = self._read_timeout
        if connect_timeout is BaseRequest.DEFAULT_NONE:
            connect_timeout = self._connect_timeout
        if pool_timeout is BaseRequest.DEFAULT_NONE:
            pool_timeout = self._pool_timeout
        if write_timeout is BaseRequest.DEFAULT_NONE:
            write_timeout = self._media_write_timeout if files else self._write_timeout

        if read_timeout == self._read_timeout and connect_timeout == self._connect_timeout:
            timeout = self._default_timeout
        else:
            # getUpdates lands here: PTB adds the long-poll timeout to read_timeout.
            timeout = self._client_timeout(connect_timeout, read_timeout)

        if files:
            data: aiohttp.FormData | bytes | None = self._multipart(request_data.json_parameters, files)
            headers, skip = None, None
            # aiohttp has no write timeout; bound the whole upload so a stalled peer cannot hang it.
            budget = (connect_timeout, write_timeout, read_timeout)
            deadline = None if None in budget else sum(budget)
        elif request_data is not None and (params := request_data.url_encoded_parameters()):
            data, headers, skip, deadline = params.encode(), _FORM_HEADERS, None, None
        else:
            data, headers, skip, deadline = None, None, _NO_BODY_SKIP, None

        if pool.locked():
            try:
                async with asyncio.timeout(pool_timeout):
                    await pool.acquire()
            except TimeoutError as err:
                raise TimedOut(POOL_TIMEOUT_MESSAGE) from err
        else:
            await pool.acquire()
        try:
            if deadline is None:
                return await self._send(session, method, url, data, headers, skip, timeout)
            async with asyncio.timeout(deadline):
                return await self._send(session, method, url, data, headers, skip, timeout)
        except TimeoutError as err:
            # aiohttp's connect and sock_read timeouts are TimeoutError subclasses too.
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The class name helps when the message is empty (e.g. ServerDisconnectedError).
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            pool.release()

    @staticmethod
    async def _send(
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        data: aiohttp.FormData | bytes | None,
        headers: dict[str, str] | None,
        skip_auto_headers: frozenset[str] | None,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        async with session.request(
            method,
            url,
            data=data,
            headers=headers,
            skip_auto_headers=skip_auto_headers,
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            return response.status, await response.read()

    @staticmethod
    def _client_timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        # No total: sock_read restarts on every chunk, so a long poll or a big download is not cut.
        return aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)

    @staticmethod
    def _multipart(params: dict[str, str], files: UploadFileDict) -> aiohttp.FormData:
        # Fields first, then files, in the order HTTPXRequest writes them.
        form = aiohttp.FormData(quote_fields=False)
        for name, value in params.items():
            form.add_field(name, value)
        for name, (filename, content, mimetype) in files.items():
            form.add_field(name, content, filename=_form_param(filename), content_type=mimetype)
        return form
