"""Small exact statistics for the evaluation: binomial bounds for checking
an empirical false-positive rate against its nominal level, empirical
thresholds from null scores, and ROC AUC. Pure Python (no scipy)."""
from __future__ import annotations

import math


def binom_upper_bound(n: int, p: float, confidence: float = 0.999) -> int:
    """Smallest k with P(Binomial(n, p) <= k) >= confidence: a detector
    whose true rate is at most p exceeds k rejections out of n with
    probability below 1 - confidence."""
    if n < 0 or not 0.0 <= p <= 1.0 or not 0.0 < confidence < 1.0:
        raise ValueError(f"bad binomial bound arguments n={n} p={p} confidence={confidence}")
    if p == 0.0:
        return 0
    if p == 1.0:
        return n
    lq, lp = math.log1p(-p), math.log(p)
    log_pmf = n * lq  # log P(X = 0)
    cdf = 0.0
    for k in range(n + 1):
        cdf += math.exp(log_pmf)
        if cdf >= confidence:
            return k
        log_pmf += math.log(n - k) - math.log(k + 1) + lp - lq
    return n


def empirical_threshold(null_log10_p, fpr: float) -> float:
    """A log10 p threshold t such that the fraction of null scores with
    log10 p < t is at most `fpr` (the largest such t among the observed
    values): detection is `log10_p < t`. Derived from the null sample only."""
    xs = sorted(null_log10_p)
    if not xs:
        raise ValueError("no null scores")
    allowed = int(math.floor(fpr * len(xs)))  # rejections the level permits
    # Rejecting everything strictly below xs[allowed] rejects at most
    # `allowed` values (ties at xs[allowed] are not rejected).
    return xs[allowed] if allowed < len(xs) else math.inf


def rate_below(values, threshold: float) -> float:
    values = list(values)
    return sum(v < threshold for v in values) / len(values) if values else float("nan")


def roc_auc(positive_scores, negative_scores) -> float:
    """P(positive > negative) + 0.5 P(tie), by the rank-sum formula; scores
    are "higher means more watermarked" (use -log10 p)."""
    pos, neg = list(positive_scores), list(negative_scores)
    if not pos or not neg:
        return float("nan")
    allv = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    rank_sum, i = 0.0, 0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        avg_rank = (i + 1 + j) / 2.0  # ranks i+1..j
        rank_sum += avg_rank * sum(1 for t in allv[i:j] if t[1] == 1)
        i = j
    n1, n0 = len(pos), len(neg)
    return (rank_sum - n1 * (n1 + 1) / 2.0) / (n1 * n0)
