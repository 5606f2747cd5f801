"""Why a title was picked, as one public sentence: "Because you rated X 9/10 and like Y."

Reasons are shown to everyone in the channel, so what they may name is restricted here: no
adult title, adult tag or the adult genre outside age-restricted channels, and no tag that is a
spoiler for the pick.
"""

from __future__ import annotations

import torch

from .catalogue import ADULT_GENRE, GENRES, Catalogue
from .collab import Collab
from .features import UserContext
from .preferences import Preferences
from .profile import Profile
from .rerank import TAG_PRESENT
from .similar import Signals

# Reasons quote a score only from here up.
SCORE_WORTH_NAMING = 7.0


def reasons(
    catalogue: Catalogue,
    ctx: UserContext,
    collab: Collab | None,
    rows: list[int],
    prefs: Preferences | None,
    allow_adult: bool,
) -> list[str]:
    """One sentence per pick in ``rows``: "Because you rated X 9/10 and like Y.", from the
    list entry that contributed most to the pick and the pick's genre or tag the user leans
    to most.

    Public text: without ``allow_adult`` it names no adult title, adult tag or the adult
    genre; it never names a tag that is a spoiler for the pick.
    """
    profile = ctx.profile
    usable = ctx.weights > 0
    if not allow_adult:
        usable &= ~catalogue.adult[profile.rows]
    positive = usable.nonzero().flatten()
    strength = _entry_strength(catalogue, collab, rows, profile.rows[positive])
    sentences = []
    for i, row in enumerate(rows):
        parts = []
        if positive.numel() and float(strength[i].max()) > 0:
            best = int(positive[int(torch.argmax(strength[i]))])
            parts.append(_entry_phrase(catalogue, profile, best))
        if prefs is not None and prefs.wanted:
            labels = _labels(catalogue, row, allow_adult)
            matched = [n for n in prefs.wanted if n in labels]
            if matched:
                parts.append("you asked for " + " and ".join(matched[:2]))
        elif positive.numel():
            liked = _liked_label(catalogue, ctx, row, allow_adult)
            if liked:
                parts.append(f"like {liked}")
        if not parts:
            sentences.append("Popular and well rated on AniList.")
            continue
        sentence = "Because " + " and ".join(parts)
        sentences.append(sentence if sentence[-1] in ".!?" else sentence + ".")
    return sentences


def _entry_strength(
    catalogue: Catalogue, collab: Collab | None, picks: list[int], entries: torch.Tensor
) -> torch.Tensor:
    """(picks, entries): how much each list entry (catalogue rows) speaks for each pick:
    title similarity, plus the EASE weight scaled to the pick's strongest, plus a little
    per shared genre. All picks at once, as scoring one user asks for several."""
    rows = torch.tensor(picks, dtype=torch.int64)
    # Title similarity is 0 unless the entry is among the pick's listed neighbours.
    match = catalogue.title_neighbours[rows].unsqueeze(1) == entries.view(1, -1, 1)
    strength = (match * catalogue.title_similarity[rows].unsqueeze(1)).sum(2)
    if collab is not None and entries.numel():
        pick_columns = collab.column[rows]
        columns = collab.column[entries]
        known, modelled = columns >= 0, pick_columns >= 0
        # None of the entries, or of the picks, may be known to the collaborative model.
        if bool(known.any()) and bool(modelled.any()):
            # Only the (entry, pick) weights: gathering the entries' whole rows first would
            # copy a list's length times the catalogue.
            ease = collab.ease[columns[known].unsqueeze(1), pick_columns[modelled].unsqueeze(0)].T
            ease = ease / ease.abs().max(1, keepdim=True).values.clamp(min=1e-9)
            block = strength[modelled]
            block[:, known] += ease
            strength[modelled] = block
    return strength + 0.1 * (catalogue.genres[rows] @ catalogue.genres[entries].T)


def _entry_phrase(catalogue: Catalogue, profile: Profile, position: int) -> str:
    """'you rated X 9/10', 'you watched X', 'you plan to read X'... for one list entry."""
    row = int(profile.rows[position])
    title = catalogue.titles[row]
    read = bool(catalogue.read[row])
    status, score = profile.statuses[position], float(profile.scores[position])
    if status == "PLANNING":  # on the list, but not seen: never "watched"
        return f"you plan to {'read' if read else 'watch'} {title}"
    # "Because you rated X 4/10" reads as a non sequitur; a low score is named by status.
    if score >= SCORE_WORTH_NAMING:
        return f"you rated {title} {score:g}/10"
    if status == "CURRENT":
        return f"you are {'reading' if read else 'watching'} {title}"
    if status == "PAUSED":
        return f"you started {'reading' if read else 'watching'} {title}"
    return f"you {'read' if read else 'watched'} {title}"


def _nameable_tags(catalogue: Catalogue, row: int, allow_adult: bool) -> torch.Tensor:
    """Tag columns a reason may name for this title: clearly present, not a spoiler for
    it, and not adult unless ``allow_adult``."""
    ok = (catalogue.tags[row] >= TAG_PRESENT) & ~catalogue.spoiler_tags[row]
    if not allow_adult:
        ok &= ~catalogue.adult_tags
    return ok


def _nameable_genres(catalogue: Catalogue, row: int, allow_adult: bool) -> list[int]:
    """Genre columns of this title a reason may name."""
    present = catalogue.genres[row].nonzero().flatten().tolist()
    return [c for c in present if allow_adult or GENRES[c] != ADULT_GENRE]


def _labels(catalogue: Catalogue, row: int, allow_adult: bool) -> set[str]:
    """Names of the genres and tags a reason may name for this title."""
    names = catalogue.tag_names
    tags = _nameable_tags(catalogue, row, allow_adult).nonzero().flatten().tolist()
    return {GENRES[c] for c in _nameable_genres(catalogue, row, allow_adult)} | {
        names[c] for c in tags
    }


def _liked_label(catalogue: Catalogue, ctx: UserContext, row: int, allow_adult: bool) -> str | None:
    """The nameable genre or tag of the title the user leans to most, if any."""
    genre_lift = ctx.genre_lift.tolist()
    options = [(genre_lift[c], GENRES[c]) for c in _nameable_genres(catalogue, row, allow_adult)]
    tags = _nameable_tags(catalogue, row, allow_adult).nonzero().flatten()
    lifts, ranks = ctx.tag_lift[tags].tolist(), catalogue.tags[row, tags].tolist()
    options += [
        (lift * rank, catalogue.tag_names[c])
        for c, lift, rank in zip(tags.tolist(), lifts, ranks, strict=True)
    ]
    best = max(options, default=None)
    return best[1] if best and best[0] > 0 else None


# A co-watch share is quoted only from this many lists holding the seed: "1 of 2 lists" would
# say more about two people than about the title.
LISTS_WORTH_QUOTING = 10


def similar_reason(catalogue: Catalogue, evidence: Signals, row: int, allow_adult: bool) -> str:
    """Why ``row`` is like the seed of ``evidence``, as one public sentence: "Like X: 40% of
    the lists I've seen with it have this too, AniList users recommend it to its fans, and
    they share Sci-Fi and Thriller."

    The seed is named (the caller chose it, and an adult seed is only ever served where
    ``allow_adult``); shared genres and tags follow the rules of :func:`reason`.
    """
    seed = evidence.row
    parts = []
    share = float(evidence.cowatch[row])
    if evidence.lists >= LISTS_WORTH_QUOTING and share >= 0.01:
        parts.append(f"{share:.0%} of the lists I've seen with it have this too")
    if float(evidence.community[row]) > 0:
        parts.append("AniList users recommend it to its fans")
    shared = [
        label
        for label in _ordered_labels(catalogue, row, allow_adult)
        if label in _labels(catalogue, seed, allow_adult)
    ]
    if shared:
        parts.append(f"they share {' and '.join(shared[:2])}")
    title = catalogue.titles[seed]
    if not parts:
        return f"Like {title}."
    if len(parts) > 1:
        parts[-1] = "and " + parts[-1]
    return f"Like {title}: {', '.join(parts)}."


def _ordered_labels(catalogue: Catalogue, row: int, allow_adult: bool) -> list[str]:
    """The nameable genres of a title, then its nameable tags, strongest first."""
    genres = [GENRES[c] for c in _nameable_genres(catalogue, row, allow_adult)]
    tags = _nameable_tags(catalogue, row, allow_adult).nonzero().flatten().tolist()
    tags.sort(key=lambda c: -float(catalogue.tags[row, c]))
    return genres + [catalogue.tag_names[c] for c in tags]
