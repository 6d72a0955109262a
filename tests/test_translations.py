"""The translations: every text the code says is in each language's catalog, whole, with the same
placeholders and tags, and no longer than Telegram allows where the English fits.

These read the code the way ``pybabel extract`` does (``babel.cfg``), so a text added without a
translation fails here, naming the text and the language.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from handlers import i18n
from handlers import menus as commands

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = sorted(set(i18n.LANGUAGES) - {i18n.SOURCE})
TAG = re.compile(r"</?[a-z]+(?: [^>]*)?>")
# Telegram's limit on a command's description in the menu.
COMMAND_DESCRIPTION_MAX = 256


@cache
def code_messages() -> dict[str | tuple[str, str], tuple[str, ...]]:
    """Every text the code marks for translation, with where it is and the notes for translators."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str | tuple[str, str], list[str]] = {}
    for filename, _line, message, comments, _context in extract_from_dir(
            ROOT, method_map, options_map, comment_tags=("Translators:",), strip_comment_tags=True):
        found.setdefault(message, []).extend([filename, *comments])
    return {message: tuple(where) for message, where in found.items()}


def key(message: str | tuple[str, str]) -> str:
    return message if isinstance(message, str) else message[0]


@cache
def catalog(language: str) -> Catalog:
    path = i18n.LOCALES / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with open(path, "rb") as file:
        return read_po(file, locale=language)


def placeholders(text: str) -> set[str]:
    return {name for _text, name, _spec, _conversion in Formatter().parse(text) if name is not None}


def tags(text: str) -> Counter:
    return Counter(TAG.findall(text))


def test_the_template_holds_every_text_the_code_says_and_no_other():
    with open(i18n.LOCALES / f"{i18n.DOMAIN}.pot", "rb") as file:
        template = {key(message.id) for message in read_po(file) if message.id}
    code = {key(message) for message in code_messages()}
    assert code - template == set(), "texts missing from messages.pot: run the extract command in README (Languages)"
    assert template - code == set(), "messages.pot has texts the code no longer says: extract again"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_the_code_says_is_translated(language):
    kept = catalog(language)
    missing, fuzzy = [], []
    for message in code_messages():
        entry = kept.get(key(message))
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            (entry.string,) if entry is not None else ())
        if entry is None or not all(strings):
            missing.append(key(message))
        elif entry.fuzzy:
            fuzzy.append(key(message))
    assert missing == [], f"{len(missing)} texts have no {language} translation"
    assert fuzzy == [], f"{len(fuzzy)} {language} translations are marked fuzzy (to be checked)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_and_tags(language):
    wrong = []
    for message in catalog(language):
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            for form in message.string:
                # A form may leave the count out ("one item" as a word), never add or rename a placeholder.
                allowed = placeholders(plural) | placeholders(singular)
                if not placeholders(form) <= allowed or tags(form) != tags(plural):
                    wrong.append((message.id, form))
        elif placeholders(message.string) != placeholders(message.id) or tags(message.string) != tags(message.id):
            wrong.append((message.id, message.string))
    assert wrong == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_command_descriptions_fit_telegrams_menu(language):
    with i18n.speaking(language):
        for menu in (commands.SHOPPER_COMMANDS, commands.SELLER_COMMANDS, commands.OPERATOR_COMMANDS):
            for command in commands.commands(menu):
                assert 1 <= len(command.description) <= COMMAND_DESCRIPTION_MAX


def is_button(message: str | tuple[str, str], where: tuple[str, ...]) -> bool:
    """Button labels: the texts of the keyboards, and those whose note says they are a button."""
    return any("keyboards.py" in item or "button" in item.lower() for item in where)


@pytest.mark.parametrize("language", TRANSLATED)
def test_button_labels_stay_short(language):
    kept, long = catalog(language), []
    for message, where in code_messages().items():
        if not is_button(message, where):
            continue
        entry = kept.get(key(message))
        if entry is None:
            continue
        english = re.sub(r"\{[a-z_]+\}", "", key(message))
        for form in entry.string if isinstance(entry.string, tuple) else (entry.string,):
            shown = re.sub(r"\{[a-z_]+\}", "", form)
            if len(shown) > max(len(english) * 1.6, len(english) + 10):
                long.append((key(message), form))
    assert long == []
