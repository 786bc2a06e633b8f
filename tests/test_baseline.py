"""bench/baseline.py, the plain baseline the speed ratios are measured against: its n-gram JS on
line sets small enough to compute by hand, its gradient penalty, and one tiny training iteration."""
from __future__ import annotations

import math

import pytest

from test_bench_paths import bench_module


@pytest.fixture(scope="module")
def baseline():
    return bench_module("baseline")


def test_js_by_hand(baseline, tmp_path):
    # samples "aab", corpus "abb" (3 characters, no padding):
    #   unigrams  (2/3, 1/3) vs (1/3, 2/3), mixture (1/2, 1/2):
    #             KL = 2/3 log2(4/3) + 1/3 log2(2/3) = 5/3 - log2 3 on both sides, so JS-1 = 5/3 - log2 3;
    #   bigrams   {aa, ab} vs {ab, bb}, each 1/2, mixture (1/4, 1/2, 1/4): KL = 1/2 on both sides, JS-2 = 1/2;
    #   trigrams  {aab} vs {abb}: disjoint, JS-3 = 1 bit.
    (tmp_path / "samples.txt").write_text("aab\n", encoding="utf-8")
    (tmp_path / "corpus.txt").write_text("abb\n", encoding="utf-8")
    out = baseline.ngram(str(tmp_path / "corpus.txt"), str(tmp_path / "samples.txt"), n=3, seq_len=3)
    assert out["js1"] == pytest.approx(5 / 3 - math.log2(3), abs=1e-12)
    assert out["js2"] == pytest.approx(0.5, abs=1e-12)
    assert out["js3"] == pytest.approx(1.0, abs=1e-12)


def test_lines_are_cut_and_padded_and_padding_counts(baseline, tmp_path):
    # "ab" padded to "ab`" and "abcd" cut to "abc": unigrams (a, b, `) vs (a, b, c), each 1/3;
    # mixture (1/3, 1/3, 1/6, 1/6): KL = 1/3 log2 2 = 1/3 on both sides, so JS-1 = 1/3.
    (tmp_path / "s.txt").write_text("ab\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("abcd\n", encoding="utf-8")
    assert baseline.read_lines(str(tmp_path / "s.txt"), 3) == [("a", "b", "`")]
    assert baseline.read_lines(str(tmp_path / "c.txt"), 3) == [("a", "b", "c")]
    js = baseline.ngram_js(baseline.read_lines(str(tmp_path / "s.txt"), 3),
                           baseline.read_lines(str(tmp_path / "c.txt"), 3), max_n=1)
    assert js["js1"] == pytest.approx(1 / 3, abs=1e-12)


def test_gradient_penalty_takes_one_norm_over_all_non_batch_axes(baseline):
    import torch
    torch.manual_seed(0)
    w = torch.randn(4, 3)

    class Linear(torch.nn.Module):                 # D(x) = <w, x>: its input gradient is w everywhere
        def forward(self, x):
            return (x * w).sum(dim=(1, 2))

    real, fake = torch.rand(5, 4, 3), torch.rand(5, 4, 3)
    gp = baseline.gradient_penalty(Linear(), real, fake)
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-5)
    # one norm per position (the trap of a widely used port) would give another value
    assert gp.item() != pytest.approx(((w.norm(dim=1) - 1) ** 2).mean().item(), rel=1e-3)


def test_networks_have_the_papers_shapes_and_init(baseline):
    import torch
    torch.manual_seed(0)
    G, D = baseline.build_networks(vocab=7, dim=8, seq_len=4)
    p = G(torch.randn(3, 128))
    assert p.shape == (3, 4, 7) and torch.allclose(p.sum(-1), torch.ones(3, 4))
    assert D(p).shape == (3, 1)
    assert len(G.blocks) == 5 and len(D.blocks) == 5
    conv = G.blocks[0].body[1]                     # Conv1d(8, 8, 5): bound sqrt(3) * sqrt(4 / (40 + 40))
    assert conv.weight.abs().max().item() <= math.sqrt(3 * 4 / 80)
    assert conv.weight.abs().max().item() > 0.9 * math.sqrt(3 * 4 / 80)
    assert torch.count_nonzero(conv.bias) == 0


def test_one_tiny_training_iteration(baseline, tmp_path):
    corpus = tmp_path / "lines.txt"
    corpus.write_text("".join(f"line {i % 7} of {i}\n" for i in range(80)), encoding="utf-8")
    samples = tmp_path / "samples.txt"
    out = baseline.train(str(corpus), dim=8, batch=4, seq_len=8, critic_iters=2, iters=1,
                         evaluate=True, samples_out=str(samples))
    assert out["gen_iters"] == 1 and out["lines"] == 80
    assert out["vocab"] == 1 + len(set("".join(f"line {i % 7} of {i}"[:8] for i in range(80))))
    assert math.isfinite(out["sec_per_gen_iter"]) and out["sec_per_gen_iter"] > 0
    assert all(0 <= out[f"js{n}"] <= 1 for n in range(1, 5))
    lines = samples.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 640 and all(len(line) == 8 for line in lines)
