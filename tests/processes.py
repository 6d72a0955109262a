"""Real `python -m bot` processes for tests, and small HTTP helpers to talk to them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings

from .conftest import TOKEN

HOOK_PATH = "/tg/hook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    """A port nobody listens on right now (the server is told its port before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


async def get(url: str) -> tuple[int, str]:
    """GET ``url``: the status and the body."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, http.get(url) as response:
        return response.status, await response.text()


async def post(url: str, body: bytes | str, secret: str | None) -> int:
    """POST a webhook body to ``url`` (with Telegram's secret header when given): the status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, \
            http.post(url, data=body, headers=headers) as response:
        return response.status


class BotProcess:
    """`python -m bot` against the fake Bot API, by long polling or serving the webhook on its own port
    (WEBHOOK_URL: that port unless given); its log goes to a file."""

    def __init__(self, name: str, tmp_path: Path, fake, *, webhook: bool = True,  # type: ignore[no-untyped-def]
                 **settings: str) -> None:
        self.name, self.port = name, free_port()
        self.log_path = tmp_path / f"{name}.log"
        self.cwd = tmp_path
        ours = {field.upper() for field in Settings.model_fields}
        self.env = {k: v for k, v in os.environ.items() if k not in ours}
        self.env.update(BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"{fake.url}/bot", HTTP_HOST="127.0.0.1",
                        HTTP_PORT=str(self.port))
        if webhook:
            self.env["WEBHOOK_URL"] = self.hook
        self.env.update(settings)
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process (its log is appended to, so a restart keeps the earlier lines)."""
        with open(self.log_path, "ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=self.cwd, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hook(self) -> str:
        return f"{self.url}{HOOK_PATH}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def ready(self) -> bool:
        """True once /readyz answers 200 (fails at once if the process died)."""
        assert self.process.returncode is None, f"{self.name} exited {self.process.returncode}:\n{self.log[-3000:]}"
        try:
            return (await get(f"{self.url}/readyz"))[0] == 200
        except aiohttp.ClientError:
            return False

    async def terminate(self, timeout: float = 20) -> int:
        """SIGTERM; the exit status, within ``timeout`` seconds."""
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def kill(self) -> None:
        """SIGKILL (kill -9), if it still runs."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
