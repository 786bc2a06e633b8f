"""Command line: maps options onto configs, calls textgan, prints.  No logic of its own.

    textgan train-lm --corpus NAME|PATH [--preset paper|small] [...]
    textgan train-image --dataset NAME|PATH [--preset paper|small] [...]
    textgan sample   --run DIR | --checkpoint FILE  -n N  [--out FILE.png | DIR/] [--class K]
    textgan eval-image --run DIR [--json]
    textgan eval-lm  --samples FILE | --run DIR  --corpus NAME|PATH [--json]
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


def OBJECTIVE_OPTIONS(fn):
    """Training options shared by train-lm and train-image: the paper's comparisons, the learning
    rates' schedule and the generator's weight average."""
    fn = click.option("--ema", type=float,
                      help="Evaluate and sample an average of the generator's weights with this decay "
                           "per iteration, e.g. 0.999 (0: the last weights; the preset's choice unless "
                           "given: small text 0.999, others 0).")(fn)
    fn = click.option("--lr-decay", type=click.Choice(["none", "linear"]), default=None,
                      help="none, or linear: both rates fall to 0 over --iters (the CIFAR-10 ResNet's "
                           "schedule; the preset's choice unless given).")(fn)
    fn = click.option("--critic-lr", type=float,
                      help="Critic learning rate when it differs from --lr (two time-scale rule).")(fn)
    fn = click.option("--clip-value", type=float, help="wgan-clip: clip critic weights to +-c (0.01).")(fn)
    fn = click.option("--objective", type=click.Choice(["wgan-gp", "wgan-gp-one-sided", "wgan-clip", "gan"]),
                      default=None, help="wgan-gp (default, the paper), wgan-gp-one-sided, wgan-clip "
                      "(RMSProp 5e-5, 5 critic steps) or gan (non-saturating, Adam 2e-4, 1 step); "
                      "each with the paper's settings for it unless given explicitly.")(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="textgan")
def main():
    """textgan: WGAN-GP language models (Gulrajani et al. 2017) and images, one gradient penalty."""


# ---------------------------------------------------------------- train-lm
@main.command("train-lm")
@click.option("--corpus", default=None, help="synthetic, billion-words, hf:NAME[:CONFIG[:SPLIT[:FIELD]]], "
              "or a PATH (text file or directory of them, .txt/.txt.gz/.jsonl); "
              "not needed with --resume.")
@click.option("--preset", type=click.Choice(["paper", "small"]), default=None,
              help="paper (default): the paper's settings; small: learns within minutes on a CPU.")
@click.option("--iters", type=int, help="Total generator iterations of the run (paper: 200000).")
@click.option("--critic-iters", type=int, help="Critic steps per generator step (paper: 10).")
@click.option("--dim", type=int, help="Channels of the residual blocks (paper: 512).")
@click.option("--batch-size", type=int, help="Batch size (paper: 64).")
@click.option("--seq-len", type=int, help="Sequence length in tokens (paper: 32).")
@click.option("--gp-weight", type=float, help="Gradient penalty weight lambda (paper: 10).")
@click.option("--lr", type=float, help="Adam learning rate (paper: 1e-4).")
@OBJECTIVE_OPTIONS
@click.option("--max-lines", type=int, help="Training lines to read (paper: 10,000,000).")
@click.option("--eval-every", type=int, help="Log, evaluate, sample and checkpoint every N iterations (100).")
@click.option("--tokens", type=click.Choice(["char", "word", "bpe"]), default=None,
              help="Token level (paper: char).")
@click.option("--bpe-vocab-size", type=int, help="Vocabulary size for --tokens bpe.")
@click.option("--device", default=None, help="auto (default), cpu, cuda or cuda:N.")
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default=None,
              help="fp32 (exact, default) or bf16 autocast.")
@click.option("--compile/--no-compile", "compile_", default=None, help="torch.compile the networks.")
@click.option("--conv", type=click.Choice(["auto", "direct", "winograd"]), default=None,
              help="Convolutions: auto (default: winograd on CPU in fp32, direct otherwise), "
                   "direct, or winograd (same maths, fewer multiplications).")
@click.option("--seed", type=int, help="Random seed (default 1).")
@click.option("--out", type=click.Path(file_okay=False), help="Run directory (default runs/CORPUS-TIME).")
@click.option("--resume", is_flag=True, help="Continue the run in --out up to --iters.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Where named corpora live (default $TEXTGAN_DATA_DIR or ~/.cache/textgan).")
@click.option("--download/--no-download", default=None, help="Download a named corpus if it is absent.")
@click.option("--checkpoint-every", type=int, help="Checkpoint interval (default: every evaluation).")
@click.option("--keep-checkpoints", type=int, help="How many recent checkpoints to keep (3).")
@click.option("--on-nonfinite", type=click.Choice(["stop", "rollback"]), default=None,
              help="On a NaN/inf: stop (default) or roll back to the last good checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@friendly_errors
def train_lm(corpus, preset, iters, critic_iters, dim, batch_size, seq_len, gp_weight, lr, objective,
             clip_value, critic_lr, lr_decay, ema, max_lines, eval_every, tokens, bpe_vocab_size, device, precision, compile_, conv, seed, out, resume, data_dir,
             download, checkpoint_every, keep_checkpoints, on_nonfinite, quiet):
    """Train the paper's WGAN-GP character language model."""
    from textgan.config import make_config
    from textgan.errors import ConfigError
    from textgan.runs import train_lm as run

    if corpus is None and not resume:
        raise ConfigError("--corpus is required (or --resume --out RUN_DIR to continue a run)")
    overrides = dict(corpus=corpus, iters=iters, critic_iters=critic_iters, dim=dim, batch_size=batch_size,
                     seq_len=seq_len, gp_weight=gp_weight, lr=lr, objective=objective,
                     clip_value=clip_value, critic_lr=critic_lr, lr_decay=lr_decay, ema=ema, max_lines=max_lines,
                     eval_every=eval_every, tokens=tokens, bpe_vocab_size=bpe_vocab_size, device=device,
                     precision=precision, compile=compile_, conv=conv, seed=seed, data_dir=data_dir,
                     download=download, checkpoint_every=checkpoint_every,
                     keep_checkpoints=keep_checkpoints, on_nonfinite=on_nonfinite)
    if resume:
        cfg = None
        overrides["preset"] = preset
    else:
        cfg = make_config(preset or "paper", **overrides)
    summary = run(cfg, out, resume=resume, overrides=overrides, progress=not quiet,
                  interactive=sys.stdin.isatty(), log=_log)
    if summary.get("rank", 0):
        return                       # under torchrun rank 0 reports the run
    last = summary["last"] or {}
    click.echo(f"run {summary['run_dir']}: step {summary['step']}"
               + "".join(f", {k} {last[k]:.4f}" for k in ("js1", "js2", "js3", "js4") if k in last))
    samples = sorted((Path(summary["run_dir"]) / "samples").glob("samples_*.txt"))
    if samples:
        lines = samples[-1].read_text(encoding="utf-8").splitlines()[:8]
        click.echo(f"samples at step {summary['step']} ({samples[-1]}):")
        for line in lines:
            click.echo(f"  {line}")


# ---------------------------------------------------------------- train-image
@main.command("train-image")
@click.option("--dataset", default=None, help="8gaussians, 25gaussians, swissroll, mnist, cifar10, or the "
              "PATH of an image folder; not needed with --resume.")
@click.option("--preset", type=click.Choice(["paper", "small"]), default=None,
              help="paper (default): the paper's settings for the data set; small: a CPU setting.")
@click.option("--iters", type=int, help="Total generator iterations of the run.")
@click.option("--critic-iters", type=int, help="Critic steps per generator step (paper: 5).")
@click.option("--batch-size", type=int, help="Batch size.")
@click.option("--lr", type=float, help="Learning rate.")
@click.option("--gp-weight", type=float, help="Gradient penalty weight lambda (toy 0.1, images 10).")
@OBJECTIVE_OPTIONS
@click.option("--critic-norm", type=click.Choice(["none", "layer", "batch"]), default=None,
              help="Critic normalisation (paper: none; 64 px folders: layer).")
@click.option("--dim", type=int, help="DIM of both networks.")
@click.option("--size", type=int, help="Image side for folders: 32 (CIFAR ResNet) or 64 (64x64 ResNet, "
              "default).")
@click.option("--conditional/--unconditional", default=None,
              help="AC-GAN on the class labels (cifar10, or a 32 px folder of class sub-folders).")
@click.option("--eval-every", type=int, help="Log, evaluate, sample and checkpoint every N iterations.")
@click.option("--seed", type=int, help="Random seed (default 1).")
@click.option("--out", type=click.Path(file_okay=False), help="Run directory (default runs/DATASET-TIME).")
@click.option("--resume", is_flag=True, help="Continue the run in --out up to --iters.")
@click.option("--device", default=None, help="auto (default), cpu, cuda or cuda:N.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Where mnist/cifar10 live (default $TEXTGAN_DATA_DIR or ~/.cache/textgan).")
@click.option("--download/--no-download", default=None, help="Download mnist or cifar10 if absent.")
@click.option("--max-examples", type=int, help="Use only the first N training images.")
@click.option("--on-nonfinite", type=click.Choice(["stop", "rollback"]), default=None,
              help="On a NaN/inf: stop (default) or roll back to the last good checkpoint.")
@click.option("--inception-weights", type=click.Path(dir_okay=False), default=None,
              help="InceptionV3 weights for inception_score/fid (default $TEXTGAN_INCEPTION_WEIGHTS).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@friendly_errors
def train_image(dataset, preset, iters, critic_iters, batch_size, lr, gp_weight, objective, clip_value,
                critic_lr, lr_decay, ema, critic_norm, dim, size, conditional, eval_every, seed, out, resume, device,
                data_dir, download, max_examples, on_nonfinite, inception_weights, quiet):
    """Train WGAN-GP on the paper's toy data, MNIST, CIFAR-10 or an image folder."""
    from textgan.config import make_image_config
    from textgan.errors import ConfigError
    from textgan.image import train_image as run

    if dataset is None and not resume:
        raise ConfigError("--dataset is required (or --resume --out RUN_DIR to continue a run)")
    overrides = dict(dataset=dataset, iters=iters, critic_iters=critic_iters, batch_size=batch_size, lr=lr,
                     gp_weight=gp_weight, objective=objective, clip_value=clip_value, critic_lr=critic_lr,
                     lr_decay=lr_decay, ema=ema, critic_norm=critic_norm, dim=dim, size=size, conditional=conditional,
                     eval_every=eval_every, seed=seed, device=device, data_dir=data_dir, download=download,
                     max_examples=max_examples, on_nonfinite=on_nonfinite,
                     inception_weights=inception_weights)
    if resume:
        cfg = None
        overrides["preset"] = preset
    else:
        cfg = make_image_config(dataset, preset or "paper",
                                **{k: v for k, v in overrides.items() if k != "dataset"})
    summary = run(cfg, out, resume=resume, overrides=overrides, progress=not quiet,
                  interactive=sys.stdin.isatty(), log=_log)
    if summary.get("rank", 0):
        return                       # under torchrun rank 0 reports the run
    last = summary["last"] or {}
    keys = ("w1", "modes", "within_3sigma", "classifier_score", "fd", "inception_score", "fid",
            "wasserstein_heldout")
    click.echo(f"run {summary['run_dir']}: step {summary['step']}"
               + "".join(f", {k} {last[k]}" if isinstance(last[k], int) else f", {k} {last[k]:.4f}"
                         for k in keys if isinstance(last.get(k), (int, float))))
    pictures = sorted((Path(summary["run_dir"]) / "samples").glob("samples_*.png"))
    if pictures:
        click.echo(f"samples at step {summary['step']}: {pictures[-1]}")


# ---------------------------------------------------------------- sample
@main.command()
@click.option("--run", "run_dir", type=click.Path(file_okay=False), help="Run directory (newest good checkpoint).")
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="A checkpoint file.")
@click.option("-n", "--num", "n", type=int, default=64, show_default=True,
              help="Number of lines (text) or images.")
@click.option("--out", "out_file", type=click.Path(),
              help="Write to FILE instead of stdout; image runs: FILE.png (one grid) or DIR/ (N files).")
@click.option("--class", "class_", type=int, default=None,
              help="Image runs trained with --conditional: samples of class K only (default: one row "
                   "per class).")
@click.option("--seed", type=int, default=None, help="Noise seed (default: random).")
@click.option("--device", default="auto", show_default=True)
@friendly_errors
def sample(run_dir, checkpoint, n, out_file, class_, seed, device):
    """Print or write N generated lines (argmax per position, padding stripped), or write image samples."""
    from textgan.errors import ConfigError
    from textgan.runs import resolve_device
    from textgan.sample import load_generator, sample_lines

    if n <= 0:
        raise ConfigError(f"-n must be positive, got {n}")
    if _run_kind(run_dir, checkpoint) == "image":
        from textgan.checkpoint import find_checkpoint
        from textgan.image import sample_image_run
        if not out_file:
            raise ConfigError("image samples need --out FILE.png (one grid) or --out DIR/ (N files)")
        state, path = find_checkpoint(run_dir, checkpoint, map_location="cpu", warn=_log)
        _log(sample_image_run(state, path, n=n, out=out_file, class_=class_, seed=seed,
                              device=resolve_device(device)) + f" (step {int(state['step'])})")
        return
    if class_ is not None:
        raise ConfigError("--class is for image runs trained with --conditional")
    generator, vocab, _, step = load_generator(run_dir, checkpoint, resolve_device(device), warn=_log)
    lines = sample_lines(generator, vocab, n, seed=seed)
    text = "".join(line + "\n" for line in lines)
    if out_file:
        _write_text(out_file, text)
        _log(f"wrote {len(lines)} lines from step {step} to {out_file}")
    else:
        click.echo(text, nl=False)


def _run_kind(run_dir, checkpoint) -> str:
    """lm or image: from the run's config.json, or from the checkpoint's config."""
    if checkpoint is None and run_dir is not None:
        try:
            return json.loads((Path(run_dir) / "config.json").read_text(encoding="utf-8")).get("kind", "lm")
        except (OSError, ValueError, AttributeError):
            return "lm"             # the checkpoint loader reports what is missing
    if checkpoint is not None:
        from textgan.checkpoint import load_checkpoint
        try:
            return (load_checkpoint(checkpoint).get("config") or {}).get("kind", "lm")
        except TextganError:
            return "lm"
    return "lm"


# ---------------------------------------------------------------- eval-image
@main.command("eval-image")
@click.option("--run", "run_dir", required=True, type=click.Path(file_okay=False), help="An image run.")
@click.option("-n", "--num", "n", type=int, default=None,
              help="Samples to generate (default: the run's evaluation size).")
@click.option("--inception-weights", type=click.Path(dir_okay=False), default=None,
              help="InceptionV3 weights for inception_score/fid (default $TEXTGAN_INCEPTION_WEIGHTS).")
@click.option("--device", default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def eval_image(run_dir, n, inception_weights, device, as_json):
    """The run's newest generator through its metrics, beside the real-data floor and the better direction."""
    from textgan.image import evaluate_image_run, format_image_eval
    from textgan.runs import resolve_device

    result = evaluate_image_run(run_dir, n=n, inception_weights=inception_weights,
                                device=resolve_device(device), log=_log)
    click.echo(json.dumps(result) if as_json else format_image_eval(result))


# ---------------------------------------------------------------- eval-lm
@main.command("eval-lm")
@click.option("--samples", type=click.Path(dir_okay=False), help="File of generated lines.")
@click.option("--run", "run_dir", type=click.Path(file_okay=False), help="Generate samples from this run.")
@click.option("-n", "--num", "n", type=int, default=640, show_default=True,
              help="Lines to generate with --run.")
@click.option("--corpus", required=True, help="NAME or PATH of the reference corpus.")
@click.option("--heldout", type=click.Path(dir_okay=False), default=None,
              help="Held-out reference lines (default: the corpus's own split).")
@click.option("--seq-len", type=int, default=None,
              help="Lines are cut/padded to this (default: the run's sequence length, else 32).")
@click.option("--max-lines", type=int, default=10_000_000, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--download/--no-download", default=False)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def eval_lm(samples, run_dir, n, corpus, heldout, seq_len, max_lines, data_dir, download, seed, as_json):
    """JS-1..4 (bits) of samples against a corpus, with the paper's exact definition, and more metrics."""
    from textgan.evaluate import format_report
    from textgan.lm import evaluate_lm

    result = evaluate_lm(samples=samples, run_dir=run_dir, n=n, corpus=corpus, heldout=heldout,
                         seq_len=seq_len, max_lines=max_lines, data_dir=data_dir,
                         download=download, seed=seed, interactive=sys.stdin.isatty(), log=_log)
    click.echo(json.dumps(result) if as_json else format_report(result))


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


def _write_text(path: str, text: str) -> None:
    from textgan.errors import ConfigError
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror or e}") from None


if __name__ == "__main__":
    main()
