"""Word and BPE levels through load_corpus, Hugging Face datasets read offline, the corpora API."""
import json

import numpy as np
import pytest

from textgan.config import DataConfig
from textgan.data.corpus import corpus_lines, list_corpora, load_corpus, prepare_corpus, show_corpus
from textgan.data.vocab import UNK_TEXT, Vocab
from textgan.errors import ConfigError, CorpusError

LINES = ["the cat sat on the mat .", "a dog ran in the park today", "the cat ran", "über café naïve"] * 5


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TEXTGAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TEXTGAN_WORKERS", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


@pytest.fixture()
def text_file(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return f


def test_word_level_round_trip(text_file):
    c = load_corpus(DataConfig(corpus=str(text_file), tokens="word"), 5, progress=False)
    assert c.vocab.kind == "word" and c.ids.shape == (20, 5)
    assert c.vocab.decode(c.ids)[:4] == ["the cat sat on the", "a dog ran in the", "the cat ran",
                                         "über café naïve"]
    # most frequent first: 'the' 15, pad '`' 5*2+5*2=20 ... exact counts decide the order
    assert c.vocab.tokens[:3] == ["<unk>", "`", "the"]
    w = Vocab.from_dict(json.loads(json.dumps(c.vocab.to_dict())))
    assert w.decode(np.array([[2, 0, 1, 1, 1]])) == ["the " + UNK_TEXT]


def test_bpe_round_trip_and_checkpoint_alone_decodes(text_file):
    c = load_corpus(DataConfig(corpus=str(text_file), tokens="bpe", bpe_vocab_size=300), 12,
                    progress=False)
    assert c.vocab.kind == "bpe" and len(c.vocab) == 300 and c.vocab.tokens[:2] == ["<unk>", "`"]
    assert c.vocab.decode(c.ids) == LINES          # every line fits in 12 tokens
    saved = json.loads(json.dumps(c.vocab.to_dict()))
    v = Vocab.from_dict(saved)
    assert v.decode(c.ids[:2]) == LINES[:2]
    row = c.ids[2][c.ids[2] != v.pad_id]
    assert v.decode(np.array([[0, *row, v.pad_id]])) == [UNK_TEXT + "the cat ran"]
    with pytest.raises(ConfigError, match="at least"):
        load_corpus(DataConfig(corpus=str(text_file), tokens="bpe", bpe_vocab_size=100), 12)


def test_hf_dataset_saved_to_disk(tmp_path):
    import datasets
    ds = datasets.Dataset.from_dict({"text": ["alpha beta", "gamma"], "label": [1, 2]})
    ds.save_to_disk(str(tmp_path / "ds"))
    d = DataConfig(corpus=f"hf:{tmp_path / 'ds'}")
    assert corpus_lines(d) == ["alpha beta", "gamma"]
    c = load_corpus(d, 6, progress=False)
    assert c.vocab.decode(c.ids) == ["alpha ", "gamma"]
    assert corpus_lines(DataConfig(corpus=f"hf:{tmp_path / 'ds'}:::label")) == ["1", "2"]
    with pytest.raises(CorpusError, match="no field 'body'"):
        corpus_lines(DataConfig(corpus=f"hf:{tmp_path / 'ds'}:::body"))


def test_hf_local_json_dir_and_missing_dataset(tmp_path):
    d = tmp_path / "jsondata"
    d.mkdir()
    (d / "train.jsonl").write_text('{"text": "one"}\n{"text": "two"}\n', encoding="utf-8")
    assert corpus_lines(DataConfig(corpus=f"hf:{d}")) == ["one", "two"]
    with pytest.raises(CorpusError, match="cannot load Hugging Face dataset 'no-such/dataset-xyz'.*OFFLINE"):
        corpus_lines(DataConfig(corpus="hf:no-such/dataset-xyz"))
    with pytest.raises(CorpusError, match="bad dataset spec"):
        corpus_lines(DataConfig(corpus="hf:"))


def test_corpora_api(tmp_path, text_file):
    names = [c["name"] for c in list_corpora()]
    assert names == ["synthetic", "billion-words", "emnlp-news", "image-coco"]
    assert {c["name"]: c["available"] for c in list_corpora()}["billion-words"] is False
    assert "statmt.org" in show_corpus("billion-words") and "CC BY 4.0" in show_corpus("image-coco")
    with pytest.raises(CorpusError, match="unknown corpus"):
        show_corpus("nope")
    with pytest.raises(CorpusError, match="image-coco not found"):
        load_corpus(DataConfig(corpus="image-coco"), 8)
    (tmp_path / "data" / "image-coco").mkdir(parents=True)
    (tmp_path / "data" / "image-coco" / "image_coco.txt").write_text("a cat\na dog", encoding="utf-8")
    assert corpus_lines(DataConfig(corpus="image-coco")) == ["a cat", "a dog"]
    msg = prepare_corpus(DataConfig(corpus=str(text_file)), 8, progress=False)
    assert msg.startswith(f"{text_file}: 20 training lines + 0 held-out lines of 8 char tokens")
