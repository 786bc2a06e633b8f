"""Inception score and FID computed as the TensorFlow originals do.

The reference is torch-fidelity (toshas/torch-fidelity), whose InceptionV3 port
reproduces the TensorFlow graph ``2015-12-05`` used by the original Inception
score code (Salimans et al. 2016) and by TTUR's FID (Heusel et al. 2017); this
is an independent implementation of the same computation:

1. uint8 images [N, 3, H, W] (grey [N, 1, H, W] is repeated to 3 channels) are
   converted to float and resized to 299×299 with TensorFlow 1.x bilinear
   resizing (``align_corners=False``, no half-pixel centres: source coordinate
   = destination · in/out, clamped at the last row/column) — not PyTorch's
   ``F.interpolate``, which samples at half-pixel centres;
2. scaled to [-1, 1) by (x - 128) / 128;
3. InceptionV3 with the TensorFlow variants of its blocks (the "FID Inception"
   of pytorch-fid): the average pools inside Mixed_5b..5d, 6b..6e and 7b do not
   count the zero padding; Mixed_7c pools its last branch with a 3×3 *max* pool;
   batch norm ε = 0.001; no auxiliary head;
4. **FID** uses the 2048-d global average pool features: mean and covariance
   in float64 (np.cov, N − 1), then |μ1 − μ2|² + tr Σ1 + tr Σ2 − 2 Σ √λ(Σ1Σ2)
   (torch-fidelity's eigenvalue form of the trace of the matrix square root);
   lower is better.  torch-fidelity takes the mean of the float32 features in
   float32; here the features are promoted to float64 first (differences in the
   7th significant digit);
5. **Inception score** uses the 1008-way logits *without the fc bias*
   ("logits_unbiased": the original TF code multiplies pool3 by the softmax
   weight matrix only) and the softmax over all 1008 outputs (the background
   class and the 8 unused ones are kept, as in the original); the N samples are
   permuted with ``np.random.RandomState(2020)`` (torch-fidelity's default
   shuffle) and cut into 10 splits; the result is the mean and population std of
   exp(E KL(p(y|x) ‖ p(y))) over the splits, computed in float64; higher is better.

Weights are never downloaded: pass ``inception_weights=PATH`` or set
``$TEXTGAN_INCEPTION_WEIGHTS`` to torch-fidelity's
``weights-inception-2015-12-05-6726825d.pth`` (pytorch-fid's
``pt_inception-2015-12-05-6726825d.pth`` has the same keys and also works).  The
file is read with ``torch.load(weights_only=True)`` and its keys and shapes are
checked before use.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from textgan.errors import TextganError
from textgan.metrics.classifier import (Score, _writable, feature_statistics, frechet_distance,
                                        full_float32, score_from_logits)

WEIGHTS_ENV = "TEXTGAN_INCEPTION_WEIGHTS"
WEIGHTS_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
               "weights-inception-2015-12-05-6726825d.pth")
PYTORCH_FID_WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                           "pt_inception-2015-12-05-6726825d.pth")
INPUT_SIZE = 299
IS_SPLITS = 10
IS_SHUFFLE_SEED = 2020
N_LOGITS = 1008
POOL_DIM = 2048
CPU_BATCH, GPU_BATCH = 50, 500      # images per forward (`default_batch_size`)


# ------------------------------------------------------------------ resizing

def resize_bilinear_tf1(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """TensorFlow 1.x ``tf.image.resize_bilinear(align_corners=False)`` of a float
    [N, C, H, W] tensor: output pixel (i, j) reads source (i·H/h, j·W/w), linear
    interpolation between floor and floor + 1 (clamped to the last index)."""
    if x.ndim != 4 or not x.is_floating_point():
        raise ValueError("resize_bilinear_tf1 expects a float [N, C, H, W] tensor")
    out_h, out_w = size

    def axis(n_in: int, n_out: int):
        src = torch.arange(n_out, dtype=x.dtype, device=x.device) * torch.tensor(
            n_in / n_out, dtype=torch.float32, device=x.device)
        lo = src.long()
        hi = (lo + 1).clamp_max(n_in - 1)
        return lo, hi, src - lo.to(src.dtype)

    y_lo, y_hi, dy = axis(x.shape[2], out_h)
    x_lo, x_hi, dx = axis(x.shape[3], out_w)
    top, bottom = x[:, :, y_lo, :], x[:, :, y_hi, :]
    dx = dx.view(1, 1, 1, out_w)
    row_top = top[..., x_lo] + (top[..., x_hi] - top[..., x_lo]) * dx
    row_bottom = bottom[..., x_lo] + (bottom[..., x_hi] - bottom[..., x_lo]) * dx
    return row_top + (row_bottom - row_top) * dy.view(1, 1, out_h, 1)


# ------------------------------------------------------------------- network
# Attribute names follow the converted TF checkpoint (torchvision's naming), so
# the state_dict keys of the weight files load as they are.

class _ConvBN(nn.Module):
    """conv (no bias) → batch norm (ε 0.001) → ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def _avg3(x):
    """3×3 stride-1 average pool that ignores the zero padding (TF 'SAME' average pooling)."""
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class _MixedA(nn.Module):          # 35×35 blocks Mixed_5b, 5c, 5d
    def __init__(self, c_in: int, pool_features: int):
        super().__init__()
        self.branch1x1 = _ConvBN(c_in, 64, 1)
        self.branch5x5_1 = _ConvBN(c_in, 48, 1)
        self.branch5x5_2 = _ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, padding=1)
        self.branch_pool = _ConvBN(c_in, pool_features, 1)

    def forward(self, x):
        return torch.cat([
            self.branch1x1(x),
            self.branch5x5_2(self.branch5x5_1(x)),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.branch_pool(_avg3(x)),
        ], 1)


class _MixedB(nn.Module):          # 35 → 17 reduction, Mixed_6a
    def __init__(self, c_in: int):
        super().__init__()
        self.branch3x3 = _ConvBN(c_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = _ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, stride=2)

    def forward(self, x):
        return torch.cat([
            self.branch3x3(x),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            F.max_pool2d(x, 3, stride=2),
        ], 1)


class _MixedC(nn.Module):          # 17×17 blocks Mixed_6b..6e (factorised 7×7)
    def __init__(self, c_in: int, c7: int):
        super().__init__()
        self.branch1x1 = _ConvBN(c_in, 192, 1)
        self.branch7x7_1 = _ConvBN(c_in, c7, 1)
        self.branch7x7_2 = _ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = _ConvBN(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _ConvBN(c_in, c7, 1)
        self.branch7x7dbl_2 = _ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _ConvBN(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = _ConvBN(c_in, 192, 1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                      self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg3(x))], 1)


class _MixedD(nn.Module):          # 17 → 8 reduction, Mixed_7a
    def __init__(self, c_in: int):
        super().__init__()
        self.branch3x3_1 = _ConvBN(c_in, 192, 1)
        self.branch3x3_2 = _ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _ConvBN(c_in, 192, 1)
        self.branch7x7x3_2 = _ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _ConvBN(192, 192, 3, stride=2)

    def forward(self, x):
        b = x
        for layer in (self.branch7x7x3_1, self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b = layer(b)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b, F.max_pool2d(x, 3, stride=2)], 1)


class _MixedE(nn.Module):          # 8×8 blocks Mixed_7b (average pool) and 7c (max pool, as in TF)
    def __init__(self, c_in: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = _ConvBN(c_in, 320, 1)
        self.branch3x3_1 = _ConvBN(c_in, 384, 1)
        self.branch3x3_2a = _ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = _ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _ConvBN(c_in, 448, 1)
        self.branch3x3dbl_2 = _ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = _ConvBN(c_in, 192, 1)

    def forward(self, x):
        s = self.branch3x3_1(x)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg3(x)
        return torch.cat([
            self.branch1x1(x),
            self.branch3x3_2a(s), self.branch3x3_2b(s),
            self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d),
            self.branch_pool(pooled),
        ], 1)


class FIDInceptionV3(nn.Module):
    """InceptionV3 as in TensorFlow's 2015-12-05 graph.  ``forward(uint8 [N, 3, H, W])``
    → (pool features [N, 2048], bias-free logits [N, 1008]), float32.

    ``input_size`` is what images are resized to: 299 for the real metrics; tests
    use smaller sizes (>= 75) to run the same network quickly."""

    def __init__(self, input_size: int = INPUT_SIZE):
        super().__init__()
        if input_size < 75:
            raise ValueError(f"InceptionV3 needs inputs of at least 75 pixels, got {input_size}")
        self.input_size = input_size
        self.Conv2d_1a_3x3 = _ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = _ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = _ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = _ConvBN(80, 192, 3)
        self.Mixed_5b = _MixedA(192, 32)
        self.Mixed_5c = _MixedA(256, 64)
        self.Mixed_5d = _MixedA(288, 64)
        self.Mixed_6a = _MixedB(288)
        self.Mixed_6b = _MixedC(768, 128)
        self.Mixed_6c = _MixedC(768, 160)
        self.Mixed_6d = _MixedC(768, 160)
        self.Mixed_6e = _MixedC(768, 192)
        self.Mixed_7a = _MixedD(768)
        self.Mixed_7b = _MixedE(1280, max_pool=False)
        self.Mixed_7c = _MixedE(2048, max_pool=True)
        self.fc = nn.Linear(POOL_DIM, N_LOGITS)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            raise ValueError("FIDInceptionV3 expects uint8 images [N, 3, H, W]")
        dtype = self.fc.weight.dtype
        x = resize_bilinear_tf1(images.to(dtype), (self.input_size, self.input_size))
        x = (x - 128) / 128
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b,
                      self.Mixed_6c, self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b,
                      self.Mixed_7c):
            x = block(x)
        pool = x.mean((2, 3))
        logits = pool @ self.fc.weight.T          # no bias: the original IS code's logits
        return pool.float(), logits.float()


def expected_state_shapes() -> dict[str, tuple[int, ...]]:
    """Key → shape of every tensor the weight file must hold (num_batches_tracked
    buffers, present in some files and not others, are not required)."""
    return {k: tuple(v.shape) for k, v in _meta_model().state_dict().items()
            if not k.endswith("num_batches_tracked")}


def _meta_model() -> FIDInceptionV3:
    with torch.device("meta"):
        return FIDInceptionV3()


# --------------------------------------------------------------- the weights

def _missing_weights_message() -> str:
    return (f"Inception weights not found: download {WEIGHTS_URL} and pass its path as "
            f"--inception-weights FILE (inception_weights= in Python) or set ${WEIGHTS_ENV} to it")


def weights_path(inception_weights: str | os.PathLike | None = None) -> Path:
    """The weight file named by the option, else by $TEXTGAN_INCEPTION_WEIGHTS; a
    one-line TextganError saying how to get it when there is none."""
    given = inception_weights if inception_weights is not None else os.environ.get(WEIGHTS_ENV) or None
    if given is None:
        raise TextganError(_missing_weights_message())
    p = Path(given).expanduser()
    if not p.is_file():
        raise TextganError(f"Inception weights {p} do not exist: download {WEIGHTS_URL} "
                           f"and pass its path as --inception-weights FILE (inception_weights= in Python) or set "
                           f"${WEIGHTS_ENV} to it")
    return p


def check_state_dict(state: dict) -> dict[str, torch.Tensor]:
    """The state dict without num_batches_tracked buffers, after checking that its
    keys and shapes are exactly those of FIDInceptionV3 (TextganError otherwise)."""
    if not isinstance(state, dict):
        raise TextganError(f"Inception weights: expected a state_dict, got {type(state).__name__}")
    sd = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    want = expected_state_shapes()
    missing = sorted(set(want) - set(sd))
    extra = sorted(set(sd) - set(want))
    bad = sorted(k for k in set(want) & set(sd)
                 if not torch.is_tensor(sd[k]) or tuple(sd[k].shape) != want[k])
    if missing or extra or bad:
        def few(keys):
            return ", ".join(keys[:3]) + (f" (+{len(keys) - 3} more)" if len(keys) > 3 else "")
        parts = [f"missing {few(missing)}" if missing else "", f"unexpected {few(extra)}" if extra else "",
                 f"wrong shape {few(bad)}" if bad else ""]
        raise TextganError("Inception weights do not fit the 2015-12-05 InceptionV3: "
                           + "; ".join(p for p in parts if p) + f" (expected {WEIGHTS_URL})")
    return sd


def load_inception(inception_weights: str | os.PathLike | None = None, device: str | torch.device = "cpu",
                   dtype: torch.dtype = torch.float32) -> FIDInceptionV3:
    """FIDInceptionV3 with the weights of the named file (see `weights_path`), in
    eval mode, gradients off."""
    path = weights_path(inception_weights)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise TextganError(f"Inception weights {path} cannot be read: {str(e).splitlines()[0]}") from None
    model = FIDInceptionV3()
    model.load_state_dict(check_state_dict(state), strict=False)   # only num_batches_tracked may be absent
    model = model.to(device=device, dtype=dtype).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


# --------------------------------------------------------------- the metrics

def images_to_uint8(images, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Float images with values in [low, high] → uint8 by round((x - low) / (high - low) · 255),
    clipped; uint8 input is returned unchanged."""
    a = images.detach().cpu().numpy() if torch.is_tensor(images) else np.asarray(images)
    if a.dtype == np.uint8:
        return a
    return np.clip(np.rint((a.astype(np.float64) - low) / (high - low) * 255), 0, 255).astype(np.uint8)


def _as_uint8_rgb(images) -> torch.Tensor:
    x = images.detach().cpu() if torch.is_tensor(images) else torch.from_numpy(_writable(images))
    if x.dtype != torch.uint8:
        raise ValueError(f"Inception metrics need uint8 images [N, C, H, W] "
                         f"(use images_to_uint8 first), got {x.dtype}")
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"Inception metrics need images [N, 1 or 3, H, W], got {list(x.shape)}")
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def default_batch_size(device: torch.device) -> int:
    """Images per Inception forward: 500 on a GPU, whose kernels need large batches to be kept
    busy (bench/gpu_check.py measures 50 against 500), 50 on the CPU."""
    return GPU_BATCH if device.type == "cuda" else CPU_BATCH


@torch.inference_mode()
def inception_features(model: FIDInceptionV3, images,
                       batch_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(pool features [N, 2048], bias-free logits [N, 1008]) as float64 arrays, computed on the
    model's device in full float32 (TF32 off, whatever the trainer set: `full_float32`), in
    batches of `batch_size` (default: `default_batch_size` of the device)."""
    x = _as_uint8_rgb(images)
    device = model.fc.weight.device
    batch_size = batch_size or default_batch_size(device)
    pools, logits = [], []
    with full_float32():
        for i in range(0, len(x), batch_size):
            p, z = model(x[i:i + batch_size].to(device))
            pools.append(p.cpu().double())
            logits.append(z.cpu().double())
    if not pools:
        return np.zeros((0, POOL_DIM)), np.zeros((0, N_LOGITS))
    return torch.cat(pools).numpy(), torch.cat(logits).numpy()


def inception_score_from_logits(logits, splits: int = IS_SPLITS, shuffle_seed: int | None = IS_SHUFFLE_SEED) -> Score:
    """IS from bias-free 1008-way logits (see the module doc); higher is better."""
    return score_from_logits(logits, splits, shuffle_seed)


def fid_from_features(features1, features2) -> float:
    """FID from two feature arrays [N, 2048] (float64 statistics, eigenvalue form); lower is better."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2), method="eigvals")


def inception_score(images, splits: int = IS_SPLITS, inception_weights=None,
                    model: FIDInceptionV3 | None = None, batch_size: int | None = None) -> Score:
    """Inception score (mean, std over `splits`) of uint8 images [N, 3 or 1, H, W]."""
    model = model if model is not None else load_inception(inception_weights)
    _, logits = inception_features(model, images, batch_size)
    return inception_score_from_logits(logits, splits)


def fid(images, real_images, inception_weights=None, model: FIDInceptionV3 | None = None,
        batch_size: int | None = None) -> float:
    """FID between uint8 images and uint8 real_images (lower is better)."""
    model = model if model is not None else load_inception(inception_weights)
    fa, _ = inception_features(model, images, batch_size)
    fb, _ = inception_features(model, real_images, batch_size)
    return fid_from_features(fa, fb)


__all__ = ["WEIGHTS_ENV", "WEIGHTS_URL", "PYTORCH_FID_WEIGHTS_URL", "FIDInceptionV3", "resize_bilinear_tf1",
           "expected_state_shapes", "weights_path", "check_state_dict", "load_inception", "images_to_uint8",
           "default_batch_size", "inception_features", "inception_score_from_logits", "fid_from_features", "inception_score", "fid"]
