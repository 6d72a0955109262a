"""Filters a shopper types in plain words, read out of a search query, and the rules that apply them.

"hoodie under 30" is the words "hoodie" and a price filter; "red hoodie size M"
names options ("red", "m") that narrow the results to products having a
variant labelled so; "running shoes" names a category. This module reads the
query (:func:`parse_query`) and decides, product by product, whether it passes
(:func:`option_match`, :func:`category_of_word`); the search service
(:mod:`store.services.search`) applies them to the index's hits.

Amounts are read in the shop's currency, in major units, the way a seller's
price is read (:func:`store.money.parse_money`), and kept in minor units.
Pure code: no database, no Telegram.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import get_currency_symbol

from store.errors import InvalidInput
from store.money import digits, locale_for, parse_money
from store.search import normalize

# The words that introduce a price, per language (a Telegram language code, "pt-br" read as pt_BR). English is
# always understood (the query a button carries is written with it, see :meth:`ParsedQuery.canonical`); each
# other language's words are understood from a shopper speaking it (lower case; with and without accents, as
# people type both).
#   below: "under 30" (at most), above: "over 30" (at least), from/to: "from 20 to 50", "between 20 and 50".
PRICE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "below": ("under", "below", "less than", "cheaper than", "up to", "max", "at most", "no more than",
                  "not more than", "<", "<="),
        "above": ("over", "above", "more than", "at least", "min", "from", ">", ">="),
        "between": ("between", "from"),
        "and": ("and", "to", "-"),
    },
    "ru": {
        "below": ("до", "дешевле", "меньше", "не дороже", "не больше", "максимум", "макс"),
        "above": ("от", "дороже", "больше", "не дешевле", "минимум", "мин"),
        "between": ("от", "между"),
        "and": ("до", "и", "-"),
    },
    "es": {
        "below": ("menos de", "por menos de", "hasta", "máximo", "maximo", "más barato que", "mas barato que",
                  "bajo"),
        "above": ("más de", "mas de", "desde", "mínimo", "minimo", "más caro que", "mas caro que"),
        "between": ("entre", "de", "desde"),
        "and": ("y", "a", "hasta", "-"),
    },
    "pt_BR": {
        "below": ("até", "ate", "abaixo de", "menos de", "por menos de", "mais barato que", "no máximo",
                  "no maximo", "máximo", "maximo"),
        "above": ("acima de", "mais de", "a partir de", "no mínimo", "no minimo", "mínimo", "minimo",
                  "mais caro que"),
        "between": ("entre", "de"),
        "and": ("e", "a", "até", "ate", "-"),
    },
    "id": {
        "below": ("di bawah", "dibawah", "kurang dari", "maksimal", "maks", "lebih murah dari", "sampai"),
        "above": ("di atas", "diatas", "lebih dari", "minimal", "mulai dari", "mulai", "lebih mahal dari"),
        "between": ("antara", "dari"),
        "and": ("dan", "sampai", "hingga", "-"),
    },
}
# Words naming which option follows ("size M", "colour red"): dropped, the option word kept.
OPTION_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("size", "colour", "color", "in size", "in colour", "in color"),
    "ru": ("размер", "цвет", "цвета"),
    "es": ("talla", "color", "de color", "en talla"),
    "pt_BR": ("tamanho", "cor", "na cor", "no tamanho"),
    "id": ("ukuran", "warna"),
}
# Currency words typed next to an amount, besides the currency's code and symbols.
CURRENCY_WORDS: dict[str, tuple[str, ...]] = {
    "USD": ("dollar", "dollars", "bucks"), "EUR": ("euro", "euros"), "GBP": ("pound", "pounds"),
    "RUB": ("rub", "руб", "рублей"), "BRL": ("reais", "real"), "IDR": ("rp", "rupiah"),
}
# Units that make a number range a size, not a price ("dumbbell 2-24 kg").
_UNITS = frozenset("mm cm km ml kg gb tb mb mah inch oz lb lbs pcs pack g w v".split())
# A category word must be at least this long ("home", "shoes"), so "&" or "of" never is one.
CATEGORY_WORD_MIN = 4


@dataclass(frozen=True, slots=True)
class PriceRange:
    """Prices from ``low`` to ``high`` (minor units, both included; None: no bound)."""

    low: int | None = None
    high: int | None = None

    def admits(self, price: int) -> bool:
        """Whether ``price`` is within the range."""
        return (self.low is None or price >= self.low) and (self.high is None or price <= self.high)


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query read: the words to search for (normalised; "size" and "colour" dropped) and a price filter."""

    words: str
    price: PriceRange | None = None

    def canonical(self, currency: str) -> str:
        """The query written back so that reading it again gives the same (what a paging button carries);
        the price first, so that cutting it to fit a button cuts words, not the filter."""
        parts = []
        if self.price is not None:
            low, high = self.price.low, self.price.high
            if low is not None and high is not None:
                parts.append(f"{_major(low, currency)}-{_major(high, currency)}")
            elif high is not None:
                parts.append(f"under {_major(high, currency)}")
            elif low is not None:
                parts.append(f"over {_major(low, currency)}")
        if self.words:
            parts.append(self.words)
        return " ".join(parts)


def _major(amount: int, currency: str) -> str:
    """Minor units as a plain number in major units ("30", "15.5")."""
    return format(Decimal(amount).scaleb(-digits(currency)).normalize(), "f")


def _table_language(language_code: str | None) -> str | None:
    if not language_code:
        return None
    code = language_code.replace("-", "_")
    if code in PRICE_WORDS:
        return code
    base = code.split("_")[0].lower()
    if base == "pt":
        return "pt_BR"
    return base if base in PRICE_WORDS else None


def _price_words(kind: str, language: str | None) -> list[str]:
    """English's and the language's price words of one kind, longest first ("less than" before "less")."""
    words = list(PRICE_WORDS["en"][kind])
    if language and language != "en":
        words += PRICE_WORDS.get(language, {}).get(kind, ())
    return sorted(dict.fromkeys(w.casefold() for w in words), key=len, reverse=True)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)


def _money_pattern(currency: str, language: str | None) -> str:
    symbols = {currency.casefold()}
    for code in ("en", language or "en"):
        try:
            symbols.add(get_currency_symbol(currency, locale=locale_for(code)).casefold())
        except (ValueError, KeyError):
            pass
    symbols |= set(CURRENCY_WORDS.get(currency, ()))
    sym = _alternation(sorted(symbols, key=len, reverse=True))
    # An amount: an optional symbol, digits with an optional decimal part, an optional symbol after.
    return rf"(?:(?:{sym})\s*)?(\d+(?:[.,]\d+)*)(?:\s*(?:{sym})(?![^\W\d_]))?"


def _amount(text: str, currency: str, language: str | None) -> int | None:
    """A typed amount in minor units, or None when it is not one (too many decimals, zero)."""
    try:
        return parse_money(text, currency, language or "en")
    except InvalidInput:
        return None


def parse_query(text: str, currency: str, language_code: str | None = None) -> ParsedQuery:
    """Read a typed query: its search words, its price filter and the options it names.

    The price is read where a price word introduces an amount ("under 30", "below $15", "cheaper than 20",
    "over 100", "between 20 and 50") or where two amounts make a range ("50-100", not followed by a unit such
    as "kg"). An amount that is not a price in the shop's currency (three decimals in dollars) stays a word.
    """
    language = _table_language(language_code)
    lowered = " ".join(text.casefold().split())
    patterns, options = _patterns(currency, language)
    price: PriceRange | None = None
    for kind, pattern in patterns:
        match = pattern.search(lowered)
        if match is None:
            continue
        if kind == "range":
            low, high = (_amount(g, currency, language_code) for g in match.groups())
            if low is None or high is None:
                continue
            price = PriceRange(min(low, high), max(low, high))
        else:
            amount = _amount(match.group(1), currency, language_code)
            if amount is None:
                continue
            price = PriceRange(high=amount) if kind == "below" else PriceRange(low=amount)
        lowered = lowered[:match.start()] + " " + lowered[match.end():]
        break
    return ParsedQuery(normalize(options.sub(" ", lowered)), price)


_EDGE = r"(?<![^\W_])"  # a word starts here (or a symbol such as "<")


@functools.cache
def _patterns(currency: str, language: str | None) -> tuple[tuple[tuple[str, re.Pattern[str]], ...], re.Pattern[str]]:
    """The price patterns (a range, below, above) and the option words' pattern of a currency and a language,
    compiled once (a search reads every query with them)."""
    money = _money_pattern(currency, language)
    below = _alternation(_price_words("below", language))
    above = _alternation(_price_words("above", language))
    between = _alternation(_price_words("between", language))
    joiner = _alternation(_price_words("and", language))
    unit = _alternation(sorted(_UNITS, key=len, reverse=True))
    end = rf"(?!\s*(?:{unit})\b)(?![\w.,])"
    prices = (
        ("range", re.compile(rf"{_EDGE}(?:(?:{between})\s+)?{money}\s*(?:{joiner})\s*{money}{end}")),
        ("below", re.compile(rf"{_EDGE}(?:{below})\s*{money}{end}")),
        ("above", re.compile(rf"{_EDGE}(?:{above})\s*{money}{end}")),
    )
    option_words = _alternation(sorted(
        set(OPTION_WORDS["en"]) | set(OPTION_WORDS.get(language or "en", ())), key=len, reverse=True))
    return prices, re.compile(rf"{_EDGE}(?:{option_words})\s+(?=[^\W_])")


# --- applying them ------------------------------------------------------------------------------


def label_words(label: str) -> frozenset[str]:
    """The words of a variant label ("M / Red" -> {"m", "red"})."""
    return frozenset(normalize(label).split())


def option_match(option_words: Iterable[str], title_words: frozenset[str],
                 variants: Iterable[tuple[int, frozenset[str], bool]]) -> tuple[bool, int | None]:
    """Whether a product passes the options typed, and the variant they pick.

    ``variants`` are (variant id, label words, in stock). Option words the title already has need no variant
    ("red" for a "Red Mug"); the others must all be in one variant's label, an in-stock one preferred.
    Returns (passes, variant id or None when no word needed a variant).
    """
    needed = frozenset(w for w in option_words if w not in title_words)
    if not needed:
        return True, None
    picked: int | None = None
    for variant_id, words, in_stock in variants:
        if needed <= words:
            if in_stock:
                return True, variant_id
            if picked is None:
                picked = variant_id
    return picked is not None, picked


def category_words(categories: Mapping[int, str]) -> dict[str, int]:
    """Each word naming exactly one category ("kitchen" for "Home & Kitchen"), singular and plural forms."""
    found: dict[str, set[int]] = {}
    for category_id, name in categories.items():
        for word in normalize(name).split():
            if len(word) < CATEGORY_WORD_MIN:
                continue
            forms = {word, word[:-1]} if word.endswith("s") and len(word) > CATEGORY_WORD_MIN else {word, word + "s"}
            for form in forms:
                found.setdefault(form, set()).add(category_id)
    return {word: next(iter(ids)) for word, ids in found.items() if len(ids) == 1}


def category_of_word(words: str, by_word: Mapping[str, int]) -> tuple[int, str] | None:
    """The category a query word names (its id, and the query without that word), or None."""
    tokens = words.split()
    for i, token in enumerate(tokens):
        category_id = by_word.get(token)
        if category_id is not None:
            return category_id, " ".join(tokens[:i] + tokens[i + 1:])
    return None
