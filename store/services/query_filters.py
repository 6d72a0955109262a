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
import sys
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import get_currency_symbol
from rapidfuzz.distance import Levenshtein

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
        # ("max" and "min" are not among them: "iphone pro max 256" names a phone, not a price.)
        "below": ("under", "below", "less than", "cheaper than", "up to", "at most", "no more than",
                  "not more than", "<", "<="),
        "above": ("over", "above", "more than", "at least", "from", ">", ">="),
        "between": ("between", "from"),
        "and": ("and", "to", "-"),
    },
    "ru": {
        "below": ("до", "дешевле", "меньше", "не дороже", "не больше", "максимум"),
        "above": ("от", "дороже", "больше", "не дешевле", "минимум"),
        "between": ("от", "между"),
        "and": ("до", "и", "-"),
    },
    "es": {
        "below": ("menos de", "por menos de", "hasta", "máximo", "maximo", "más barato que", "mas barato que"),
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
        "below": ("di bawah", "dibawah", "kurang dari", "maksimal", "lebih murah dari", "sampai"),
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
_UNITS = frozenset("mm cm km ml kg gb tb mb mah inch in oz lb lbs pcs pack g w v m l k x p hz mp "
                   "year years yr yrs month months day days person people persons seater".split())
# Amounts beyond this many minor units are no price a shopper types (a 27-digit number is a word).
AMOUNT_MAX = 10**12
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
    # The numbers of a price read from a bare range ("50-100"): they may be sizes ("jeans 32-34").
    bare: tuple[str, ...] = field(default=(), compare=False)

    def without_price(self) -> ParsedQuery:
        """The query with the numbers of its bare range back among its words (they were sizes)."""
        return ParsedQuery(normalize(" ".join([self.words, *self.bare])))

    def canonical(self, currency: str) -> str:
        """The query written back so that reading it again gives the same (what a paging button carries);
        the price first, so that cutting it to fit a button cuts words, not the filter."""
        parts = []
        # Written with its English price words and ended by ";", so that no word after it ("v neck") reads
        # as its unit, and a range is one whatever follows it.
        if self.price is not None:
            low, high = self.price.low, self.price.high
            if low is not None and high is not None:
                parts.append(f"between {_major(low, currency)} and {_major(high, currency)};")
            elif high is not None:
                parts.append(f"under {_major(high, currency)};")
            elif low is not None:
                parts.append(f"over {_major(low, currency)};")
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


def _currency_signs(currency: str, language: str | None) -> str:
    """The signs and words of a currency, as a regular expression's alternation."""
    symbols = {currency.casefold()}
    for code in ("en", language or "en"):
        try:
            symbols.add(get_currency_symbol(currency, locale=locale_for(code)).casefold())
        except (ValueError, KeyError):
            pass
    symbols |= set(CURRENCY_WORDS.get(currency, ()))
    return _alternation(sorted(symbols, key=len, reverse=True))


def _money_pattern(currency: str, language: str | None) -> str:
    sym = _currency_signs(currency, language)
    # An amount: an optional symbol, digits with an optional decimal part, an optional symbol after.
    return rf"(?:(?:{sym})\s*)?(\d+(?:[.,]\d+)*)(?:\s*(?:{sym})(?![^\W\d_]))?"


def _amount(text: str, currency: str, language: str | None) -> int | None:
    """A typed amount in minor units, or None when it is not one (too many decimals, zero, too large)."""
    if len(text) > 20:
        return None
    try:
        amount = parse_money(text, currency, language or "en")
    except (InvalidInput, ArithmeticError):
        return None
    return amount if 0 < amount <= AMOUNT_MAX else None


def parse_query(text: str, currency: str, language_code: str | None = None,
                labels: Container[str] = frozenset()) -> ParsedQuery:
    """Read a typed query: its search words, its price filter and the options it names.

    The price is read where a price word introduces an amount ("under 30", "below $15", "cheaper than 20",
    "over 100", "between 20 and 50") or where two amounts make a range ("50-100", not followed by a unit such
    as "kg"). A bare range (no price word, no currency) is a price only at the end of the query and when
    neither number is an option of the catalog (``labels``: "jeans 32-34", "size 40-42 shoes" are sizes). An
    amount that is not a price in the shop's currency (three decimals in dollars, "50%") stays a word.
    """
    language = _table_language(language_code)
    numbers: tuple[str, ...] = ()
    # "women's hoodie": the possessive is no size S.
    lowered = _POSSESSIVE.sub("", " ".join(text.casefold().split()))
    patterns = _patterns(currency, language)
    price: PriceRange | None = None
    for kind, pattern in patterns.prices:
        match = pattern.search(lowered)
        if match is None:
            continue
        if kind == "range":
            first, second = match.group(2), match.group(3)
            low, high = _amount(first, currency, language_code), _amount(second, currency, language_code)
            if low is None or high is None:
                continue
            bare = match.group("word") is None and patterns.currency.search(match.group(0)) is None
            if bare and (lowered[match.end():].strip() or _OPTION_BEFORE.search(lowered[:match.start()])):
                continue  # "jeans 32-34 blue", "size 40-42 shoes", "2-3 days": sizes and counts, not prices
            price = PriceRange(min(low, high), max(low, high))
            if bare:
                # Whether the catalog sells these numbers as sizes of what the words find is the search's to
                # say (store.services.search.CatalogSearch.read).
                numbers = (first, second)
        else:
            amount = _amount(match.group(1), currency, language_code)
            if amount is None:
                continue
            price = PriceRange(high=amount) if kind == "below" else PriceRange(low=amount)
        lowered = lowered[:match.start()] + " " + lowered[match.end():]
        break
    # "size M", "colour red": the naming word goes when an option follows it ("king size bed" keeps its words).
    lowered = patterns.options.sub(
        lambda m: m.group("next") if _is_option(m.group("next"), labels) else m.group(0), lowered)
    return ParsedQuery(normalize(lowered), price, numbers)


_SIZES = frozenset("xxs xs s m l xl xxl xxxl 2xl 3xl 4xl".split())


def _is_option(word: str, labels: Container[str]) -> bool:
    """Whether the word after "size" or "colour" is an option: a catalog label's word, a number or a size."""
    word = normalize(word)
    return bool(word) and (word in labels or word[0].isdigit() or word in _SIZES)


_EDGE = r"(?<![^\W_])"  # a word starts here (or a symbol such as "<")
_POSSESSIVE = re.compile(r"(?<=[^\W\d_])['’]s\b")
_OPTION_BEFORE = re.compile(r"(?:size|talla|tamanho|размер|ukuran)\s*$")


@dataclass(frozen=True, slots=True)
class _Patterns:
    """The patterns of one currency and one language, compiled once (a search reads every query with them)."""

    prices: tuple[tuple[str, re.Pattern[str]], ...]  # a range, below, above: in the order they are tried
    currency: re.Pattern[str]  # a currency sign or word
    options: re.Pattern[str]  # "size", "colour" ... and the word after


@functools.cache
def _patterns(currency: str, language: str | None) -> _Patterns:
    money = _money_pattern(currency, language)
    below = _alternation(_price_words("below", language))
    above = _alternation(_price_words("above", language))
    between = _alternation(_price_words("between", language))
    joiner = _alternation(_price_words("and", language))
    unit = _alternation(sorted(_UNITS, key=len, reverse=True))
    # Not a price when a unit, a percent sign or inches follow ("2-24 kg", "up to 50% off", '32-55"').
    end = rf"(?!\s*(?:{unit})\b)(?![\w.,])(?!\s*%)(?!\s*[\"″])"
    prices = (
        ("range", re.compile(rf"{_EDGE}(?P<word>(?:{between})\s+)?{money}\s*(?:{joiner})\s*{money}{end}")),
        ("below", re.compile(rf"{_EDGE}(?:{below})\s*{money}{end}")),
        ("above", re.compile(rf"{_EDGE}(?:{above})\s*{money}{end}")),
    )
    option_words = _alternation(sorted(
        set(OPTION_WORDS["en"]) | set(OPTION_WORDS.get(language or "en", ())), key=len, reverse=True))
    return _Patterns(prices, re.compile(_currency_signs(currency, language)),
                     re.compile(rf"{_EDGE}(?:{option_words})\s+(?P<next>[^\W_][\w]*)"))


# --- applying them ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65_536)
def label_words(label: str) -> frozenset[str]:
    """The words of a variant label ("M / Red" -> {"m", "red"}); one set per label, shared by every variant
    labelled so (a big catalog repeats its labels)."""
    return frozenset(sys.intern(word) for word in normalize(label).split())


def in_title(word: str, title_words: frozenset[str]) -> bool:
    """Whether the title has the word, or one a letter away ("grey" in a "Gray Hoodie"): the index found the
    product by it, so it needs no variant of that name."""
    if word in title_words:
        return True
    return len(word) >= 4 and any(Levenshtein.distance(word, title_word, score_cutoff=1) <= 1
                                  for title_word in title_words)


def option_match(option_words: Iterable[str], title_words: frozenset[str],
                 variants: Iterable[tuple[int, frozenset[str], bool]]) -> tuple[bool, int | None]:
    """Whether a product passes the options typed, and the variant they pick.

    ``variants`` are (variant id, label words, in stock). Option words the title already has need no variant
    ("red" for a "Red Mug"); the others must all be in one variant's label, an in-stock one preferred.
    Returns (passes, variant id or None when no word needed a variant).
    """
    needed = frozenset(w for w in option_words if not in_title(w, title_words))
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
