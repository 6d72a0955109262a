"""The language the bot speaks to each person: gettext catalogs managed with Babel.

English is the source: every text is written in English in the code, marked
with :func:`_` (or :func:`ngettext` for counts, :func:`N_` where it is only
named and translated when shown), extracted to ``handlers/locales/messages.pot``
and translated in one ``.po`` file per language. ``scripts/setup`` compiles
them to ``.mo`` (``pybabel compile``); the bot refuses to start with a catalog
compiled before its last edit.

The language in force is per update (set by the application from the person's
``/language`` choice, else Telegram's ``language_code``) and per notice (the
recipient's, when the outbox delivers it): a context variable, so concurrent
updates each speak their own person's language.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import TypeVar

from babel.messages.pofile import read_po
from babel.support import Translations

SOURCE = "en"
# The languages the bot speaks, each named in itself (the /language buttons).
LANGUAGES = {
    "en": "English",
    "es": "Español",
    "id": "Bahasa Indonesia",
    "pt_BR": "Português (Brasil)",
    "ru": "Русский",
}
# Telegram's language codes (IETF tags, "pt-br", "es-419") whose language part names a language we speak
# in a single variety.
_BY_LANGUAGE = {"en": "en", "es": "es", "id": "id", "in": "id", "pt": "pt_BR", "ru": "ru"}
LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"

K = TypeVar("K")
COMPILE = f"run ./scripts/setup (or pybabel compile -d handlers/locales -D {DOMAIN})"
_CURRENT: ContextVar[str] = ContextVar("language", default=SOURCE)


class CatalogError(RuntimeError):
    """A language's compiled catalog is missing or older than its translations."""


def language_of(chosen: str | None, language_code: str | None) -> str:
    """The language to speak: the person's choice, else their Telegram app's language, else English.

    ``pt-br`` (and plain ``pt``) is Brazilian Portuguese, ``es-419`` Spanish; an unknown code is English.
    """
    if chosen in LANGUAGES:
        return chosen
    if language_code:
        return _BY_LANGUAGE.get(language_code.replace("_", "-").split("-")[0].lower(), SOURCE)
    return SOURCE


def current() -> str:
    """The language of the text being written now."""
    return _CURRENT.get()


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Write in ``language`` until the block ends."""
    token = _CURRENT.set(language if language in LANGUAGES else SOURCE)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def use(language: str) -> None:
    """Write in ``language`` for the rest of this task (the update being handled)."""
    _CURRENT.set(language if language in LANGUAGES else SOURCE)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (the source language has none: its texts are the code's)."""
    if language == SOURCE:
        return gettext.NullTranslations()
    return Translations.load(LOCALES, [language], DOMAIN)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(_CURRENT.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a sentence for the count ``n`` in the current language (Russian has three)."""
    return translations(_CURRENT.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is only named; :func:`_` translates it when shown."""
    return message


def check_catalogs() -> None:
    """Refuse to run with a language whose compiled catalog is missing or says other than its ``.po`` file
    (compared by content: an install or a copy does not keep the files' times)."""
    for language in LANGUAGES:
        if language == SOURCE:
            continue
        folder = LOCALES / language / "LC_MESSAGES"
        compiled = translations(language)
        if not (folder / f"{DOMAIN}.mo").exists() or not isinstance(compiled, Translations):
            raise CatalogError(f"the {LANGUAGES[language]} catalog is not compiled: {COMPILE}")
        with open(folder / f"{DOMAIN}.po", "rb") as file:
            written = read_po(file)
        for message in written:
            if not message.id or message.fuzzy or not message.string:
                continue
            if isinstance(message.id, tuple):
                said = tuple(compiled._catalog.get((message.id[0], form)) for form in range(len(message.string)))
            else:
                said = compiled._catalog.get(message.id)
            if said != message.string:
                raise CatalogError(f"the {LANGUAGES[language]} catalog was compiled before its last edit: {COMPILE}")


class Labels(Mapping[K, str]):
    """Names marked with :func:`N_`, given in the current language when looked up (state labels, buttons)."""

    def __init__(self, texts: dict[K, str]) -> None:
        self._texts = texts

    def __getitem__(self, key: K) -> str:
        return _(self._texts[key])

    def __iter__(self) -> Iterator[K]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)
