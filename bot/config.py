"""Settings of one bot process, read from the environment and `.env`.

Every setting is documented in `.env.example`. A missing or malformed setting
stops start-up with one line naming it (see :func:`load_settings`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from datetime import timedelta
from urllib.parse import urlsplit

from babel.numbers import list_currencies
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from store import rules
from store.services.webhook_targets import Network, parse_networks

TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    """Everything a bot process can be configured with."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Without a token, `python -m bot` starts the sandbox (bot/sandbox) instead of a bot on Telegram.
    bot_token: str | None = Field(default=None, description="Bot token from @BotFather")
    database_url: str = "sqlite+aiosqlite:///chatshop.db"
    telegram_api_base_url: str | None = None
    currency: str = "USD"
    payment_provider_token: str | None = None
    stars_enabled: bool = True  # digital goods are sold, paid in Telegram Stars (Telegram's rule for them)
    stars_per_unit: int = Field(default=rules.STARS_PER_UNIT, gt=0, le=10_000)
    cash_on_delivery: bool = True
    checkout_expiry_minutes: int = Field(default=rules.CHECKOUT_EXPIRY // timedelta(minutes=1), ge=1, le=7 * 24 * 60)
    default_phone_region: str = "US"
    demo_catalog: bool = True
    operator_ids: str = ""
    webhook_retry_days: int = Field(default=3, ge=1, le=30)  # a seller's webhook event is retried this long
    webhook_allowed_networks: str = ""  # private networks sellers' webhooks may reach, e.g. 10.1.0.0/16
    low_stock_threshold: int = Field(default=rules.LOW_STOCK_THRESHOLD, ge=0, le=1_000_000)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    outbox_worker: bool = True
    concurrent_updates: int = Field(default=64, ge=1, le=512)
    inbox_lease_seconds: int = Field(default=10, ge=1, le=600)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    creator_auto_approve: bool = False
    default_commission_bp: int = Field(default=1000, ge=0, le=10_000)
    attribution_window_days: int = Field(default=7, ge=1, le=365)
    creator_code_percent: int = Field(default=10, ge=1, le=50)
    return_window_days: int = Field(default=14, ge=0, le=365)
    # A return request its seller leaves unanswered this long is approved by the shop.
    return_auto_approve_hours: int = Field(default=48, ge=1, le=30 * 24)
    personal_data_days: int = Field(default=90, ge=1, le=3650)  # buyers' phone and address kept after an order ends
    # A delivered order's buyer is asked to rate what they bought this many hours after delivery.
    review_ask_hours: int = Field(default=rules.REVIEW_ASK_DELAY // timedelta(hours=1), ge=0, le=30 * 24)
    log_level: str = "INFO"

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not TOKEN_PATTERN.match(value):
            raise ValueError("expected the form 123456:ABC... given by @BotFather")
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        value = value.strip().upper()
        if value == "XTR" or value not in list_currencies():
            raise ValueError("expected an ISO 4217 code such as USD or EUR")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not re.fullmatch(r"https?://[^\s/?#]+/[^\s?#]*", value):
            raise ValueError("expected the public URL Telegram posts updates to, e.g. https://shop.example/telegram")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """Every secret the settings hold, to keep out of the logs."""
        password = make_url(self.database_url).password
        return (self.bot_token, self.payment_provider_token, self.webhook_secret, self.webhook_token,
                str(password) if password else None)

    @property
    def webhook_path(self) -> str | None:
        """The path of WEBHOOK_URL, served by the bot's HTTP server."""
        return urlsplit(self.webhook_url).path if self.webhook_url else None

    @property
    def webhook_token(self) -> str:
        """The secret Telegram sends with every webhook request: WEBHOOK_SECRET, or one derived from the
        bot token (the same in every process, unguessable without the token)."""
        if self.webhook_secret:
            return self.webhook_secret
        return hashlib.sha256(b"chatshop-webhook:" + (self.bot_token or "").encode()).hexdigest()

    @field_validator("telegram_api_base_url", "payment_provider_token")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("telegram_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http(s) URL such as http://127.0.0.1:8081/bot")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        try:
            url = make_url(value.strip())
        except ArgumentError:
            raise ValueError("expected a URL such as sqlite:///chatshop.db or postgresql://user@host/db") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("only SQLite (sqlite:///file.db) and PostgreSQL (postgresql://...) are supported")
        if url.get_backend_name() == "postgresql" and importlib.util.find_spec("asyncpg") is None:
            raise ValueError('PostgreSQL needs its driver: pip install "chatshop[postgresql]"')
        return value.strip()

    @model_validator(mode="after")
    def _some_payment(self) -> Settings:
        if not (self.payment_provider_token or self.stars_enabled or self.cash_on_delivery):
            raise ValueError("no way to pay: set CASH_ON_DELIVERY=true, PAYMENT_PROVIDER_TOKEN or STARS_ENABLED=true")
        return self

    @field_validator("operator_ids")
    @classmethod
    def _operators(cls, value: str) -> str:
        ids = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        if not all(re.fullmatch(r"\d{1,20}", part) for part in ids):
            raise ValueError("expected Telegram user ids separated by commas, e.g. 12345,67890")
        return ",".join(ids)

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        try:
            parse_networks(value)
        except ValueError:
            raise ValueError("expected networks separated by commas, e.g. 10.1.0.0/16,fd00::/8") from None
        return value

    @property
    def webhook_networks(self) -> tuple[Network, ...]:
        """The private networks sellers' webhooks may reach."""
        return parse_networks(self.webhook_allowed_networks)

    @property
    def operators(self) -> frozenset[int]:
        """Telegram user ids of the operators."""
        return frozenset(int(part) for part in self.operator_ids.split(",") if part)

    @field_validator("default_phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError("expected a two-letter country code such as US or DE")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return value

    @property
    def api_urls(self) -> tuple[str, str] | None:
        """PTB's ``base_url`` and ``base_file_url`` for a non-default Bot API server."""
        if not self.telegram_api_base_url:
            return None
        url = self.telegram_api_base_url.rstrip("/")
        root = url[: -len("/bot")] if url.endswith("/bot") else url
        return f"{root}/bot", f"{root}/file/bot"


def missing(name: str) -> str:
    """The one line that says a setting is missing."""
    return f"setting {name} is missing: set it in the environment or in .env"


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise :class:`SettingsError` naming the first bad one."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:
            raise SettingsError(f"settings are inconsistent: {message}") from None
        name = str(error["loc"][0]).upper()
        if error["type"] == "missing":
            raise SettingsError(missing(name)) from None
        raise SettingsError(f"setting {name} is invalid: {message}") from None
