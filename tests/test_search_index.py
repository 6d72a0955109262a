"""The product search index, as a shopper typing into the search box sees it."""

from __future__ import annotations

import random

import pytest

from store.search import SearchDoc, SearchHit, SearchIndex, normalize

# A small invented catalog: (product_id, title, extra fields).
CATALOG = [
    (1, "Classic Cotton T-Shirt", ("Clothing", "Black", "White")),
    (2, "Slim Fit Denim Jeans", ("Clothing", "Blue")),
    (3, "Wool Blend Winter Scarf", ("Accessories", "Grey")),
    (4, "Hooded Fleece Sweatshirt", ("Clothing", "Black", "Navy")),
    (5, "Running Shoes Air Glide", ("Footwear", "SprintCo")),
    (6, "Leather Ankle Boots", ("Footwear", "Brown")),
    (7, "Wireless Noise Cancelling Headphones", ("Electronics", "SoundPeak", "Black")),
    (8, "Bluetooth Portable Speaker", ("Electronics", "SoundPeak")),
    (9, "USB-C Charging Cable 2m", ("Electronics",)),
    (10, "Mechanical Gaming Keyboard", ("Electronics", "KeyForge")),
    (11, "Wireless Optical Mouse", ("Electronics",)),
    (12, "Smart Fitness Watch", ("Electronics", "Black", "Silver")),
    (13, "4K Ultra HD Television 55 inch", ("Electronics",)),
    (14, "Café Crème Coffee Beans", ("Groceries", "Roastery Lumière")),
    (15, "Organic Whole Milk", ("Groceries", "Dairy")),
    (16, "Oat Milk Barista Edition", ("Groceries", "Dairy alternatives")),
    (17, "Fresh Milk", ("Groceries", "Dairy")),
    (18, "Milk Chocolate Bar", ("Groceries", "Sweets")),
    (19, "Dark Chocolate Sea Salt", ("Groceries", "Sweets")),
    (20, "Sourdough Bread Loaf", ("Bakery",)),
    (21, "Extra Virgin Olive Oil", ("Groceries",)),
    (22, "Basmati Rice 1kg", ("Groceries",)),
    (23, "Green Tea Jasmine", ("Groceries", "Tea")),
    (24, "Strawberry Greek Yogurt", ("Groceries", "Dairy")),
    (25, "Peanut Butter Crunchy", ("Groceries",)),
    (26, "Stainless Steel Water Bottle", ("Kitchen", "Black", "Green")),
    (27, "Ceramic Coffee Mug", ("Kitchen", "White")),
    (28, "Cast Iron Skillet", ("Kitchen",)),
    (29, "Bamboo Cutting Board", ("Kitchen",)),
    (30, "Black Leather Wallet", ("Accessories",)),
    (31, "Black Forest Cake", ("Bakery",)),
    (32, "Crème Brûlée Dessert Cups", ("Bakery",)),
]
BLACK_IN_FIELDS_ONLY = {1, 4, 7, 12, 26}
ELECTRONICS = {7, 8, 9, 10, 11, 12, 13}


@pytest.fixture
def index() -> SearchIndex:
    idx = SearchIndex()
    idx.build(SearchDoc(pid, title, fields) for pid, title, fields in CATALOG)
    return idx


def ids(hits: list[SearchHit]) -> list[int]:
    return [h.product_id for h in hits]


def first(index: SearchIndex, query: str) -> int:
    hits = index.search(query)
    assert hits, f"nothing found for {query!r}"
    return hits[0].product_id


def test_normalize_folds_case_accents_and_punctuation():
    assert normalize("  Café—Crème, ÉTÉ!!  ") == "cafe creme ete"
    assert normalize("USB-C_cable (2m)") == "usb c cable 2m"
    assert normalize("Straße") == "strasse"
    assert normalize("   ") == ""


def test_exact_title_comes_first(index):
    # The shopper pastes the product's full name.
    hits = index.search("Wireless Noise Cancelling Headphones")
    assert hits[0] == SearchHit(7, 100.0)
    assert first(index, "Milk Chocolate Bar") == 18


def test_typos_still_find_the_product(index):
    assert first(index, "headphnes") == 7  # a missing letter
    assert first(index, "sweatshrt") == 4  # another missing letter
    assert first(index, "keybaord") == 10  # two letters swapped
    assert first(index, "skillit") == 28  # a wrong letter
    assert first(index, "bluetoooth speaker") == 8  # an extra letter
    assert first(index, "strawbery yoghurt") == 24  # a typo in each word


def test_hyphenated_and_joined_words_meet(index):
    # "T-Shirt" in the title: the shopper may type it joined, split or hyphenated.
    assert first(index, "tshirt") == 1
    assert first(index, "t shirt") == 1
    assert first(index, "cotton t-shirt") == 1
    assert first(index, "usbc cable") == 9


def test_word_order_does_not_matter(index):
    assert first(index, "headphones wireless") == 7
    assert first(index, "beans coffee creme") == 14
    assert first(index, "bar chocolate milk") == 18


def test_prefix_finds_the_product(index):
    # The shopper stops typing half way through a word.
    assert first(index, "head") == 7
    assert first(index, "mechan") == 10
    assert first(index, "stainless st") == 26
    assert first(index, "wireless m") == 11


def test_some_of_the_words(index):
    assert first(index, "noise headphones") == 7
    assert first(index, "olive oil") == 21
    assert first(index, "sourdough loaf") == 20


def test_accents_case_and_punctuation_do_not_matter(index):
    assert first(index, "cafe creme") == 14
    assert first(index, "CAFÉ CRÈME!!!") == 14
    assert first(index, "creme brulee") == 32
    assert first(index, "Crème-Brûlée") == 32


def test_one_common_word_ranks_short_close_titles_first(index):
    hits = ids(index.search("milk"))
    # "Fresh Milk" is the closest title; every title with "milk" beats the rest.
    assert hits[0] == 17
    assert set(hits[:4]) == {15, 16, 17, 18}


def test_field_only_matches_rank_below_title_matches(index):
    # "black" is in two titles and, as a variant label, in five more products' fields.
    hits = ids(index.search("black"))
    assert set(hits[:2]) == {30, 31}
    assert set(hits[2:]) == BLACK_IN_FIELDS_ONLY
    # A category is searchable too.
    assert set(ids(index.search("electronics"))) == ELECTRONICS
    # A title word plus a variant label: the product having both comes first.
    assert first(index, "black sweatshirt") == 4


def test_scores_are_ranked_and_bounded(index):
    hits = index.search("coffee", limit=10)
    assert ids(hits)[:2] == [27, 14]  # the shorter title first
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 100 for s in scores)
    assert len(index.search("milk", limit=2)) == 2


def test_upsert_changes_what_is_found(index):
    # The seller renames the skillet to a wok.
    index.upsert(SearchDoc(28, "Cast Iron Wok", ("Kitchen",)))
    assert len(index) == len(CATALOG)
    assert 28 not in ids(index.search("skillet"))
    assert first(index, "wok") == 28
    # A new product is found at once, by prefix too (the vocabulary grew).
    index.upsert(SearchDoc(99, "Zebra Print Socks", ("Clothing",)))
    assert len(index) == len(CATALOG) + 1
    assert first(index, "zeb") == 99
    assert first(index, "zebar socks") == 99


def test_upsert_can_move_a_product_up(index):
    assert first(index, "watch") == 12
    index.upsert(SearchDoc(26, "Watch Strap", ("Accessories",)))
    assert ids(index.search("watch"))[:2] == [26, 12]


def test_remove_drops_the_product(index):
    index.remove(7)
    assert len(index) == len(CATALOG) - 1
    assert index.search("headphones") == []
    assert index.search("headph") == []  # its words left the vocabulary
    assert 7 not in ids(index.search("wireless"))
    index.remove(12345)  # absent: no error
    assert len(index) == len(CATALOG) - 1


def test_nonsense_finds_nothing_but_a_near_miss_gets_suggestions(index):
    assert index.search("xqzvplumbus") == []
    assert index.suggest("xqzvplumbus") == []
    # Too far off to match, close enough to ask "did you mean".
    assert index.search("hedfones") == []
    assert index.suggest("hedfones")[0] == "headphones"
    assert "skillet" in index.suggest("skilett pan")
    assert index.suggest("milk") == []  # a known word needs no correction


def test_blank_query_finds_nothing(index):
    assert index.search("") == []
    assert index.search("   ") == []
    assert index.search("!!! ...") == []
    assert index.suggest("") == []


def test_build_replaces_everything(index):
    index.build([SearchDoc(1, "Only One"), SearchDoc(2, "Second"), SearchDoc(2, "Second Again")])
    assert len(index) == 2
    assert index.search("headphones") == []
    assert first(index, "again") == 2


def test_other_scripts_are_searchable(index):
    index.upsert(SearchDoc(40, "Пуховик зимний", ("Одежда",)))
    assert first(index, "пуховик") == 40
    assert first(index, "ЗИМНИЙ пуховик") == 40


def test_many_edits_answer_like_a_fresh_build(index):
    # The catalog changes all day while the bot runs: after renames, removals and
    # re-listings the index must answer exactly as one built from scratch.
    rng = random.Random(5)
    live = {pid: SearchDoc(pid, title, fields) for pid, title, fields in CATALOG}
    words = [w for _, title, _ in CATALOG for w in title.split()]
    for _ in range(300):
        pid = rng.randrange(1, 45)
        if rng.random() < 0.3:
            index.remove(pid)
            live.pop(pid, None)
        else:
            doc = SearchDoc(pid, " ".join(rng.sample(words, rng.randint(1, 4))), (rng.choice(words),))
            index.upsert(doc)
            live[pid] = doc
    fresh = SearchIndex()
    fresh.build(live.values())
    assert len(index) == len(fresh) == len(live)
    for query in ["milk", "wireles", "head", "black", "cafe creme", "chocolate bar", "t shirt", "zzz", "bo"]:
        assert index.search(query) == fresh.search(query), query
        assert index.suggest(query) == fresh.suggest(query), query


# A bakery shelf: many short cookie titles, and the one the shopper wants with a longer title.
COOKIE_FLAVOURS = "Oat Lemon Ginger Butter Almond Coconut Pecan Maple Honey Sugar".split()
BAKERY = [
    (1, "Chocolate Chip Cookies"),
    (2, "Dark Chocolate Sea Salt"),
    (3, "Mechanical Gaming Keyboard"),
    (4, "Bluetooth Portable Speaker"),
    (5, "Pineapple Chunks"),
    (6, "Pine Nuts"),
    *((100 + 20 * i + n, f"{flavour} Cookies {n}") for i, flavour in enumerate(COOKIE_FLAVOURS) for n in range(20)),
]


@pytest.fixture
def bakery() -> SearchIndex:
    idx = SearchIndex()
    idx.build(SearchDoc(pid, title) for pid, title in BAKERY)
    return idx


def test_words_run_together_are_split(bakery, index):
    # The shopper forgot a space; 200 shorter cookie titles must not bury the product.
    assert first(bakery, "chocolatechip cookies") == 1
    assert first(bakery, "cookies chocolatechip") == 1
    assert first(bakery, "chocolatechip") == 1
    assert first(index, "darkchocolate") == 19
    assert first(index, "oliveoil") == 21


def test_a_word_typed_in_two_pieces_is_joined(bakery, index):
    # A space typed inside a word: "choco late" is chocolate.
    assert ids(bakery.search("choco late"))[:2] == [1, 2]
    assert first(bakery, "choco late chip cookies") == 1
    assert first(bakery, "pine apple") == 5
    assert first(index, "head phones") == 7
    assert first(index, "key board") == 10
    assert first(index, "sweat shirt fleece") == 4


def test_two_typos_in_a_seven_letter_word(bakery, index):
    # "keyboard" typed with its "y" dropped and an "o" for the "a".
    assert first(bakery, "keboord") == 3
    assert first(bakery, "poreble speaker") == 4  # "portable": no "t", an "e" for the "a"
    assert first(index, "skilet") == 28  # one edit still comes first
    assert first(index, "wirelss mouse") == 11
    assert first(index, "kebaord") == 10  # a letter dropped and two swapped
    # Two edits are not a licence to match anything.
    assert index.search("xqzvplumbus") == []


def test_the_page_size_does_not_change_the_first_results(bakery, index):
    # A word that matches nothing ("chocochip") next to a common one: the first
    # five results are the same whether the bot asks for 10 or for 50.
    for query in ["cookies chocochip", "cookies", "cookies 1", "lemon cookie", "chocolate", "coco cookies"]:
        assert ids(bakery.search(query, limit=10))[:5] == ids(bakery.search(query, limit=50))[:5], query
        assert ids(bakery.search(query, limit=50))[:10] == ids(bakery.search(query, limit=10)), query
    for query in ["black", "milk", "wireless", "coffee mug"]:
        assert ids(index.search(query, limit=3)) == ids(index.search(query, limit=50))[:3], query


def test_two_words_with_a_typo_stay_two_words(bakery):
    # "apple saouce": a typo in "sauce", not "applesauce" typed with a space.
    bakery.upsert(SearchDoc(7, "Apple Sauce"))
    bakery.upsert(SearchDoc(8, "Applesauce"))
    assert first(bakery, "apple saouce") == 7
    assert first(bakery, "apple sauce") == 7
    assert first(bakery, "applesauce") == 8
