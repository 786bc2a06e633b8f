"""Vocabulary semantics of the paper: pad counted, unk = 0, max_vocab cut, round trips."""
import numpy as np
import pytest
import torch

from textgan.data.text_io import pad_cut
from textgan.data.vocab import (PAD, UNK_ID, UNK_TEXT, Vocab, build_char_vocab, build_word_vocab,
                                smallest_dtype)


def test_pad_is_counted_and_unk_is_zero():
    v = build_char_vocab(["ab", "b"], seq_len=4)
    # padded: "ab``", "b```" -> '`' 5, 'b' 2, 'a' 1
    assert v.tokens == ["<unk>", "`", "b", "a"]
    assert v.pad_id == 1 and UNK_ID == 0
    assert v.kind == "char"


def test_max_vocab_cut_with_ties_by_code_point():
    # counts after padding to 3: 'c' 2, then '`' 'a' 'b' 'z' 1 each: ties by code point ('`' < 'a')
    v = build_char_vocab(["zcc", "ab"], seq_len=3, max_vocab=4)
    assert v.tokens == ["<unk>", "c", "`", "a"]
    ids = v.encode_lines(["zab"], 3)
    assert ids.tolist() == [[0, 3, 0]]


def test_lines_cut_to_seq_len_before_counting():
    v = build_char_vocab(["aaaaaaaaxyz"], seq_len=4)
    assert "x" not in v.tokens and v.tokens == ["<unk>", "a"]
    assert v.pad_id == UNK_ID           # no padding happened, so '`' is not in the vocabulary


def test_round_trip_strips_trailing_padding_only():
    lines = ["héllo wörld", "`x`", "日本語のテキスト", ""]
    v = build_char_vocab(lines, seq_len=8)
    ids = v.encode_lines(lines, 8)
    assert ids.shape == (4, 8) and ids.dtype == np.uint8
    assert v.decode(ids) == ["héllo wö", "`x", "日本語のテキスト", ""]
    assert v.decode(torch.from_numpy(ids.astype(np.int64))) == v.decode(ids)
    assert v.decode(np.array([[0, v.pad_id, 0, v.pad_id]])) == [UNK_TEXT + PAD + UNK_TEXT]


def test_unknown_characters_map_to_zero_and_dict_round_trip():
    v = build_char_vocab(["abc"], seq_len=3)
    assert v.encode_lines(["a\U0001F600c"], 3).tolist() == [[v.tokens.index("a"), 0, v.tokens.index("c")]]
    w = Vocab.from_dict(v.to_dict())
    assert w.tokens == v.tokens and w.kind == "char"


def test_dtype_choice():
    assert smallest_dtype(256) == np.uint8
    assert smallest_dtype(257) == np.uint16
    assert smallest_dtype(65537) == np.int32
    chars = "".join(chr(0x4E00 + i) for i in range(300))
    v = build_char_vocab([chars], seq_len=300, max_vocab=2048)
    assert len(v) == 301 and v.encode_lines([chars], 300).dtype == np.uint16


def test_pad_cut():
    assert pad_cut(["abcdef", "ab"], 4) == ["abcd", "ab``"]


def test_word_vocab_round_trip():
    lines = ["the cat sat", "the dog  sat down now"]
    v = build_word_vocab(lines, seq_len=4)
    # counts: the 2, sat 2, '`' 1 (first line padded by one), cat/dog/down 1 ; "now" is cut
    assert v.tokens == ["<unk>", "sat", "the", "`", "cat", "dog", "down"]
    ids = v.encode_lines(lines, 4)
    assert v.decode(ids) == ["the cat sat", "the dog sat down"]
    assert v.decode(np.array([[2, 0, 3, 3]])) == ["the " + UNK_TEXT]


def test_bad_ids_rejected():
    v = build_char_vocab(["ab"], 2)
    with pytest.raises(ValueError):
        v.decode(np.array([[5, 0]]))
