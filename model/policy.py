"""The serving policy: the one place that decides how a user's titles are ranked.

No single scorer wins at every size of the bot: the cold blend (content and popularity) is
best while few lists have been seen, EASE and the trained net only once hundreds have. So the
policy always adds the cold blend, with a weight that shrinks as the collaborative state is
fitted on more lists, to the best collaborative scorer available (the net, else EASE). Serving,
training's before/after comparison and the offline CLIs all call :func:`ranking_scores`, so
what is measured is what is served; ``python -m benchmarks.bench_growth`` measures it by size.
"""

from __future__ import annotations

import torch

from .cold import cold_scores
from .collab import Collab
from .features import COLUMN
from .net import RecommenderNet

# Cold weights, chosen with benchmarks/bench_growth's machinery on two mal-5k draws (seeds 1
# and 2; the benchmark's default seed 0 is the check). The net overtakes the cold blend
# quickly, between 25 and 75 lists, and past a few hundred lists any cold weight costs; the
# second prototype's min(8, 150 / S) fell below cold at 5-25 lists (a weak net then still
# held 1/9 of the say), while (100 / S)^2 stayed at or above the better of cold and the net at
# every size from 5 lists up. EASE alone is a weaker warm signal, so without a net the cold
# blend keeps weight far longer: 1500 / S was at or above both at every size.
NET_COLD_SCALE = 100.0
EASE_COLD_SCALE = 1500.0
# Weight of z(EASE) added next to z(net). The net reads EASE among its inputs, but a small
# direct share of it still ranked better or the same on seeds 1 and 2 at 200, 500 and all
# lists (0.5 helped one seed and cost the other at all lists), so it is a constant: the cold
# weight already handles the small sizes, where the net is weak.
NET_EASE_WEIGHT = 0.25


def cold_weight(lists_seen: int, *, with_net: bool) -> float:
    """Weight of the standardised cold blend next to the standardised warm score, for a
    collaborative state fitted on ``lists_seen`` lists."""
    lists = max(lists_seen, 1)
    if with_net:
        return (NET_COLD_SCALE / lists) ** 2
    return EASE_COLD_SCALE / lists


def ranking_scores(
    matrix: torch.Tensor, collab: Collab | None, net: RecommenderNet | None
) -> torch.Tensor:
    """Ranking score (higher is better, unbounded) of every row of a feature matrix.

    ``matrix`` comes from :func:`model.features.features` built with the same ``collab``.
    Without collaborative state (no lists seen) this is the cold blend alone. Otherwise it is
    z(net) + NET_EASE_WEIGHT * z(EASE) + cold_weight(S) * z(cold) when a net is given and
    z(EASE) + cold_weight(S) * z(cold) without one, where z standardises over the rows and S
    is the number of lists ``collab`` was fitted on: that is what the warm scorers learnt from.
    """
    cold = cold_scores(matrix)
    if collab is None:
        return cold
    ease = standardise(matrix[:, COLUMN["ease_all"]])
    if net is not None:
        with torch.no_grad():
            warm = standardise(net(matrix)) + NET_EASE_WEIGHT * ease
    else:
        warm = ease
    weight = cold_weight(collab.n_users, with_net=net is not None)
    return warm + weight * standardise(cold)


def standardise(values: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit spread over the rows (only centred when the spread is ~0)."""
    std = values.std() if values.numel() > 1 else torch.tensor(0.0)
    return (values - values.mean()) / std if float(std) > 1e-9 else values - values.mean()
