"""The adversarial loop: `critic_iters` critic steps, then one generator step.

It knows no modality: it is handed a generator, a critic, a sampler of real batches (already on
the device, in the critic's input form) and optionally an evaluation hook, held-out batches, its
own optimisers and callbacks.  It owns the schedule, logging, numerical checks and checkpoints,
and changes nothing process-wide: backend flags, the allocator and signal handlers are the run
lifecycle's business (`textgan/runtime.py`, `textgan/runs.py`); a caller that wants Ctrl-C to stop
the loop cleanly calls `request_stop(signum)` from its own handler.

The hot loop does no host work: losses and statistics stay on the device and are read (one
synchronisation) only at logging steps.

Under torchrun it is one rank of a data-parallel run (`world`, see textgan/distributed.py): it
draws the global batch's randomness and keeps its own rows, trains through DDP wrappers, and only
rank 0 evaluates and writes.
"""
from __future__ import annotations

import contextlib
import json
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

import torch
from torch import nn

from textgan.checkpoint import (CHECKPOINT_DIR, capture_rng_state, checkpoint_name,
                                load_latest, prune_checkpoints, restore_rng_state,
                                save_checkpoint)
from textgan.config import TrainConfig
from textgan.distributed import SINGLE, World
from textgan.errors import NonFiniteError
from textgan.losses import (auxiliary_class_loss, objective_critic_loss, objective_generator_loss,
                            uses_penalty, wasserstein_estimate)
from textgan.optim import WeightAverage, make_optimizer, set_learning_rates
from textgan.penalty import penalty_and_norms
from textgan.progress import progress
from textgan.stats import STATS, StepStats, check_finite

__all__ = ["Trainer", "TrainerHooks", "Callback", "RealSampler", "make_optimizer", "WeightAverage"]


class RealSampler(Protocol):
    def next(self) -> torch.Tensor: ...
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> None: ...


class Callback:
    """Hooks into `Trainer.fit` (rank 0 only); override what you need."""

    def on_log(self, trainer: "Trainer", record: dict) -> None:
        """After each logged step, with the record written to metrics.jsonl."""

    def on_checkpoint(self, trainer: "Trainer", path: Path) -> None:
        """After each checkpoint is written."""

    def on_fit_end(self, trainer: "Trainer", record: dict | None) -> None:
        """When `fit` returns (also after a stop by signal)."""


Evaluator = Callable[[nn.Module, int], dict]


def _wide(x: torch.Tensor) -> torch.Tensor:
    """A network's output for the losses: bfloat16 (autocast) as float32; float32 and float64 (exact
    tests) as they are."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _autocast_factory(precision: str, device: torch.device) -> Callable[[], contextlib.AbstractContextManager]:
    """A context for the networks' forward passes: bfloat16 autocast when asked, else nothing."""
    if precision == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    if precision != "fp32":
        raise ValueError(f"precision must be fp32 or bf16, got {precision!r}")
    return contextlib.nullcontext


def _maybe_compile(generator: nn.Module, critic: nn.Module | None, compile_: bool,
                   device: torch.device) -> tuple[nn.Module, nn.Module | None]:
    """torch.compile'd forwards of both networks on CUDA when asked; the plain modules otherwise.

    Only first-order graphs go through the compiled forms: the gradient penalty calls the critic
    itself (its own `input_grad`, or autograd's double backward, which compiled graphs do not
    support).  On CPU compiling did not pay off in our measurements, so it is never attempted."""
    if not compile_ or device.type != "cuda":
        return generator, critic
    return torch.compile(generator), critic if critic is None else torch.compile(critic)


def _has_batch_norm(net: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())


@dataclass
class TrainerHooks:
    """What the caller adds to a checkpoint and how it reports progress."""
    extra_state: dict = field(default_factory=dict)   # e.g. config and vocabulary
    log: Callable[[str], None] = print
    progress: bool = True
    headline: str | None = None      # the metric the progress bar shows beside w (e.g. "js4")


class Trainer:
    """The loop of `cfg.objective` (textgan/losses.py).

    Conditional models (AC-GAN) are recognised by `generator.n_classes > 0`: the generator is then
    called as G(z, labels), the sampler supplies `next_labeled() -> (x, labels)`, and the critic's
    `D(x, with_logits=True)` returns (scores, class logits); a plain `D(x)` (the penalty's call)
    returns scores only.  `heldout` is a fixed set of real examples that training never sees, as a
    re-iterable of batches in the critic's input form: each log records the critic's Wasserstein
    estimate on it (`wasserstein_heldout`), beside the training batches' `wasserstein`.
    `optimizers`: (generator's, critic's) instead of the ones `cfg` describes.

    `critic` is None for objectives without one (maximum likelihood, textgan/mle.py, whose subclass
    brings its own `iteration`): there is then no critic optimiser and no critic in checkpoints."""

    def __init__(self, generator: nn.Module, critic: nn.Module | None, sampler: RealSampler,
                 cfg: TrainConfig, device: torch.device, run_dir: str | Path | None = None,
                 evaluator: Evaluator | None = None, hooks: TrainerHooks | None = None,
                 heldout: Iterable[torch.Tensor] | None = None, world: World = SINGLE,
                 optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None,
                 callbacks: Iterable[Callback] = ()):
        self.world = world
        world.check_batches(cfg)
        self.G, self.D, self.cfg = generator, critic, cfg
        self.sampler = world.shard_sampler(sampler, cfg.batch_size)   # this rank's rows
        self.heldout = heldout
        self.n_classes = int(getattr(generator, "n_classes", 0) or 0)
        self.penalised = uses_penalty(cfg.objective)
        self.device = device
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if self.run_dir is not None and world.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        self.evaluator = evaluator
        self.hooks = hooks or TrainerHooks()
        self.callbacks = list(callbacks)
        self._autocast = _autocast_factory(cfg.precision, device)
        # What the hot loop calls: the networks themselves, or their compiled forms (CUDA only; not
        # combined with DDP, untested here).  _G_step/_D_step are what each network's own update
        # calls: DDP wrappers under torchrun, which all-reduce the gradients; the same objects else.
        self._G, self._D = _maybe_compile(generator, critic, cfg.compile and not world.distributed, device)
        self._G_step = world.wrap(self._G, device)
        self._D_step = world.wrap(self._D, device) if critic is not None else None
        if optimizers is not None:
            self.opt_g, self.opt_d = optimizers
        else:
            self.opt_g = make_optimizer(self.G.parameters(), cfg, device)
            self.opt_d = None if critic is None else \
                make_optimizer(self.D.parameters(), cfg, device, lr=cfg.critic_lr or cfg.lr)
        self.average = WeightAverage(generator, cfg.ema) if cfg.ema else None
        # Batch norm normalises over the batch it is given: such a generator makes each critic
        # step's fakes in a call of its own, as the paper's code does.
        self._fakes_per_step = _has_batch_norm(generator)
        self.step = 0                       # generator iterations done
        self.elapsed = 0.0                  # training seconds before this process (resume)
        self.z_dim = generator.z_dim
        self._signalled = 0                 # the signal this process received (0: none)
        self._stop_signal: str | None = None   # the signal every rank agreed to stop on
        self._start: float | None = None
        self.stats = StepStats(device, self.penalised)

    # ------------------------------------------------------------ one iteration
    def _noise(self, k: int, batch: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Noise [k*b, z_dim] (and labels [k*b]) for k global batches of `batch`: drawn whole on every
        rank from the one shared random stream, this rank's b rows of each batch kept."""
        labels = self._random_labels(k * batch)
        z = torch.randn(k * batch, self.z_dim, device=self.device)
        if self.world.distributed:
            rows = self.world.rows(batch)
            z = z.view(k, batch, -1)[:, rows].reshape(-1, self.z_dim)
            labels = None if labels is None else labels.view(k, batch)[:, rows].reshape(-1)
        return z, labels

    def _random_labels(self, n: int) -> torch.Tensor | None:
        if not self.n_classes:
            return None
        return torch.randint(self.n_classes, (n,), device=self.device)

    @torch.no_grad()
    def _generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        with self._autocast():
            return _wide(self._G(z) if labels is None else self._G(z, labels))

    def _fakes(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n batches of generated samples [n, B, ...] (and their labels [n, B]), no graph.

        The noise of all n batches is drawn at once.  The generator does not change during the
        critic steps, so for a generator without batch norm one call for all of them gives the same
        samples as one call per step, with fewer and larger matrix products; a batch-norm generator
        is called once per batch, so that it normalises over the paper's batch."""
        z, labels = self._noise(n, self.cfg.batch_size)
        batch = z.shape[0] // n
        if self._fakes_per_step:
            label_chunks = [None] * n if labels is None else labels.split(batch)
            fake = torch.stack([self._generate(zi, li) for zi, li in zip(z.split(batch), label_chunks)])
        else:
            fake = self._generate(z, labels)
            fake = fake.view(n, batch, *fake.shape[1:])
        return fake, None if labels is None else labels.view(n, batch)

    def _real(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.n_classes:
            return self.sampler.next_labeled()
        return self.sampler.next(), None

    def critic_step(self, fake: torch.Tensor | None = None) -> None:
        """One critic update; `fake` is this step's generated batch (drawn here when None)."""
        real, real_labels = self._real()
        if fake is None:
            fake = self._fakes(1)[0][0]
        fake = fake.to(real.dtype)
        batch = real.shape[0]
        with self._autocast():
            # Real and fake in one call: the critic has no coupling between samples (the penalty
            # relies on that too), so this is the two separate passes with larger matrix products.
            both = torch.cat([real, fake])
            if self.n_classes:
                scores, logits = self._D_step(both, with_logits=True)
            else:
                scores, logits = self._D_step(both), None
            scores = _wide(scores)
            d_real, d_fake = scores[:batch], scores[batch:]
            if self.penalised:
                # The plain critic, not its DDP wrapper: its parameter gradients join the critic
                # loss's in the one backward below, which DDP's hooks all-reduce as a whole.
                gp, norms = penalty_and_norms(self.D, real, fake, weight=self.cfg.gp_weight,
                                              one_sided=self.cfg.objective == "wgan-gp-one-sided",
                                              alpha=self._alpha(batch, real.dtype))
            else:
                gp, norms = torch.zeros((), device=self.device), torch.zeros(1, device=self.device)
        loss = objective_critic_loss(self.cfg.objective, d_real, d_fake, gp)
        if logits is not None:
            loss = loss + self.cfg.acgan_critic_weight * auxiliary_class_loss(_wide(logits[:batch]),
                                                                              real_labels)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if self.cfg.objective == "wgan-clip":
            with torch.no_grad():
                for p in self.D.parameters():
                    p.clamp_(-self.cfg.clip_value, self.cfg.clip_value)
        self.stats.add_critic(loss, wasserstein_estimate(d_real, d_fake), gp, norms.mean())

    def _alpha(self, batch: int, dtype: torch.dtype) -> torch.Tensor:
        """The penalty's per-sample mixing weights for this rank's `batch` rows of the global batch."""
        n = batch * self.world.size
        return torch.rand(n, device=self.device, dtype=dtype)[self.world.rows(n)]

    def generator_step(self) -> None:
        # The critic's parameters need no gradient here: freezing them halves the backward.  The
        # plain critic (not its DDP wrapper, whose reducer would wait for gradients that never come).
        self.D.requires_grad_(False)
        z, labels = self._noise(1, self.cfg.gen_batch_size or self.cfg.batch_size)
        with self._autocast():
            fake = self._G_step(z) if labels is None else self._G_step(z, labels)
            if labels is not None:
                scores, logits = self._D(fake, with_logits=True)
            else:
                scores, logits = self._D(fake), None
            loss = objective_generator_loss(self.cfg.objective, _wide(scores))
            if logits is not None:
                loss = loss + self.cfg.acgan_generator_weight * auxiliary_class_loss(_wide(logits), labels)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        if self.average is not None:
            self.average.update(self.step)
        self.D.requires_grad_(True)
        self.stats.add_generator(loss)

    def iteration(self) -> None:
        set_learning_rates(self.step, self.cfg, self.opt_g, self.opt_d)
        fakes, _ = self._fakes(self.cfg.critic_iters)
        for i in range(self.cfg.critic_iters):
            self.critic_step(fakes[i])
        self.generator_step()
        self.step += 1

    @property
    def sampling_generator(self) -> nn.Module:
        """What evaluations and samples use: the weight average with `--ema`, else the generator."""
        return self.average.net if self.average is not None else self.G

    @torch.no_grad()
    def heldout_estimate(self) -> float:
        """E[D(held-out real)] - E[D(fake)] with fixed noise (a private generator: the training RNG
        does not move), in chunks of the batch size."""
        g = torch.Generator(device=self.device).manual_seed(self.cfg.seed * 104_729 + 17)
        real_sum = fake_sum = 0.0
        count = 0
        for chunk in self.heldout:
            n = chunk.shape[0]
            count += n
            z = torch.randn(n, self.z_dim, device=self.device, generator=g)
            if self.n_classes:
                labels = torch.randint(self.n_classes, (n,), device=self.device, generator=g)
                fake = self.G(z, labels)
            else:
                fake = self.G(z)
            real_sum += float(self.D(chunk.float()).float().sum())
            fake_sum += float(self.D(fake.float()).float().sum())
        return (real_sum - fake_sum) / count if count else float("nan")

    def read_stats(self) -> dict:
        """Means since the last read (one host synchronisation), averaged over ranks."""
        return self.stats.read(self.world)

    def _check_finite(self, stats: dict) -> None:
        nets = {"generator": self.G} if self.D is None else {"generator": self.G, "critic": self.D}
        check_finite(stats, self.step, **nets)

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """A plain single-process checkpoint (the networks, not their DDP wrappers).  Under torchrun
        every rank must call it (it gathers each rank's RNG state into `rng_by_rank` on rank 0)."""
        rng = capture_rng_state()
        state = {"step": self.step, "elapsed": self.elapsed + self._since_start(),
                 "generator": self.G.state_dict(),
                 "critic": None if self.D is None else self.D.state_dict(),
                 "opt_g": self.opt_g.state_dict(),
                 "opt_d": None if self.opt_d is None else self.opt_d.state_dict(),
                 "rng": rng, "sampler": self.sampler.state_dict(),
                 **self.hooks.extra_state}
        if self.average is not None:
            state["generator_avg"] = self.average.net.state_dict()
        if self.world.distributed:
            state["rng_by_rank"] = self.world.gather(rng)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Resume from a checkpoint (read to the CPU: load_state_dict copies to each tensor's device,
        and the RNG states must be CPU tensors)."""
        self.G.load_state_dict(state["generator"])
        if self.D is not None:
            self.D.load_state_dict(state["critic"])
        if self.average is not None:
            if "generator_avg" in state:
                self.average.net.load_state_dict(state["generator_avg"])
            else:
                self.average.reset()
        self.opt_g.load_state_dict(state["opt_g"])
        if self.opt_d is not None:
            self.opt_d.load_state_dict(state["opt_d"])
        self.sampler.load_state_dict(state["sampler"])
        # each rank its own RNG state from a distributed run of the same size; rank 0's otherwise
        by_rank = state.get("rng_by_rank") or []
        restore_rng_state(by_rank[self.world.rank] if len(by_rank) == self.world.size else state["rng"])
        self.step = int(state["step"])
        self.elapsed = float(state.get("elapsed", 0.0))
        self._start = time.perf_counter()

    def save(self) -> Path | None:
        """Write a checkpoint (rank 0; the other ranks only contribute their RNG states)."""
        if self.run_dir is None:
            return None
        state = self.state_dict()
        if not self.world.is_main:
            return None
        directory = self.run_dir / CHECKPOINT_DIR
        path = save_checkpoint(state, directory / checkpoint_name(self.step))
        prune_checkpoints(directory, self.cfg.keep_checkpoints)
        self._notify("on_checkpoint", path)
        return path

    def rollback(self) -> int:
        """Return to the newest good checkpoint (after a non-finite step)."""
        state, _ = self.world.from_main(
            lambda: load_latest(self.run_dir / CHECKPOINT_DIR, "cpu", warn=self.hooks.log))
        self.load_state_dict(state)
        self.stats.reset()
        return self.step

    # ------------------------------------------------------------ the loop
    def request_stop(self, signum: int = signal.SIGINT) -> None:
        """Stop after the current iteration (and save a checkpoint); safe to call from a signal
        handler."""
        self._signalled = int(signum)

    def _agree_on_stop(self) -> None:
        """Stop when any rank was signalled (every iteration: one integer all-reduced under torchrun)."""
        signum = self.world.agree_max(self._signalled)
        if signum:
            self._stop_signal = signal.Signals(signum).name

    def _notify(self, event: str, payload: Any) -> None:
        if self.world.is_main:
            for callback in self.callbacks:
                getattr(callback, event)(self, payload)

    def fit(self) -> dict | None:
        """Train up to `cfg.iters` generator iterations; returns the last logged record."""
        cfg = self.cfg
        log_every = cfg.eval_every if cfg.eval_every > 0 else cfg.iters
        ckpt_every = cfg.checkpoint_every or log_every
        bar = progress(cfg.iters, self.step, enabled=self.hooks.progress)
        record = None
        rollbacks = 0
        self._start = time.perf_counter()
        saved, saved_step = None, None
        try:
            while self.step < cfg.iters and self._stop_signal is None:
                self.iteration()
                self._agree_on_stop()
                last = self.step == cfg.iters
                log_now = self.step % log_every == 0 or last
                ckpt_now = self.step % ckpt_every == 0 or last
                if log_now or ckpt_now:
                    try:
                        if log_now:
                            record = self._log_step()
                        else:   # a checkpoint between logs: never save non-finite weights as "good"
                            self._check_finite({k: 0.0 for k in STATS})
                    except NonFiniteError as e:
                        if cfg.on_nonfinite != "rollback" or self.run_dir is None or rollbacks >= 3:
                            raise
                        rollbacks += 1
                        bar.n = self.rollback()
                        self.hooks.log(f"{e}; rolled back to step {self.step} "
                                       f"(rollback {rollbacks} of at most 3)")
                        continue
                if log_now:
                    bar.set_postfix(refresh=False, **self._postfix(record))
                bar.update(1)
                if ckpt_now:
                    saved, saved_step = self.save(), self.step
            if self._stop_signal is not None:
                self._check_finite(self.read_stats())
                path = saved if saved_step == self.step else self.save()    # saved once
                self.hooks.log(f"stopped by {self._stop_signal} at step {self.step}; "
                               f"checkpoint {path}; continue with --resume")
        finally:
            bar.close()
        self._notify("on_fit_end", record)
        return record

    def _postfix(self, record: dict) -> dict:
        shown = {"w": f"{record['wasserstein']:.3f}"}
        key = self.hooks.headline
        if key and isinstance(record.get(key), (int, float)):
            shown[key] = f"{record[key]:.3f}"
        return shown

    def _since_start(self) -> float:
        return time.perf_counter() - self._start if self._start is not None else 0.0

    def _log_step(self) -> dict:
        stats = self.read_stats()
        self._check_finite(stats)
        record = {"step": self.step, "time": round(self.elapsed + self._since_start(), 3), **stats}
        if not self.world.is_main:       # rank 0 alone evaluates and writes; the rest go on
            return record
        if self.heldout is not None:
            record["wasserstein_heldout"] = self.heldout_estimate()
        if self.evaluator is not None:
            record.update(self.evaluator(self.sampling_generator, self.step))
        if self.run_dir is not None:
            with open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        self._notify("on_log", record)
        return record
