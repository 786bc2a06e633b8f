#!/usr/bin/env python3
"""The plain PyTorch baseline that textgan's speed, memory and metric figures are measured against.

The character language model of Gulrajani et al. (2017) and its training loop, written the way the
paper's code (`gan_language.py`, `language_helpers.py`) does them, in plain PyTorch:
  - the corpus is a list of Python tuples of characters, cut or padded with '`' to the sequence
    length, shuffled, with a character map of at most 2048 entries (index 0 'unk');
  - every batch is encoded in Python (character map look-ups) and one-hot encoded;
  - generator and critic of 5 residual blocks, initialised as tflib does;
  - per critic step three separate critic passes (real, fake, interpolates), the gradient penalty
    by autograd's double backward with the norm over all non-batch axes, one alpha per sample;
  - Adam 1e-4, betas (0.5, 0.9) for both networks, 10 critic steps per generator step;
  - the evaluation: 640 argmax samples, character n-gram counts in Python dicts keyed by tuples,
    Jensen-Shannon divergence in bits against the training lines (without the first 640, which the
    original keeps for validation).
It is not part of the package: the bench scripts run it beside textgan, in the same run.

  python bench/baseline.py train --corpus FILE [--dim 512] [--iters 10] [--seconds S] [--eval]
                                 [--samples-out FILE]
  python bench/baseline.py ngram --corpus FILE --samples FILE [--n 4]

Both print one JSON line with their figures.  FILE is a UTF-8 text file, one example per line.
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import resource
import time

import numpy as np

PAD = "`"
UNK_TEXT = "\ufffd"
BATCH, SEQ_LEN, DIM, CRITIC_ITERS, LAMBDA, LR, Z_DIM = 64, 32, 512, 10, 10.0, 1e-4, 128
EVAL_SAMPLES = 640       # 10 batches of 64, as the original


# ----------------------------------------------------------------------------- data
def read_lines(path: str, seq_len: int = SEQ_LEN, max_lines: int = 10_000_000) -> list[tuple]:
    """The lines of `path` as tuples of characters, cut to seq_len and padded with PAD."""
    lines = []
    with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
        for raw in f:
            line = tuple(raw.rstrip("\n"))[:seq_len]
            lines.append(line + (PAD,) * (seq_len - len(line)))
            if len(lines) >= max_lines:
                break
    return lines


def build_charmap(lines: list[tuple], max_vocab: int = 2048) -> tuple[dict, list]:
    """The original's character map: 'unk' first, then the most frequent characters."""
    counts = collections.Counter(c for line in lines for c in line)
    inv_charmap = ["unk"] + [c for c, _ in counts.most_common(max_vocab - 1)]
    return {c: i for i, c in enumerate(inv_charmap)}, inv_charmap


def load_dataset(paths: str | list[str], seq_len: int = SEQ_LEN, max_lines: int = 10_000_000,
                 max_vocab: int = 2048) -> tuple[list[tuple], dict, list]:
    """language_helpers.load_dataset: read the files in order up to max_lines (Billion Word's
    shards), shuffle, build the character map, replace unmapped characters by 'unk'."""
    lines: list[tuple] = []
    for path in [paths] if isinstance(paths, str) else paths:
        lines += read_lines(path, seq_len, max_lines - len(lines))
        if len(lines) >= max_lines:
            break
    np.random.shuffle(lines)
    charmap, inv_charmap = build_charmap(lines, max_vocab)
    lines = [tuple(c if c in charmap else "unk" for c in line) for line in lines]
    return lines, charmap, inv_charmap


# ----------------------------------------------------------------------------- n-grams
class NgramLanguageModel:
    """Unsmoothed n-gram counts of a list of tuples (n-grams are tuple slices), as language_helpers
    keeps them."""

    def __init__(self, n: int, samples: list[tuple]):
        self.n, self.samples = n, samples
        self.counts = collections.defaultdict(int)
        self.total = 0
        for gram in self.ngrams():
            self.counts[gram] += 1
            self.total += 1

    def ngrams(self):
        for s in self.samples:
            for i in range(len(s) - self.n + 1):
                yield s[i:i + self.n]

    def unique_ngrams(self) -> set:
        return set(self.counts)

    def log_likelihood(self, gram: tuple) -> float:
        if gram not in self.counts:
            return -math.inf
        return math.log(self.counts[gram]) - math.log(self.total)

    def js_with(self, p: "NgramLanguageModel") -> float:
        """Jensen-Shannon divergence in bits between p and self (symmetric)."""
        def kl_to_mixture(a, b):   # KL(a || (a+b)/2), summed over a's n-grams
            grams = a.unique_ngrams()
            log_a = np.array([a.log_likelihood(g) for g in grams])
            log_b = np.array([b.log_likelihood(g) for g in grams])
            log_m = np.logaddexp(log_a - math.log(2), log_b - math.log(2))
            return np.sum(np.exp(log_a) * (log_a - log_m))
        return float(0.5 * (kl_to_mixture(p, self) + kl_to_mixture(self, p)) / math.log(2))


def ngram_js(samples: list[tuple], real: list[tuple], max_n: int = 4) -> dict[str, float]:
    """JS-1..max_n in bits between the n-grams of `samples` and of `real`."""
    return {f"js{n}": NgramLanguageModel(n, samples).js_with(NgramLanguageModel(n, real))
            for n in range(1, max_n + 1)}


# ----------------------------------------------------------------------------- networks
# torch is imported in the functions that need it, not at the top: the data and n-gram parts above
# then run without it, like the original's numpy-only language_helpers.py, and their memory
# figures do not carry torch's import.
def tflib_init(module) -> None:
    """tflib's uniform init: Conv1D he_init sqrt(4/(fan_in+fan_out)), Linear glorot; biases 0."""
    from torch import nn
    if isinstance(module, nn.Conv1d):
        k = module.kernel_size[0]
        std = math.sqrt(4.0 / (module.in_channels * k + module.out_channels * k))
    elif isinstance(module, nn.Linear):
        std = math.sqrt(2.0 / (module.in_features + module.out_features))
    else:
        return
    nn.init.uniform_(module.weight, -std * math.sqrt(3), std * math.sqrt(3))
    nn.init.zeros_(module.bias)


def build_networks(vocab: int, dim: int = DIM, seq_len: int = SEQ_LEN):
    """The generator and critic of gan_language.py, initialised as tflib does."""
    import torch
    from torch import nn

    class ResBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.ReLU(), nn.Conv1d(dim, dim, 5, padding=2),
                                      nn.ReLU(), nn.Conv1d(dim, dim, 5, padding=2))

        def forward(self, x):
            return x + 0.3 * self.body(x)

    class Generator(nn.Module):
        """z [B, 128] -> Linear -> [B, DIM, L] -> 5 ResBlocks -> Conv1d(DIM, V, 1) -> softmax [B, L, V]."""

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(Z_DIM, dim * seq_len)
            self.blocks = nn.Sequential(*[ResBlock() for _ in range(5)])
            self.out = nn.Conv1d(dim, vocab, 1)

        def forward(self, z):
            h = self.fc(z).view(-1, dim, seq_len)
            return torch.softmax(self.out(self.blocks(h)).transpose(1, 2), dim=2)

    class Critic(nn.Module):
        """x [B, L, V] -> Conv1d(V, DIM, 1) -> 5 ResBlocks -> flatten -> Linear(L*DIM, 1)."""

        def __init__(self):
            super().__init__()
            self.inp = nn.Conv1d(vocab, dim, 1)
            self.blocks = nn.Sequential(*[ResBlock() for _ in range(5)])
            self.fc = nn.Linear(dim * seq_len, 1)

        def forward(self, x):
            return self.fc(self.blocks(self.inp(x.transpose(1, 2))).flatten(1))

    return Generator().apply(tflib_init), Critic().apply(tflib_init)


def gradient_penalty(critic, real, fake):
    """mean over the batch of (||grad_x D(x)|| - 1)^2 at x = real + alpha (fake - real),
    one alpha per sample, the norm over every non-batch axis (autograd double backward)."""
    import torch
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    x = (real + alpha * (fake - real)).requires_grad_(True)
    grad, = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


# ----------------------------------------------------------------------------- training
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(corpus: str, *, dim: int = DIM, batch: int = BATCH, seq_len: int = SEQ_LEN,
          critic_iters: int = CRITIC_ITERS, gp_lambda: float = LAMBDA, lr: float = LR, iters: int = 10,
          seconds: float = 0.0, max_lines: int = 10_000_000, device: str = "cpu", seed: int = 1,
          samples_out: str | None = None, evaluate: bool = False) -> dict:
    """Train for `iters` generator iterations (or `seconds`); the median seconds per warm iteration."""
    import torch
    from torch import nn
    torch.manual_seed(seed)
    np.random.seed(seed)
    dev = torch.device(device)
    t0 = time.perf_counter()
    lines, charmap, inv_charmap = load_dataset(corpus, seq_len, max_lines)
    load_s = time.perf_counter() - t0
    if len(lines) < batch:
        raise SystemExit(f"{corpus}: {len(lines)} lines, fewer than one batch of {batch}")
    # the original scores samples against the lines after the first 640 (its validation lines),
    # taken before training reshuffles the list
    eval_lines = lines[EVAL_SAMPLES:] if evaluate else None
    vocab = len(inv_charmap)
    G, D = (net.to(dev) for net in build_networks(vocab, dim, seq_len))
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.9))

    def inf_train_gen():
        while True:
            np.random.shuffle(lines)
            for i in range(0, len(lines) - batch + 1, batch):
                ids = np.array([[charmap[c] for c in line] for line in lines[i:i + batch]], dtype=np.int64)
                yield nn.functional.one_hot(torch.from_numpy(ids), vocab).float().to(dev)

    data = inf_train_gen()
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    times: list[float] = []
    start = time.perf_counter()
    for _ in range(iters):
        if seconds and time.perf_counter() - start > seconds:
            break
        t = time.perf_counter()
        for _ in range(critic_iters):
            real = next(data)
            with torch.no_grad():
                fake = G(torch.randn(batch, Z_DIM, device=dev))
            opt_d.zero_grad()
            d_real, d_fake = D(real).mean(), D(fake).mean()
            (d_fake - d_real + gp_lambda * gradient_penalty(D, real, fake)).backward()
            opt_d.step()
        for p in D.parameters():        # the generator step leaves the critic's gradients alone
            p.requires_grad_(False)
        opt_g.zero_grad()
        (-D(G(torch.randn(batch, Z_DIM, device=dev))).mean()).backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
        sync()
        times.append(time.perf_counter() - t)
    sec = float(np.median(times[min(2, len(times) - 1):]))   # the first two iterations warm up
    out = {"tool": "bench/baseline.py train", "dim": dim, "batch": batch, "seq_len": seq_len,
           "critic_iters": critic_iters, "vocab": vocab, "lines": len(lines), "load_s": round(load_s, 3),
           "gen_iters": len(times), "sec_per_gen_iter": round(sec, 5),
           "sequences_per_s": round(batch * critic_iters / sec, 2), "device": str(dev)}
    if samples_out or evaluate:
        with torch.no_grad():
            ids = torch.cat([G(torch.randn(batch, Z_DIM, device=dev)).argmax(2).cpu()
                             for _ in range(math.ceil(EVAL_SAMPLES / batch))])[:EVAL_SAMPLES]
        samples = [tuple(inv_charmap[i] for i in row) for row in ids.tolist()]
        if samples_out:
            with open(samples_out, "w", encoding="utf-8") as f:
                # the unknown symbol as one character, U+FFFD (as textgan writes it), so that
                # the file's lines keep their positions
                f.writelines("".join(UNK_TEXT if c == "unk" else c for c in s) + "\n" for s in samples)
        if evaluate:
            out.update({k: round(v, 4) for k, v in ngram_js(samples, eval_lines).items()})
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def ngram(corpus: str, samples: str, n: int = 4, seq_len: int = SEQ_LEN, max_lines: int = 10_000_000) -> dict:
    """JS-1..n between the lines of two files (both cut/padded to seq_len), reading included."""
    t0, c0 = time.perf_counter(), time.process_time()
    real = read_lines(corpus, seq_len, max_lines)
    fake = read_lines(samples, seq_len, max_lines)
    t1 = time.perf_counter()
    out = {"tool": "bench/baseline.py ngram", "corpus_lines": len(real), "sample_lines": len(fake),
           **ngram_js(fake, real, n)}
    return {**out, "load_s": round(t1 - t0, 3), "ngram_s": round(time.perf_counter() - t1, 3),
            "total_s": round(time.perf_counter() - t0, 3), "cpu_s": round(time.process_time() - c0, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train and time the paper's model")
    t.add_argument("--corpus", required=True, help="UTF-8 text file, one example per line")
    t.add_argument("--dim", type=int, default=DIM)
    t.add_argument("--batch", type=int, default=BATCH)
    t.add_argument("--seq-len", type=int, default=SEQ_LEN)
    t.add_argument("--critic-iters", type=int, default=CRITIC_ITERS)
    t.add_argument("--gp-lambda", type=float, default=LAMBDA)
    t.add_argument("--lr", type=float, default=LR, help="Adam learning rate, both networks")
    t.add_argument("--iters", type=int, default=10, help="generator iterations")
    t.add_argument("--seconds", type=float, default=0.0, help="stop after this many seconds of training")
    t.add_argument("--max-lines", type=int, default=10_000_000)
    t.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--samples-out", help="write 640 argmax samples here at the end")
    t.add_argument("--eval", action="store_true", help="JS-1..4 of 640 samples vs the training lines")
    g = sub.add_parser("ngram", help="JS-1..N between a samples file and a corpus file")
    g.add_argument("--corpus", required=True)
    g.add_argument("--samples", required=True)
    g.add_argument("--n", type=int, default=4)
    g.add_argument("--seq-len", type=int, default=SEQ_LEN)
    g.add_argument("--max-lines", type=int, default=10_000_000)
    a = p.parse_args(argv)
    if a.cmd == "train":
        out = train(a.corpus, dim=a.dim, batch=a.batch, seq_len=a.seq_len, critic_iters=a.critic_iters,
                    gp_lambda=a.gp_lambda, lr=a.lr, iters=a.iters, seconds=a.seconds, max_lines=a.max_lines,
                    device=a.device, seed=a.seed, samples_out=a.samples_out, evaluate=a.eval)
    else:
        out = ngram(a.corpus, a.samples, a.n, a.seq_len, a.max_lines)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
