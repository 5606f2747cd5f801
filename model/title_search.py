"""Finding a catalogue title by what someone types: any of its names, in any case, with or
without accents, with a small typo, or only the start of it.

Autocomplete asks on every keystroke, so the work is split: :meth:`TitleIndex.build` normalises
every name once and indexes its character trigrams (when a model is loaded, off the event
loop); :meth:`TitleIndex.search` then costs one array count over the postings of the query's
trigrams plus a closer look at the best few hundred names.

Trigrams are taken per word, padded as PostgreSQL's pg_trgm pads them ("  w", " wo", "wor",
"ord", "rd "), so a name is found by the start of any of its words, and one wrong letter costs
only the few trigrams that hold it. The last word of a query may be unfinished, so it gives no
closing trigram.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .catalogue import FORMAT_LABELS, FORMATS, Catalogue

# Share of the query's trigrams a name must hold to count as a match: one typo in a short
# word ("naruot") keeps about two thirds.
MIN_COVERAGE = 0.5
# Names looked at closely (exact, prefix, whole-word bonuses) after the trigram count.
SHORTLIST = 100
MAX_LABEL = 100  # Discord's limit on an autocomplete choice's name
_NOT_WORD = re.compile(r"[^\w]+|_+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, accents and other combining marks dropped, punctuation as spaces:
    "Pokémon: Ｆｉｒｅ" -> "pokemon fire"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", bare.casefold()).split())


def trigrams(normalised: str, *, partial_last: bool = False) -> set[str]:
    """Padded per-word trigrams of a normalised text; ``partial_last`` leaves out the closing
    trigram of the last word (it may not be finished yet)."""
    words = normalised.split()
    grams: set[str] = set()
    for position, word in enumerate(words):
        padded = f"  {word}" if partial_last and position == len(words) - 1 else f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


@dataclass(frozen=True, slots=True)
class TitleMatch:
    """A title found for a query: its catalogue row, the name that matched and how well."""

    row: int
    name: str
    score: float


class TitleIndex:
    """Every catalogue name, normalised and indexed by trigram. Read-only once built, so
    searches may run in several threads at once."""

    def __init__(
        self,
        names: list[str],
        normalised: list[str],
        name_rows: np.ndarray,
        postings: dict[str, np.ndarray],
        gram_counts: np.ndarray,
        details: tuple[str, ...],
        adult: np.ndarray,
        popularity: np.ndarray,
    ) -> None:
        self._names = names
        self._normalised = normalised
        self._name_rows = name_rows
        self._postings = postings
        self._gram_counts = gram_counts
        self.details = details  # per catalogue row: "TV 2013", "Manga", ""
        self._adult = adult  # per catalogue row
        self._popularity = popularity  # per catalogue row, 0-1 (rank among the catalogue)

    @classmethod
    def build(cls, catalogue: Catalogue) -> TitleIndex:
        """Index every name of every catalogue title (model.catalogue.media_names)."""
        names: list[str] = []
        normalised: list[str] = []
        rows: list[int] = []
        grams_of: dict[str, list[int]] = {}
        counts: list[int] = []
        for row, title_names in enumerate(catalogue.names):
            seen: set[str] = set()
            for name in title_names:
                plain = normalise(name)
                if not plain or plain in seen:
                    continue
                seen.add(plain)
                position = len(names)
                names.append(name)
                normalised.append(plain)
                rows.append(row)
                grams = trigrams(plain)
                counts.append(len(grams))
                for gram in grams:
                    grams_of.setdefault(gram, []).append(position)
        popularity = catalogue.log_popularity.numpy().astype(np.float64)
        order = popularity.argsort(kind="stable")
        rank = np.empty(len(popularity))
        rank[order] = np.linspace(0.0, 1.0, len(popularity)) if len(popularity) else []
        return cls(
            names,
            normalised,
            np.asarray(rows, dtype=np.int64),
            {gram: np.asarray(ids, dtype=np.int32) for gram, ids in grams_of.items()},
            np.asarray(counts, dtype=np.float64),
            _details(catalogue),
            catalogue.adult.numpy().copy(),
            rank,
        )

    def search(self, text: str, *, limit: int = 25, allow_adult: bool = False) -> list[TitleMatch]:
        """The titles best matching ``text``, best first, one match per title, at most
        ``limit``; no adult title unless ``allow_adult``. An empty query gives the most
        popular titles; a query nothing matches well enough (MIN_COVERAGE) gives none."""
        query = normalise(text)
        if not query:
            return self._most_popular(limit, allow_adult)
        grams = trigrams(query, partial_last=text.rstrip() == text)
        lists = [self._postings[g] for g in grams if g in self._postings]
        if not lists:
            return []
        shared = np.bincount(np.concatenate(lists), minlength=len(self._names))
        # A vectorised first score (coverage, less besides the query, popularity) picks the
        # shortlist; exactness bonuses are then worked out for the shortlist alone.
        first = (
            shared / len(grams)
            - 0.01 * (self._gram_counts - shared)
            + 0.03 * self._popularity[self._name_rows]
        )
        # A short query must share more than its first letter ("86" is not "88").
        eligible = (shared >= MIN_COVERAGE * len(grams)) & (shared >= min(len(grams), 3))
        if not allow_adult:
            eligible &= ~self._adult[self._name_rows]
        candidates = np.flatnonzero(eligible)
        if candidates.size > SHORTLIST:
            candidates = candidates[np.argpartition(-first[candidates], SHORTLIST)[:SHORTLIST]]
        words = query.split()
        best: dict[int, TitleMatch] = {}
        for position in candidates.tolist():
            row = int(self._name_rows[position])
            score = float(first[position]) + self._bonus(self._normalised[position], query, words)
            if row not in best or score > best[row].score:
                best[row] = TitleMatch(row, self._names[position], score)
        return sorted(best.values(), key=lambda m: (-m.score, m.row))[:limit]

    @staticmethod
    def _bonus(name: str, query: str, words: list[str]) -> float:
        """How exactly a name matches: the whole name, its start, then the share of the
        query's words that start one of its words and that are one of its words."""
        name_words = name.split()
        bonus = 1.0 if name == query else 0.5 if name.startswith(query) else 0.0
        starts = sum(any(w.startswith(q) for w in name_words) for q in words)
        whole = sum(q in name_words for q in words)
        return bonus + (0.25 * starts + 0.2 * whole) / len(words)

    def _most_popular(self, limit: int, allow_adult: bool) -> list[TitleMatch]:
        order = np.argsort(-self._popularity, kind="stable")
        matches = []
        for row in order.tolist():
            if allow_adult or not self._adult[row]:
                matches.append(TitleMatch(row, "", 0.0))
                if len(matches) == limit:
                    break
        return matches


def choice_name(index: TitleIndex, match: TitleMatch, catalogue: Catalogue, kind: str = "") -> str:
    """What an autocomplete choice shows, at most MAX_LABEL characters: the display title,
    led by the name that matched when that is another one, then format, year and ``kind``
    ("Shingeki no Kyojin — Attack on Titan (TV 2013, anime)"). A long title is cut, never the
    details."""
    title = catalogue.titles[match.row]
    if match.name and normalise(match.name) != normalise(title):
        title = f"{match.name} — {title}"
    details = ", ".join(part for part in (index.details[match.row], kind) if part)
    tail = f" ({details})" if details else ""
    room = MAX_LABEL - len(tail)
    if len(title) > room:
        title = title[: room - 1].rstrip() + "…"
    return title + tail


def _details(catalogue: Catalogue) -> tuple[str, ...]:
    """Per row, "TV 2013": the title's format and year, as far as they are known."""
    out = []
    columns = catalogue.formats.argmax(1).tolist() if len(catalogue) else []
    for column, year in zip(columns, catalogue.years.tolist(), strict=True):
        details = [FORMAT_LABELS[FORMATS[column]]] if column < len(FORMATS) else []
        if year == year:  # not nan
            details.append(str(int(year)))
        out.append(" ".join(details))
    return tuple(out)
