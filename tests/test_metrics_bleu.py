"""BLEU / Self-BLEU equal sacrebleu's corpus BLEU; Self-BLEU leaves each hypothesis out."""
import pytest
from sacrebleu.metrics import BLEU

from textgan.metrics.bleu import bleu, bleu_scores, choose, self_bleu, self_bleu_scores

pytestmark = pytest.mark.numerics

HYPS = ["the cat sat on the mat", "a dog ran in the park today", "the cat ran",
        "people walk in the park", "a man sat on a bench in the park"]
REFS = ["the cat sat on a mat", "a dog runs in the park", "the man sat on the bench",
        "people walk dogs in a park", "the cat ran away", "a bench in the park"]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_bleu_equals_sacrebleu_with_the_reference_set_as_multiple_references(n):
    want = BLEU(max_ngram_order=n, tokenize="none").corpus_score(HYPS, [[r] * len(HYPS) for r in REFS]).score
    assert bleu(HYPS, REFS, n) == pytest.approx(want, abs=1e-9)
    assert bleu_scores(HYPS, REFS, [2, 3, 4])[n] == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_self_bleu_equals_sacrebleu_with_the_other_samples_as_references(n):
    k = len(HYPS)
    streams = [[HYPS[(i + s) % k] for i in range(k)] for s in range(1, k)]   # all but itself
    want = BLEU(max_ngram_order=n, tokenize="none").corpus_score(HYPS, streams).score
    assert self_bleu(HYPS, n) == pytest.approx(want, abs=1e-9)
    assert self_bleu_scores(HYPS, [2, 3, 4])[n] == pytest.approx(want, abs=1e-9)


def test_self_bleu_excludes_the_hypothesis_itself():
    assert self_bleu(["a b c d e f"] * 4, 4) == pytest.approx(100.0)
    unrelated = ["a b c d", "e f g h", "i j k l", "m n o p"]
    assert self_bleu(unrelated, 4) == 0.0            # would be 100 if a line were its own reference
    # a duplicate elsewhere is another sample, so it does count
    assert self_bleu(["a b c d", "a b c d", "e f g h"], 2) > 0


def test_bleu_hand_counted_unigram_bigram():
    # hyp "a b c" vs ref "a b d": unigrams 2/3, bigrams 1/2, equal lengths -> sqrt(2/3 * 1/2)
    assert bleu(["a b c"], ["a b d"], 2) == pytest.approx(100 * (2 / 3 * 1 / 2) ** 0.5)


def test_choose_is_seeded_ordered_and_capped():
    lines = [str(i) for i in range(100)]
    a, b = choose(lines, 10, seed=3), choose(lines, 10, seed=3)
    assert a == b and len(a) == 10 and a == sorted(a, key=int)
    assert choose(lines, 10, seed=4) != a
    assert choose(lines[:5], 10, seed=0) == lines[:5]
