"""In-memory fuzzy product search: the index behind the shop's search box.

Owns text normalisation, an inverted index of normalised tokens and the
ranking of hits. Shoppers make typos, type half a word, drop words and swap
their order, so every query token is expanded against the vocabulary: exact,
as a prefix (sorted vocabulary + bisect) and within one edit, transpositions
included (a SymSpell-style map of single-character deletions), and within two
edits when nothing closer exists (from 7 typed letters, through the same map).
Words run together ("chocolatechip") are split into two known words, and two
typed words that make one known word ("choco late") are joined. Candidates are
the products matching every matched token (set intersections run in C); only
a bounded pool of them, of fixed size and chosen by relevance, is re-ranked
with rapidfuzz, so a longer page never changes the order of the first results.
Title matches outrank matches found only in the extra fields (category, brand,
seller, variants).

upsert/remove touch only the postings of one product, so the index can follow
catalog changes while the bot runs. Not thread-safe: use it from one event
loop. Pure Python + rapidfuzz: no database, no Telegram.
"""

from __future__ import annotations

import heapq
import math
import re
import sys
import unicodedata
from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

__all__ = ["SearchDoc", "SearchHit", "SearchIndex", "normalize"]

# Match quality of a query token against one vocabulary term (exact is 1.0).
PREFIX_QUALITY = 0.9
TYPO_QUALITY = 0.8
FAR_TYPO_QUALITY = 0.6
# A match found only in the extra fields counts this much of a title match.
FIELD_FACTOR = 0.5
# Tokens shorter than this are not expanded as prefixes or for typos: "c" or
# "bl" would pull in half the catalog; they still score on the re-ranked pool.
MIN_EXPAND_LEN = 3
# Typos are looked for in tokens of at least this length (one edit)...
MIN_TYPO_LEN = 4
# ...and, when nothing within one edit exists, two edits in long tokens
# ("chocolte" for "chocolate": one letter dropped, another wrong).
MIN_FAR_TYPO_LEN = 7
# Two edits by scanning the whole vocabulary, when the deletion map found none
# (two wrong letters in a word of the same length), only in tokens this long.
MIN_SCAN_TYPO_LEN = 8
# A word run together from two known words: each part at least this long.
MIN_SPLIT_PART = 2
MAX_PREFIX_TERMS = 400
# Weight of a short word in the coverage score, about that of a common word.
SHORT_WEIGHT = 1.0
# How many candidates are re-ranked with rapidfuzz at most (whatever the page
# size, up to this many results), plus up to STARTS_KEEP of the first
# STARTS_SCAN titles starting with the query.
POOL_SIZE = 120
# Fewer products than this matching every word: also take those missing one.
RELAX_BELOW = 50
# When a query word matched nothing, the pool is the candidates most similar to
# the whole query (rapidfuzz over at most this many titles, the shortest).
SIMILAR_SCAN = 4000
STARTS_SCAN = 300
STARTS_KEEP = 30
# Final score = 100 * (coverage, similarity, starts-with, in-order) weighted as below.
W_COVERAGE = 0.65
W_SIMILARITY = 0.20
W_STARTS = 0.10
W_STARTS_WORD = 0.03  # small: "milk" should rank "Fresh Milk" above "Milk Chocolate Bar"
W_ORDER = 0.05

_NON_WORD = re.compile(r"[\W_]+")
# Letters tried in place of a missing or wrong one, besides the typed word's own.
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True, slots=True)
class SearchDoc:
    """One product as the index sees it."""

    product_id: int
    title: str
    fields: tuple[str, ...] = ()  # extra searchable text: category, brand, seller name, variant labels


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked result; score is 0..100, higher is better."""

    product_id: int
    score: float


def normalize(text: str) -> str:
    """Case-fold, strip accents (NFKD), turn punctuation into spaces and collapse spaces."""
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


class _Doc(NamedTuple):
    title: str  # normalised title
    title_terms: tuple[str, ...]
    field_terms: tuple[str, ...]  # not already among title_terms


class _Token(NamedTuple):
    text: str
    terms: dict[str, float]  # vocabulary term -> match quality
    docs: set[int] | None  # products matching it anywhere; None: too short to expand
    title_close: set[int] | None  # products matching it in the title exactly or as a prefix
    title_any: set[int] | None  # products matching it in the title, typos included
    weight: float


def _terms(tokens: list[str]) -> list[str]:
    """Tokens plus the joins of a short token with its neighbour ("t shirt" -> "tshirt")."""
    out = list(tokens)
    for a, b in zip(tokens, tokens[1:]):
        if len(a) <= 2 or len(b) <= 2:
            out.append(a + b)
    return list(dict.fromkeys(sys.intern(t) for t in out))


def _union(sets: list[set[int] | None]) -> set[int]:
    """The union of ``sets`` (None and empty ones skipped); the set itself, not a copy, when only one is left.

    Callers never change what this returns.
    """
    present = [s for s in sets if s]
    if not present:
        return set()
    if len(present) == 1:
        return present[0]
    return present[0].union(*present[1:])


def _deletions(term: str) -> set[str]:
    return {term[:i] + term[i + 1 :] for i in range(len(term))}


class SearchIndex:
    """Fuzzy, typo-tolerant search over product titles and extra fields."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._docs: dict[int, _Doc] = {}
        self._title_len: dict[int, int] = {}
        self._titles: list[tuple[str, int]] = []  # sorted (normalised title, product id)
        self._title_post: dict[str, set[int]] = {}
        self._field_post: dict[str, set[int]] = {}
        self._vocab: list[str] = []  # sorted, for prefix expansion
        # deletion of one character -> the term(s) it comes from (a str, or a tuple when several)
        self._deletes: dict[str, str | tuple[str, ...]] = {}

    # -- building and upkeep ------------------------------------------------

    def build(self, docs: Iterable[SearchDoc]) -> None:
        """Replace the whole index with ``docs``."""
        self._reset()
        for doc in docs:
            if doc.product_id in self._docs:
                self._unpost(doc.product_id, bulk=True)
            self._post(doc, bulk=True)
        self._vocab = sorted(self._title_post.keys() | self._field_post.keys())
        self._titles = sorted((doc.title, pid) for pid, doc in self._docs.items())
        for term in self._vocab:
            self._add_deletions(term)

    def upsert(self, doc: SearchDoc) -> None:
        """Add a product, or replace what the index knows about it."""
        if doc.product_id in self._docs:
            self._unpost(doc.product_id)
        self._post(doc)

    def remove(self, product_id: int) -> None:
        """Drop a product; no error if it is not indexed."""
        if product_id in self._docs:
            self._unpost(product_id)

    def __len__(self) -> int:
        return len(self._docs)

    def _post(self, doc: SearchDoc, bulk: bool = False) -> None:
        # In bulk (build), the sorted lists and the deletion map are made at the end.
        pid = doc.product_id
        title = normalize(doc.title)
        title_terms = tuple(_terms(title.split()))
        field_tokens: list[str] = []
        for field in doc.fields:
            field_tokens.extend(_terms(normalize(field).split()))
        in_title = set(title_terms)
        field_terms = tuple(t for t in dict.fromkeys(field_tokens) if t not in in_title)
        self._docs[pid] = _Doc(title, title_terms, field_terms)
        self._title_len[pid] = len(title)
        if not bulk:
            insort(self._titles, (title, pid))
        for postings, terms in ((self._title_post, title_terms), (self._field_post, field_terms)):
            for term in terms:
                docs = postings.get(term)
                if docs is None:
                    if not bulk and term not in self._title_post and term not in self._field_post:
                        insort(self._vocab, term)
                        self._add_deletions(term)
                    postings[term] = {pid}
                else:
                    docs.add(pid)

    def _unpost(self, pid: int, bulk: bool = False) -> None:
        doc = self._docs.pop(pid)
        del self._title_len[pid]
        if not bulk:
            del self._titles[bisect_left(self._titles, (doc.title, pid))]
        for postings, terms in ((self._title_post, doc.title_terms), (self._field_post, doc.field_terms)):
            for term in terms:
                docs = postings[term]
                docs.discard(pid)
                if not docs:
                    del postings[term]
                    if not bulk and term not in self._title_post and term not in self._field_post:
                        i = bisect_left(self._vocab, term)
                        del self._vocab[i]
                        self._drop_deletions(term)

    def _add_deletions(self, term: str) -> None:
        if len(term) < MIN_TYPO_LEN:
            return
        deletes = self._deletes
        for d in _deletions(term):
            have = deletes.get(d)
            if have is None:
                deletes[d] = term
            elif isinstance(have, str):
                deletes[d] = (have, term)
            else:
                deletes[d] = have + (term,)

    def _drop_deletions(self, term: str) -> None:
        if len(term) < MIN_TYPO_LEN:
            return
        deletes = self._deletes
        for d in _deletions(term):
            have = deletes.get(d)
            if have == term:
                del deletes[d]
            elif isinstance(have, tuple):
                rest = tuple(t for t in have if t != term)
                deletes[d] = rest[0] if len(rest) == 1 else rest

    # -- querying -----------------------------------------------------------

    def _known(self, term: str) -> bool:
        return term in self._title_post or term in self._field_post

    def _typo_terms(self, tok: str) -> set[str]:
        """Vocabulary terms within one edit of ``tok`` (transposition = one edit)."""
        found: set[str] = set()
        deletes = self._deletes

        def take(have: str | tuple[str, ...] | None) -> None:
            if have is None:
                return
            if isinstance(have, str):
                found.add(have)
            else:
                found.update(have)

        take(deletes.get(tok))  # the shopper missed a letter
        if len(tok) >= MIN_TYPO_LEN:
            for d in _deletions(tok):
                if self._known(d) and len(d) >= MIN_TYPO_LEN - 1:
                    found.add(d)  # an extra letter
                take(deletes.get(d))  # a wrong or swapped letter
        found.discard(tok)
        return {t for t in found if OSA.distance(tok, t, score_cutoff=1) <= 1}

    def _far_terms(self, tok: str) -> set[str]:
        """Vocabulary terms two edits from ``tok``, the likeliest kinds first.

        The deletion map finds, without scanning the vocabulary: a letter
        missing and another wrong (a substitution of ``tok`` is a deletion of
        the term), two letters missing (an insertion into ``tok`` is one), two
        extra letters, an extra letter with a wrong one, and two swapped
        letters with one missing or extra. Two wrong letters
        in a word of the same length need a scan, done only in long words.
        """
        deletes, found = self._deletes, set()

        def take(have: str | tuple[str, ...] | None) -> None:
            if have is not None:
                found.update((have,) if isinstance(have, str) else have)

        alphabet = set(_ALPHABET).union(tok)
        for i in range(len(tok) + 1):
            head, tail = tok[:i], tok[i:]
            for ch in alphabet:
                take(deletes.get(head + ch + tail))  # two letters missing
                if tail:
                    take(deletes.get(head + ch + tail[1:]))  # one missing, one wrong
        for i in range(len(tok) - 1):
            swapped = tok[:i] + tok[i + 1] + tok[i] + tok[i + 2 :]
            take(deletes.get(swapped))  # two letters swapped, another missing
            for d in _deletions(swapped):
                if self._known(d):
                    found.add(d)  # two letters swapped, another extra
        for d in _deletions(tok):
            for dd in _deletions(d):
                if self._known(dd):
                    found.add(dd)  # two extra letters
                take(deletes.get(dd))  # an extra letter and a wrong one
        found = {t for t in found if OSA.distance(tok, t, score_cutoff=2) <= 2}
        if not found and len(tok) >= MIN_SCAN_TYPO_LEN:
            found = {t for t, _, _ in process.extract(tok, self._vocab, scorer=OSA.distance, score_cutoff=2, limit=20)}
        found.discard(tok)
        return found

    def _split(self, tok: str) -> tuple[str, str] | None:
        """Two known words ``tok`` was run together from, those most often together in a title; None if none."""
        best, best_key = None, (0, 0)
        title_post, empty = self._title_post, set()
        for i in range(MIN_SPLIT_PART, len(tok) - MIN_SPLIT_PART + 1):
            a, b = tok[:i], tok[i:]
            if not (self._known(a) and self._known(b)):
                continue
            docs_a, docs_b = title_post.get(a, empty), title_post.get(b, empty)
            together = len(docs_a & docs_b)
            key = (together, min(len(a), len(b)))
            if key > best_key or best is None:
                best, best_key = (a, b), key
        return best

    def _has_close(self, tok: str) -> bool:
        """Whether ``tok`` matches a vocabulary term exactly, as a prefix or within one edit."""
        if self._known(tok):
            return True
        i = bisect_left(self._vocab, tok)
        if i < len(self._vocab) and self._vocab[i].startswith(tok):
            return True
        return len(tok) >= MIN_EXPAND_LEN and bool(self._typo_terms(tok))

    def _expand(self, tok: str, short_ok: bool, joins: dict[str, float] | None = None) -> _Token:
        """The vocabulary terms ``tok`` may stand for, and the products having them."""
        terms: dict[str, float] = dict(joins or {})
        if self._known(tok):
            terms[tok] = 1.0
        if len(tok) < MIN_EXPAND_LEN and not short_ok:
            return _Token(tok, terms, None, None, None, SHORT_WEIGHT)
        vocab = self._vocab
        i = bisect_left(vocab, tok)
        end = min(len(vocab), i + MAX_PREFIX_TERMS)
        while i < end and vocab[i].startswith(tok):
            terms.setdefault(vocab[i], PREFIX_QUALITY)
            i += 1
        typo_terms: set[str] = set()
        if len(tok) >= MIN_EXPAND_LEN:
            typo_terms = self._typo_terms(tok)
            if not terms and not typo_terms and len(tok) >= MIN_FAR_TYPO_LEN:
                typo_terms = self._far_terms(tok)
                quality = FAR_TYPO_QUALITY
            else:
                quality = TYPO_QUALITY
            for t in typo_terms:
                terms.setdefault(t, quality)
        title_post, field_post = self._title_post, self._field_post
        # Each wider set is the narrower one plus what it adds, and a set that adds
        # nothing is shared, not copied: a common word's postings are large.
        title_close = _union([title_post.get(t) for t, q in terms.items() if q > TYPO_QUALITY])
        title_any = _union([title_close, *(title_post.get(t) for t in typo_terms)])
        docs = _union([title_any, *(field_post.get(t) for t in terms)])
        weight = math.log(1.0 + len(self._docs) / (1.0 + len(docs))) if docs else 1.0
        return _Token(tok, terms, docs, title_close, title_any, weight)

    def _query_tokens(self, normalized: str) -> tuple[list[str], dict[str, dict[str, float]]]:
        """Distinct query words (run-together ones split), and the known words each makes with a neighbour."""
        typed = normalized.split()
        words: list[str] = []
        for w in typed:
            split = None
            if len(w) >= 2 * MIN_SPLIT_PART and not self._has_close(w):
                split = self._split(w)  # "chocolatechip" -> "chocolate chip"
            words.extend(split or (w,))
        words = list(dict.fromkeys(words))
        joins: dict[str, dict[str, float]] = {}
        for a, b in zip(words, words[1:]):
            joined = a + b
            if self._known(joined):
                made = {joined: 1.0}
            elif len(joined) >= MIN_FAR_TYPO_LEN and len(a) > 2 and len(b) > 2:
                # "choco lat" -> "chocolate"; a typo, so "apple saouce" still ranks "Apple Sauce" above "Applesauce".
                made = dict.fromkeys(sorted(self._typo_terms(joined)), TYPO_QUALITY)
            else:
                continue
            # "t shirt" typed for "tshirt", "choco late" for "chocolate": either word may stand for the joined one.
            for word in (a, b):
                have = joins.setdefault(word, {})
                for term, quality in made.items():
                    have[term] = max(quality, have.get(term, 0.0))
        return words, joins

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """Products best matching ``query``, best first; [] for a blank query."""
        qn = normalize(query)
        if not qn or limit <= 0 or not self._docs:
            return []
        words, joins = self._query_tokens(qn)
        qn = " ".join(words)  # ranked as if typed with the split words
        tokens = [self._expand(w, False, joins.get(w)) for w in words]
        gens = [t for t in tokens if t.docs]
        if not gens:
            # Only short words ("tv", "xl"), or no long word matched: expand them all.
            tokens = [self._expand(w, True, joins.get(w)) for w in words]
            gens = [t for t in tokens if t.docs]
            if not gens:
                return []
        shorts = [t.text for t in tokens if t.docs is None]
        # A word that matched nothing: the pool is chosen by similarity to the whole query.
        unmatched = any(t.docs is not None and not t.docs for t in tokens)
        pool = self._candidates(qn, gens, shorts, limit, unmatched)
        return self._rank(qn, tokens, pool, limit)

    def _candidates(self, qn: str, gens: list[_Token], shorts: list[str], limit: int, unmatched: bool) -> list[int]:
        """A bounded pool of products worth re-ranking, the same whatever ``limit`` up to POOL_SIZE."""
        size = max(POOL_SIZE, limit)
        sets: list[set[int]] = sorted((t.docs for t in gens if t.docs), key=len)
        full = sets[0].intersection(*sets[1:])  # products matching every word
        pick = partial(self._pick, qn=qn, gens=gens, shorts=shorts, similar=unmatched)
        if len(full) >= RELAX_BELOW or len(sets) == 1:
            pool = pick(full, size=size)
            if len(full) > size:
                # Typed from the start of a title ("chocolate chocolate" for
                # "Chocolate Chocolate Chip Muffins"): keep those in the pool.
                pool = list(dict.fromkeys(pool + self._titles_starting_with(qn)))
            return pool
        # Too few: one word may be noise or a typo too far, so allow one to miss...
        relaxed: set[int] = set()
        for skip in range(len(sets)):
            rest = sets[:skip] + sets[skip + 1 :]
            relaxed |= rest[0].intersection(*rest[1:])
        if len(full) + len(relaxed) < limit and len(sets) > 2:
            # ...or several (an over-specific query): from each of the rarest
            # words, keep every further word that still leaves some products.
            for start in range(min(3, len(sets))):
                running = sets[start]
                for j, other in enumerate(sets):
                    if j != start:
                        narrowed = running & other
                        if narrowed:
                            running = narrowed
                relaxed |= running
        relaxed -= full
        return list(full) + pick(relaxed, size=size - len(full))

    def _pick(
        self, cands: set[int], *, qn: str, gens: list[_Token], shorts: list[str], similar: bool, size: int
    ) -> list[int]:
        """At most ``size`` of ``cands``, the likeliest first."""
        for prefix in shorts:
            if len(cands) <= size:
                break
            # Short words were left out of the sets; prefer products that have
            # them too ("original hu" is most likely "original hummus ...").
            narrowed = self._title_starting_with(prefix, cands)
            if narrowed:
                cands = narrowed
        if len(cands) <= size:
            return list(cands)
        # Prefer products matching every word in the title (exactly or as a
        # prefix, then with typos), then the shortest titles, which a one-word
        # query like "milk" should rank first; when a word matched nothing,
        # the titles most like the whole query instead.
        pool: list[int] = []
        rest = cands
        for tier in ("title_close", "title_any"):
            strong = rest.intersection(*(getattr(t, tier) for t in gens))
            if len(pool) + len(strong) >= size:
                return pool + self._likeliest(strong, size - len(pool), qn, similar)
            pool += strong
            rest = rest - strong
        return pool + self._likeliest(rest, size - len(pool), qn, similar)

    def _likeliest(self, cands: set[int], size: int, qn: str, similar: bool) -> list[int]:
        """The ``size`` shortest titles of ``cands``, or the ``size`` most similar to ``qn``."""
        key = self._title_len.__getitem__
        if not similar:
            return heapq.nsmallest(size, cands, key=key)
        scan = cands if len(cands) <= SIMILAR_SCAN else heapq.nsmallest(SIMILAR_SCAN, cands, key=key)
        docs = self._docs
        choices = {pid: docs[pid].title for pid in scan}
        found = process.extract(qn, choices, scorer=fuzz.token_sort_ratio, limit=None)
        # Ties (equal similarity) go to the shorter title, then the lower id: the pool never depends on set order.
        found.sort(key=lambda hit: (-hit[1], key(hit[2]), hit[2]))
        return [pid for _, _, pid in found[:size]]

    def _titles_starting_with(self, qn: str) -> list[int]:
        """Up to a few dozen products whose title starts with ``qn``, shortest first."""
        titles = self._titles
        i = bisect_left(titles, (qn,))
        found = []
        for title, pid in titles[i : i + STARTS_SCAN]:
            if not title.startswith(qn):
                break
            found.append((len(title), pid))
        return [pid for _, pid in heapq.nsmallest(STARTS_KEEP, found)]

    def _title_starting_with(self, prefix: str, within: set[int]) -> set[int]:
        """Products of ``within`` with a title word starting with ``prefix``."""
        vocab, title_post = self._vocab, self._title_post
        found: set[int] = set()
        i = bisect_left(vocab, prefix)
        while i < len(vocab) and vocab[i].startswith(prefix):
            docs = title_post.get(vocab[i])
            if docs:
                found |= within & docs  # C iterates over the smaller set
            i += 1
        return found

    def _rank(self, qn: str, tokens: list[_Token], pool: list[int], limit: int) -> list[SearchHit]:
        docs = self._docs
        wsum = sum(t.weight for t in tokens) or 1.0
        qwords = qn.split()
        scored: list[tuple[float, int, int]] = []
        for pid in pool:
            doc = docs[pid]
            total = 0.0
            for tok in tokens:
                terms = tok.terms
                best = 0.0
                for term in doc.title_terms:
                    q = terms.get(term)
                    if q is not None and q > best:
                        best = q
                if best == 0.0:
                    if tok.docs is None and any(t.startswith(tok.text) for t in doc.title_terms):
                        best = PREFIX_QUALITY
                    else:
                        for term in doc.field_terms:
                            q = terms.get(term)
                            if q is not None and q * FIELD_FACTOR > best:
                                best = q * FIELD_FACTOR
                total += tok.weight * best
            if total <= 0.0:
                continue
            title = doc.title
            similarity = fuzz.token_sort_ratio(qn, title) / 100.0
            if similarity == 1.0:
                bonus = W_STARTS + W_ORDER  # the very words, in another order
            elif title.startswith(qn):
                # Stopped typing mid-word: most likely a prefix of this very title.
                midword = len(title) > len(qn) and title[len(qn)] != " "
                bonus = (W_STARTS if midword else W_STARTS_WORD) + W_ORDER
            else:
                pos = 0  # are the words typed in the title's order? (a tie-breaker only)
                for word in qwords:
                    pos = title.find(word, pos)
                    if pos < 0:
                        break
                    pos += len(word)
                bonus = W_ORDER if pos >= 0 else 0.0
            score = 100.0 * (W_COVERAGE * total / wsum + W_SIMILARITY * similarity + bonus)
            scored.append((score, -len(doc.title), -pid))
        best_hits = heapq.nlargest(limit, scored)
        return [SearchHit(-npid, round(score, 2)) for score, _, npid in best_hits]

    def suggest(self, query: str, limit: int = 5) -> list[str]:
        """Vocabulary words close to the query's unknown words, for a "did you mean"."""
        words = [w for w in normalize(query).split() if len(w) >= MIN_EXPAND_LEN]
        best: dict[str, float] = {}
        for w in words:
            if self._known(w):
                continue
            for term, score, _ in process.extract(w, self._vocab, scorer=fuzz.ratio, score_cutoff=60, limit=limit):
                if score > best.get(term, 0.0):
                    best[term] = score
        ranked = sorted(best, key=lambda t: (-best[t], -self._df(t), t))
        return ranked[:limit]

    def _df(self, term: str) -> int:
        return len(self._title_post.get(term, ())) + len(self._field_post.get(term, ()))
