"""Every message within Telegram's limits, whatever the catalog holds.

Telegram counts a text's length after it has parsed the HTML (tags gone, entities such as
``&amp;`` one character), in UTF-16 code units, and refuses a message over 4,096 or a caption over
1,024. :func:`fit` shortens HTML to a limit: at the end of the last whole line that fits, or, when
a single line is too long, inside it. The cut is never inside a tag or an entity, the tags still
open there are closed, and a "…" says something was left out.
"""

from __future__ import annotations

import html
import re

from handlers.i18n import ngettext

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Telegram's limits on an invoice: its title, its description, each of its price lines.
INVOICE_TITLE_MAX, INVOICE_DESCRIPTION_MAX, INVOICE_LABEL_MAX = 32, 255, 32
MORE = "…"

# A line that is an item of a list ("• Tee (M)", "3. Tee (M)"), not a heading or a subtotal.
ITEM = re.compile(r"• |\d+\. ")
_TOKEN = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|\w+);|[^<&]+|[<&]")


def units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(text: str) -> int:
    """The length Telegram checks: the text of ``text``'s HTML once parsed, trimmed."""
    return units(html.unescape(re.sub(r"<[^>]*>", "", text)).strip())


def plain_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """The text of ``text``'s HTML as Telegram would show it, to send without formatting, within ``limit``."""
    plain = html.unescape(re.sub(r"<[^>]*>", "", text)).strip()
    if units(plain) <= limit:
        return plain
    return _prefix(plain, limit - units(MORE)).rstrip() + MORE


def fit(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` (HTML) as it is if it fits ``limit``, else cut to fit with a closing "…"."""
    if visible_length(text) <= limit:
        return text
    budget = limit - units("\n" + MORE)
    kept: list[str] = []
    length = 0  # characters in kept
    open_tags: list[str] = []
    seen = 0  # visible units in kept
    line_end: tuple[int, int] | None = None  # (characters, visible units) up to the last newline outside tags
    for match in _TOKEN.finditer(text):
        piece = match.group(0)
        if match.group(2):  # a tag
            name = match.group(2).lower()
            if match.group(1):
                if open_tags and open_tags[-1] == name:
                    open_tags.pop()
            elif not piece.endswith("/>"):
                open_tags.append(name)
        else:
            visible = html.unescape(piece) if piece.startswith("&") else piece
            if seen + units(visible) > budget:
                return _cut(text, kept, piece, budget - seen, line_end, budget)
            if "\n" in piece and not open_tags:
                newline = piece.rfind("\n")
                line_end = (length + newline, seen + units(piece[:newline]))
            seen += units(visible)
        kept.append(piece)
        length += len(piece)
    return text


def _cut(text: str, kept: list[str], piece: str, room: int, line_end: tuple[int, int] | None, budget: int) -> str:
    """End the text where it runs out of room: at the last whole line if that keeps most of it, else
    inside the run of text that does not fit (never inside an entity)."""
    done = "".join(kept)
    if line_end is not None and line_end[1] >= budget // 2:
        return _close(done[: line_end[0]].rstrip() + "\n" + MORE)
    part = "" if piece.startswith("&") else _prefix(piece, room)
    return _close((done + part).rstrip() + MORE)


def _prefix(text: str, room: int) -> str:
    """The longest start of ``text`` within ``room`` UTF-16 units (never half a character)."""
    used = 0
    for index, char in enumerate(text):
        used += units(char)
        if used > room:
            return text[:index]
    return text


def pages(blocks: list[str], limit: int = TEXT_LIMIT) -> list[str]:
    """Blocks of HTML (each short enough alone) gathered into as few messages as fit ``limit``, one block
    never split across two, in order (a block too long alone is cut, :func:`fit`)."""
    messages: list[str] = []
    for block in blocks:
        if messages and visible_length(messages[-1] + "\n" + block) <= limit:
            messages[-1] += "\n" + block
        else:
            messages.append(fit(block, limit))
    return messages


def fit_lines(head: list[str], lines: list[str], tail: list[str], limit: int = TEXT_LIMIT) -> str:
    """``head``, ``lines`` and ``tail`` joined by line breaks; when that is too long, as many of ``lines``
    as fit and "… and N more", so the head and the tail (a total, an address) are always shown."""
    whole = "\n".join([*head, *lines, *tail])
    if visible_length(whole) <= limit:
        return whole
    kept: list[str] = []
    for line in lines:
        if visible_length("\n".join([*head, *kept, line, _more(lines[len(kept) + 1:]), *tail])) > limit:
            break
        kept.append(line)
    return fit("\n".join([*head, *kept, _more(lines[len(kept):]), *tail]), limit)


def _more(left: list[str]) -> str:
    """What stands for the lines left out: "… and 3 more" (items, not the headings between them)."""
    items = sum(1 for line in left if ITEM.match(line.lstrip("\n")))
    if not items:
        return MORE
    # Translators: ends a list cut short; {count} is how many of its items are left out.
    return ngettext("… and {count} more", "… and {count} more", items).format(count=items)


def _close(text: str) -> str:
    """Close the tags left open in ``text``, innermost first."""
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-zA-Z][\w-]*)[^>]*>", text):
        name = match.group(2).lower()
        if match.group(1):
            if stack and stack[-1] == name:
                stack.pop()
        elif not match.group(0).endswith("/>"):
            stack.append(name)
    return text + "".join(f"</{name}>" for name in reversed(stack))
