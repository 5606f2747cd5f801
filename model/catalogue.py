"""Index a list of AniList-shaped Media dicts into dense per-item arrays.

Every field may be missing or null, so each accessor falls back to a neutral value and the
arrays below are what the rest of the package reads (never the raw dicts, except for titles).
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

# AniList's 19 genres, in a fixed order so a checkpoint's genre inputs mean the same thing
# whatever catalogue the bot holds.
GENRES = (
    "Action",
    "Adventure",
    "Comedy",
    "Drama",
    "Ecchi",
    "Fantasy",
    "Hentai",
    "Horror",
    "Mahou Shoujo",
    "Mecha",
    "Music",
    "Mystery",
    "Psychological",
    "Romance",
    "Sci-Fi",
    "Slice of Life",
    "Sports",
    "Supernatural",
    "Thriller",
)
FORMATS = (
    "TV",
    "TV_SHORT",
    "MOVIE",
    "SPECIAL",
    "OVA",
    "ONA",
    "MUSIC",
    "MANGA",
    "NOVEL",
    "ONE_SHOT",
)
# How a format reads to people, for each of FORMATS.
FORMAT_LABELS = {
    "TV": "TV",
    "TV_SHORT": "TV short",
    "MOVIE": "Movie",
    "SPECIAL": "Special",
    "OVA": "OVA",
    "ONA": "ONA",
    "MUSIC": "Music",
    "MANGA": "Manga",
    "NOVEL": "Novel",
    "ONE_SHOT": "One-shot",
}
# Relations that keep two entries in one franchise (ADAPTATION/SOURCE/CHARACTER/OTHER link
# across media or loosely, so they do not count).
FRANCHISE_RELATIONS = frozenset(
    {
        "PREQUEL",
        "SEQUEL",
        "PARENT",
        "SIDE_STORY",
        "SPIN_OFF",
        "SUMMARY",
        "ALTERNATIVE",
        "COMPILATION",
    }
)
ADULT_GENRE = "Hentai"  # AniList's isAdult marks exactly the titles of this genre
READ_FORMATS = frozenset({"MANGA", "NOVEL", "ONE_SHOT"})
# Title search reads a title's names and at most this many of its synonyms (a few titles carry
# dozens, mostly transliterations nobody types).
MAX_SYNONYMS = 8
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def media_title(media: Mapping[str, Any]) -> str:
    """The best display title of a media: userPreferred, english, romaji, native, or its id."""
    title = media.get("title") or {}
    for key in ("userPreferred", "english", "romaji", "native"):
        if title.get(key):
            return str(title[key])
    return f"#{media.get('id')}"


def media_names(media: Mapping[str, Any]) -> tuple[str, ...]:
    """Every name a person may look a title up by: romaji, English, native, AniList's
    preferred title and its first synonyms, without repeats or blanks."""
    title = media.get("title") or {}
    names = [title.get(key) for key in ("romaji", "english", "native", "userPreferred")]
    names += list(media.get("synonyms") or ())[:MAX_SYNONYMS]
    return tuple(dict.fromkeys(str(n).strip() for n in names if n and str(n).strip()))


def _title_tokens(media: Mapping[str, Any]) -> set[str]:
    title = media.get("title") or {}
    text = " ".join(str(title[k]) for k in ("romaji", "english") if title.get(k))
    return {token for token in _TOKEN.findall(text.lower())}


def _year(media: Mapping[str, Any]) -> float:
    year = (media.get("startDate") or {}).get("year") or media.get("seasonYear")
    return float(year) if year else math.nan


def _mean_score(media: Mapping[str, Any]) -> float:
    score = media.get("meanScore") or media.get("averageScore")
    return float(score) / 10.0 if score else math.nan


def _is_read(media: Mapping[str, Any]) -> bool:
    if media.get("type"):
        return media["type"] == "MANGA"
    return media.get("format") in READ_FORMATS


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Per-item arrays for one media type; row i describes ``ids[i]``."""

    ids: tuple[int, ...]
    index: dict[int, int]
    titles: tuple[str, ...]
    names: tuple[tuple[str, ...], ...]  # per row, what title search matches (media_names)
    genres: torch.Tensor  # (n, len(GENRES)) binary
    tags: torch.Tensor  # (n, len(tag_names)) rank / 100
    tag_names: tuple[str, ...]
    adult_tags: torch.Tensor  # (len(tag_names),) bool: AniList's tag isAdult
    # (n, len(tag_names)) bool: the tag gives away the plot of that title (AniList's
    # isMediaSpoiler is per title, not per tag)
    spoiler_tags: torch.Tensor
    log_popularity: torch.Tensor  # (n,)
    mean_score: torch.Tensor  # (n,) 0-10, nan when unknown
    formats: torch.Tensor  # (n, len(FORMATS) + 1) one-hot, last column = other/unknown
    years: torch.Tensor  # (n,) nan when unknown
    adult: torch.Tensor  # (n,) bool
    read: torch.Tensor  # (n,) bool: manga, novel or one-shot (one reads it, not watches it)
    # Each title's most title-similar others (cosine of tf-idf over title tokens), so a
    # user's franchise affinity costs a gather instead of an (n x list) product per request.
    title_neighbours: torch.Tensor  # (n, m) int64 rows
    title_similarity: torch.Tensor  # (n, m) float32, 0 for padding
    prequels: dict[int, tuple[int, ...]]  # row -> rows of same-type prequels in the catalogue
    franchise: torch.Tensor  # (n,) id of the relations-connected component
    community: torch.Tensor  # (n, n) sparse CSR: row a, col b = AniList users' "a -> b" votes

    @functools.cached_property
    def prequel_pairs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``prequels`` flattened: (sequel row, prequel row) pairs as two int64 tensors."""
        pairs = [(row, p) for row, prequels in self.prequels.items() for p in prequels]
        sequels, prequels = zip(*pairs, strict=True) if pairs else ((), ())
        return torch.tensor(sequels, dtype=torch.int64), torch.tensor(prequels, dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, media_ids: Iterable[int]) -> list[int]:
        """Catalogue rows of the given ids, silently skipping ids the catalogue lacks."""
        return [self.index[m] for m in media_ids if m in self.index]


def build_catalogue(media: Sequence[Mapping[str, Any]]) -> Catalogue:
    """Index the media (duplicates by id keep the first) into a :class:`Catalogue`."""
    unique: dict[int, Mapping[str, Any]] = {}
    for item in media:
        if item.get("id") is not None:
            unique.setdefault(int(item["id"]), item)
    items = list(unique.values())
    ids = tuple(unique)
    index = {media_id: row for row, media_id in enumerate(ids)}
    n = len(items)

    genres = torch.zeros(n, len(GENRES))
    genre_col = {name: col for col, name in enumerate(GENRES)}
    tag_col: dict[str, int] = {}
    tag_cells: list[tuple[int, int, float]] = []
    adult_tag_cols: set[int] = set()
    spoiler_cells: list[tuple[int, int]] = []
    formats = torch.zeros(n, len(FORMATS) + 1)
    format_col = {name: col for col, name in enumerate(FORMATS)}
    for row, item in enumerate(items):
        for genre in item.get("genres") or ():
            if genre in genre_col:
                genres[row, genre_col[genre]] = 1.0
        for tag in item.get("tags") or ():
            if tag and tag.get("name"):
                col = tag_col.setdefault(tag["name"], len(tag_col))
                tag_cells.append((row, col, float(tag.get("rank") or 50) / 100.0))
                if tag.get("isAdult"):
                    adult_tag_cols.add(col)
                if tag.get("isMediaSpoiler"):
                    spoiler_cells.append((row, col))
        formats[row, format_col.get(item.get("format") or "", len(FORMATS))] = 1.0
    tags = torch.zeros(n, len(tag_col))
    for row, col, rank in tag_cells:
        tags[row, col] = rank
    adult_tags = torch.zeros(len(tag_col), dtype=torch.bool)
    adult_tags[sorted(adult_tag_cols)] = True
    spoiler_tags = torch.zeros(n, len(tag_col), dtype=torch.bool)
    for row, col in spoiler_cells:
        spoiler_tags[row, col] = True

    return Catalogue(
        ids=ids,
        index=index,
        titles=tuple(media_title(item) for item in items),
        names=tuple(media_names(item) for item in items),
        genres=genres,
        tags=tags,
        tag_names=tuple(tag_col),
        adult_tags=adult_tags,
        spoiler_tags=spoiler_tags,
        log_popularity=torch.tensor(
            [math.log1p(float(item.get("popularity") or 0)) for item in items]
        ),
        mean_score=torch.tensor([_mean_score(item) for item in items]),
        formats=formats,
        years=torch.tensor([_year(item) for item in items]),
        adult=torch.tensor([bool(item.get("isAdult")) for item in items], dtype=torch.bool),
        read=torch.tensor([_is_read(item) for item in items], dtype=torch.bool),
        **_title_neighbours(items),
        prequels=_prequels(items, index),
        franchise=_franchises(items, index),
        community=_community(items, index),
    )


def dense_rows(csr: torch.Tensor, rows: list[int]) -> torch.Tensor:
    """Rows of a sparse CSR matrix as a dense ``(len(rows), columns)`` matrix."""
    crow, col, val = csr.crow_indices(), csr.col_indices(), csr.values()
    out = torch.zeros(len(rows), csr.shape[1])
    for position, row in enumerate(rows):
        start, end = int(crow[row]), int(crow[row + 1])
        out[position, col[start:end]] = val[start:end]
    return out


def _title_neighbours(
    items: list[Mapping[str, Any]], neighbours: int = 32, block: int = 512
) -> dict[str, torch.Tensor]:
    vectors = _title_vectors(items)
    n = len(items)
    m = max(min(neighbours, n - 1), 0)
    index = torch.zeros(n, m, dtype=torch.int64)
    similarity = torch.zeros(n, m)
    for start in range(0, n, block):
        rows = list(range(start, min(start + block, n)))
        sims = torch.sparse.mm(vectors, dense_rows(vectors, rows).T).T  # (block, n)
        sims[torch.arange(len(rows)), torch.tensor(rows)] = 0.0  # not its own neighbour
        top = torch.topk(sims, m, dim=1)
        index[start : start + len(rows)] = top.indices
        similarity[start : start + len(rows)] = top.values
    return {"title_neighbours": index, "title_similarity": similarity}


def _title_vectors(items: list[Mapping[str, Any]]) -> torch.Tensor:
    """tf-idf of title tokens: a rare shared token ("gintama") marks a franchise, "movie" not."""
    token_sets = [_title_tokens(item) for item in items]
    vocabulary: dict[str, int] = {}
    document_frequency: dict[str, int] = {}
    for tokens in token_sets:
        for token in tokens:
            vocabulary.setdefault(token, len(vocabulary))
            document_frequency[token] = document_frequency.get(token, 0) + 1
    n = max(len(items), 1)
    crow, cols, values = [0], [], []
    for tokens in token_sets:
        weights = {t: math.log(1.0 + n / document_frequency[t]) for t in tokens}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        for token in sorted(tokens, key=vocabulary.__getitem__):
            cols.append(vocabulary[token])
            values.append(weights[token] / norm)
        crow.append(len(cols))
    with warnings.catch_warnings():  # "sparse CSR support is in beta": we use only mm
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.tensor(crow, dtype=torch.int64),
            torch.tensor(cols, dtype=torch.int64),
            torch.tensor(values, dtype=torch.float32),
            size=(len(items), max(len(vocabulary), 1)),
        )


def _edges(item: Mapping[str, Any]) -> list[tuple[str, int, str | None]]:
    edges = ((item.get("relations") or {}).get("edges")) or ()
    out = []
    for edge in edges:
        node = (edge or {}).get("node") or {}
        if node.get("id") is not None and edge.get("relationType"):
            out.append((edge["relationType"], int(node["id"]), node.get("type")))
    return out


def _prequels(items: list[Mapping[str, Any]], index: dict[int, int]) -> dict[int, tuple[int, ...]]:
    prequels: dict[int, tuple[int, ...]] = {}
    for row, item in enumerate(items):
        rows = tuple(
            index[other]
            for relation, other, other_type in _edges(item)
            if relation == "PREQUEL"
            and other in index
            and (other_type is None or other_type == item.get("type"))
        )
        if rows:
            prequels[row] = rows
    return prequels


def _franchises(items: list[Mapping[str, Any]], index: dict[int, int]) -> torch.Tensor:
    parent = list(range(len(items)))

    def find(row: int) -> int:
        while parent[row] != row:
            parent[row] = parent[parent[row]]
            row = parent[row]
        return row

    for row, item in enumerate(items):
        for relation, other, _ in _edges(item):
            if relation in FRANCHISE_RELATIONS and other in index:
                parent[find(row)] = find(index[other])
    return torch.tensor([find(row) for row in range(len(items))], dtype=torch.int64)


def _community(items: list[Mapping[str, Any]], index: dict[int, int]) -> torch.Tensor:
    cells: dict[tuple[int, int], float] = {}
    for row, item in enumerate(items):
        nodes = ((item.get("recommendations") or {}).get("nodes")) or ()
        for node in nodes:
            target = ((node or {}).get("mediaRecommendation") or {}).get("id")
            rating = float((node or {}).get("rating") or 0)
            if target in index and rating > 0 and index[target] != row:
                cells[(row, index[target])] = math.log1p(rating)
    n = len(items)
    if not cells:
        return (
            torch.sparse_coo_tensor(torch.zeros(2, 0, dtype=torch.int64), [], (n, n))
            .to(dtype=torch.float32)
            .to_sparse_csr()
        )
    keys = sorted(cells)
    indices = torch.tensor(keys, dtype=torch.int64).T
    values = torch.tensor([cells[k] for k in keys], dtype=torch.float32)
    return torch.sparse_coo_tensor(indices, values, (n, n)).coalesce().to_sparse_csr()
