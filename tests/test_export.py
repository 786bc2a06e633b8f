"""textgan export: a model folder (safetensors, JSON, model card) that samples exactly as its run."""
from __future__ import annotations

import json
import pickle

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

import textgan
from textgan.cli import main


def invoke(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def out_of(r):
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("".join(f"the {w} sat on mat {i % 7}\n" for i, w in enumerate(["cat", "dog", "hen"] * 80)),
                    encoding="utf-8")
    return path


TINY = ["--iters", "4", "--eval-every", "4", "--batch-size", "8", "--dim", "8", "--seq-len", "12",
        "--device", "cpu"]


@pytest.fixture(scope="module", params=["gan", "mle"])
def text_run(request, tmp_path_factory, corpus):
    run = tmp_path_factory.mktemp("run") / request.param
    extra = ["--objective", "mle"] if request.param == "mle" else ["--ema", "0.9"]
    out_of(invoke(["train-lm", "--corpus", str(corpus), "--preset", "small", "--out", str(run), *TINY, *extra]))
    return run


def test_the_folder_holds_the_sampling_generator_config_vocabulary_and_card(text_run, tmp_path):
    model_dir = tmp_path / "model"
    r = invoke(["export", "--run", str(text_run), "--out", str(model_dir)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in model_dir.iterdir()) == ["README.md", "config.json", "model.safetensors",
                                                           "vocab.json"]
    state = torch.load(sorted((text_run / "checkpoints").glob("*.pt"))[-1], weights_only=True)
    weights = load_file(str(model_dir / "model.safetensors"))
    expected = state.get("generator_avg") or state["generator"]     # the average when the run kept one
    assert weights.keys() == expected.keys()
    assert all(torch.equal(weights[k], expected[k]) for k in weights)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["kind"] == "lm" and config["step"] == 4 and config["config"] == state["config"]
    assert json.loads((model_dir / "vocab.json").read_text()) == state["vocab"]
    card = (model_dir / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: textgan\n")
    assert "| js4 |" in card and "real-data floor" in card and "preset: `small`" in card
    assert state["config"]["train"]["objective"] in card


def test_sample_and_eval_from_the_folder_equal_the_run(text_run, tmp_path):
    model_dir = tmp_path / "model"
    out_of(invoke(["export", "--run", str(text_run), "--out", str(model_dir)]))
    for extra in ([], ["--decode", "sample", "--temperature", "0.7"]):
        by_run = out_of(invoke(["sample", "--run", str(text_run), "-n", "6", "--seed", "3", *extra]))
        by_model = out_of(invoke(["sample", "--model", str(model_dir), "-n", "6", "--seed", "3", *extra]))
        assert by_model == by_run and len(by_run.splitlines()) == 6
    corpus = json.loads((text_run / "config.json").read_text())["data"]["corpus"]
    ev = ["eval-lm", "--corpus", corpus, "-n", "32", "--json"]
    assert (json.loads(out_of(invoke([*ev, "--model", str(model_dir)])))
            == json.loads(out_of(invoke([*ev, "--run", str(text_run)]))))
    model = textgan.load_model(model_dir)
    assert model.critic is None and model.step == 4


def test_reading_a_folder_never_unpickles(text_run, tmp_path, monkeypatch):
    model_dir = tmp_path / "model"
    out_of(invoke(["export", "--run", str(text_run), "--out", str(model_dir)]))

    def refuse(*a, **k):
        raise AssertionError("a model folder must not be unpickled")
    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    assert out_of(invoke(["sample", "--model", str(model_dir), "-n", "2", "--seed", "0"])).count("\n") == 2


def test_an_image_folder_samples_the_same_pixels(tmp_path):
    run = tmp_path / "toy"
    out_of(invoke(["train-image", "--dataset", "8gaussians", "--preset", "small", "--iters", "20",
                   "--eval-every", "10", "--out", str(run), "--device", "cpu"]))
    out_of(invoke(["export", "--run", str(run), "--out", str(tmp_path / "model")]))
    assert (tmp_path / "model" / "image.json").is_file()
    a = textgan.load_run(run).sample(16, seed=5)
    b_model = textgan.load_model(tmp_path / "model")
    b = b_model.modality.sample(b_model, 16, seed=5)
    assert torch.equal(a, b)
    r = invoke(["eval-image", "--model", str(tmp_path / "model"), "--json", "--device", "cpu"])
    assert r.exit_code == 0, r.output
    by_model, by_run = json.loads(r.stdout), json.loads(
        out_of(invoke(["eval-image", "--run", str(run), "--json", "--device", "cpu"])))
    assert by_model.pop("run") == str(tmp_path / "model") and by_run.pop("run") == str(run)
    assert by_model == by_run


def test_bad_input_is_one_line(text_run, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    cases = [(["export", "--run", str(tmp_path / "nothing"), "--out", str(tmp_path / "m")], "nothing"),
             (["export", "--run", str(text_run), "--out", str(tmp_path / "full")], "not an empty directory"),
             (["sample", "--model", str(tmp_path / "full")], "not a model folder"),
             (["sample", "--model", str(tmp_path / "full"), "--run", str(text_run)], "exactly one of")]
    for args, words in cases:
        r = invoke(args)
        assert r.exit_code == 2 and words in r.output and "Traceback" not in r.output, r.output
    assert (tmp_path / "full" / "x").read_text() == "keep"
    model_dir = tmp_path / "model"
    out_of(invoke(["export", "--run", str(text_run), "--out", str(model_dir)]))
    (model_dir / "vocab.json").unlink()
    r = invoke(["sample", "--model", str(model_dir)])
    assert r.exit_code == 2 and "no vocab.json" in r.output


def test_push_without_a_network_fails_in_one_line_and_keeps_the_folder(text_run, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")      # nothing listens there: like no network
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "2")
    model_dir = tmp_path / "model"
    r = invoke(["export", "--run", str(text_run), "--out", str(model_dir), "--push-to-hub", "someone/tiny"])
    assert r.exit_code == 2
    assert "could not push" in r.output and len([l for l in r.output.splitlines() if l.startswith("error")]) == 1
    assert (model_dir / "model.safetensors").is_file()
