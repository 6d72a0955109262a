"""Product photos as Telegram takes them: a URL or file_id as the product has it, or a drawn demo picture
(:mod:`store.demo_photos`), which Telegram cannot fetch from us, so it is uploaded once and then sent by the
file_id Telegram gave it.

The file_ids are remembered in the application's ``bot_data``: a file_id belongs to one bot, and the pictures are
drawn the same in every process, so each process uploads a picture at most once (twice if two shoppers open it at
the same moment) and nothing needs storing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import InputFile, Message
from telegram.error import BadRequest

from handlers.context import ShopContext
from store import demo_photos

logger = logging.getLogger(__name__)

FILE_IDS_KEY = "demo_photo_file_ids"


def _file_ids(context: ShopContext) -> dict[str, str]:
    """The file_id of each demo picture this bot uploaded, by photo key."""
    return context.application.bot_data.setdefault(FILE_IDS_KEY, {})


async def prepare(context: ShopContext, photo: str | None) -> None:
    """Draw a demo picture not uploaded yet (drawing is cached), so that sending it later takes no drawing time."""
    if demo_photos.is_demo(photo) and photo not in _file_ids(context):
        with contextlib.suppress(demo_photos.UnknownDemoPhoto):  # the card goes without it (send_photo raises)
            await asyncio.to_thread(demo_photos.draw, photo)


async def photo_to_send(context: ShopContext, photo: str) -> str | InputFile:
    """What ``send_photo`` takes for a product's photo: the photo as it is, a demo picture's file_id when it was
    uploaded before, else the picture itself (UnknownDemoPhoto for a ``demo:`` key no picture has)."""
    if not demo_photos.is_demo(photo):
        return photo
    known = _file_ids(context).get(photo)
    if known is not None:
        return known
    # Drawing takes some 50 ms the first time (then it is cached): off the event loop.
    picture = await asyncio.to_thread(demo_photos.draw, photo)
    return InputFile(picture, filename=demo_photos.filename(photo))


def remember(context: ShopContext, photo: str, message: Message) -> None:
    """Keep the file_id of a demo picture just uploaded in ``message``, to send it without uploading again."""
    if demo_photos.is_demo(photo) and message.photo and photo not in _file_ids(context):
        _file_ids(context)[photo] = message.photo[-1].file_id  # the largest size Telegram made of it


async def send_photo(context: ShopContext, chat_id: int, photo: str, **kwargs: object) -> Message:
    """Send a product's photo with ``send_photo``'s other arguments; BadRequest (or UnknownDemoPhoto) when
    Telegram or we have no such picture.

    A remembered file_id Telegram refuses (it should not: a file_id lasts) is forgotten and the picture uploaded
    again.
    """
    sending = await photo_to_send(context, photo)
    try:
        message = await context.bot.send_photo(chat_id, sending, **kwargs)
    except BadRequest:
        if not isinstance(sending, str) or sending == photo:
            raise
        logger.warning("the file_id of demo picture %s was refused: uploading it again", photo)
        _file_ids(context).pop(photo, None)
        message = await context.bot.send_photo(chat_id, await photo_to_send(context, photo), **kwargs)
    remember(context, photo, message)
    return message
