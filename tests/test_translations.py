"""The translations: every text the code says is in each language's catalog, whole, with the same
placeholders and tags, and no longer than Telegram allows where the English fits.

These read the code the way ``pybabel extract`` does (``babel.cfg``), so a text added without a
translation fails here, naming the text and the language.
"""

from __future__ import annotations

import gettext
import re
import shutil
from collections import Counter
from functools import cache
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from handlers import checkout, fit, i18n
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


def forms_only_for_one(kept: Catalog) -> set[int]:
    """The plural forms of a language that are used for the count 1 alone (there "one item" may say "one"
    in words and leave the number out)."""
    form_of = gettext.c2py(kept.plural_expr)
    counts: dict[int, set[int]] = {}
    for count in range(0, 2_000):
        counts.setdefault(form_of(count), set()).add(count)
    return {form for form, used in counts.items() if used == {1}}


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_and_tags(language):
    kept, wrong = catalog(language), []
    only_one = forms_only_for_one(kept)
    for message in kept:
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            for index, form in enumerate(message.string):
                # Every form says every placeholder, but a form for the count 1 alone may leave the count out.
                needed = placeholders(plural) | placeholders(singular)
                if index in only_one:
                    needed &= placeholders(form)
                if placeholders(form) != needed or tags(form) != tags(plural):
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


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_an_invoice_fits_telegrams_limits_in_every_language_and_never_cuts_a_number(language):
    with i18n.speaking(language):
        for checkout_id in (7, 10_000, 10**17):
            title = checkout._invoice_title(checkout_id)
            assert len(title) <= fit.INVOICE_TITLE_MAX and re.search(rf"#{checkout_id}(?!\d)", title)
        for orders in ([12], [10_000, 10_001], [10_000, 10_001, 10_002, 10_003, 10_004]):
            label = checkout._orders_label(orders)
            assert len(label) <= fit.INVOICE_LABEL_MAX and f"#{orders[0]}" in label
            shown = re.findall(r"#(\d+)", label)
            assert [int(number) for number in shown] == orders[:len(shown)]  # whole numbers, in order
            assert len(shown) == len(orders) or label.endswith("…")


def test_a_catalog_compiled_before_its_last_edit_is_refused_and_one_copied_later_is_not(tmp_path, monkeypatch):
    copy = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES, copy)
    monkeypatch.setattr(i18n, "LOCALES", copy)
    i18n.translations.cache_clear()
    try:
        # Copied without the files' times (the .po is now the newer file): still the same content, accepted.
        for po in copy.glob("*/LC_MESSAGES/*.po"):
            po.touch()
        i18n.check_catalogs()

        # A translation edited and not compiled: refused, naming the command.
        po = copy / "es" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
        po.write_text(po.read_text().replace('msgstr "Tu carrito"', 'msgstr "Tu cesta"', 1))
        assert 'msgstr "Tu cesta"' in po.read_text()
        with pytest.raises(i18n.CatalogError, match="compiled before its last edit.*scripts/setup"):
            i18n.check_catalogs()

        # A language with no compiled catalog at all: refused.
        po.write_text(po.read_text().replace('msgstr "Tu cesta"', 'msgstr "Tu carrito"', 1))
        (copy / "ru" / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").unlink()
        i18n.translations.cache_clear()
        with pytest.raises(i18n.CatalogError, match="not compiled"):
            i18n.check_catalogs()
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()
