"""RecommenderNet: standardised (user profile ⊕ candidate) features -> 16 ReLU -> 1 score."""

from __future__ import annotations

import torch
from torch import nn

HIDDEN = 16


class RecommenderNet(nn.Module):
    """A one-hidden-layer regressor of a 0-10 rating; standardisation stats are buffers so they
    travel in the state dict (and so in checkpoints) with the weights."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, n_inputs: int, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("std", torch.ones(n_inputs))
        self.layers = nn.Sequential(nn.Linear(n_inputs, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def set_standardisation(self, inputs: torch.Tensor) -> None:
        """Use the column means and spreads of ``inputs`` (constant columns keep spread 1)."""
        self.mean.copy_(inputs.mean(0))
        std = inputs.std(0)
        self.std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        # Standardising folded into the first layer: W((x - m) / s) + b = (W / s) x +
        # (b - (W / s) m), a 16-row product instead of two passes over every input value.
        first, relu, last = self.layers
        assert isinstance(first, nn.Linear)
        weight = first.weight / self.std
        bias = first.bias - weight @ self.mean
        return last(relu(nn.functional.linear(inputs, weight, bias))).squeeze(-1)
