"""Data-parallel training with torch.distributed: everything a run needs to be one of several processes.

Started by `torchrun` (or anything that sets the same variables), a `train-*` command becomes one rank of
a data-parallel run; without them it is the single process it always was (`SINGLE`, no communication).

    RANK, WORLD_SIZE    this process's index and the number of processes (all machines together)
    LOCAL_RANK          its index on this machine: the GPU it uses (cuda:LOCAL_RANK)
    MASTER_ADDR/PORT    where rank 0 listens for the others
    TEXTGAN_DIST_TIMEOUT  seconds a rank waits for the others in any collective (default 600):
                        how long a hung rank can stall the run before the others give up with a
                        clear message; must exceed rank 0's longest evaluation + checkpoint

The design, which makes "N ranks" exactly "one process on the combined batch" (tests pin it in float64):
- one random stream: every rank is seeded alike and draws the GLOBAL batch's noise, labels and
  penalty alphas, then keeps its own rows (`World.rows`); the data sampler runs the same seeded
  permutation on every rank and each takes rows [rank*b, (rank+1)*b) of each global batch.  So the
  RNG and sampler states are the same on every rank, and the union of the ranks' shards is the
  single-process batch.  `--batch-size` is the global batch; it must divide by the world size.
- losses are means over each rank's equal shard, and DDP averages parameter gradients over ranks:
  the average of shard means is the global mean, so every rank steps with the single-process
  gradient.  The gradient penalty is per sample, so the same holds for it.
- a network is wrapped in DDP only where its parameters get gradients: the critic in its own step,
  the generator in its step.  The critic's penalty goes through the plain module (`input_grad` or
  autograd's double backward on the module, never a second DDP forward) and is summed with the
  critic loss into ONE backward: each parameter's gradient accumulator runs once with the summed
  gradient, which is what DDP's hook all-reduces.  The frozen critic in the generator step is the
  plain module, so the critic's reducer never sees a forward whose backward does not reach it.
- only rank 0 writes (run directory, config, metrics, samples, checkpoints) and evaluates; the
  others meet it at the next collective.  Statistics are averaged over ranks before logging.
- Ctrl-C / SIGTERM on any rank: a one-integer all-reduce each iteration (`World.agree_max`) makes
  every rank stop after the same iteration, and rank 0 saves once.
- a rank that dies or hangs: the others fail in their next collective (at once when the peer's
  connection closes, else after TEXTGAN_DIST_TIMEOUT) and the CLI prints one line (`DistributedError`).
"""
from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from textgan.errors import ConfigError, TextganError

DEFAULT_TIMEOUT_S = 600.0


class DistributedError(TextganError):
    """Another rank died, hung past the timeout, or failed while preparing the run."""


@dataclass(frozen=True)
class World:
    """This process's place in the run; `SINGLE` is a plain one-process run (no communication)."""
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    master: str = ""                 # MASTER_ADDR:MASTER_PORT
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # ------------------------------------------------------------ batches
    def local_batch(self, global_batch: int, what: str = "--batch-size") -> int:
        if global_batch % self.size:
            lo, hi = global_batch // self.size * self.size, -(-global_batch // self.size) * self.size
            near = " or ".join(str(n) for n in (lo, hi) if n > 0)
            raise ConfigError(f"{what} {global_batch} is the global batch and must divide evenly among "
                              f"{self.size} ranks (e.g. {near})")
        return global_batch // self.size

    def rows(self, global_batch: int) -> slice:
        """This rank's rows of a global batch."""
        b = global_batch // self.size
        return slice(self.rank * b, (self.rank + 1) * b)

    def shard_sampler(self, sampler, global_batch: int):
        """The sampler giving this rank's rows: its own `shard(rank, size)` when it has one (cheap: it
        builds only those rows), else a wrapper that slices each global batch."""
        if not self.distributed:
            return sampler
        if hasattr(sampler, "shard"):
            sampler.shard(self.rank, self.size)
            return sampler
        return _SlicingSampler(sampler, self.rows(global_batch))

    # ------------------------------------------------------------ models
    def wrap(self, module: nn.Module, device: torch.device) -> nn.Module:
        """DistributedDataParallel around `module` (the module itself in a single process)."""
        if not self.distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel
        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, output_device=ids[0] if ids else None)

    # ------------------------------------------------------------ collectives
    def agree_max(self, value: int) -> int:
        """The largest `value` over ranks (stop flags: any rank's signal stops all).  A CPU tensor,
        through Gloo also when training runs on NCCL: it costs no device synchronisation."""
        if not self.distributed:
            return value
        import torch.distributed as dist
        t = torch.tensor([value], dtype=torch.int64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return int(t.item())

    def mean(self, t: torch.Tensor) -> torch.Tensor:
        """The mean of `t` over ranks (logged statistics)."""
        if not self.distributed:
            return t
        import torch.distributed as dist
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t / self.size

    def gather(self, obj: Any) -> list | None:
        """Every rank's `obj`, as a list by rank on rank 0 (None on the others)."""
        if not self.distributed:
            return [obj]
        import torch.distributed as dist
        out = [None] * self.size if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return out

    def from_main(self, fn: Callable[[], Any]) -> Any:
        """`fn()` run on rank 0 only; its result (or its error) reaches every rank."""
        if not self.distributed:
            return fn()
        box: list = [None]
        failure = None
        if self.is_main:
            try:
                box[0] = ("ok", fn())
            except BaseException as e:  # noqa: BLE001 - re-raised below on rank 0, reported on others
                failure = e
                box[0] = ("error", _portable(e))
        _broadcast(box)
        if failure is not None:
            raise failure
        kind, value = box[0]
        if kind == "error":
            raise value
        return value

    def main_first(self, fn: Callable[[], Any]) -> Any:
        """`fn()` on rank 0, then (if it succeeded) on the others: rank 0 fills shared caches
        (downloads, encoded corpora) before the others read them; its error reaches every rank."""
        if not self.distributed:
            return fn()
        box: dict = {}
        self.from_main(lambda: box.update(result=fn()))      # broadcasts only success or the error
        return box["result"] if self.is_main else fn()

    def check_batches(self, train_cfg) -> None:
        """Refuse global batches that do not split evenly among the ranks."""
        self.local_batch(train_cfg.batch_size)
        self.local_batch(train_cfg.gen_batch_size or train_cfg.batch_size, "the generator's batch")


SINGLE = World()


class _SlicingSampler:
    """This rank's rows of another sampler's global batches (state: the wrapped sampler's)."""

    def __init__(self, sampler, rows: slice):
        self.sampler, self.rows_ = sampler, rows

    def next(self):
        return self.sampler.next()[self.rows_]

    def next_labeled(self):
        x, labels = self.sampler.next_labeled()
        return x[self.rows_], labels[self.rows_]

    def state_dict(self) -> dict:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.sampler.load_state_dict(state)


def _portable(e: BaseException) -> BaseException:
    """What other ranks raise for rank 0's error: the same user error, else a DistributedError."""
    if isinstance(e, TextganError):
        return e
    return DistributedError(f"rank 0 failed while preparing the run ({type(e).__name__}: "
                            f"{str(e).splitlines()[0][:200] if str(e) else ''}); see its output")


def _broadcast(box: list) -> None:
    import torch.distributed as dist
    dist.broadcast_object_list(box, src=0)


# ---------------------------------------------------------------- setup
def _int_env(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment variable {name}={value!r} is not an integer") from None


def _timeout_s() -> float:
    value = os.environ.get("TEXTGAN_DIST_TIMEOUT", "")
    if value == "":
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigError(f"TEXTGAN_DIST_TIMEOUT={value!r} must be a positive number of seconds")
    return seconds


def world_from_env() -> World:
    """This process's `World` from torchrun's variables (checked, nothing connected yet); `SINGLE`
    when WORLD_SIZE is unset or 1."""
    size, rank, local = _int_env("WORLD_SIZE"), _int_env("RANK"), _int_env("LOCAL_RANK")
    if size is None:
        if rank not in (None, 0):
            raise ConfigError(f"RANK={rank} is set but WORLD_SIZE is not: start the processes with torchrun")
        return SINGLE
    if size < 1:
        raise ConfigError(f"WORLD_SIZE={size} must be at least 1")
    if size == 1:
        if rank not in (None, 0):
            raise ConfigError(f"RANK={rank} is out of range for WORLD_SIZE=1")
        return SINGLE
    if rank is None:
        raise ConfigError(f"WORLD_SIZE={size} is set but RANK is not: start the processes with torchrun")
    if not 0 <= rank < size:
        raise ConfigError(f"RANK={rank} is out of range for WORLD_SIZE={size} (0 to {size - 1})")
    if local is not None and not 0 <= local <= rank:
        raise ConfigError(f"LOCAL_RANK={local} is inconsistent with RANK={rank} (0 to {rank})")
    addr, port = os.environ.get("MASTER_ADDR", ""), _int_env("MASTER_PORT")
    if not addr or port is None:
        missing = " and ".join(n for n, v in (("MASTER_ADDR", addr), ("MASTER_PORT", port)) if not v)
        raise ConfigError(f"WORLD_SIZE={size} is set but {missing} is not: start the processes with torchrun")
    if not 0 < port < 65536:
        raise ConfigError(f"MASTER_PORT={port} is not a port number")
    return World(rank=rank, size=size, local_rank=local or 0, master=f"{addr}:{port}",
                 timeout_s=_timeout_s())


def device_for(world: World, device: torch.device) -> torch.device:
    """Each rank's device: cuda:LOCAL_RANK on GPUs (refusing an explicit other index), else the CPU."""
    if not world.distributed or device.type != "cuda":
        return device
    if device.index is not None and device.index != world.local_rank:
        raise ConfigError(f"under torchrun each process uses cuda:LOCAL_RANK (here cuda:{world.local_rank}); "
                          f"pass --device cuda or auto, not {device}")
    if world.local_rank >= torch.cuda.device_count():
        raise ConfigError(f"LOCAL_RANK={world.local_rank} but this machine has "
                          f"{torch.cuda.device_count()} CUDA device(s): start at most that many per machine")
    torch.cuda.set_device(world.local_rank)
    return torch.device("cuda", world.local_rank)


def connect(world: World) -> None:
    """Join the process group with the run's timeout: CUDA tensors (DDP's gradients on GPUs) through
    NCCL, CPU tensors (CPU training, stop flags, checkpoint state) through Gloo."""
    if not world.distributed:
        return
    # torch._dynamo (which DDP imports on first use) keeps a reference to a process group that exists
    # when it is imported: the group then outlives destroy_process_group, its Gloo worker threads stay
    # alive, and one of them dropping the last reference to a Python tensor while the interpreter
    # shuts down aborts the process ("terminate called without an active exception").  Imported
    # first, it holds nothing, and disconnect() really ends the group and joins its threads.
    import torch._dynamo  # noqa: F401
    import torch.distributed as dist
    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    try:
        dist.init_process_group(backend, rank=world.rank, world_size=world.size,
                                timeout=datetime.timedelta(seconds=world.timeout_s))
    except (RuntimeError, ValueError) as e:
        raise DistributedError(f"rank {world.rank} could not join the run at {world.master} within "
                               f"{world.timeout_s:g} s: {_first_line(e)}") from None


def disconnect(world: World) -> None:
    if not world.distributed:
        return
    import torch.distributed as dist
    if not dist.is_initialized():
        return
    try:
        # Rank 0 hosts the rendezvous store: if it exits while another rank still tears down its
        # connection to it, that rank aborts ("terminate called without an active exception").
        # So every rank reports its teardown through the store and rank 0 waits for all of them.
        store = dist.distributed_c10d._get_default_store()
        dist.destroy_process_group()
        if world.rank:
            store.add("textgan/left", 1)
        else:
            deadline = time.monotonic() + min(world.timeout_s, 30.0)
            while store.add("textgan/left", 0) < world.size - 1 and time.monotonic() < deadline:
                time.sleep(0.01)
    except Exception:  # noqa: BLE001 - a broken group (dead peer) cannot always be torn down
        pass


def is_comm_failure(e: BaseException) -> bool:
    """An error of the communication layer (a peer died, hung or closed its connection)."""
    import torch.distributed as dist
    if isinstance(e, getattr(dist, "DistError", ())):
        return True
    text = str(e)
    return isinstance(e, RuntimeError) and any(s in text for s in (
        "gloo", "Gloo", "NCCL", "Connection closed", "Connection reset", "Timed out", "timed out",
        "ProcessGroup", "Broken pipe"))


def comm_failure(world: World, e: BaseException) -> DistributedError:
    return DistributedError(f"rank {world.rank} of {world.size}: lost contact with another rank "
                            f"(it died, was killed, or hung longer than TEXTGAN_DIST_TIMEOUT="
                            f"{world.timeout_s:g} s): {_first_line(e)}; continue from the last "
                            "checkpoint with --resume")


def _first_line(e: BaseException) -> str:
    lines = [s for s in str(e).strip().splitlines() if s.strip()]
    return (lines[0] if lines else type(e).__name__)[:240]
