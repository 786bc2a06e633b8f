"""The paper's definitions written out independently of textgan, for tests to compare with."""
import math
from collections import Counter


def js_oracle(samples, corpus, n, seq_len=32):
    """The paper's definition, written out independently: unsmoothed counts, JS in bits."""
    def grams(lines):
        c = Counter()
        for line in lines:
            s = line[:seq_len] + "`" * (seq_len - len(line[:seq_len]))
            c.update(s[i:i + n] for i in range(len(s) - n + 1))
        return c
    p, q = grams(samples), grams(corpus)
    tp, tq = sum(p.values()), sum(q.values())
    js = 0.0
    for g in set(p) | set(q):
        a, b = p[g] / tp, q[g] / tq
        m = (a + b) / 2
        js += (a * math.log2(a / m) if a else 0) + (b * math.log2(b / m) if b else 0)
    return js / 2
