"""Float32 tolerances from the size of the computation, not from one CPU's rounding.

Float32 results differ in their last bits between kernel sets (AVX-512/AMX, AVX2, SSE4.1, the
default scalar code) and thread counts, because sums are split and ordered differently. A test that
compares two float32 computations of the same maths therefore gets a bound on their rounding:

    a sum of n products on values of size `scale` rounds by about eps * sqrt(n) * scale

(the probabilistic bound on a dot product, Higham, "Accuracy and Stability of Numerical
Algorithms", 2002, sec. 3.1; torch's eps is 2u, twice the unit roundoff), and stacked layers add
their errors. Equality of maths itself is tested in float64, where rounding is out of the way.
"""
from __future__ import annotations

import math

import numpy as np
import torch

EPS32 = torch.finfo(torch.float32).eps


def sum_bound(n_terms: int, scale, layers: int = 1, eps: float = EPS32):
    """Rounding of `layers` stacked sums of `n_terms` products each, on values of size `scale`."""
    return eps * math.sqrt(n_terms) * layers * scale


def winograd_amplification() -> float:
    """How much larger Winograd F(4,5)'s rounding is than the direct convolution's, from its matrices.

    An output's error is bounded by |A^T| (|G| |w| * |B^T| |x|) instead of sum |w| |x| (Lavin & Gray
    2016; Barabasz et al., "Error analysis and improving the accuracy of Winograd convolution",
    2020); for |w| = |x| = 1 the ratio is about 17 (the points +-2 and +-1/2 cost the most)."""
    from textgan.models import winograd as wg
    bt, g, at = (np.abs(m) for m in (wg._BT, wg._G, wg._AT))
    return float((at @ (g.sum(1) * bt.sum(1))).max() / wg.KERNEL)
