"""What a list says about its owner's taste, and how two lists agree.

`analyse_taste` reads one list against the catalogue: which genres and tags lift the owner's
scores above their own mean and which sink them, how they score, which formats and release eras
they watch, and how much of the catalogue's most popular titles they have seen.
`taste_match` compares two lists on the titles both scored.

Both shrink towards "no effect" when the evidence is thin, so one loved title never makes a
genre a favourite, and two shared titles never make two people soulmates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from .catalogue import ADULT_GENRE, FORMAT_LABELS, FORMATS, GENRES, Catalogue
from .profile import build_profile

# A genre's lift is the mean of (score - the user's mean) over its titles, as if this many more
# titles at the user's mean were among them: 3 titles one point above count as +0.4.
FEATURE_PRIOR_TITLES = 4.0
MIN_FEATURE_TITLES = 3  # fewer titles than this say nothing about a genre or tag
# Taste match: the correlation is multiplied by n / (n + this), n = titles both scored.
MATCH_PRIOR_TITLES = 10.0
MIN_SHARED = 3
TOP_POPULAR = 500
SHOWN_FEATURES = 6
SHOWN_TITLES = 3
# Everything but PLANNING: a dropped title was seen too.
WATCHED_STATUSES = frozenset({"COMPLETED", "CURRENT", "REPEATING", "PAUSED", "DROPPED"})
# (label, first year, last year) of each release era, oldest first.
ERAS = (
    ("< 1980", -math.inf, 1979),
    ("1980s", 1980, 1989),
    ("1990s", 1990, 1999),
    ("2000s", 2000, 2009),
    ("2010s", 2010, 2019),
    ("2020s", 2020, math.inf),
)
Entry = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Lift:
    """A genre or tag and how it moves its owner's scores, in points on the 10-point scale."""

    name: str
    kind: str  # "genre" or "tag"
    lift: float  # shrunk mean of (score - the user's mean) over the titles that have it
    titles: int  # scored titles that have it


@dataclass(frozen=True, slots=True)
class Taste:
    """One list's taste picture; every count is over titles the catalogue knows."""

    titles: int  # entries on the list that the catalogue knows, any status
    watched: int  # of those, everything but PLANNING
    scored: int
    mean_score: float  # nan when nothing is scored
    lifts: tuple[Lift, ...]  # the strongest first, all > 0
    sinks: tuple[Lift, ...]  # the strongest first, all < 0
    score_counts: tuple[int, ...]  # scored titles per rounded score 1..10
    formats: tuple[tuple[str, int], ...]  # watched titles per format, most first
    eras: tuple[tuple[str, int], ...]  # watched titles per release era, oldest first
    most_watched_genres: tuple[tuple[str, int], ...]  # watched titles per genre, most first
    popular_seen: int  # of the catalogue's `popular_total` most popular titles
    popular_total: int

    def strongest(self, count: int = 3) -> list[str]:
        """The owner's `count` strongest tastes in words; from what they watch most when they
        score too little to tell."""
        if self.lifts:
            return [
                f"{lift.name} (+{lift.lift:.1f} over {lift.titles} titles)"
                for lift in self.lifts[:count]
            ]
        return [f"{name} ({n} titles watched)" for name, n in self.most_watched_genres[:count]]


def analyse_taste(entries: Iterable[Entry], catalogue: Catalogue, *, allow_adult: bool) -> Taste:
    """The taste picture of one list (AniList entries: mediaId, score 0-10 with 0 = unscored,
    status).

    Without `allow_adult` nothing adult is named: no Hentai genre, no adult tag. A tag that
    gives away the plot of a title does not count for that title, so no spoiler tag is
    named because of the titles it spoils.
    """
    profile = build_profile(entries, catalogue)
    watched = torch.tensor([s in WATCHED_STATUSES for s in profile.statuses], dtype=torch.bool)
    watched_rows = profile.rows[watched]
    scored = profile.scores > 0
    rows, scores = profile.rows[scored], profile.scores[scored]
    mean = float(scores.mean()) if len(scores) else math.nan

    genre_names = [(g, "genre") for g in GENRES]
    tag_names = [(t, "tag") for t in catalogue.tag_names]
    hidden = torch.cat(
        [
            torch.tensor([not allow_adult and g == ADULT_GENRE for g in GENRES]),
            catalogue.adult_tags if not allow_adult else torch.zeros_like(catalogue.adult_tags),
        ]
    )
    lifts: list[Lift] = []
    if len(rows):
        tag_weights = catalogue.tags[rows] * ~catalogue.spoiler_tags[rows]
        weights = torch.cat([catalogue.genres[rows], tag_weights], dim=1)
        deviation = scores - mean
        counts = (weights > 0).sum(dim=0)
        lift = (deviation @ weights) / (weights.sum(dim=0) + FEATURE_PRIOR_TITLES)
        names = genre_names + tag_names
        usable = (counts >= MIN_FEATURE_TITLES) & ~hidden
        for col in usable.nonzero().flatten().tolist():
            name, kind = names[col]
            lifts.append(Lift(name, kind, float(lift[col]), int(counts[col])))
    # Rounded to one decimal first, so two lifts that print alike are ordered by evidence.
    lifts.sort(key=lambda item: (-round(abs(item.lift), 1), -item.titles, item.name))
    shown_up = tuple(x for x in lifts if round(x.lift, 1) > 0)[:SHOWN_FEATURES]
    shown_down = tuple(x for x in lifts if round(x.lift, 1) < 0)[:SHOWN_FEATURES]

    bins = torch.clamp(torch.floor(scores + 0.5), 1, 10).long() - 1
    score_counts = torch.bincount(bins, minlength=10).tolist() if len(scores) else [0] * 10
    return Taste(
        titles=len(profile),
        watched=len(watched_rows),
        scored=len(scores),
        mean_score=mean,
        lifts=shown_up,
        sinks=shown_down,
        score_counts=tuple(score_counts),
        formats=_formats(catalogue, watched_rows),
        eras=_eras(catalogue, watched_rows),
        most_watched_genres=_genre_counts(catalogue, watched_rows, allow_adult),
        **_popular(catalogue, watched_rows),
    )


def _formats(catalogue: Catalogue, rows: torch.Tensor) -> tuple[tuple[str, int], ...]:
    counts = catalogue.formats[rows].sum(dim=0).tolist()
    names = [FORMAT_LABELS[f] for f in FORMATS] + ["Other"]
    found = [(name, int(n)) for name, n in zip(names, counts, strict=True) if n]
    return tuple(sorted(found, key=lambda item: -item[1]))


def _eras(catalogue: Catalogue, rows: torch.Tensor) -> tuple[tuple[str, int], ...]:
    years = catalogue.years[rows]
    return tuple(
        (label, int(((years >= first) & (years <= last)).sum())) for label, first, last in ERAS
    )


def _genre_counts(
    catalogue: Catalogue, rows: torch.Tensor, allow_adult: bool
) -> tuple[tuple[str, int], ...]:
    counts = catalogue.genres[rows].sum(dim=0).tolist()
    found = [
        (g, int(n))
        for g, n in zip(GENRES, counts, strict=True)
        if n and (allow_adult or g != ADULT_GENRE)
    ]
    return tuple(sorted(found, key=lambda item: -item[1]))


def _popular(catalogue: Catalogue, rows: torch.Tensor) -> dict[str, int]:
    total = min(TOP_POPULAR, len(catalogue))
    if total == 0:
        return {"popular_seen": 0, "popular_total": 0}
    top = torch.topk(catalogue.log_popularity, total).indices
    seen = torch.zeros(len(catalogue), dtype=torch.bool)
    seen[rows] = True
    return {"popular_seen": int(seen[top].sum()), "popular_total": total}


# -- taste match ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SharedTitle:
    media_id: int
    mine: float
    theirs: float


@dataclass(frozen=True, slots=True)
class TasteMatch:
    """How two lists agree on the titles both scored."""

    shared: int  # titles both scored
    correlation: float  # Pearson's r of the two scores over them; nan when undefined
    shrunk: float  # r * shared / (shared + MATCH_PRIOR_TITLES); nan when undefined
    agree: tuple[SharedTitle, ...]  # closest scores first, the better loved first among equals
    disagree: tuple[SharedTitle, ...]  # furthest apart first; only those a point or more apart

    @property
    def percent(self) -> int | None:
        """The agreement on a 0-100 scale where 50 means unrelated tastes; None if undefined."""
        if math.isnan(self.shrunk):
            return None
        return round(50 + 50 * self.shrunk)

    def explanation(self) -> str:
        """One line saying how the percentage was computed (or why there is none)."""
        n = self.shared
        if n < MIN_SHARED:
            return (
                f"You have scored only {n} title{'' if n == 1 else 's'} in common, and it "
                f"takes {MIN_SHARED} to compare tastes."
            )
        if self.percent is None:
            return (
                f"One of you gave all {n} shared titles the same score, so the scores can't "
                "show whether your tastes move together."
            )
        return (
            f"Your scores on the {n} titles you both rated correlate at {self.correlation:+.2f}; "
            f"weighed by how many you share that counts as {self.shrunk:+.2f}, which is "
            f"{self.percent}% on a scale where 50% means unrelated tastes."
        )


def scored_scores(entries: Iterable[Entry]) -> dict[int, float]:
    """media id -> score of the entries that have a score (0 means unscored)."""
    return {
        int(e["mediaId"]): min(float(e.get("score") or 0.0), 10.0)
        for e in entries
        if e.get("mediaId") is not None and float(e.get("score") or 0.0) > 0
    }


def taste_match(
    mine: Iterable[Entry], theirs: Iterable[Entry], *, unnamed: Iterable[int] = ()
) -> TasteMatch:
    """Compare two lists on the titles both scored (score > 0).

    The correlation uses every shared title; the titles listed as agreed or disagreed on leave
    out the media ids in `unnamed` (adult titles outside age-restricted channels). A title is
    never listed both as agreed and as disagreed on.
    """
    a, b = scored_scores(mine), scored_scores(theirs)
    shared_ids = sorted(a.keys() & b.keys())
    n = len(shared_ids)
    correlation = shrunk = math.nan
    if n >= MIN_SHARED:
        x = torch.tensor([a[m] for m in shared_ids], dtype=torch.float64)
        y = torch.tensor([b[m] for m in shared_ids], dtype=torch.float64)
        dx, dy = x - x.mean(), y - y.mean()
        denominator = float(torch.sqrt((dx * dx).sum() * (dy * dy).sum()))
        if denominator > 0:
            correlation = float((dx * dy).sum()) / denominator
            shrunk = correlation * n / (n + MATCH_PRIOR_TITLES)
    hidden = set(unnamed)
    nameable = [SharedTitle(m, a[m], b[m]) for m in shared_ids if m not in hidden]
    by_agreement = sorted(nameable, key=lambda t: (abs(t.mine - t.theirs), -(t.mine + t.theirs)))
    agree = tuple(by_agreement[:SHOWN_TITLES])
    rest = by_agreement[SHOWN_TITLES:]
    apart = [t for t in rest if abs(t.mine - t.theirs) >= 1.0]
    apart.sort(key=lambda t: (-abs(t.mine - t.theirs), -max(t.mine, t.theirs)))
    disagree = tuple(apart[:SHOWN_TITLES])
    return TasteMatch(n, correlation, shrunk, agree, disagree)
