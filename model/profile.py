"""A user's list entries (plus rating-button feedback) mapped onto catalogue rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .catalogue import Catalogue

LIKED_SCORE = 8.0
# Statuses under which a prequel counts as seen, so its sequel may be recommended.
SEEN_STATUSES = frozenset({"COMPLETED", "CURRENT", "REPEATING"})
Entry = Mapping[str, Any]
Feedback = tuple[str, int, int]


def merge_feedback(
    lists: Mapping[str, Sequence[Entry]], feedback: Iterable[Feedback]
) -> dict[str, list[dict]]:
    """Lists with each button rating applied as a scored entry (overriding the list's score).

    A rating for a title not on the user's list adds it as COMPLETED: pressing a rating button
    means the user knows the title.
    """
    merged = {
        user: {int(e["mediaId"]): dict(e) for e in entries} for user, entries in lists.items()
    }
    for user_key, media_id, rating in feedback:
        entries = merged.setdefault(user_key, {})
        entry = entries.setdefault(int(media_id), {"mediaId": int(media_id), "status": "COMPLETED"})
        entry["score"] = float(rating)
    return {user: list(entries.values()) for user, entries in merged.items()}


@dataclass(frozen=True, eq=False)
class Profile:
    """One user's entries that the catalogue knows, plus every id on the list."""

    rows: torch.Tensor  # int64 catalogue rows
    scores: torch.Tensor  # float32, 0 = unscored
    statuses: tuple[str, ...]
    listed_ids: frozenset[int]  # every media id on the list, in the catalogue or not
    seen_rows: frozenset[int]  # rows COMPLETED / CURRENT / REPEATING

    def __len__(self) -> int:
        return len(self.statuses)

    @property
    def liked(self) -> torch.Tensor:
        """Boolean mask of entries the user liked (score >= 8; all watched ones if unscored)."""
        scored = self.scores > 0
        if bool(scored.any()):
            return self.scores >= LIKED_SCORE
        return torch.tensor([s != "DROPPED" for s in self.statuses], dtype=torch.bool)

    def subset(self, keep: torch.Tensor) -> Profile:
        """The profile restricted to the entries where ``keep`` is true."""
        positions = keep.nonzero().flatten().tolist()
        return Profile(
            rows=self.rows[keep],
            scores=self.scores[keep],
            statuses=tuple(self.statuses[p] for p in positions),
            listed_ids=self.listed_ids,
            seen_rows=frozenset(
                int(self.rows[p]) for p in positions if self.statuses[p] in SEEN_STATUSES
            ),
        )


def build_profile(entries: Iterable[Entry], catalogue: Catalogue) -> Profile:
    """Map list entries onto catalogue rows; a later entry for the same id wins."""
    by_id: dict[int, Entry] = {}
    for entry in entries:
        if entry.get("mediaId") is not None:
            by_id[int(entry["mediaId"])] = entry
    known = [(catalogue.index[m], e) for m, e in by_id.items() if m in catalogue.index]
    statuses = tuple(str(e.get("status") or "COMPLETED") for _, e in known)
    return Profile(
        rows=torch.tensor([row for row, _ in known], dtype=torch.int64),
        scores=torch.tensor(
            [min(max(float(e.get("score") or 0.0), 0.0), 10.0) for _, e in known],
            dtype=torch.float32,
        ),
        statuses=statuses,
        listed_ids=frozenset(by_id),
        seen_rows=frozenset(
            row for (row, _), status in zip(known, statuses, strict=True) if status in SEEN_STATUSES
        ),
    )
