"""Precision, %-IN-TEST-n and diversity: hand-counted cases."""
import pytest

from textgan.metrics.diversity import distinct_words, unique_lines
from textgan.metrics.ngrams import NgramReference
from textgan.metrics.overlap import char_precision, in_test
from textgan.metrics.tokens import char_ids


def test_in_test_counts_word_ngrams_with_multiplicity():
    test = ["the cat sat", "a dog"]
    got = in_test(["the cat ran", "the dog"], test, 2)
    assert got[1] == pytest.approx(4 / 5)            # the, cat, the, dog found; ran not
    assert got[2] == pytest.approx(1 / 3)            # "the cat" found; "cat ran", "the dog" not


def test_in_test_no_ngram_across_line_ends():
    got = in_test(["a", "b"], ["a b"], 2)
    assert got[1] == 1.0 and got[2] != got[2]        # no sample bigram at all: NaN


def test_char_precision():
    ref = NgramReference(char_ids(["abab"], 4), 2)
    got = char_precision(["abba"], ref, 4, 2)
    assert got == {1: 1.0, 2: pytest.approx(2 / 3)}  # ab, ba found; bb not


def test_distinct_and_unique_lines():
    assert distinct_words(["x y x", "x y"], 2) == {1: pytest.approx(2 / 5), 2: pytest.approx(2 / 3)}
    assert unique_lines(["a", "b", "a", "c"]) == 0.75


def test_file_char_ids_reads_like_the_reference(tmp_path):
    from textgan.metrics.tokens import file_char_ids
    p = tmp_path / "t.txt"
    for raw in [b"ab\r\ncd\xff\n\nx\x0cy\rlast", b"", b"\n", b"one\n", b"a long line here\n\xe6\x97\xa5"]:
        p.write_bytes(raw)
        with open(p, encoding="utf-8", errors="replace") as f:
            want = [line.rstrip("\n") for line in f]
        got = file_char_ids(str(p), 6)
        assert got.shape == (len(want), 6)
        assert got.tolist() == char_ids(want, 6).tolist()
    assert file_char_ids(str(p), 6, max_lines=1).shape == (1, 6)
