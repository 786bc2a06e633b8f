"""Jensen-Shannon divergence in bits between two unsmoothed count distributions.

The definition is the paper's evaluation code (``NgramModel.js_with``):
p, q = counts / totals, m = (p + q) / 2, JS = (KL(p||m) + KL(q||m)) / 2 / ln 2.
An item present on one side only contributes its mass times log2(2) = 1 bit to
that side's KL term, so only the items present on both sides need aligning.
"""
from __future__ import annotations

import math

import numpy as np


def js_bits(p_shared: np.ndarray, q_shared: np.ndarray, p_total: int, q_total: int) -> float:
    """JS divergence (bits) from counts of the items seen on BOTH sides.

    p_shared[i], q_shared[i] > 0: counts of the i-th common item in P and in Q;
    p_total, q_total: all counts of P and of Q (common and one-sided items).
    Returns NaN if either side is empty (the divergence is undefined).
    """
    if p_total <= 0 or q_total <= 0:
        return float("nan")
    pc = np.asarray(p_shared, dtype=np.int64)
    qc = np.asarray(q_shared, dtype=np.int64)
    p = pc / p_total
    q = qc / q_total
    m = p + q                                   # = 2 * mixture
    common = float(np.sum(p * np.log(2 * p / m)) + np.sum(q * np.log(2 * q / m)))
    # One-sided mass from exact integer counts, so identical sides give exactly 0.
    p_only = (p_total - int(pc.sum())) / p_total
    q_only = (q_total - int(qc.sum())) / q_total
    return 0.5 * (common + (p_only + q_only) * math.log(2)) / math.log(2)
