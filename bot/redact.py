"""Logs carry ids only: secrets and personal data are taken out of every record, at every level.

PTB logs each Bot API call's parameters and each update at DEBUG (texts with addresses, shared
contacts with phone numbers, names); URLs carry the bot token; seller API keys and webhook secrets
have their own shapes. :class:`Redactor` rewrites a record's message before any handler writes it:
the configured secrets by value, tokens and keys by shape, and the values of the fields that hold
personal data or free text, in the forms they are printed (``phone_number='...'`` in PTB's reprs,
``'text': '...'`` in dicts, ``"address":"..."`` in JSON).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

HIDDEN = "[hidden]"
# Shapes of secrets whatever their value: bot tokens, our sellers' API keys and webhook secrets.
SECRET_SHAPES = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}|\bcsk_[A-Za-z0-9_-]{20,}|\bwhsec_[A-Za-z0-9+/=_-]{20,}")
# Fields whose values are personal or typed by a person.
PERSONAL_FIELDS = ("phone_number", "phone", "first_name", "last_name", "username", "address", "contact_name",
                   "text", "caption", "query", "vcard", "email", "last_address", "shipping_address",
                   "street_line1", "street_line2", "post_code", "name")
_FIELD = "|".join(PERSONAL_FIELDS)
# name='value' / name="value" (reprs, kwargs), 'name': 'value' / "name": "value" (dicts, JSON).
# Each quoted value is read one way only (a backslash pair, or any other character but its quote), so
# a value that never closes costs one pass, not one per way of splitting its backslashes.
PERSONAL_VALUES = re.compile(
    r"""(?P<key>(?<![\w])['"]?(?:""" + _FIELD + r""")['"]?\s*[:=]\s*)"""
    r"""(?:'(?:[^'\\]|\\.)*+'|"(?:[^"\\]|\\.)*+")""", re.DOTALL)
# Longer messages are cut before they are cleaned (and logged).
MAX_MESSAGE = 20_000
# A database error's detail quotes the row or the key it refused (PostgreSQL's "Failing row contains
# (...)" and "Key (phone)=(...)"): the rest of that line is hidden.
ROW_DETAIL = re.compile(r"(Failing row contains |Key \([^)\n]*\)=)[^\n]*")
# A phone number anywhere else (+ and 7 to 15 digits, as Telegram shares them).
PHONE = re.compile(r"\+\d[\d ()-]{6,18}\d")


class Redactor(logging.Filter):
    """A logging filter that hides secrets and personal data in each record's message."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is hidden whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def clean(self, text: str) -> str:
        """``text`` with secrets and personal data hidden."""
        for secret in self.secrets:
            text = text.replace(secret, HIDDEN)
        text = SECRET_SHAPES.sub(HIDDEN, text)
        text = PERSONAL_VALUES.sub(lambda m: f"{m['key']}'{HIDDEN}'", text)
        text = ROW_DETAIL.sub(lambda m: m[1] + HIDDEN, text)
        return PHONE.sub(HIDDEN, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "…"
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        cleaned = self.clean(message)
        if cleaned != record.getMessage():
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        return True


def install(secrets: Iterable[str | None]) -> Redactor:
    """Put a :class:`Redactor` on every handler of the root logger (call after configuring them)."""
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor
