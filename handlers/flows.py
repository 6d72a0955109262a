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

The texts of a flow's table (a step's hint, /cancel's answer, the leave
button) are module constants marked with ``N_``: they are translated here,
when said, into the language of the person they are said to.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from telegram import ReplyKeyboardRemove, Update

from handlers import callbacks as cb
from handlers.common import reply, say_refusal
from handlers.context import ShopContext
from handlers.i18n import LANGUAGES, N_, _, translations
from store.errors import ShopError
from store.models import utcnow
from store.services.users import Step, clear_step, get_step

# (update, context, step, what was sent: the text, the contact, the photo or the document)
StepAnswer = Callable[[Update, ShopContext, Step, object], Awaitable[None]]
ButtonCallback = Callable[[Update, ShopContext], Awaitable[None]]


@dataclass(frozen=True)
class OnStep:
    """What one step takes: a handler per kind of message, its buttons, and what to say otherwise."""

    text: StepAnswer | None = None  # None: typed text is a search
    contact: StepAnswer | None = None
    photo: StepAnswer | None = None
    document: StepAnswer | None = None  # a file sent as a file (📎 → File)
    buttons: Mapping[type[cb.Button], ButtonCallback] = field(default_factory=dict)
    hint: str | None = None  # said when something else arrives (a sticker, a voice note); marked with N_
    # A command (the person moved on) ends the step: its one typed answer decides or publishes something (a
    # rejection's reason, a public reply), which must not be whatever they type next, hours later, elsewhere.
    ends_on_command: bool = False


@dataclass(frozen=True)
class Flow:
    """One dialogue: its steps, the buttons that start or leave it, and what /cancel says."""

    name: str
    steps: Mapping[StrEnum, OnStep]
    buttons: Mapping[type[cb.Button], ButtonCallback] = field(default_factory=dict)
    left: str = N_("Cancelled. Nothing was changed.")  # /cancel's answer, marked with N_
    # Typed text that leaves the flow from any step (a reply keyboard's cancel button, marked with N_), and how.
    leave_text: str | None = None
    on_leave: Callable[[Update, ShopContext], Awaitable[None]] | None = None

    def all_buttons(self) -> dict[type[cb.Button], ButtonCallback]:
        """Every button of the flow with its callback, for the handler registration."""
        found = dict(self.buttons)
        for on in self.steps.values():
            found.update(on.buttons)
        return found


SKIP = "/skip"
NOTHING_TO_CANCEL = N_("There is nothing to cancel. Type what you are looking for, or /start.")
UNKNOWN_COMMAND = N_("I don't know that command. /help lists what I can do.")
TEXT_ONLY = N_("I can only read text here: type what you are looking for, or /help.")
CONTACT_OUTSIDE = N_("Thanks! I only need your contact during checkout: /cart")
PHOTO_OUTSIDE = N_("Nice picture! To search, type words; sellers add product photos with /add_product.")


def _is_button(text: str, label: str) -> bool:
    """Whether typed ``text`` is the reply-keyboard button ``label`` (marked with N_) in any language we speak:
    a keyboard shown before the person changed their language still works."""
    return any(text == translations(language).gettext(label) for language in LANGUAGES)


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
            if flow is not None and flow.leave_text is not None and _is_button(message.text, flow.leave_text):
                await flow.on_leave(update, context)
            elif on is not None and on.text is not None and (not command or message.text == SKIP):
                await _answer(on.text, update, context, step, message.text)
            elif command:
                await reply(update, _(UNKNOWN_COMMAND))
            else:
                await self.on_search(update, context, message.text)
        elif message.contact is not None and on is not None and on.contact is not None:
            await _answer(on.contact, update, context, step, message.contact)
        elif message.photo and on is not None and on.photo is not None:
            await _answer(on.photo, update, context, step, message.photo)
        elif message.document is not None and on is not None and on.document is not None:
            await _answer(on.document, update, context, step, message.document)
        elif on is not None:
            # Anything else at a step (a photo at the address, a sticker, a voice note): what the step wants.
            await reply(update, _(on.hint or TEXT_ONLY))
        elif message.contact is not None:
            await reply(update, _(CONTACT_OUTSIDE))
        elif message.photo:
            await reply(update, _(PHOTO_OUTSIDE))
        else:
            await reply(update, _(TEXT_ONLY))

    def leaving(self, command: ButtonCallback) -> ButtonCallback:
        """Wrap a command: at a step that ends on a command, the step ends first, then the command runs."""
        ending = {name for name, (_flow, on) in self.steps.items() if on.ends_on_command}

        @functools.wraps(command)
        async def run(update: Update, context: ShopContext) -> None:
            step = await self._step(update, context)
            if step is not None and step.name in ending:
                async with context.shop.db.transaction() as session:
                    await clear_step(session, update.effective_user.id)
            await command(update, context)

        return run

    async def on_cancel(self, update: Update, context: ShopContext) -> None:
        """/cancel: leave whatever dialogue the person is in."""
        async with context.shop.db.transaction() as session:
            step = await get_step(session, update.effective_user.id)
            await clear_step(session, update.effective_user.id)
        if step is None:
            text = NOTHING_TO_CANCEL
        else:
            flow, _on = self.steps.get(step.name, (None, None))
            text = flow.left if flow is not None else Flow.left
        await reply(update, _(text), ReplyKeyboardRemove())


async def _answer(handler: StepAnswer, update: Update, context: ShopContext, step: Step, sent: object) -> None:
    """Run a step's handler; a refusal from the store is said in words, and the step stays to try again."""
    try:
        await handler(update, context, step, sent)
    except ShopError as exc:
        await say_refusal(update, exc)
