"""Top-k ranking metrics of the benchmark protocol (FORMAT.md)."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def ndcg_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """Binary-relevance NDCG@k; the ideal puts min(|relevant|, k) hits on top."""
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def recall_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """Hits in the top k over min(|relevant|, k)."""
    hits = sum(1 for item in ranked[:k] if item in relevant)
    return hits / min(len(relevant), k) if relevant else 0.0


def hit_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """1 when any of the top k is relevant."""
    return 1.0 if any(item in relevant for item in ranked[:k]) else 0.0
