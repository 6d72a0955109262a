"""What the web chat shows: a Bot API message as Telegram would draw it, in safe HTML and plain data.

Formatting comes from the message's entities (the emulator parsed the bot's Telegram HTML into
them, as Telegram does), never from the bot's markup itself, so nothing the bot or a shopper
typed can put its own tags on the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlsplit

from babel.numbers import format_currency, format_decimal, get_currency_precision

JSONDict = dict[str, Any]

_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote>", "</blockquote>"),
}
# What Telegram makes tappable in plain text: addresses, and /commands (tapping one sends it).
_TAPPABLE = re.compile(r"(?P<url>\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)]|\bt\.me/[^\s<>\"]+[^\s<>\".,;:!?)])"
                       r"|(?P<command>(?<![^\s(\[])/[a-z][a-z0-9_]{0,31}\b)")


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le", errors="surrogatepass")  # half a character drawn as �, never an error


def _piece(units: bytes, start: int, end: int) -> str:
    # An entity cutting a character in two (Telegram never sends one) leaves a replacement character, no error.
    return units[start * 2:end * 2].decode("utf-16-le", errors="replace")


def _escaped(text: str) -> str:
    return escape(text, quote=False).replace("\n", "<br>")


def _link(url: str, bot_username: str) -> str:
    """An opening <a> tag: a link to this bot opens in the person's own chat, any other in a new tab."""
    if not re.match(r"(?i)^(https?|tg)://", url):
        url = "https://" + url
    payload = deep_link(url, bot_username)
    if payload is not None:
        return f'<a class="deep-link" href="{escape(url)}" data-start="{escape(payload)}">'
    return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">'


def _plain(text: str, bot_username: str, tappable: bool) -> str:
    if not tappable:
        return _escaped(text)
    out, done = [], 0
    for found in _TAPPABLE.finditer(text):
        out.append(_escaped(text[done:found.start()]))
        word = escape(found.group(0))
        if found.group("url"):
            out.append(f"{_link(found.group(0), bot_username)}{word}</a>")
        else:
            out.append(f'<a class="command" data-command="{word}">{word}</a>')
        done = found.end()
    out.append(_escaped(text[done:]))
    return "".join(out)


def _open_tag(entity: JSONDict, text: str, bot_username: str) -> tuple[str, str]:
    kind = entity.get("type")
    if kind in _TAGS:
        return _TAGS[kind]
    if kind in ("text_link", "url"):
        return _link(entity.get("url") or text, bot_username), "</a>"
    return "", ""


def entities_html(text: str, entities: list[JSONDict] | None, bot_username: str = "") -> str:
    """`text` with its entities as HTML tags, everything else escaped, addresses and /commands tappable."""
    units = _utf16(text)
    length = len(units) // 2
    opens: dict[int, list[tuple[int, JSONDict]]] = {}
    closes: dict[int, list[JSONDict]] = {}
    for entity in entities or []:
        start, size = entity.get("offset", 0), entity.get("length", 0)
        if not (isinstance(start, int) and isinstance(size, int)) or size <= 0 or start < 0 or start + size > length:
            continue
        opens.setdefault(start, []).append((size, entity))
        closes.setdefault(start + size, []).append(entity)
    out: list[str] = []
    stack: list[tuple[JSONDict, str, str]] = []  # open entities, innermost last, with their tags
    cuts = sorted({0, length, *opens, *closes})
    for here, nxt in zip(cuts, cuts[1:] + [length]):
        # Close what ends here (innermost first), then open what starts here (outermost first).
        ending = [id(entity) for entity in closes.get(here, [])]
        reopen: list[tuple[JSONDict, str, str]] = []
        while ending and stack:
            entity, opening, closing = stack.pop()
            out.append(closing)
            if id(entity) in ending:
                ending.remove(id(entity))
            else:  # entities that overlap without nesting: closed and opened again
                reopen.append((entity, opening, closing))
        for entity, opening, closing in reversed(reopen):
            out.append(opening)
            stack.append((entity, opening, closing))
        for _size, entity in sorted(opens.get(here, []), key=lambda pair: -pair[0]):
            start, size = entity["offset"], entity["length"]
            opening, closing = _open_tag(entity, _piece(units, start, start + size), bot_username)
            if opening.startswith("<a") and any(o.startswith("<a") for _e, o, _c in stack):
                opening = closing = ""  # no link inside a link
            out.append(opening)
            stack.append((entity, opening, closing))
        if nxt > here:
            linked = any(e.get("type") in ("text_link", "url", "code", "pre") for e, _o, _c in stack)
            out.append(_plain(_piece(units, here, nxt), bot_username, tappable=not linked))
    out.extend(closing for _entity, _opening, closing in reversed(stack))
    return "".join(out)


def money(amount: int, currency: str) -> str:
    """An invoice's total as the payment sheet shows it."""
    if currency == "XTR":
        return f"⭐ {format_decimal(amount, locale='en_US')}"
    return format_currency(amount / 10 ** get_currency_precision(currency), currency, locale="en_US")


def web_address(url: str) -> bool:
    """Whether a button's address may open in a new tab (http or https, nothing a browser would run)."""
    return urlsplit(url).scheme.lower() in ("http", "https")


def deep_link(url: str, bot_username: str) -> str | None:
    """The ``start`` payload of a ``t.me/<bot>?start=…`` link to this bot ("" for a bare link), else None."""
    parts = urlsplit(url)
    if parts.netloc.lower() not in ("t.me", "telegram.me") or parts.path.strip("/").lower() != bot_username.lower():
        return None
    return parse_qs(parts.query).get("start", [""])[0]


def _button(button: JSONDict, row: int, col: int) -> JSONDict:
    shown: JSONDict = {"text": button.get("text", ""), "row": row, "col": col}
    if "callback_data" in button:
        shown["kind"] = "callback"
    elif "url" in button:
        shown.update(kind="url", url=button["url"])
    elif "switch_inline_query_current_chat" in button or "switch_inline_query" in button:
        query = button.get("switch_inline_query_current_chat", button.get("switch_inline_query"))
        shown.update(kind="inline", query=query or "")
    else:
        shown["kind"] = "other"
    return shown


def message_view(message: JSONDict, *, bot_id: int, bot_username: str,
                 file_link: Callable[[str], str | None], paid: bool = False) -> JSONDict:
    """One message as the page draws it; `file_link` gives where the page fetches a file's bytes (None: nowhere,
    e.g. a photo Telegram would download from a third-party address, which the sandbox never does)."""
    text = message.get("text")
    if text is not None:
        html = entities_html(text, message.get("entities"), bot_username)
    else:
        html = entities_html(message.get("caption") or "", message.get("caption_entities"), bot_username)
    view: JSONDict = {
        "id": message["message_id"],
        "mine": message.get("from", {}).get("id") != bot_id,
        "html": html,
        "edited": "edit_date" in message,
    }
    if message.get("via_bot"):
        view["via"] = message["via_bot"].get("username")
    if message.get("photo"):
        view["photo"] = file_link(message["photo"][-1]["file_id"]) or ""
    if message.get("document"):
        document = message["document"]
        view["document"] = {"name": document.get("file_name") or "file", "size": document.get("file_size", 0),
                            "url": file_link(document["file_id"]) or ""}
    for kind in ("sticker", "video", "voice", "audio", "animation"):
        if message.get(kind):
            view["media"] = kind
    if message.get("contact"):
        contact = message["contact"]
        view["contact"] = f"{contact.get('first_name', '')} · {contact.get('phone_number', '')}"
    if message.get("successful_payment"):
        payment = message["successful_payment"]
        view["payment"] = money(payment["total_amount"], payment["currency"])
    if message.get("invoice"):
        sheet = message["invoice"]
        view["invoice"] = {"title": sheet.get("title", ""), "description": sheet.get("description", ""),
                           "total": money(sheet["total_amount"], sheet["currency"]), "paid": paid}
    rows = ((message.get("reply_markup") or {}).get("inline_keyboard")) or []
    view["buttons"] = [[_button(b, r, c) for c, b in enumerate(row)] for r, row in enumerate(rows)]
    return view


def reply_keyboard_view(markup: JSONDict | None) -> JSONDict | None:
    """The reply keyboard the bot shows under the input box, or None."""
    if not markup:
        return None
    rows = [[{"text": b if isinstance(b, str) else b.get("text", ""),
              "contact": isinstance(b, dict) and bool(b.get("request_contact"))} for b in row]
            for row in markup.get("keyboard", [])]
    return {"rows": rows, "placeholder": markup.get("input_field_placeholder") or ""}


def inline_result_view(result: JSONDict) -> JSONDict:
    """An inline result as the list above the input box shows it."""
    thumbnail = result.get("thumbnail_url") or ""
    return {"id": result.get("id"), "title": result.get("title", ""), "description": result.get("description", ""),
            "thumbnail": thumbnail if thumbnail.startswith("/") else ""}
