"""evaluate_text: keys, the real-data floor, seeding, JSON, report."""
import json
import random

import pytest

from textgan.evaluate import evaluate_text, format_report, read_text_lines
from textgan.metrics import METRICS
from textgan.metrics.ngrams import NgramReference
from textgan.metrics.tokens import char_ids

WORDS = "the a cat dog sat ran on in park mat man bench today walks fast slow red big".split()


def make_lines(n, seed):
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))) for _ in range(n)]


def test_registry_names_and_directions():
    assert METRICS["js4"].better == "lower" and METRICS["js4"].higher_is_better is False
    assert METRICS["bleu2"].better == "higher" and METRICS["in_test3"].higher_is_better is True
    # diversity is judged by its distance to real text: noise is more "diverse" than any corpus
    for name in ("distinct1", "distinct4", "unique_lines", "self_bleu2", "self_bleu4"):
        assert METRICS[name].better == "closer" and METRICS[name].higher_is_better is None
    assert {"js1", "precision4", "distinct2", "unique_lines", "bleu4"} <= set(METRICS)
    assert all(m.description for m in METRICS.values())


def test_samples_js_is_against_the_whole_corpus_and_floor_is_held_out():
    corpus, samples = make_lines(300, 0), make_lines(40, 1)
    r = evaluate_text(samples, corpus, seq_len=16)
    want = NgramReference(char_ids(corpus, 16), 4).js(char_ids(samples, 16))
    assert [r[f"js{n}"] for n in range(1, 5)] == [want[f"js{n}"] for n in range(1, 5)]
    assert r["samples"]["js4"] == r["js4"]
    assert r["meta"]["floor_lines"] == 40 and r["meta"]["floor_source"] == "corpus"
    assert r["samples"]["in_test1"] is None                  # no held-out set
    json.dumps(r, allow_nan=False)
    again = evaluate_text(samples, corpus, seq_len=16)
    assert again == r                                         # seeded
    assert evaluate_text(samples, corpus, seq_len=16, seed=5)["floor"] != r["floor"]


def test_floor_with_heldout_and_metric_selection():
    corpus, held, samples = make_lines(200, 0), make_lines(60, 2), make_lines(20, 3)
    r = evaluate_text(samples, corpus, seq_len=20, heldout_lines=held, metrics=["js2", "in_test1", "bleu2"])
    assert set(r["samples"]) == {"js2", "in_test1", "bleu2"}
    assert r["meta"]["floor_lines"] == 20 and r["meta"]["test_lines"] == 40
    assert 0 < r["floor"]["in_test1"] <= 1 and r["samples"]["in_test1"] > 0
    assert set(r) >= {"js1", "js2", "js3", "js4"}            # the contract keys stay at the top
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate_text(samples, corpus, metrics=["nope"])


def test_real_lines_copied_from_the_corpus_score_like_it():
    corpus = make_lines(300, 0)
    r = evaluate_text(corpus[:50], corpus, seq_len=32, metrics=["precision4", "js1"])
    assert r["samples"]["precision4"] == 1.0                 # memorised lines: all 4-grams seen
    assert r["floor"]["precision4"] <= 1.0


def test_format_report_has_a_row_per_metric():
    r = evaluate_text(make_lines(10, 1), make_lines(100, 0), seq_len=16)
    text = format_report(r)
    assert text.splitlines()[0].split("|")[0].strip() == "metric"
    for name in r["samples"]:
        assert any(line.startswith(name + " ") for line in text.splitlines())
    assert "real floor" in text and "lower" in text and "higher" in text
    assert "closer to real" in text.splitlines()[[n.split("|")[0].strip() for n in text.splitlines()].index("distinct1")]


def test_heldout_inside_the_corpus_is_left_out_of_the_floor_reference():
    corpus = make_lines(300, 0)
    held = corpus[-60:]                                       # a corpus's own split: part of corpus_lines
    samples = make_lines(20, 3)
    inside = evaluate_text(samples, corpus, seq_len=16, heldout_lines=held, heldout_in_corpus=True)
    outside = evaluate_text(samples, corpus, seq_len=16, heldout_lines=held)
    assert inside["samples"] == outside["samples"]            # samples: always the whole corpus
    floor_lines = inside["meta"]["floor_lines"]
    # the floor lines counted in the reference would flatter the floor; without them it is worse
    assert floor_lines == 20 and inside["floor"]["js4"] > outside["floor"]["js4"]
    assert inside["samples"]["in_test1"] is not None


def test_line_checks_score_samples_and_floor():
    corpus, samples = make_lines(100, 0), ["the cat sat", "zzz qqq"]
    check = (lambda lines: sum(line.startswith("the") for line in lines) / len(lines), "higher")
    r = evaluate_text(samples, corpus, seq_len=16, line_checks={"starts_the": check})
    assert r["samples"]["starts_the"] == 0.5
    from textgan.evaluate import _split
    floor_lines = [corpus[i] for i in _split(len(corpus), 2, 0)[0]]   # the seeded floor choice
    assert r["floor"]["starts_the"] == check[0](floor_lines)
    assert r["better"]["starts_the"] == "higher"


def test_read_text_lines_reference_semantics(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes(b"ab\r\ncd\xff\n\nx\x0cy\n")
    assert read_text_lines(str(p)) == ["ab", "cd\ufffd", "", "x\x0cy"]
    assert read_text_lines(str(p), max_lines=2) == ["ab", "cd\ufffd"]
