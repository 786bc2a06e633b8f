"""n-gram statistics and JS divergence: hand-counted cases and the paper's definition as oracle."""
import collections
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import textgan.metrics.ngrams as ngrams
from textgan.metrics.js import js_bits
from textgan.metrics.ngrams import NgramReference, distinct
from textgan.metrics.tokens import WordIds, char_ids

pytestmark = pytest.mark.numerics


class OracleNgram:
    """The original evaluation (NgramModel of the paper's code), copied as the oracle."""

    def __init__(self, n, samples):
        self.counts = collections.defaultdict(int)
        self.total = 0
        for s in samples:
            for i in range(len(s) - n + 1):
                self.counts[tuple(s[i:i + n])] += 1
                self.total += 1

    def logp(self, gram):
        c = self.counts.get(gram)
        return -math.inf if c is None else math.log(c) - math.log(self.total)

    def js_with(self, other):
        def half(p, q):
            grams = list(p.counts)
            lp = np.array([p.logp(g) for g in grams])
            lq = np.array([q.logp(g) for g in grams])
            lm = np.logaddexp(lp - math.log(2), lq - math.log(2))
            return float(np.sum(np.exp(lp) * (lp - lm)))
        return 0.5 * (half(other, self) + half(self, other)) / math.log(2)


def oracle_js(sample_rows, corpus_rows, n):
    return OracleNgram(n, [tuple(r) for r in sample_rows]).js_with(OracleNgram(n, [tuple(r) for r in corpus_rows]))


def test_identical_sets_give_zero_and_disjoint_sets_give_one():
    a = char_ids(["hello world", "abc"], 8)
    b = char_ids(["xyz", "qqqq"], 8)
    b = np.where(b == ord("`"), ord("~"), b)          # no shared pad either
    ref = NgramReference(a, 4)
    assert ref.js(a) == {"js1": 0.0, "js2": 0.0, "js3": 0.0, "js4": 0.0}
    assert ref.js(b) == {"js1": 1.0, "js2": 1.0, "js3": 1.0, "js4": 1.0}


def test_hand_counted_two_lines():
    # samples "ab", "aa" -> unigrams a:3 b:1 ; corpus "aa" -> a:2
    ref = NgramReference(char_ids(["aa"], 2), 2)
    got = ref.js(char_ids(["ab", "aa"], 2))
    p, q = (3 / 4, 1 / 4), (1.0, 0.0)
    m = [(x + y) / 2 for x, y in zip(p, q)]
    kl = lambda a, b: sum(x * math.log2(x / y) for x, y in zip(a, b) if x > 0)
    assert got["js1"] == pytest.approx(0.5 * (kl(p, m) + kl(q, m)), abs=1e-15)
    # bigrams: samples ab, aa (1/2 each); corpus aa (1): shared mass p=1/2 q=1
    p2, q2, m2 = (0.5, 0.5), (0.0, 1.0), (0.25, 0.75)
    assert got["js2"] == pytest.approx(0.5 * (kl(p2, m2) + kl(q2, m2)), abs=1e-15)


def test_padding_ngrams_count_like_the_original():
    ids = char_ids(["ab"], 4)                      # "ab``"
    assert "".join(map(chr, ids[0])) == "ab``"
    ref = NgramReference(ids, 2)
    assert ref.total(1) == 4 and ref.unique(1) == 3
    assert ref.total(2) == 3 and ref.unique(2) == 3   # ab, b`, ``


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_js_matches_the_paper_definition_on_random_data(data):
    vocab = data.draw(st.integers(2, 6))
    L = data.draw(st.integers(4, 9))
    rows = lambda k: np.array(data.draw(st.lists(st.lists(st.integers(0, vocab - 1), min_size=L, max_size=L),
                                                 min_size=1, max_size=k)), dtype=np.int64)
    corpus, sample = rows(30), rows(12)
    ref = NgramReference(corpus, 4)
    got = ref.js(sample)
    back = NgramReference(sample, 4).js(corpus)
    for n in range(1, 5):
        want = oracle_js(sample, corpus, n)
        assert abs(got[f"js{n}"] - want) < 1e-9
        assert abs(got[f"js{n}"] - back[f"js{n}"]) < 1e-12          # symmetric
        assert -1e-12 <= got[f"js{n}"] <= 1 + 1e-12
        same = OracleNgram(n, list(map(tuple, sample))), OracleNgram(n, list(map(tuple, corpus)))
        equal_dist = {g: c / same[0].total for g, c in same[0].counts.items()} == \
            {g: c / same[1].total for g, c in same[1].counts.items()}
        assert (got[f"js{n}"] < 1e-12) == equal_dist                   # 0 iff equal distributions


def test_equal_distributions_from_different_sizes_give_zero():
    a = np.array([[0, 1, 0, 1]])
    assert NgramReference(np.repeat(a, 3, axis=0), 3).js(a) == {"js1": 0.0, "js2": 0.0, "js3": 0.0}


@pytest.mark.parametrize("alphabet,limit", [(4, 30), (4, 1 << 26), (6, 200)])
def test_mixed_raw_dense_and_sorted_levels_agree_with_oracle(monkeypatch, alphabet, limit):
    rng = np.random.default_rng(alphabet)
    corpus = rng.integers(0, alphabet, size=(50, 8))
    sample = rng.integers(0, alphabet + 1, size=(7, 8))
    monkeypatch.setattr(ngrams, "DENSE_LIMIT", limit)
    ref = NgramReference(corpus, 5, chunk_elements=100)
    got = ref.js(sample)
    for n in range(1, 6):
        assert abs(got[f"js{n}"] - oracle_js(sample, corpus, n)) < 1e-9
    cut = ref.subtract(corpus[:9])
    assert cut.js(sample) == pytest.approx(NgramReference(corpus[9:], 5).js(sample), abs=1e-12)


def test_sort_path_chunking_and_large_orders_agree_with_oracle(monkeypatch):
    rng = np.random.default_rng(0)
    corpus = rng.integers(0, 3000, size=(60, 10))      # 3000**6 overflows int64: needs re-densifying
    sample = np.concatenate([corpus[:5], rng.integers(0, 3500, size=(5, 10))])   # unseen ids too
    monkeypatch.setattr(ngrams, "DENSE_LIMIT", 64)     # force the sorting path for orders >= 2
    ref = NgramReference(corpus, 6, chunk_elements=70)  # 7 rows per chunk
    got = ref.js(sample)
    for n in range(1, 7):
        assert abs(got[f"js{n}"] - oracle_js(sample, corpus, n)) < 1e-9
        assert ref.unique(n) == len(OracleNgram(n, list(map(tuple, corpus))).counts)
    assert ref.precision(sample)[6] == pytest.approx(5 * 5 / (10 * 5))


def test_absent_positions_form_no_ngrams():
    words = WordIds()
    corpus = words.encode(["a b c", "b c"])            # [[a b c], [b c -1]]
    assert corpus.tolist() == [[0, 1, 2], [1, 2, -1]]
    ref = NgramReference(corpus, 3)
    assert [ref.total(n) for n in (1, 2, 3)] == [5, 3, 1]
    assert [ref.unique(n) for n in (1, 2, 3)] == [3, 2, 1]
    sample = words.encode(["c d", "a b c"])             # "d" is a new word
    prec = ref.precision(sample)
    assert prec == {1: 4 / 5, 2: 2 / 3, 3: 1.0}


def test_distinct_hand_counted():
    ids = WordIds().encode(["a a a", "a b"])
    assert distinct(ids, 2) == {1: 2 / 5, 2: 2 / 3}


def test_subtract_equals_building_without_the_lines():
    rng = np.random.default_rng(1)
    corpus = rng.integers(0, 5, size=(40, 6))
    sample = rng.integers(0, 6, size=(9, 6))
    cut = NgramReference(corpus, 4).subtract(corpus[:10])
    rest = NgramReference(corpus[10:], 4)
    assert cut.js(sample) == pytest.approx(rest.js(sample), abs=1e-12)
    assert cut.precision(sample) == rest.precision(sample)
    assert [cut.unique(n) for n in range(1, 5)] == [rest.unique(n) for n in range(1, 5)]
    with pytest.raises(ValueError):
        NgramReference(corpus[10:], 4).subtract(corpus[:10] + 7)


def test_js_bits_edge_cases():
    assert js_bits(np.array([], int), np.array([], int), 3, 4) == 1.0
    assert js_bits(np.array([2]), np.array([5]), 2, 5) == 0.0
    assert math.isnan(js_bits(np.array([], int), np.array([], int), 0, 4))


def test_unicode_beyond_any_vocab_is_lossless():
    a = char_ids(["日本語𝄞"], 4)
    b = char_ids(["日本語x"], 4)
    ref = NgramReference(a, 1)
    assert ref.js(b)["js1"] == pytest.approx(oracle_js(["日本語x"], ["日本語𝄞"], 1), abs=1e-12)
    assert 0 < ref.js(b)["js1"] < 1


def test_a_small_corpus_in_a_large_code_space_is_sorted_with_the_same_statistics(monkeypatch):
    # 300 word lines over 2000 words: a 4M-bin bigram table would dwarf their ~1,500 tokens
    rng = np.random.default_rng(4)
    corpus = np.where(rng.random((300, 5)) < 0.8, rng.integers(0, 2000, (300, 5)), -1)
    sample = np.concatenate([corpus[:20], rng.integers(-1, 2100, (20, 5))])
    sorted_ref = NgramReference(corpus, 4)
    monkeypatch.setattr(ngrams, "DENSE_FLOOR", 1 << 26)      # bin every space up to DENSE_LIMIT
    binned = NgramReference(corpus, 4)
    assert sorted_ref._levels[1].dense and sorted_ref._levels[1].lut is None    # which path ran
    assert binned._levels[1].lut is not None
    for n in range(1, 5):
        assert sorted_ref.counts(n).tolist() == binned.counts(n).tolist()
    assert sorted_ref.js(sample) == binned.js(sample)
    assert sorted_ref.precision(sample) == binned.precision(sample)
    pairs = {(a, b) for r in corpus.tolist() for a, b in zip(r[:-1], r[1:]) if a >= 0 and b >= 0}
    assert sorted_ref.unique(2) == len(pairs)
