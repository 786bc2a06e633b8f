"""Atomic saves, safe loads, damaged files."""
import errno
import os
import pickle
import random

import numpy as np
import pytest
import torch

from textgan import checkpoint as ck
from textgan.errors import CheckpointError


def state(step):
    return {"step": step, "weights": {"w": torch.full((3,), float(step))}, "config": {"a": 1}}


def test_round_trip_and_listing(tmp_path):
    for step in (5, 10, 20):
        ck.save_checkpoint(state(step), tmp_path / ck.checkpoint_name(step))
    assert [s for s, _ in ck.list_checkpoints(tmp_path)] == [5, 10, 20]
    loaded = ck.load_checkpoint(tmp_path / ck.checkpoint_name(10))
    assert loaded["step"] == 10 and loaded["format_version"] == ck.FORMAT_VERSION
    assert torch.equal(loaded["weights"]["w"], torch.full((3,), 10.0))
    ck.prune_checkpoints(tmp_path, keep=2)
    assert [s for s, _ in ck.list_checkpoints(tmp_path)] == [10, 20]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_truncated_newest_falls_back_to_previous(tmp_path):
    ck.save_checkpoint(state(1), tmp_path / ck.checkpoint_name(1))
    newest = ck.save_checkpoint(state(2), tmp_path / ck.checkpoint_name(2))
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="damaged or truncated"):
        ck.load_checkpoint(newest)
    warnings = []
    loaded, path = ck.load_latest(tmp_path, warn=warnings.append)
    assert loaded["step"] == 1 and path.name == ck.checkpoint_name(1)
    assert len(warnings) == 1 and "ckpt-00000002.pt" in warnings[0]


def test_garbage_and_empty_files(tmp_path):
    bad = tmp_path / ck.checkpoint_name(3)
    bad.write_bytes(b"")
    with pytest.raises(CheckpointError):
        ck.load_checkpoint(bad)
    rng = random.Random(0)
    for _ in range(200):   # random bytes fail in many places of the unpickler: all are "damaged"
        bad.write_bytes(bytes(rng.randrange(256) for _ in range(rng.choice([1, 2, 7, 64, 4096]))))
        with pytest.raises(CheckpointError):
            ck.load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="no usable checkpoint"):
        ck.load_latest(tmp_path)


class Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {Exploit.marker}",))


def test_malicious_pickle_is_rejected_without_running(tmp_path):
    Exploit.marker = tmp_path / "pwned"
    evil = tmp_path / ck.checkpoint_name(7)
    torch.save({"format_version": 1, "step": 7, "payload": Exploit()}, evil)
    with pytest.raises(CheckpointError, match="refusing to load"):
        ck.load_checkpoint(evil)
    assert not Exploit.marker.exists()
    # a raw (non-zip) pickle is refused as well
    evil.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(CheckpointError):
        ck.load_checkpoint(evil)
    assert not Exploit.marker.exists()


def test_not_a_textgan_checkpoint(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not a textgan checkpoint"):
        ck.load_checkpoint(path)


def test_disk_full_keeps_previous(tmp_path, monkeypatch):
    good = ck.save_checkpoint(state(1), tmp_path / ck.checkpoint_name(1))

    def full_disk(obj, f):
        f.write(b"partial bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ck.torch, "save", full_disk)
    with pytest.raises(CheckpointError, match="no space left"):
        ck.save_checkpoint(state(2), tmp_path / ck.checkpoint_name(2))
    # overwriting the same name fails the same way and leaves the old file whole
    with pytest.raises(CheckpointError):
        ck.save_checkpoint(state(9), good)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == [ck.checkpoint_name(1)]
    assert ck.load_checkpoint(good)["step"] == 1


def test_rng_state_round_trip():
    random.seed(1); np.random.seed(2); torch.manual_seed(3)
    saved = ck.capture_rng_state()
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(9); np.random.seed(9); torch.manual_seed(9)
    ck.restore_rng_state(saved)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


class OnGpu(torch.Tensor):
    """Stands for a tensor a checkpoint loaded onto a GPU: no `.numpy()`, not a CPU tensor, `.cpu()`
    gives a plain one."""

    def numpy(self, *args, **kwargs):
        raise TypeError("can't convert cuda:0 device type tensor to numpy")

    def cpu(self, *args, **kwargs):
        with torch._C.DisableTorchFunctionSubclass():
            return torch.Tensor.clone(self).as_subclass(torch.Tensor)


def on_gpu(state):
    """`state` with every tensor (the CUDA list's too) an OnGpu tensor."""
    def move(x):
        if torch.is_tensor(x):
            return x.as_subclass(OnGpu)
        if isinstance(x, dict):
            return {k: move(v) for k, v in x.items()}
        if isinstance(x, list):
            return [move(v) for v in x]
        return x
    return move(state)


def fake_gpus(monkeypatch, count):
    """CUDA present with `count` devices; records what the CUDA setters receive."""
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: calls.append(("all", list(states))))
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, device="cuda": calls.append((device, [s])))
    return calls


def plain(t):
    return type(t) is torch.Tensor and t.device.type == "cpu"


def test_rng_state_restores_from_tensors_loaded_onto_a_gpu(monkeypatch):
    random.seed(1); np.random.seed(2); torch.manual_seed(3)
    saved = ck.capture_rng_state()
    gpu_states = [torch.full((16,), i, dtype=torch.uint8) for i in range(2)]
    saved["torch_cuda"] = gpu_states
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    cpu_setter = torch.set_rng_state
    received = []
    monkeypatch.setattr(torch, "set_rng_state", lambda s: (received.append(s), cpu_setter(s)))
    calls = fake_gpus(monkeypatch, 2)
    loaded = on_gpu(saved)
    with pytest.raises(TypeError):
        loaded["numpy"]["keys"].numpy()                       # what restoring used to call
    random.seed(9); np.random.seed(9); torch.manual_seed(9)
    ck.restore_rng_state(loaded)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
    assert len(received) == 1 and plain(received[0])
    assert [kind for kind, _ in calls] == ["all"]
    assert all(plain(s) for s in calls[0][1])
    assert all(torch.equal(a, b) for a, b in zip(calls[0][1], gpu_states))


def test_rng_state_with_another_gpu_count_warns_and_restores_the_shared_devices(monkeypatch):
    saved = ck.capture_rng_state()
    saved["torch_cuda"] = [torch.full((16,), i, dtype=torch.uint8) for i in range(3)]
    calls = fake_gpus(monkeypatch, 1)
    with pytest.warns(RuntimeWarning, match="3 GPU.*this machine has 1: restored GPU 0"):
        ck.restore_rng_state(on_gpu(saved))
    assert len(calls) == 1 and calls[0][0] == 0 and torch.equal(calls[0][1][0], saved["torch_cuda"][0])
    calls = fake_gpus(monkeypatch, 4)
    with pytest.warns(RuntimeWarning, match="3 GPU.*has 4: restored GPU 0..2"):
        ck.restore_rng_state(saved)
    assert [device for device, _ in calls] == [0, 1, 2]


def test_rng_untouched_puts_every_stream_back():
    random.seed(4); np.random.seed(5); torch.manual_seed(6)
    before = (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state())
    with ck.rng_untouched():
        random.random(); np.random.rand(3); torch.rand(3)
        torch.manual_seed(0)
    assert random.getstate() == before[0]
    assert (np.random.get_state()[1] == before[1]).all()
    assert torch.equal(torch.get_rng_state(), before[2])
