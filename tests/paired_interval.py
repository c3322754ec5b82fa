"""Newcombe's score interval (method 10, 1998) for a difference of paired
proportions, in numpy/scipy: the independent reference for the pipeline's
drop interval (pipeline/drop_interval.c), shared by the tests and the
end-to-end benchmark."""
import numpy as np
from scipy import stats


def wilson(k, n, z):
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(mid - half, 0.0), min(mid + half, 1.0)


def newcombe(a, b, c, d, conf):
    """The drop's interval in points from the 2x2 table of verdicts: a both
    right, b only the float model, c only the compressed one, d neither."""
    n = a + b + c + d
    z = stats.norm.ppf(0.5 + conf / 2)
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, z)
    l2, u2 = wilson(a + c, n, z)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / np.sqrt(denom) if denom > 0 else 0.0
    dl = np.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0))
    du = np.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0))
    return 100 * (p1 - p2 - dl), 100 * (p1 - p2 + du)


def table(f, c):
    """The 2x2 table of two boolean per-sample verdict arrays."""
    return int((f & c).sum()), int((f & ~c).sum()), int((~f & c).sum()), int((~f & ~c).sum())
