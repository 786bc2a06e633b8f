"""The maximum-likelihood yardstick (--objective mle) and sampling temperature."""
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from scipy.stats import chisquare

from textgan import checkpoint as ck
from textgan.cli import main
from textgan.config import ModelConfig
from textgan.lm import generate_ids
from textgan.losses import mle_loss
from textgan.models.autoregressive import ConvLM, GRULM, build_lm, draw
from textgan.models.text import Generator

TINY = ["--preset", "small", "--objective", "mle", "--dim", "8", "--batch-size", "8", "--eval-every", "2",
        "--device", "cpu", "--seed", "3", "--quiet"]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("".join(f"line {i} of the corpus, number {i * 7 % 13}\n" for i in range(64)),
                    encoding="utf-8")
    return path


def cli(*args):
    return CliRunner().invoke(main, list(args))


def test_mle_loss_is_the_hand_computed_cross_entropy():
    logits = torch.tensor([[[1.0, 2.0, 0.0], [0.0, 0.0, math.log(2.0)]]])   # [1, 2, 3]
    targets = torch.tensor([[1, 2]])
    first = -(2.0 - math.log(math.e + math.e ** 2 + 1.0))
    second = -(math.log(2.0) - math.log(1.0 + 1.0 + 2.0))
    assert mle_loss(logits, targets).item() == pytest.approx((first + second) / 2, rel=1e-6)


@pytest.mark.parametrize("make", [lambda: ConvLM(7, dim=16, seq_len=12, n_blocks=2),
                                  lambda: GRULM(7, dim=16, seq_len=12)])
def test_outputs_never_see_later_inputs(make):
    torch.manual_seed(0)
    model = make().double()
    ids = torch.randint(7, (3, 12))
    base = model.logits(ids)
    for t in range(12):
        changed = ids.clone()
        changed[:, t] = (changed[:, t] + 1) % 7
        out = model.logits(changed)
        # position t predicts token t from tokens < t: positions <= t are unchanged, later ones move
        assert torch.equal(out[:, :t + 1], base[:, :t + 1])
        if t < 11:
            assert not torch.allclose(out[:, t + 1], base[:, t + 1])


def test_temperature_sampling_draws_from_the_tempered_softmax():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    n = 20_000
    g = torch.Generator().manual_seed(0)
    for t in (0.5, 1.0, 2.0):
        drawn = draw(logits.expand(n, 4), t, g)
        counts = np.bincount(drawn.numpy(), minlength=4)
        expected = torch.softmax(logits.double() / t, -1).numpy() * n
        assert chisquare(counts, expected).pvalue > 1e-3
    # and a wrong temperature is detected by the same test
    drawn = draw(logits.expand(n, 4), 1.0, g)
    wrong = torch.softmax(logits.double() / 1.3, -1).numpy() * n
    assert chisquare(np.bincount(drawn.numpy(), minlength=4), wrong).pvalue < 1e-6


def test_gan_decodes_argmax_by_default_and_samples_when_asked():
    torch.manual_seed(0)
    gen = Generator(5, dim=8, seq_len=8, n_blocks=1, z_dim=4)
    z = torch.randn(16, 4, generator=torch.Generator().manual_seed(9))
    argmax = generate_ids(gen, 16, seed=9)
    assert np.array_equal(argmax, gen.logits(z).argmax(-1).numpy())
    sampled = generate_ids(gen, 16, seed=9, decode="sample", temperature=5.0)
    assert np.array_equal(sampled, generate_ids(gen, 16, seed=9, decode="sample", temperature=5.0))
    assert not np.array_equal(sampled, argmax)


def test_greedy_decoding_follows_the_teacher_forced_argmax():
    torch.manual_seed(1)
    for model in (build_lm(ModelConfig(dim=8, seq_len=10, n_blocks=2, vocab_size=6)),
                  build_lm(ModelConfig(dim=8, seq_len=10, vocab_size=6, arch="gru"))):
        ids = model.sample_ids(4, None, greedy=True)
        assert torch.equal(model.logits(ids).argmax(-1), ids)


def final_state(run):
    state, _ = ck.load_latest(run / "checkpoints")
    return state


@pytest.mark.parametrize("arch", ["conv", "gru"])
def test_stop_and_resume_is_bit_identical(corpus, tmp_path, arch):
    args = ["train-lm", "--corpus", str(corpus), "--arch", arch, *TINY]
    assert cli(*args, "--iters", "6", "--out", str(tmp_path / "straight")).exit_code == 0
    assert cli(*args, "--iters", "3", "--out", str(tmp_path / "split")).exit_code == 0
    resumed = cli(*args, "--iters", "6", "--out", str(tmp_path / "split"), "--resume")
    assert resumed.exit_code == 0, resumed.output
    a, b = final_state(tmp_path / "straight"), final_state(tmp_path / "split")
    assert a["step"] == b["step"] == 6 and a["critic"] is None
    for key in ("generator", "opt_g"):
        for name in a[key] if key == "generator" else ():
            assert torch.equal(a[key][name], b[key][name])
    assert a["opt_g"]["state"].keys() == b["opt_g"]["state"].keys()
    for k, s in a["opt_g"]["state"].items():
        assert all(torch.equal(s[n], b["opt_g"]["state"][k][n]) for n in s)
    assert a["sampler"] == b["sampler"]


def test_a_run_samples_evaluates_and_logs(corpus, tmp_path):
    out = tmp_path / "run"
    result = cli("train-lm", "--corpus", str(corpus), *TINY, "--iters", "4", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "parameters (the GAN generator at these settings:" in result.output
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 and '"generator_loss"' in lines[0] and '"js4"' in lines[0]
    one = cli("sample", "--run", str(out), "-n", "5", "--seed", "2", "--temperature", "0.7")
    assert one.exit_code == 0 and len(one.output.splitlines()) == 5
    assert one.output == cli("sample", "--run", str(out), "-n", "5", "--seed", "2",
                             "--temperature", "0.7").output
    ev = cli("eval-lm", "--run", str(out), "--corpus", str(corpus), "-n", "20", "--temperature", "1.5")
    assert ev.exit_code == 0, ev.output


def bad(*args):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_bad_input_is_one_line(corpus, tmp_path):
    out = tmp_path / "run"
    assert cli("train-lm", "--corpus", str(corpus), *TINY, "--iters", "2", "--out", str(out)).exit_code == 0
    for t in ("0", "-1", "abc", "nan"):
        assert "--temperature must be a positive number" in bad("sample", "--run", str(out), "--temperature", t)
    assert "--decode must be" in bad("sample", "--run", str(out), "--decode", "beam")
    assert "argmax takes no temperature" in bad("sample", "--run", str(out), "--decode", "argmax",
                                                "--temperature", "2")
    assert "--arch must be one of conv, gru" in bad("train-lm", "--corpus", str(corpus), *TINY, "--arch", "lstm",
                                                    "--out", str(tmp_path / "x"))
    assert "--arch gru is for --objective mle" in bad("train-lm", "--corpus", str(corpus), "--arch", "gru",
                                                      "--out", str(tmp_path / "y"))
    assert "--objective mle is for train-lm" in bad("train-image", "--dataset", "8gaussians", "--objective",
                                                    "mle", "--out", str(tmp_path / "z"))
    assert "are for --run" in bad("eval-lm", "--samples", str(corpus), "--corpus", str(corpus),
                                  "--temperature", "1")


def test_image_runs_refuse_temperature(tmp_path):
    out = tmp_path / "toy"
    result = cli("train-image", "--dataset", "8gaussians", "--preset", "small", "--dim", "8", "--iters", "2",
                 "--eval-every", "2", "--device", "cpu", "--quiet", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "--temperature is not for image runs" in bad("sample", "--run", str(out), "--out",
                                                        str(tmp_path / "p.png"), "--temperature", "1")
    assert "--decode is not for image runs" in bad("sample", "--run", str(out), "--out",
                                                   str(tmp_path / "p.png"), "--decode", "sample")
