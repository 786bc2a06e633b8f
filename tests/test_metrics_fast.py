"""The fast paths agree exactly with the plain ones: vectorised file reading vs the reference's
text-mode reading, and the one-pass n-gram build vs the general (order-by-order) build and its
layout's definition."""
import collections

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import textgan.metrics.ngrams as ngrams
from textgan.data.text_io import read_lines as reference_lines   # the reference's text-mode reading
from textgan.metrics.ngrams import NgramReference
from textgan.metrics.tokens import bytes_char_ids, char_ids, file_char_ids

pytestmark = pytest.mark.numerics

# Bytes that stress universal newlines and UTF-8 error replacement: CR/LF pairs, truncated and
# stray continuation bytes, overlong / surrogate encodings, 2-4 byte characters, the pad char.
PIECES = [b"a", b"Z", b" ", b"`", b"\n", b"\r", b"\r\n", b"\xe2", b"\x82", b"\xac", b"\xe2\x82\xac",
          b"\xc3\xa9", b"\xc3", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf0\x9f\x98\x80", b"\xf0\x9f",
          b"\xef\xbb\xbf", b"\x00", b"\x0c"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60), st.integers(1, 7),
       st.one_of(st.none(), st.integers(1, 5)))
def test_file_reading_equals_text_mode_reading(tmp_path_factory, pieces, seq_len, max_lines):
    p = tmp_path_factory.mktemp("r") / "t.txt"
    p.write_bytes(b"".join(pieces))
    want = char_ids(reference_lines(p, max_lines), seq_len)
    got = file_char_ids(str(p), seq_len, max_lines)
    assert got.shape == want.shape
    assert got.tolist() == want.tolist()
    assert got.dtype.kind == "u" and int(want.max(initial=0)) <= np.iinfo(got.dtype).max



def test_wide_ids_gathered_in_chunks_equal_text_mode_reading(tmp_path, monkeypatch):
    # Code points above 255 make the ids uint16/uint32, gathered GATHER_ROWS rows at a time:
    # chunks of 3 rows put chunk edges on every kind of line.
    import textgan.metrics.tokens as tokens
    monkeypatch.setattr(tokens, "GATHER_ROWS", 3)
    rng = np.random.default_rng(1)
    raw = b"".join(PIECES[i] for i in rng.integers(0, len(PIECES), 3_000))
    p = tmp_path / "wide.txt"
    p.write_bytes(raw)
    for seq_len in (1, 4, 9):
        want = char_ids(reference_lines(p), seq_len)
        got = file_char_ids(str(p), seq_len)
        assert got.dtype == np.uint32 and got.tolist() == want.tolist()

def test_file_reading_across_text_mode_buffer_boundaries(tmp_path):
    # A large file, so that multi-byte characters, invalid sequences and "\r\n" pairs also fall
    # on the boundaries of text-mode reading's internal chunks (8 KiB and beyond).
    rng = np.random.default_rng(0)
    raw = b"".join(PIECES[i] for i in rng.integers(0, len(PIECES), 60_000))
    p = tmp_path / "big.txt"
    p.write_bytes(raw)
    for seq_len in (1, 5, 32):
        want = char_ids(reference_lines(p), seq_len)
        assert file_char_ids(str(p), seq_len).tolist() == want.tolist()


def test_file_reading_ascii_is_uint8_and_non_ascii_widens():
    assert bytes_char_ids(b"ab\ncd\n", 3).dtype == np.uint8
    assert bytes_char_ids(b"ab\n\xc3\xa9\n", 3).tolist() == [[97, 98, 96], [233, 96, 96]]
    assert bytes_char_ids(b"ab\n\xe2\x82\xac\n", 3).dtype == np.uint16
    assert bytes_char_ids("x\U0001d11e".encode(), 2).tolist() == [[120, 0x1D11E]]
    # a non-ASCII byte beyond the kept characters changes nothing (the row stays uint8)
    assert bytes_char_ids(b"abc\xff\n", 3).dtype == np.uint8
    with pytest.raises(ValueError):
        bytes_char_ids(b"a\n", 0)


def general(ids, **kw):
    return NgramReference(ids, 4, fast=False, **kw)


def assert_same_statistics(fast, slow, samples, expect_fast=True):
    assert fast._levels[3].split == (2 if expect_fast else 0)   # which path really ran
    for n in range(1, 5):
        assert fast.total(n) == slow.total(n)
        assert fast.unique(n) == slow.unique(n)
        assert sorted(fast.counts(n).tolist()) == sorted(slow.counts(n).tolist())
    # same counts; only the summation order of the JS terms may differ (dense ids differ)
    assert fast.js(samples) == pytest.approx(slow.js(samples), abs=1e-14)
    assert fast.precision(samples) == slow.precision(samples)
    for a, b in zip(fast.lookup(samples), slow.lookup(samples)):
        assert ((a >= 0) == (b >= 0)).all()
    for n, (a, b) in enumerate(zip(fast.lookup(samples), slow.lookup(samples)), start=1):
        ca = np.where(a >= 0, fast.counts(n)[np.maximum(a, 0)], -1)
        cb = np.where(b >= 0, slow.counts(n)[np.maximum(b, 0)], -1)
        assert ca.tolist() == cb.tolist()             # every sample n-gram: same corpus count


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fast_build_equals_general_build(data):
    L = data.draw(st.integers(4, 9))
    n_rows = data.draw(st.integers(1, 40))
    kind = data.draw(st.sampled_from(["small", "vocab", "unicode"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    if kind == "small":
        corpus = rng.integers(0, data.draw(st.integers(1, 6)), size=(n_rows, L))
    elif kind == "vocab":        # ids < 2048: raw ids are the symbol codes
        corpus = rng.choice(np.array([0, 5, 7, 300, 2047]), size=(n_rows, L))
    else:                        # large, rare ids: low ids raw, high ids ranked
        corpus = rng.choice(np.array([32, 96, 97, 255, 256, 8364, 0x1D11E]), size=(n_rows, L),
                            p=[0.3, 0.2, 0.3, 0.1, 0.04, 0.03, 0.03]).astype(np.uint32)
    samples = np.concatenate([corpus[:3], rng.integers(0, 0x1D120, size=(3, L)),
                              rng.permutation(corpus.ravel())[:3 * L].reshape(-1, L)[:3]])
    chunk = data.draw(st.sampled_from([L, 3 * L, 100, 1 << 20]))
    fast = NgramReference(corpus, 4, chunk_elements=chunk)
    slow = general(corpus)
    # many large ids: the general build runs (the fast one only ranks rare large ids)
    expect_fast = (int(corpus.max()) + 1) ** 2 <= ngrams.RAW_LIMIT or \
        8 * int((corpus >= ngrams.FAST_LOW).sum()) <= corpus.size
    assert_same_statistics(fast, slow, samples, expect_fast)
    cut = fast.subtract(corpus[: n_rows // 2])
    rest = corpus[n_rows // 2:]
    if len(rest):
        assert cut.js(samples) == pytest.approx(general(rest).js(samples), abs=1e-12)


def test_fast_build_hand_counted():
    ref = NgramReference(char_ids(["abab", "aab"], 4), 4)    # "abab", "aab`"
    assert ref._levels[3].split == 2
    assert [ref.total(n) for n in range(1, 5)] == [8, 6, 4, 2]
    assert [ref.unique(n) for n in range(1, 5)] == [3, 4, 4, 2]   # ab ba aa b` | aba bab aab ab`
    got = ref.lookup(char_ids(["abab"], 4))
    assert [ref.counts(n)[got[n - 1][0]].tolist() for n in range(1, 5)] == \
        [[4, 3, 4, 3], [3, 1, 3], [1, 1], [1]]


def test_fast_build_falls_back_where_it_does_not_apply(monkeypatch):
    rng = np.random.default_rng(3)
    corpus = rng.integers(0, 50, size=(30, 6))
    monkeypatch.setattr(ngrams, "DENSE_LIMIT", 100)          # U2 ** 2 too large: general build
    ref = NgramReference(corpus, 4)
    assert ref._levels[3].split == 0
    monkeypatch.undo()
    many_high = rng.integers(5000, 9000, size=(30, 6))       # mostly large ids: general build
    ref = NgramReference(many_high, 4)
    assert ref._levels[3].split == 0
    assert ref.js(many_high) == general(many_high).js(many_high)


def test_fast_build_ranks_rare_large_ids():
    lines = ["a€b€ab", "日本 ab", "abcabc", "€€€€"] * 3 + ["plain ascii line"] * 30
    corpus = char_ids(lines, 8)
    samples = char_ids(["a€b", "本日", "xyz€", "ab𝄞"], 8)
    fast = NgramReference(corpus, 4, chunk_elements=16)
    assert fast.base == ngrams.FAST_LOW + 3                  # €, 日, 本 ranked above the low ids
    assert_same_statistics(fast, general(corpus), samples)


def fast_layout(corpus):
    """The fast build's levels from their definition, counted in Python dicts: symbol codes (raw
    ids, or raw ids below FAST_LOW and the larger ones ranked above it); bigram codes
    s1 * R + s2, their dense ids by falling count, ties by code; trigram codes
    dense(first bigram) * R + s3 and 4-gram codes dense(first bigram) * U2 + dense(last bigram),
    sorted.  [(keys, counts)] for orders 1..4."""
    rows = corpus.tolist()
    hi = int(corpus.max())
    high = sorted({x for r in rows for x in r if x >= ngrams.FAST_LOW})
    if (hi + 1) ** 2 <= ngrams.RAW_LIMIT:
        R, sym = hi + 1, {}
    else:
        R, sym = ngrams.FAST_LOW + len(high), {x: ngrams.FAST_LOW + i for i, x in enumerate(high)}
    rows = [[sym.get(x, x) for x in r] for r in rows]
    grams = [collections.Counter() for _ in range(4)]
    for r in rows:
        for i, x in enumerate(r):
            grams[0][x] += 1
            if i + 1 < len(r):
                grams[1][x * R + r[i + 1]] += 1
    keys2 = sorted(grams[1], key=lambda k: (-grams[1][k], k))
    dense = {k: i for i, k in enumerate(keys2)}
    for r in rows:
        b = [dense[x * R + y] for x, y in zip(r, r[1:])]
        for i in range(len(r) - 2):
            grams[2][b[i] * R + r[i + 2]] += 1
            if i + 3 < len(r):
                grams[3][b[i] * len(keys2) + b[i + 2]] += 1
    order = [sorted(grams[0]), keys2, sorted(grams[2]), sorted(grams[3])]
    return [(keys, [g[k] for k in keys]) for keys, g in zip(order, grams)]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fast_build_levels_are_their_definition_whatever_the_sample(data):
    # a sample of one row or a few: most bigrams are first met in the pass, the table grows
    L = data.draw(st.integers(4, 9))
    n_rows = data.draw(st.integers(1, 60))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    if data.draw(st.booleans()):
        corpus = rng.integers(0, data.draw(st.integers(1, 40)), size=(n_rows, L))
    else:
        corpus = rng.choice(np.array([32, 97, 98, 255, 256, 8364, 0x1D11E]), size=(n_rows, L),
                            p=[0.3, 0.3, 0.2, 0.1, 0.04, 0.03, 0.03])
    want = fast_layout(corpus)
    for sample_rows in (1, 3, 1 << 15):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ngrams, "FAST_SAMPLE_ROWS", sample_rows)
            ref = NgramReference(corpus, 4, chunk_elements=data.draw(st.sampled_from([L, 4 * L, 1 << 20])))
        if ref._levels[3].split != 2:            # many large ids: the general build ran
            continue
        assert [(lv.keys.tolist(), lv.counts.tolist()) for lv in ref._levels] == want


def test_fast_build_gives_way_when_new_bigrams_outgrow_the_table(monkeypatch):
    rng = np.random.default_rng(5)
    corpus = np.concatenate([np.zeros((40, 6), np.int64), rng.integers(0, 30, size=(40, 6))])
    monkeypatch.setattr(ngrams, "FAST_SAMPLE_ROWS", 2)        # samples rows 0 and 40: few bigrams
    monkeypatch.setattr(ngrams, "DENSE_LIMIT", 40 ** 2)        # room for 40 bigram ids, not ~170
    ref = NgramReference(corpus, 4, chunk_elements=60)
    assert ref._levels[3].split == 0                          # the general build ran
    assert ref.js(corpus[40:]) == general(corpus).js(corpus[40:])
