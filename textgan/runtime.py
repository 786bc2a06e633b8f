"""Process-wide settings that a training run wants and a library must not impose.

`Trainer` changes none of them: the run lifecycle (`textgan/runs.py`, behind the CLI and
`textgan.train_lm` / `train_image`) applies them around a run with `training_environment`, and
restores what can be restored afterwards."""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import signal
from typing import Callable, Iterator

import torch
from torch import nn


def keep_freed_memory() -> None:
    """CPU: keep freed tensor memory in the process.  glibc returns every freed block above its mmap
    threshold (128 KB, growing) to the kernel, so the next activation of that size page-faults zeroed
    pages back in; raising the threshold to its 32 MB maximum and not trimming the heap (what
    jemalloc/tcmalloc do) gave 3-4% per training step at DIM 128.  A no-op without glibc.  Not undone
    after the run: it only changes when memory goes back to the kernel."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3          # <malloc.h>
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 1 << 30)


def channels_last(*nets: nn.Module) -> None:
    """CPU: the networks' 2-D convolution weights (their 4-D parameters) in channels_last (NHWC)
    memory, so oneDNN's convolutions run on NHWC activations instead of converting around every
    call.  The same values, the same maths; one thread, float32, per critic + generator step it was
    about 5% faster for the MNIST networks, 16% for the CIFAR-10 ResNet and 11% for the 64x64 ResNet.
    Networks without 4-D parameters (text, toy) are left as they are."""
    for net in nets:
        net.to(memory_format=torch.channels_last)


def flushes_denormals() -> bool:
    """Whether this process's CPU kernels flush denormal floats to zero, on every thread of torch's
    intra-op pool: 1e-39 (a float32 denormal) times 1 over an array large enough to be split
    between the threads gives 0 everywhere only where each thread flushes."""
    x = torch.full((1 << 20,), 1e-39, dtype=torch.float32)
    return bool(((x * 1.0) == 0).all())


def _on_every_openmp_thread(on: bool) -> bool:
    """`torch.set_flush_denormal(on)` on every thread of the OpenMP team torch's kernels run on (the
    flag lives in each thread's MXCSR register).  Threads the pool creates later inherit it from
    the thread that creates them, but a pool that already exists does not see it: the setting runs
    once in a parallel region of the same OpenMP runtime.  False where that runtime is not found."""
    try:
        path = next(line.split()[-1] for line in open("/proc/self/maps", encoding="utf-8")
                    if "libgomp" in line or "libomp" in line or "libiomp" in line)
        parallel = ctypes.CDLL(path).GOMP_parallel
    except (OSError, StopIteration, AttributeError):
        return False
    callback = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda _data: torch.set_flush_denormal(on))
    parallel.argtypes = [type(callback), ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    parallel.restype = None
    parallel(callback, None, torch.get_num_threads(), 0)
    return True


@contextlib.contextmanager
def flush_denormals() -> Iterator[None]:
    """CPU: flush denormal floats (float32 below 1.2e-38) to zero, on every thread, as TensorFlow's CPU
    threads (the paper's code) do.  A softmax over a vocabulary is full of such tiny probabilities,
    and x86 CPUs take a slow microcode path for every one of them: the `small` text preset trains
    1.6x faster per CPU-second with this (`bench/denormals.py`).  Values that small change no result
    a float32 network can show.  The previous setting comes back on exit."""
    if flushes_denormals() or not torch.set_flush_denormal(True):   # already, or a CPU without it
        yield
        return
    pool = not flushes_denormals() and _on_every_openmp_thread(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
        if pool:
            _on_every_openmp_thread(False)


_FLAGS = (("cuda.matmul", "allow_tf32"), ("cudnn", "allow_tf32"), ("cudnn", "benchmark"))


def _flag_owner(path: str):
    owner = torch.backends
    for part in path.split("."):
        owner = getattr(owner, part)
    return owner


@contextlib.contextmanager
def gpu_fast_math() -> Iterator[None]:
    """TF32 tensor cores for float32 matrix products and convolutions (10-bit mantissa inputs,
    float32 accumulation) and cuDNN's autotuner: the usual GPU training setting, several times the
    plain float32 rate.  The previous flags come back on exit."""
    saved = [(owner, name, getattr(owner, name)) for owner, name in
             ((_flag_owner(p), n) for p, n in _FLAGS)]
    for owner, name, _ in saved:
        setattr(owner, name, True)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


@contextlib.contextmanager
def stop_on_signals(request_stop: Callable[[int], None]) -> Iterator[None]:
    """Ctrl-C and SIGTERM ask the loop to stop after the current iteration (it then saves a
    checkpoint) instead of killing it; the previous handlers come back on exit."""
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, _frame: request_stop(signum)) for s in signals}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def training_environment(device: torch.device, *nets: nn.Module) -> Iterator[None]:
    """What a run of the lifecycle sets: the CPU allocator setting, channels_last weights and flushed
    denormals on the CPU, TF32 and cuDNN autotuning on CUDA (restored afterwards)."""
    if device.type == "cpu":
        keep_freed_memory()
        channels_last(*nets)
        with flush_denormals():
            yield
    elif device.type == "cuda":
        with gpu_fast_math():
            yield
    else:
        yield
