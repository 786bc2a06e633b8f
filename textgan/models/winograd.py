"""Winograd F(4, 5): the residual blocks' kernel-5 convolutions with 2.5x fewer multiplications.

A correlation with kernel 5 and padding 2, y[i] = sum_k x[i + k - 2] w[k], is computed four outputs
at a time from a window of eight inputs (Lavin & Gray, "Fast Algorithms for Convolutional Neural
Networks", 2016):

    y[4t : 4t + 4] = A^T [ (G w) * (B^T x[4t - 2 : 4t + 6]) ]

with the interpolation points 0, +-1, +-2, +-1/2 and infinity.  Summed over input channels, the
products become eight matrix products [B*T, C] x [C, O], one per point: 8*C*O multiply-adds per four
outputs instead of the direct 20*C*O.  B^T, G and A^T are exact linear maps, so this is the same
convolution up to float32 rounding (relative error about 1e-6; tests pin it against the direct one).

Activations live in a blocked layout [4, B, T, C] (T = L / 4): position 4t + u of sample b is
[u, b, t, :].  That is what the output transform A^T produces, so the only copy a convolution adds is
the gathering of its eight-input windows.  Elementwise work (ReLU, residual sums, masks) does not
care about the layout.

This is the CPU fast path (`--conv winograd`, chosen by `auto` on CPU in float32); cuDNN keeps the
direct convolutions on GPUs.
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

KERNEL, TILE, WINDOW = 5, 4, 8
POINTS = (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5)   # and infinity


def _matrices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """B^T [8, 8], G [8, 5], A^T [4, 8] in float64, from the interpolation points (Toom-Cook)."""
    v = np.array([[p ** k for k in range(WINDOW)] for p in POINTS] + [[0.0] * (WINDOW - 1) + [1.0]])
    g = np.vstack([v[:-1, :KERNEL], np.eye(KERNEL)[-1:]])       # evaluate w at each point
    a = np.vstack([v[:-1, :TILE], np.eye(TILE)[-1:]])           # evaluate a length-4 factor
    # Linear convolution of w and a length-4 sequence is V^-1 [(G w) * (A s)]; a correlation is its
    # transpose, y = A^T [(G w) * (V^-T x)].
    return np.linalg.inv(v).T, g, a.T


_BT, _G, _AT = _matrices()


@functools.lru_cache(maxsize=None)
def _constants(device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    as_tensor = functools.partial(torch.tensor, device=device, dtype=dtype)
    with torch.inference_mode(False):   # cached: must stay usable by autograd after a first call there
        return as_tensor(_BT), as_tensor(_G), as_tensor(_G[:, ::-1].copy()), as_tensor(_AT)


def supports(seq_len: int) -> bool:
    """Whole four-output tiles only (the paper's 32 tokens are eight of them)."""
    return seq_len % TILE == 0


# ---------------------------------------------------------------- layouts
def channels_to_blocks(x: Tensor) -> Tensor:
    """[B, C, L] (channel-major, as the Linear's view in the generator) -> [4, B, L/4, C]."""
    b, c, length = x.shape
    return x.view(b, c, length // TILE, TILE).permute(3, 0, 2, 1).contiguous()


def sequence_to_blocks(x: Tensor) -> Tensor:
    """[B, L, F] (one row per position) -> [4, B, L/4, F]."""
    b, length, f = x.shape
    return x.view(b, length // TILE, TILE, f).permute(2, 0, 1, 3).contiguous()


def blocks_to_sequence(x: Tensor) -> Tensor:
    """[4, B, T, F] -> [B, 4T, F]."""
    _, b, t, f = x.shape
    return x.permute(1, 2, 0, 3).reshape(b, t * TILE, f)


def blocks_to_channels(x: Tensor) -> Tensor:
    """[4, B, T, C] -> [B, C, 4T]."""
    _, b, t, c = x.shape
    return x.permute(1, 3, 2, 0).reshape(b, c, t * TILE)


# ---------------------------------------------------------------- the convolution
def transform_weight(weight: Tensor, transpose: bool = False) -> Tensor:
    """G w for a Conv1d weight [O, C, 5]: [8, C, O] (or, with transpose, [8, O, C] for the
    transposed convolution, whose kernel is w flipped with its channel axes swapped)."""
    out_ch, in_ch, k = weight.shape
    _, g, g_flipped, _ = _constants(weight.device, weight.dtype)
    w = ((g_flipped if transpose else g) @ weight.reshape(out_ch * in_ch, k).t()).view(WINDOW, out_ch, in_ch)
    return w if transpose else w.transpose(1, 2)


def _windows(x: Tensor) -> Tensor:
    """The eight-input windows of every tile, [8, B, T, C]: window j of tile t is position 4t - 2 + j
    (zero outside the sequence), i.e. the last two of block t-1, block t, the first two of block t+1."""
    s = x.new_empty((WINDOW,) + x.shape[1:])
    s[2:6] = x
    s[0:2, :, 1:] = x[2:4, :, :-1]
    s[0:2, :, 0] = 0
    s[6:8, :, :-1] = x[0:2, :, 1:]
    s[6:8, :, -1] = 0
    return s


def _windows_transpose(g: Tensor) -> Tensor:
    """The adjoint of `_windows`: [8, B, T, C] -> [4, B, T, C] (overlapping windows add up)."""
    x = g[2:6].clone()
    x[2:4, :, :-1] += g[0:2, :, 1:]
    x[0:2, :, 1:] += g[6:8, :, :-1]
    return x


class _Conv(torch.autograd.Function):
    """residual + scale * (conv(x) + bias) in the blocked layout, with a hand-written backward
    (the overlapping windows would otherwise cost autograd three zero-filled buffers)."""

    @staticmethod
    def forward(ctx, x: Tensor, w_hat: Tensor, bias: Tensor | None, residual: Tensor | None,
                scale: float) -> Tensor:
        _, b, t, c = x.shape
        o = w_hat.shape[2]
        bt, _, _, at = _constants(x.device, x.dtype)
        d = (bt @ _windows(x).view(WINDOW, -1)).view(WINDOW, b * t, c)
        m = torch.bmm(d, w_hat)
        if bias is not None:
            m[1] += bias                       # point 1: A^T's column there is all ones
        m = m.view(WINDOW, -1)
        if residual is None:
            y = torch.mm(at, m)
            if scale != 1.0:
                y.mul_(scale)
        else:
            y = torch.addmm(residual.reshape(TILE, -1), at, m, alpha=scale)
        # The windows only for the weight's gradient, the weight only for the input's (a frozen
        # critic in the generator step keeps no windows).
        ctx.save_for_backward(d if ctx.needs_input_grad[1] else None,
                              w_hat if ctx.needs_input_grad[0] else None)
        ctx.scale, ctx.has_bias, ctx.has_residual = scale, bias is not None, residual is not None
        ctx.shape = (b, t, c, o)
        return y.view(TILE, b, t, o)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        d, w_hat = ctx.saved_tensors
        b, t, c, o = ctx.shape
        bt, _, _, at = _constants(grad.device, grad.dtype)
        grad = grad.contiguous()
        gm = torch.mm(at.t() * ctx.scale, grad.view(TILE, -1)).view(WINDOW, b * t, o)
        g_x = g_w = g_bias = g_res = None
        if ctx.needs_input_grad[0]:
            gd = torch.bmm(gm, w_hat.transpose(1, 2))
            g_x = _windows_transpose(torch.mm(bt.t(), gd.view(WINDOW, -1)).view(WINDOW, b, t, c))
        if ctx.needs_input_grad[1]:
            g_w = torch.bmm(d.transpose(1, 2), gm)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            g_bias = gm[1].sum(0)
        if ctx.has_residual and ctx.needs_input_grad[3]:
            g_res = grad
        return g_x, g_w, g_bias, g_res, None


def conv(x: Tensor, w_hat: Tensor, bias: Tensor | None = None, residual: Tensor | None = None,
         scale: float = 1.0) -> Tensor:
    """residual + scale * (conv(x) + bias) for x [4, B, T, C] and w_hat = transform_weight(w);
    the residual, when given, has the output's shape [4, B, T, O]."""
    return _Conv.apply(x, w_hat, bias, residual, scale)
