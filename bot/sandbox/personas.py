"""The sandbox's people: two shoppers, the platform shop's seller, a retailer's seller, a creator, an operator.

Each is a Telegram user with a private chat of their own. :func:`seat_personas` gives them their
roles in a fresh demo store: the demo shops' owners, an approved creator with a code.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Seller
from store.services import creators
from store.services.users import touch_user


@dataclasses.dataclass(frozen=True, slots=True)
class SandboxPersona:
    """Someone the sandbox's page can act as."""

    user_id: int
    first_name: str
    username: str
    role: str  # what the page says they are
    phone: str  # what "Share my contact" sends (fictional numbers)
    shop: str | None = None  # the demo shop they own


SHOPPER, SECOND_SHOPPER, PLATFORM_SELLER, RETAILER_SELLER, CREATOR, OPERATOR = (
    SandboxPersona(710001, "Ann", "ann_shops", "shopper", "+12025550143"),
    SandboxPersona(710002, "Ben", "ben_shops", "shopper", "+12025550178"),
    SandboxPersona(710010, "Sam", "sam_platform", "seller · Chatshop Store", "+12025550110",
                   shop="Chatshop Store"),
    SandboxPersona(710011, "Rita", "rita_urbanstride", "seller · Urban Stride", "+12025550111",
                   shop="Urban Stride"),
    SandboxPersona(710020, "Cleo", "cleo_creates", "creator", "+12025550120"),
    SandboxPersona(710030, "Omar", "omar_operates", "operator", "+12025550130"),
)
PERSONAS = (SHOPPER, SECOND_SHOPPER, PLATFORM_SELLER, RETAILER_SELLER, CREATOR, OPERATOR)
BY_ID = {persona.user_id: persona for persona in PERSONAS}


async def seat_personas(session: AsyncSession, now: datetime) -> None:
    """Make the demo shops the sellers' and the creator an approved creator (again on every start)."""
    for persona in PERSONAS:
        await touch_user(session, persona.user_id, persona.first_name, persona.username, "en")
    for persona in (PLATFORM_SELLER, RETAILER_SELLER):
        seller = await session.scalar(select(Seller).where(Seller.name == persona.shop))
        if seller is not None and seller.owner_user_id is None:
            seller.owner_user_id = seller.notify_chat_id = persona.user_id  # orders are told in their chat
    await creators.apply(session, CREATOR.user_id, auto_approve=True, operators=frozenset(), now=now)
