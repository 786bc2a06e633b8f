"""Command line: maps options onto configs, calls textgan, prints.  No logic of its own.

    textgan train-lm --corpus NAME|PATH [--preset paper|small] [...]
    textgan train-image --dataset NAME|PATH [--preset paper|small] [...]
    textgan sample   --run DIR | --checkpoint FILE  -n N  [--out FILE.png | DIR/] [--class K]
    textgan eval-image --run DIR [--json]
    textgan eval-lm  --samples FILE | --run DIR  --corpus NAME|PATH [--temperatures T,T,..] [--json]
    textgan corpora  [list | show NAME | prepare NAME]
    textgan report   RUN_DIR [RUN_DIR ...] --out DIR
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from textgan.errors import TextganError

EXIT_USAGE = 2


def friendly_errors(fn):
    """User errors become one line on stderr and exit status 2, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TextganError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
    return wrapper



def _log(message: str) -> None:
    click.echo(message, err=True)


def _one_source(*, model: str | None, **others: str | None) -> str | None:
    """The one generator source given: a run directory, a checkpoint or a model folder."""
    from textgan.errors import ConfigError
    from textgan.export import is_model_folder
    given = {name: v for name, v in {**others, "model": model}.items() if v is not None}
    if len(given) != 1:
        raise ConfigError("give exactly one of " + ", ".join(f"--{k}" for k in [*others, "model"]))
    if model is not None and not is_model_folder(model):
        raise ConfigError(f"{model} is not a model folder (no model.safetensors; make one with textgan export)")
    return next(iter(given.values()))


def _options(*decorators):
    """Stack click options (listed in the order --help shows them)."""
    def apply(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn
    return apply


# Options of both train commands, declared once.
TRAIN_OPTIONS = _options(
    click.option("--preset", type=click.Choice(["paper", "small"]), default=None,
                 help="paper (default): the paper's settings for the data; small: learns within "
                      "minutes on a CPU."),
    click.option("--iters", type=int, help="Total generator iterations of the run (paper: text 200000)."),
    click.option("--critic-iters", type=int, help="Critic steps per generator step (paper: text 10, images 5)."),
    click.option("--dim", type=int, help="Channels (DIM) of both networks (paper: text 512)."),
    click.option("--batch-size", type=int, help="Batch size (paper: text 64)."),
    click.option("--gp-weight", type=float, help="Gradient penalty weight lambda (paper: 10; toy data 0.1)."),
    click.option("--lr", type=float, help="Learning rate (paper: text 1e-4)."),
    click.option("--objective", type=click.Choice(["wgan-gp", "wgan-gp-one-sided", "wgan-clip", "gan", "mle"]),
                 default=None, help="wgan-gp (default, the paper), wgan-gp-one-sided, wgan-clip (RMSProp "
                 "5e-5, 5 critic steps) or gan (non-saturating, Adam 2e-4, 1 step); each with the paper's "
                 "settings for it unless given explicitly.  train-lm: mle, an autoregressive model by "
                 "maximum likelihood (Adam 1e-3, betas 0.9/0.999; see --arch)."),
    click.option("--clip-value", type=float, help="wgan-clip: clip critic weights to +-c (0.01)."),
    click.option("--critic-lr", type=float, help="Critic learning rate when it differs from --lr (two "
                 "time-scale rule)."),
    click.option("--lr-decay", type=click.Choice(["none", "linear"]), default=None,
                 help="none, or linear: both rates fall to 0 over --iters (the CIFAR-10 ResNet's schedule; "
                      "the preset's choice unless given)."),
    click.option("--ema", type=float, help="Evaluate and sample an average of the generator's weights with "
                 "this decay per iteration, e.g. 0.999 (0: the last weights; the preset's choice unless "
                 "given: small text 0.999, others 0)."),
    click.option("--eval-every", type=int, help="Log, evaluate, sample and checkpoint every N iterations."),
    click.option("--seed", type=int, help="Random seed (default 1)."),
    click.option("--out", type=click.Path(file_okay=False), help="Run directory (default runs/DATA-TIME)."),
    click.option("--resume", is_flag=True, help="Continue the run in --out up to --iters."),
    click.option("--device", default=None, help="auto (default), cpu, cuda or cuda:N."),
    click.option("--precision", type=click.Choice(["fp32", "bf16"]), default=None,
                 help="fp32 (exact, default) or bf16 autocast."),
    click.option("--compile/--no-compile", "compile", default=None, help="torch.compile the networks (CUDA)."),
    click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                 help="Where named corpora and data sets live (default $TEXTGAN_DATA_DIR or ~/.cache/textgan)."),
    click.option("--download/--no-download", default=None, help="Download named data if it is absent."),
    click.option("--checkpoint-every", type=int, help="Checkpoint interval (default: every evaluation)."),
    click.option("--keep-checkpoints", type=int, help="How many recent checkpoints to keep (3; 0: all)."),
    click.option("--on-nonfinite", type=click.Choice(["stop", "rollback"]), default=None,
                 help="On a NaN/inf: stop (default) or roll back to the last good checkpoint."),
    click.option("--logger", multiple=True, type=click.Choice(["tensorboard", "wandb", "mlflow"]),
                 help="Also send metrics, samples and the config to this experiment tracker "
                      "(repeatable; needs the extra of the same name, e.g. textgan[tensorboard])."),
    click.option("--mlflow-uri", default=None, help="--logger mlflow: the tracking URI (default: a "
                 "SQLite store in the run directory, RUN_DIR/mlflow.db)."),
    click.option("--quiet", is_flag=True, help="No progress display."),
)


def _train(kind: str, data: str | None, options: dict) -> None:
    from textgan import modality
    from textgan.api import train

    quiet, preset, out, resume = (options.pop(k) for k in ("quiet", "preset", "out", "resume"))
    m = modality.get(kind)
    summary = train(m, data, out=out, preset=preset, resume=resume, progress=not quiet,
                    interactive=sys.stdin.isatty(), log=_log, **options)
    if summary.get("rank", 0):
        return                       # under torchrun rank 0 reports the run
    for line in m.summary(Path(summary["run_dir"]), summary["step"], summary["last"]):
        click.echo(line)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="textgan")
def main():
    """textgan: WGAN-GP language models (Gulrajani et al. 2017) and images, one gradient penalty."""


# ---------------------------------------------------------------- train-lm
@main.command("train-lm")
@click.option("--corpus", default=None, help="synthetic, billion-words, hf:NAME[:CONFIG[:SPLIT[:FIELD]]], "
              "or a PATH (text file or directory of them, .txt/.txt.gz/.jsonl); not needed with --resume.")
@TRAIN_OPTIONS
@click.option("--seq-len", type=int, help="Sequence length in tokens (paper: 32).")
@click.option("--max-lines", type=int, help="Training lines to read (paper: 10,000,000).")
@click.option("--tokens", type=click.Choice(["char", "word", "bpe"]), default=None,
              help="Token level (paper: char).")
@click.option("--bpe-vocab-size", type=int, help="Vocabulary size for --tokens bpe.")
@click.option("--conv", type=click.Choice(["auto", "direct", "winograd"]), default=None,
              help="Convolutions: auto (default: winograd on CPU in fp32, direct otherwise), "
                   "direct, or winograd (same maths, fewer multiplications).")
@click.option("--gumbel-tau", type=float, help="GAN generator outputs: 0 (the paper) the softmax, > 0 "
              "Gumbel-softmax relaxed samples at this temperature while training (sampling unchanged).")
@click.option("--straight-through", is_flag=True, default=None, help="GAN generator: the critic sees "
              "one-hot vectors (the argmax, or with --gumbel-tau a hard sample) while the gradient is "
              "the softmax's (straight-through estimator); sampling unchanged.")
@click.option("--arch", default=None, help="--objective mle: conv (default: the paper's residual blocks, "
              "causal) or gru (2 layers).")
@friendly_errors
def train_lm(corpus, **options):
    """Train the paper's WGAN-GP character language model."""
    _train("lm", corpus, options)


# ---------------------------------------------------------------- train-image
@main.command("train-image")
@click.option("--dataset", default=None, help="8gaussians, 25gaussians, swissroll, mnist, cifar10, or the "
              "PATH of an image folder; not needed with --resume.")
@TRAIN_OPTIONS
@click.option("--critic-norm", type=click.Choice(["none", "layer", "batch"]), default=None,
              help="Critic normalisation (paper: none; 64 px folders: layer).")
@click.option("--size", type=int, help="Image side for folders: 32 (CIFAR ResNet) or 64 (64x64 ResNet, "
              "default).")
@click.option("--channels", type=click.Choice(["1", "3"]), default=None,
              help="Image channels for folders: 1 grey, 3 colour (default: detected from the files).")
@click.option("--conditional/--unconditional", default=None,
              help="AC-GAN on the class labels (cifar10, or a 32 px folder of class sub-folders).")
@click.option("--max-examples", type=int, help="Use only the first N training images.")
@click.option("--inception-weights", type=click.Path(dir_okay=False), default=None,
              help="InceptionV3 weights for inception_score/fid (default $TEXTGAN_INCEPTION_WEIGHTS).")
@friendly_errors
def train_image(dataset, **options):
    """Train WGAN-GP on the paper's toy data, MNIST, CIFAR-10 or an image folder."""
    if options.get("channels") is not None:
        options["channels"] = int(options["channels"])
    _train("image", dataset, options)


# ---------------------------------------------------------------- sample
@main.command()
@click.option("--run", "run_dir", type=click.Path(file_okay=False), help="Run directory (newest good checkpoint).")
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="A checkpoint file.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False),
              help="A model folder written by `textgan export`.")
@click.option("-n", "--num", "n", type=int, default=64, show_default=True,
              help="Number of lines (text) or images.")
@click.option("--out", "out_file", type=click.Path(),
              help="Write to FILE instead of stdout; image runs: FILE.png (one grid) or DIR/ (N files).")
@click.option("--class", "class_", type=int, default=None,
              help="Image runs trained with --conditional: samples of class K only (default: one row "
                   "per class).")
@click.option("--seed", type=int, default=None, help="Noise seed (default: random).")
@click.option("--device", default="auto", show_default=True)
@click.option("--decode", default=None, help="Text runs: argmax (GAN runs' default, the paper's) or "
              "sample (mle runs' default) from the softmax at each position.")
@click.option("--temperature", default=None, help="Text runs: sample from softmax(logits / T) (default 1).")
@friendly_errors
def sample(run_dir, checkpoint, model_dir, n, out_file, class_, seed, device, decode, temperature):
    """Print or write N generated lines (argmax per position, padding stripped), or write image samples."""
    from textgan.errors import ConfigError
    from textgan.modality import load_model
    from textgan.runs import resolve_device

    if n <= 0:
        raise ConfigError(f"-n must be positive, got {n}")
    source = _one_source(run_dir=run_dir, checkpoint=checkpoint, model=model_dir)
    model = load_model(source if checkpoint is None else None, checkpoint, resolve_device(device), warn=_log)
    text, message = model.modality.write_samples(model, n, out_file, seed=seed, class_=class_,
                                                 decode=decode, temperature=temperature)
    if text is not None:
        click.echo(text, nl=False)
    if message:
        _log(message)


# ---------------------------------------------------------------- export
@main.command()
@click.option("--run", "run_dir", type=click.Path(file_okay=False), required=True, help="The run to export.")
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="This checkpoint, not the newest good one.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="The model folder.")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
@click.option("--push-to-hub", "repo", default=None, help="Then upload the folder as this Hub model repository.")
@click.option("--private", is_flag=True, help="With --push-to-hub: a private repository.")
@friendly_errors
def export(run_dir, checkpoint, out_dir, force, repo, private):
    """Write a run's sampling generator as a model folder (model.safetensors, config.json, vocabulary,
    model card): the layout of a Hugging Face model repository."""
    from textgan.export import export_run, push_to_hub
    folder = export_run(run_dir, out_dir, checkpoint=checkpoint, force=force, warn=_log)
    _log(f"wrote {folder}")
    if repo:
        _log(f"pushed to {push_to_hub(folder, repo, private=private)}")


# ---------------------------------------------------------------- eval-image
@main.command("eval-image")
@click.option("--run", "run_dir", type=click.Path(file_okay=False), help="An image run.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False),
              help="A model folder written by `textgan export`.")
@click.option("-n", "--num", "n", type=int, default=None,
              help="Samples to generate (default: the run's evaluation size).")
@click.option("--inception-weights", type=click.Path(dir_okay=False), default=None,
              help="InceptionV3 weights for inception_score/fid (default $TEXTGAN_INCEPTION_WEIGHTS).")
@click.option("--device", default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--decode", default=None, hidden=True)        # text runs' options, refused in one line
@click.option("--temperature", default=None, hidden=True)
@friendly_errors
def eval_image(run_dir, model_dir, n, inception_weights, device, as_json, decode, temperature):
    """The run's newest generator through its metrics, beside the real-data floor and the better direction."""
    from textgan.api import evaluate_run
    from textgan.runs import resolve_device

    source = _one_source(run_dir=run_dir, model=model_dir)
    model, result = evaluate_run("eval-image", source, device=resolve_device(device), log=_log,
                                 n=n, inception_weights=inception_weights, decode=decode,
                                 temperature=temperature)
    click.echo(json.dumps(result) if as_json else model.modality.format_evaluation(result))


# ---------------------------------------------------------------- eval-lm
@main.command("eval-lm")
@click.option("--samples", type=click.Path(dir_okay=False), help="File of generated lines.")
@click.option("--run", "run_dir", type=click.Path(file_okay=False), help="Generate samples from this run.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False),
              help="Generate samples from a model folder written by `textgan export`.")
@click.option("-n", "--num", "n", type=int, default=640, show_default=True,
              help="Lines to generate with --run.")
@click.option("--corpus", default=None, help="NAME or PATH of the reference corpus (with --run or "
              "--model: default the corpus the run was trained on, with its --data-dir).")
@click.option("--heldout", type=click.Path(dir_okay=False), default=None,
              help="Held-out reference lines (default: the corpus's own split).")
@click.option("--seq-len", type=int, default=None,
              help="Lines are cut/padded to this (default: the run's sequence length, else 32).")
@click.option("--max-lines", type=int, default=10_000_000, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--download/--no-download", default=False)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--decode", default=None, help="With --run: argmax or sample (as `sample --decode`).")
@click.option("--temperature", default=None, help="With --run: sampling temperature (as `sample`).")
@click.option("--temperatures", default=None,
              help="With --run: a quality-diversity curve, e.g. 0.5,0.7,1.0,1.3: the table at each "
                   "temperature, sampling with --decode sample (GAN runs too: argmax ignores the "
                   "temperature), against one reference; also written to RUN/curve.json for `report`.")
@friendly_errors
def eval_lm(samples, run_dir, model_dir, n, corpus, heldout, seq_len, max_lines, data_dir, download, seed, as_json,
            decode, temperature, temperatures):
    """JS-1..4 (bits) of samples against a corpus, with the paper's exact definition, and more metrics."""
    from textgan.api import evaluate_run
    from textgan.errors import ConfigError
    from textgan.evaluate import format_curve, format_report
    from textgan.lm import evaluate_lm

    options = dict(n=n, corpus=corpus, heldout=heldout, seq_len=seq_len, max_lines=max_lines,
                   data_dir=data_dir, download=download, seed=seed, interactive=sys.stdin.isatty())
    if sum(x is not None for x in (samples, run_dir, model_dir)) != 1:
        raise ConfigError("give exactly one of --samples FILE, --run DIR or --model DIR")
    if samples is None:
        run_dir = _one_source(run_dir=run_dir, model=model_dir)
    if samples is not None:
        if corpus is None:
            raise ConfigError("--samples needs --corpus NAME|PATH (the reference corpus)")
        if decode is not None or temperature is not None or temperatures is not None:
            raise ConfigError("--decode, --temperature and --temperatures are for --run "
                              "(a file's samples are fixed)")
        result = evaluate_lm(samples=samples, log=_log, **options)
    else:
        if temperatures is not None and (temperature is not None or decode is not None):
            raise ConfigError("--temperatures replaces --temperature and --decode (it samples at each)")
        _, result = evaluate_run("eval-lm", run_dir, log=_log, decode=decode, temperature=temperature,
                                 temperatures=temperatures, **options)
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(format_curve(result) if "curve" in result else format_report(result))


# ---------------------------------------------------------------- corpora
@main.group(invoke_without_command=True)
@click.pass_context
def corpora(ctx):
    """List, show and prepare the named corpora."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(corpora_list)


@corpora.command("list")
@friendly_errors
def corpora_list():
    """The named corpora."""
    from textgan.data.corpus import list_corpora
    for card in list_corpora():
        click.echo(f"{card['name']:<16} {card.get('summary', '')}")


@corpora.command("show")
@click.argument("name")
@friendly_errors
def corpora_show(name):
    """A corpus card: where it comes from, layout, size, licence."""
    from textgan.data.corpus import show_corpus
    click.echo(show_corpus(name))


@corpora.command("prepare")
@click.argument("name")
@click.option("--seq-len", type=int, default=32, show_default=True)
@click.option("--max-lines", type=int, default=10_000_000, show_default=True)
@click.option("--tokens", type=click.Choice(["char", "word", "bpe"]), default="char", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--download/--no-download", default=False)
@friendly_errors
def corpora_prepare(name, seq_len, max_lines, tokens, data_dir, download):
    """Download (if asked) and encode a corpus ahead of training."""
    from textgan.config import DataConfig
    from textgan.data.corpus import prepare_corpus
    data = DataConfig(corpus=name, tokens=tokens, max_lines=max_lines, data_dir=data_dir, download=download)
    click.echo(prepare_corpus(data, seq_len))


# ---------------------------------------------------------------- report
@main.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory for the PNG plots and index.html.")
@friendly_errors
def report(run_dirs, out_dir):
    """Plots (metrics, Wasserstein estimate on training and held-out data, losses, penalty, gradient
    norm; by iteration and by time) and one HTML page for one or more runs, also while they train."""
    from textgan.report import write_report
    index = write_report([Path(d) for d in run_dirs], Path(out_dir))
    click.echo(f"wrote {index}")


if __name__ == "__main__":
    main()
