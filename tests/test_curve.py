"""Quality-diversity curves: eval-lm --temperatures, RUN/curve.json and the report's curve figures."""
import json

import pytest
from click.testing import CliRunner

from textgan import load_run
from textgan.cli import main
from textgan.metrics import METRICS
from test_mle import bad   # one line on stderr, exit status 2, no traceback

TINY = ["--preset", "small", "--dim", "8", "--batch-size", "8", "--eval-every", "2", "--device", "cpu",
        "--seed", "3", "--quiet", "--iters", "2"]
TEMPS = ["0.5", "1", "1.7"]


def cli(*args):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A maximum-likelihood run and a GAN run on one small corpus."""
    root = tmp_path_factory.mktemp("curve")
    corpus = root / "c.txt"
    corpus.write_text("".join(f"line {i} of the corpus, number {i * 7 % 13}\n" for i in range(64)),
                      encoding="utf-8")
    made = {"corpus": corpus}
    for name, extra in (("mle", ["--objective", "mle"]), ("gan", ["--critic-iters", "1"])):
        out = root / name
        result = cli("train-lm", "--corpus", str(corpus), *TINY, *extra, "--out", str(out))
        assert result.exit_code == 0, result.output
        made[name] = out
    return made


def eval_json(run, corpus, *options):
    result = cli("eval-lm", "--run", str(run), "--corpus", str(corpus), "-n", "24", "--seed", "5",
                 "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.splitlines()[-1])


@pytest.mark.parametrize("kind", ["mle", "gan"])
def test_each_curve_entry_is_a_separate_evaluation_at_that_temperature(runs, kind):
    curve = eval_json(runs[kind], runs["corpus"], "--temperatures", ",".join(TEMPS))
    assert [e["temperature"] for e in curve["curve"]] == [0.5, 1.0, 1.7]
    for entry in curve["curve"]:
        assert set(METRICS) <= set(entry)          # every metric of the usual sample set
        assert set(entry) == {"temperature", *curve["samples"]}
    singles = [eval_json(runs[kind], runs["corpus"], "--temperature", t, "--decode", "sample") for t in TEMPS]
    for entry, single in zip(curve["curve"], singles):
        assert {k: v for k, v in entry.items() if k != "temperature"} == single["samples"]
        assert single["floor"] == curve["floor"]
    # the usual keys are those of the first temperature
    assert {k: v for k, v in curve.items() if k != "curve"} == singles[0]
    # and the temperatures do change the samples (else the equality above proves little)
    assert len({json.dumps(e, sort_keys=True) for e in curve["curve"]}) == len(TEMPS)


def test_curve_json_is_written_and_the_api_returns_the_same_object(runs):
    run, corpus = runs["mle"], runs["corpus"]
    (run / "curve.json").unlink(missing_ok=True)
    printed = eval_json(run, corpus, "--temperatures", "0.7,1.3")
    assert json.loads((run / "curve.json").read_text()) == printed
    from_api = load_run(run).evaluate(corpus=str(corpus), n=24, seed=5, temperatures=[0.7, 1.3],
                                      log=lambda message: None)
    assert json.loads(json.dumps(from_api)) == printed


def test_the_corpus_defaults_to_the_runs_own(runs):
    """`eval-lm --run R --temperatures ...` needs no --corpus: the run's corpus is the reference."""
    given = eval_json(runs["mle"], runs["corpus"], "--temperatures", "0.7,1.3")
    result = cli("eval-lm", "--run", str(runs["mle"]), "-n", "24", "--seed", "5", "--json",
                 "--temperatures", "0.7,1.3")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1]) == given
    other = runs["corpus"].with_name("other.txt")
    other.write_text("".join(f"quite different words {i}\n" for i in range(64)), encoding="utf-8")
    assert eval_json(runs["mle"], other, "--temperatures", "0.7,1.3")["curve"] != given["curve"]
    assert "--samples needs --corpus" in bad("eval-lm", "--samples", str(other))


def test_plain_output_is_one_table_with_a_row_per_temperature(runs):
    result = cli("eval-lm", "--run", str(runs["gan"]), "--corpus", str(runs["corpus"]), "-n", "24",
                 "--temperatures", "0.5,1.7")
    assert result.exit_code == 0, result.output
    rows = [line.split("|")[0].strip() for line in result.output.splitlines() if "|" in line]
    assert rows == ["temperature", "0.5", "1.7", "real floor", "better"]


def test_report_draws_the_curves_of_runs_that_have_one(runs, tmp_path):
    (runs["gan"] / "curve.json").unlink(missing_ok=True)
    without = cli("report", str(runs["gan"]), "--out", str(tmp_path / "without"))
    assert without.exit_code == 0, without.output
    page = (tmp_path / "without" / "index.html").read_text()
    assert "curve.png" not in page and "--temperatures" in page
    assert not (tmp_path / "without" / "curve.png").exists()

    eval_json(runs["mle"], runs["corpus"], "--temperatures", "0.5,1")
    both = cli("report", str(runs["mle"]), str(runs["gan"]), "--out", str(tmp_path / "with"))
    assert both.exit_code == 0, both.output
    page = (tmp_path / "with" / "index.html").read_text()
    assert '<img src="curve.png"' in page and "BLEU-4 against Self-BLEU-4" in page
    assert (tmp_path / "with" / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_curve_input_is_one_line(runs, tmp_path):
    run, corpus = str(runs["mle"]), str(runs["corpus"])
    for temps in ("", "0.5,,1", "0.5,", "a,1", "0,1", "1,-2", "nan", "inf"):
        assert "--temperatures must be a comma-separated list of positive numbers" in \
            bad("eval-lm", "--run", run, "--corpus", corpus, "--temperatures", temps), temps
    for other in (["--temperature", "1"], ["--decode", "sample"]):
        assert "--temperatures replaces --temperature and --decode" in \
            bad("eval-lm", "--run", run, "--corpus", corpus, "--temperatures", "1,2", *other)
    assert "are for --run" in bad("eval-lm", "--samples", corpus, "--corpus", corpus, "--temperatures", "1")
    for t in ("0", "-1", "x"):
        assert "--temperature must be a positive number" in bad("eval-lm", "--run", run, "--corpus", corpus,
                                                                "--temperature", t)
    toy = tmp_path / "toy"
    result = cli("train-image", "--dataset", "8gaussians", "--preset", "small", "--dim", "8", "--iters", "2",
                 "--eval-every", "2", "--device", "cpu", "--quiet", "--out", str(toy))
    assert result.exit_code == 0, result.output
    assert "--temperature is not for image runs" in bad("eval-image", "--run", str(toy), "-n", "64",
                                                        "--temperature", "1")
    assert "--decode is not for image runs" in bad("eval-image", "--run", str(toy), "-n", "64",
                                                   "--decode", "sample")
    assert "use eval-image" in bad("eval-lm", "--run", str(toy), "--corpus", corpus, "--temperatures", "1")



def test_a_folder_that_cannot_be_written_still_prints_the_curve(runs, tmp_path, monkeypatch):
    import pathlib
    folder = tmp_path / "model"
    assert cli("export", "--run", str(runs["mle"]), "--out", str(folder)).exit_code == 0
    write_text = pathlib.Path.write_text

    def read_only(path, *args, **kwargs):      # as a read-only folder answers (root writes anyway)
        if path.parent == folder:
            raise PermissionError(13, "Permission denied")
        return write_text(path, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", read_only)
    result = cli("eval-lm", "--model", str(folder), "--corpus", str(runs["corpus"]), "-n", "24",
                 "--temperatures", "0.5,1", "--json")
    assert result.exit_code == 0, result.output
    assert "cannot write" in result.output and "the curve is printed only" in result.output
    assert [e["temperature"] for e in json.loads(result.output.splitlines()[-1])["curve"]] == [0.5, 1.0]
    assert not (folder / "curve.json").exists()
