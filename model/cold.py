"""The cold scorer: a hand blend of content signals, used before any net is trained or when the
bot has seen too few lists for collaborative signal. Weights were set on the mal-5k dev split
(see model/README in the issue report), so they are mildly optimistic there.
"""

from __future__ import annotations

import torch

from .features import COLUMN

# Each signal is standardised over the catalogue first, so weights compare directly.
COLD_WEIGHTS = {
    "log_popularity": 1.0,
    "catalogue_mean": 0.3,
    "genre_match": 0.5,
    "tag_match": 0.3,
    "format_affinity": 0.3,
    "title_liked": 0.8,
    "title_any": 0.4,
    "era": 0.6,
    "community": 0.6,
}


def _standardise(column: torch.Tensor) -> torch.Tensor:
    std = column.std()
    return (column - column.mean()) / std if float(std) > 1e-6 else torch.zeros_like(column)


def cold_scores(features: torch.Tensor) -> torch.Tensor:
    """Blend score of every row of a feature matrix (higher is better, unbounded)."""
    total = torch.zeros(features.shape[0])
    for name, weight in COLD_WEIGHTS.items():
        total += weight * _standardise(features[:, COLUMN[name]])
    return total
