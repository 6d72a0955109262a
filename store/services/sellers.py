"""Sellers: applying, approval by operators, notification chat, webhook and API credentials."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, InvalidInput, NotFound, ShopError
from store.models import Seller
from store.services import approvals, outbox
from store.services.webhook_targets import Network, check_target
from store.states import Approval, Notice, OutboxChannel, SellerKind

NAME_MIN, NAME_MAX = 3, 80
API_KEY_PREFIX = "csk_"



def clean_shop_name(name: str) -> str:
    """Validate a shop name: 3 to 80 characters with some letters."""
    name = " ".join(name.split())
    if not NAME_MIN <= len(name) <= NAME_MAX or not any(ch.isalpha() for ch in name):
        raise InvalidInput(ErrorCode.SHOP_NAME_LENGTH, min=NAME_MIN, max=NAME_MAX)
    return name


async def seller_of_user(session: AsyncSession, user_id: int, *, approved_only: bool = True) -> Seller | None:
    """The shop a user owns (approved, unless asked otherwise)."""
    query = select(Seller).where(Seller.owner_user_id == user_id).order_by(Seller.id.desc()).limit(1)
    seller = await session.scalar(query)
    if seller is None or (approved_only and seller.status != Approval.APPROVED):
        return None
    return seller


async def apply(session: AsyncSession, user_id: int, name: str, chat_id: int, operators: frozenset[int],
                now: datetime, commission_bp: int = 1000) -> Seller:
    """Record a user's application to sell, with this chat for order notices, and tell the operators."""
    name = clean_shop_name(name)
    existing = await seller_of_user(session, user_id, approved_only=False)
    if existing is not None and existing.status in (Approval.PENDING, Approval.APPROVED):
        raise ShopError(ErrorCode.ALREADY_A_SELLER, name=existing.name, status=existing.status)
    seller = Seller(name=name, kind=SellerKind.RETAILER, status=Approval.PENDING, owner_user_id=user_id,
                    notify_chat_id=chat_id,
                    commission_bp=commission_bp, created_at=now)
    session.add(seller)
    await session.flush()
    for operator_id in sorted(operators):
        await outbox.enqueue(session, key=f"seller-{seller.id}-application-{operator_id}",
                             channel=OutboxChannel.TELEGRAM,
                             template=Notice.SELLER_APPLICATION, payload={"seller_id": seller.id}, chat_id=operator_id,
                             now=now)
    return seller


async def decide(session: AsyncSession, seller_id: int, approve: bool, operator_id: int,
                 operators: frozenset[int], now: datetime) -> Seller:
    """An operator approves or rejects a pending application; the applicant is told."""
    seller = (await session.get(Seller, seller_id, with_for_update=True, populate_existing=True)
              if operator_id in operators else None)
    approvals.decide(seller, approve, operator_id, operators, "seller")
    if seller.owner_user_id is not None:
        await outbox.enqueue(session, key=f"seller-{seller.id}-{seller.status}", channel=OutboxChannel.TELEGRAM,
                             template=Notice.SELLER_DECISION, payload={"seller_id": seller.id, "status": seller.status},
                             chat_id=seller.notify_chat_id or seller.owner_user_id, seller_id=seller.id, now=now)
    await session.flush()
    return seller


def hash_api_key(key: str) -> str:
    """The stored form of an API key (keys are long random strings, so a plain SHA-256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


async def set_buyer_phone(session: AsyncSession, seller_id: int, asked: bool) -> None:
    """Whether the seller's orders ask buyers for a phone number."""
    seller = await session.get(Seller, seller_id)
    if seller is None:
        raise NotFound(ErrorCode.SHOP_UNKNOWN)
    seller.buyer_phone = asked


async def issue_api_key(session: AsyncSession, seller_id: int) -> str:
    """Create a new API key for a seller (replacing any old one); it is returned once and stored hashed."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    seller = await session.get(Seller, seller_id)
    if seller is None:
        raise NotFound(ErrorCode.SHOP_UNKNOWN)
    seller.api_key_hash = hash_api_key(key)
    await session.flush()
    return key


async def seller_by_api_key(session: AsyncSession, key: str) -> Seller | None:
    """The approved seller an API key belongs to, or None."""
    if not key.startswith(API_KEY_PREFIX) or len(key) > 128:
        return None
    seller = await session.scalar(select(Seller).where(Seller.api_key_hash == hash_api_key(key)))
    return seller if seller is not None and seller.status == Approval.APPROVED else None


def clean_webhook_url(url: str) -> str:
    """Validate a webhook URL: http(s), a host, at most 512 characters."""
    url = url.strip()
    if len(url) > 512 or not re.fullmatch(r"https?://[^\s/?#]+(/[^\s]*)?", url):
        raise InvalidInput(ErrorCode.WEBHOOK_URL_INVALID)
    return url


async def set_webhook(session: AsyncSession, seller_id: int, url: str | None,
                      allowed: Iterable[Network] = ()) -> str | None:
    """Set (or clear, with None) the seller's webhook URL; return the new signing secret, shown once.

    A URL pointing inside a private network is refused, unless in an ``allowed`` network."""
    seller = await session.get(Seller, seller_id)
    if seller is None:
        raise NotFound(ErrorCode.SHOP_UNKNOWN)
    if url is None:
        seller.webhook_url = seller.webhook_secret = None
        await outbox.drop_held(session, seller_id)
        await session.flush()
        return None
    url = clean_webhook_url(url)
    check_target(url, allowed)
    seller.webhook_url = url
    await outbox.drop_held(session, seller_id)
    seller.webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    await session.flush()
    return seller.webhook_secret


async def webhook_failing(session: AsyncSession, seller_id: int | None, delivery_id: int, operators: frozenset[int],
                          now: datetime) -> None:
    """Tell the seller's chat and the operators, once per stuck event, that the seller's webhook is failing."""
    seller = await session.get(Seller, seller_id) if seller_id is not None else None
    if seller is None:
        return
    for chat_id in sorted({seller.notify_chat_id, *operators} - {None}):
        await outbox.enqueue(session, key=f"webhook-failing-{delivery_id}-{chat_id}", channel=OutboxChannel.TELEGRAM,
                             template=Notice.WEBHOOK_FAILING,
                             payload={"seller_id": seller.id, "delivery_id": delivery_id}, chat_id=chat_id, now=now)


async def get_seller(session: AsyncSession, seller_id: int) -> Seller | None:
    """A seller by id."""
    return await session.get(Seller, seller_id)
