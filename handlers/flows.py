"""Dialogues declared as tables, and the one router that reads the person's step for every message.

A flow (the checkout, a seller's shop and order details, a seller's catalog)
is one :class:`Flow`: for each of its steps, what answers typed text, a shared
contact, a photo, and which buttons belong to it, as PTB's
``ConversationHandler(states=...)`` reads. The step itself (its name, the
answers so far) lives in the store, named in the store's flow module, and is
read once per message here; the flow's transitions check it again under a
lock, so an old button or a second bot process never runs a step twice.

A message that is no answer at the person's step falls through: text is a
search, a contact or a photo gets a polite note, anything else a hint of what
the step wants.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from telegram import ReplyKeyboardRemove, Update

from handlers import callbacks as cb
from handlers.common import reply, say_refusal
from handlers.context import ShopContext
from store.errors import ShopError
from store.models import utcnow
from store.services.users import Step, clear_step, get_step

# (update, context, step, what was sent: the text, the contact or the photo)
StepAnswer = Callable[[Update, ShopContext, Step, object], Awaitable[None]]
ButtonCallback = Callable[[Update, ShopContext], Awaitable[None]]


@dataclass(frozen=True)
class OnStep:
    """What one step takes: a handler per kind of message, its buttons, and what to say otherwise."""

    text: StepAnswer | None = None  # None: typed text is a search
    contact: StepAnswer | None = None
    photo: StepAnswer | None = None
    buttons: Mapping[type[cb.Button], ButtonCallback] = field(default_factory=dict)
    hint: str | None = None  # said when something else arrives (a sticker, a voice note)


@dataclass(frozen=True)
class Flow:
    """One dialogue: its steps, the buttons that start or leave it, and what /cancel says."""

    name: str
    steps: Mapping[StrEnum, OnStep]
    buttons: Mapping[type[cb.Button], ButtonCallback] = field(default_factory=dict)
    left: str = "Cancelled. Nothing was changed."  # /cancel's answer
    # Typed text that leaves the flow from any step (a reply keyboard's cancel button), and how.
    leave_text: str | None = None
    on_leave: Callable[[Update, ShopContext], Awaitable[None]] | None = None

    def all_buttons(self) -> dict[type[cb.Button], ButtonCallback]:
        """Every button of the flow with its callback, for the handler registration."""
        found = dict(self.buttons)
        for on in self.steps.values():
            found.update(on.buttons)
        return found


SKIP = "/skip"
NOTHING_TO_CANCEL = "There is nothing to cancel. Type what you are looking for, or /start."
UNKNOWN_COMMAND = "I don't know that command. /help lists what I can do."
TEXT_ONLY = "I can only read text here: type what you are looking for, or /help."
CONTACT_OUTSIDE = "Thanks! I only need your contact during checkout: /cart"
PHOTO_OUTSIDE = "Nice picture! To search, type words; sellers add product photos with /add_product."


class StepRouter:
    """Routes every private message by the sender's step, through the flows' tables."""

    def __init__(self, flows: list[Flow], on_search: Callable[[Update, ShopContext, str], Awaitable[None]]) -> None:
        self.flows = flows
        self.on_search = on_search
        self.steps: dict[str, tuple[Flow, OnStep]] = {}
        for flow in flows:
            for name, on in flow.steps.items():
                if name in self.steps:
                    raise ValueError(f"step {name} is in two flows")
                self.steps[name] = (flow, on)

    def buttons(self) -> dict[type[cb.Button], ButtonCallback]:
        """Every flow's buttons with their callbacks."""
        found: dict[type[cb.Button], ButtonCallback] = {}
        for flow in self.flows:
            found.update(flow.all_buttons())
        return found

    async def _step(self, update: Update, context: ShopContext) -> Step | None:
        """The sender's step, read once; a step left alone too long is over."""
        user_id = update.effective_user.id
        async with context.shop.db.read() as session:
            step = await get_step(session, user_id)
        # Inactivity is wall-clock time, like the step's own timestamp.
        if step is not None and step.is_stale(utcnow()):
            async with context.shop.db.transaction() as session:
                await clear_step(session, user_id)
            return None
        return step

    async def on_message(self, update: Update, context: ShopContext) -> None:
        """A private message: the answer to the sender's step, or what it means without one."""
        message = update.effective_message
        step = await self._step(update, context)
        flow, on = self.steps.get(step.name, (None, None)) if step is not None else (None, None)
        if message.text is not None:
            # Commands reach here unknown, or /skip, which answers the step it skips.
            command = message.text.startswith("/")
            if flow is not None and flow.leave_text is not None and message.text == flow.leave_text:
                await flow.on_leave(update, context)
            elif on is not None and on.text is not None and (not command or message.text == SKIP):
                await _answer(on.text, update, context, step, message.text)
            elif command:
                await reply(update, UNKNOWN_COMMAND)
            else:
                await self.on_search(update, context, message.text)
        elif message.contact is not None and on is not None and on.contact is not None:
            await _answer(on.contact, update, context, step, message.contact)
        elif message.photo and on is not None and on.photo is not None:
            await _answer(on.photo, update, context, step, message.photo)
        elif on is not None:
            # Anything else at a step (a photo at the address, a sticker, a voice note): what the step wants.
            await reply(update, on.hint or TEXT_ONLY)
        elif message.contact is not None:
            await reply(update, CONTACT_OUTSIDE)
        elif message.photo:
            await reply(update, PHOTO_OUTSIDE)
        else:
            await reply(update, TEXT_ONLY)

    async def on_cancel(self, update: Update, context: ShopContext) -> None:
        """/cancel: leave whatever dialogue the person is in."""
        async with context.shop.db.transaction() as session:
            step = await get_step(session, update.effective_user.id)
            await clear_step(session, update.effective_user.id)
        if step is None:
            text = NOTHING_TO_CANCEL
        else:
            flow, _ = self.steps.get(step.name, (None, None))
            text = flow.left if flow is not None else Flow.left
        await reply(update, text, ReplyKeyboardRemove())


async def _answer(handler: StepAnswer, update: Update, context: ShopContext, step: Step, sent: object) -> None:
    """Run a step's handler; a refusal from the store is said in words, and the step stays to try again."""
    try:
        await handler(update, context, step, sent)
    except ShopError as exc:
        await say_refusal(update, exc)
