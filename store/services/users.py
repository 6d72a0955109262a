"""Users and their conversation step (where they are in a multi-step dialogue)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.errors import ErrorCode, Expired
from store.models import Seller, User, UserStep, utcnow
from store.rules import STEP_EXPIRY
from store.sqlite import IDS_PER_STATEMENT


@dataclass(frozen=True, slots=True)
class Step:
    """A user's current step and the answers collected so far."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None

    def is_stale(self, now: datetime) -> bool:
        """Whether the step was left alone for longer than STEP_EXPIRY (then it no longer captures typing)."""
        return self.updated_at is not None and now - self.updated_at > STEP_EXPIRY


async def touch_user(
    session: AsyncSession,
    user_id: int,
    first_name: str = "",
    username: str | None = None,
    language_code: str | None = None,
) -> User:
    """Create the user on first contact, refresh their profile when it changed, return it."""
    user = await session.get(User, user_id)
    first_name = first_name[:128]
    if user is None:
        user = User(id=user_id, first_name=first_name, username=username, language_code=language_code)
        session.add(user)
        await session.flush()
    elif (user.first_name, user.username, user.language_code) != (first_name, username, language_code):
        user.first_name, user.username, user.language_code = first_name, username, language_code
    if user.blocked_at is not None:
        # They are writing to us again, so they have unblocked the bot.
        user.blocked_at = None
    return user


async def choose_language(session: AsyncSession, user_id: int, language: str | None) -> None:
    """Record the language a person chose (None: their Telegram app's language decides again)."""
    user = await session.get(User, user_id)
    if user is not None:
        user.language = language


async def chosen_languages(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, str | None]:
    """The language each of these people chose, None for those who did not (or are not known yet)."""
    ids = sorted(set(user_ids))
    chosen: dict[int, str | None] = dict.fromkeys(ids)
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        part = ids[start:start + IDS_PER_STATEMENT]
        rows = await session.execute(select(User.id, User.language)
                                     .where(User.id.in_(part), User.language.is_not(None)))
        chosen.update({row.id: row.language for row in rows})
    return chosen


async def recipient_language(session: AsyncSession, chat_id: int) -> tuple[str | None, str | None]:
    """The chosen language and Telegram language code of whoever reads ``chat_id``: the person of a private
    chat, else the owner of the shop whose notices go to that chat (None, None when neither is known)."""
    user = await session.get(User, chat_id)
    if user is None:
        user = (await session.execute(select(User).join(Seller, Seller.owner_user_id == User.id)
                                      .where(Seller.notify_chat_id == chat_id).limit(1))).scalar_one_or_none()
    return (user.language, user.language_code) if user is not None else (None, None)


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """Return a user by Telegram id."""
    return await session.get(User, user_id)


async def get_step(session: AsyncSession, user_id: int) -> Step | None:
    """Return the user's current step, or None when they are not in a dialogue."""
    row = await session.get(UserStep, user_id)
    return Step(row.step, dict(row.data or {}), row.updated_at) if row is not None else None


async def at_step(session: AsyncSession, user_id: int, *names: str, over: ErrorCode) -> Step:
    """The user's step, locked until the transaction ends, if it is one of ``names``.

    Otherwise the button pressed or the answer typed belongs to a step that is
    over (:class:`Expired` with ``over``). Every flow's transitions start here,
    so a doubled press or a second bot process can never run a step twice.
    """
    row = await session.scalar(select(UserStep).where(UserStep.user_id == user_id)
                               .with_for_update().execution_options(populate_existing=True))
    if row is None or row.step not in names:
        raise Expired(over)
    return Step(row.step, dict(row.data or {}), row.updated_at)


async def set_step(session: AsyncSession, user_id: int, name: str, data: dict[str, Any] | None = None) -> Step:
    """Move the user to step ``name`` with ``data`` (replacing what was there)."""
    row = await session.get(UserStep, user_id)
    data = dict(data or {})
    if row is None:
        if await session.get(User, user_id) is None:
            session.add(User(id=user_id))  # someone who never wrote before (an operator pressing a button)
            await session.flush()
        session.add(UserStep(user_id=user_id, step=name, data=data))
    else:
        row.step, row.data, row.updated_at = name, data, utcnow()
    await session.flush()
    return Step(name, data)


async def clear_step(session: AsyncSession, user_id: int) -> None:
    """Leave any dialogue the user is in."""
    await session.execute(delete(UserStep).where(UserStep.user_id == user_id))


async def mark_blocked(session: AsyncSession, user_id: int, now: datetime) -> bool:
    """Record that the person blocked the bot (their notices are dropped); False if known already."""
    user = await session.get(User, user_id)
    if user is None or user.blocked_at is not None:
        return False
    user.blocked_at = now
    return True
