"""Feature matrices and catalogue indexing."""

from __future__ import annotations

import torch

from model.catalogue import GENRES, build_catalogue
from model.collab import fit_collab
from model.features import COLUMN, FEATURE_NAMES, features, user_context
from model.profile import build_profile


def test_feature_matrix_has_one_row_per_title_and_one_column_per_name(catalogue, lists):
    """Every catalogue title gets a full feature row, warm and cold, and the candidate's genre
    columns hold its binary genre vector."""
    cat = build_catalogue(catalogue)
    profiles = [build_profile(e, cat) for e in lists.values()]
    collab = fit_collab(profiles, len(cat))
    ctx = user_context(cat, profiles[0])
    for model in (collab, None):
        matrix = features(cat, model, ctx)
        assert matrix.shape == (len(cat), len(FEATURE_NAMES))
        assert torch.isfinite(matrix).all()
    first = COLUMN[f"genre_{GENRES[0]}"]
    assert torch.equal(matrix[:, first : first + len(GENRES)], cat.genres)
    assert set(cat.genres.unique().tolist()) <= {0.0, 1.0}


def test_media_with_missing_fields_and_unknown_list_ids_are_tolerated():
    """A Media with only an id, nulls everywhere, and list ids absent from the catalogue do not
    break indexing or features."""
    cat = build_catalogue([{"id": 1}, {"id": 2, "title": None, "genres": None, "tags": None}])
    profile = build_profile([{"mediaId": 1, "score": 9}, {"mediaId": 77, "score": 10}], cat)
    assert profile.rows.tolist() == [0]
    assert profile.listed_ids == {1, 77}
    matrix = features(cat, None, user_context(cat, profile))
    assert matrix.shape == (2, len(FEATURE_NAMES))
    assert torch.isfinite(matrix).all()


def test_title_similarity_finds_the_franchise(catalogue):
    """The sequel of a liked title is the most title-similar other title (the cold franchise
    signal)."""
    cat = build_catalogue(catalogue)
    profile = build_profile([{"mediaId": 1, "score": 10, "status": "COMPLETED"}], cat)
    matrix = features(cat, None, user_context(cat, profile))
    similarity = matrix[:, COLUMN["title_liked"]].clone()
    similarity[cat.index[1]] = -1
    assert cat.ids[int(similarity.argmax())] == 2


def test_relations_mark_the_franchise_of_watched_titles(catalogue):
    """The franchise feature is 1 exactly for titles related (SEQUEL/PREQUEL...) to a watched
    title, whatever their titles say."""
    renamed = [dict(m, title={"romaji": f"Untitled {m['id']}"}) for m in catalogue]
    cat = build_catalogue(renamed)
    profile = build_profile([{"mediaId": 31, "score": 7, "status": "COMPLETED"}], cat)
    column = features(cat, None, user_context(cat, profile))[:, COLUMN["franchise"]]
    assert {cat.ids[i] for i in column.nonzero().flatten().tolist()} == {31, 32}


def test_liked_ease_follows_what_was_liked_together_not_only_watched_together(catalogue):
    """Titles 1 and 2 are liked together; 1 and 12 are watched together but 12 is rated low. The
    full EASE links 1 to both alike, the liked-only EASE (and its feature) to 2 far more."""
    cat = build_catalogue(catalogue)
    lists = {
        f"u{u}": [
            {"mediaId": 1, "score": 9},
            {"mediaId": 2 if u % 2 else 12, "score": 9 if u % 2 else 3},
            {"mediaId": 21, "score": 6},
        ]
        for u in range(20)
    }
    profiles = [build_profile(e, cat) for e in lists.values()]
    collab = fit_collab(profiles, len(cat))
    ctx = user_context(cat, build_profile([{"mediaId": 1, "score": 10}], cat))
    matrix = features(cat, collab, ctx)
    two, three = cat.index[2], cat.index[12]
    ease, liked = matrix[:, COLUMN["ease_all"]], matrix[:, COLUMN["ease_liked"]]
    assert torch.isclose(ease[two], ease[three])
    assert float(liked[two]) > 0.0 >= float(liked[three])
    assert matrix[two, COLUMN["ease_liked_log_rank"]] > matrix[three, COLUMN["ease_liked_log_rank"]]


def test_edlae_inputs_sum_over_all_entries_and_over_liked_ones(catalogue):
    """With 1 liked and 12 rated low, edlae_all counts what is watched with either, edlae_liked
    only what is watched with 1; the log rank is highest for edlae_all's best off-list title,
    one watched with 1."""
    cat = build_catalogue(catalogue)
    lists = {
        f"u{u}": [
            {"mediaId": 1, "score": 9},
            {"mediaId": 2 if u % 2 else 11, "score": 8},
            {"mediaId": 12, "score": 3},
            {"mediaId": 21 if u % 3 else 22, "score": 6},
        ]
        for u in range(30)
    }
    lists["lone"] = [{"mediaId": 12, "score": 3}, {"mediaId": 31, "score": 7}]
    collab = fit_collab([build_profile(e, cat) for e in lists.values()], len(cat))
    profile = build_profile([{"mediaId": 1, "score": 10}, {"mediaId": 12, "score": 2}], cat)
    matrix = features(cat, collab, user_context(cat, profile))
    edlae_all, edlae_liked = matrix[:, COLUMN["edlae_all"]], matrix[:, COLUMN["edlae_liked"]]
    lone = cat.index[31]
    # 31 is watched only with 12, the title rated low.
    assert float(edlae_all[lone]) > 0.0
    assert float(edlae_liked[lone]) <= 0.0
    assert float(edlae_liked[cat.index[2]]) > 0.0
    listed = {cat.index[1], cat.index[12]}
    best = max(
        (row for row in range(len(cat)) if row not in listed),
        key=lambda row: float(matrix[row, COLUMN["edlae_log_rank"]]),
    )
    off_list = torch.tensor([row not in listed for row in range(len(cat))])
    assert best == int(torch.where(off_list, edlae_all, -torch.inf).argmax())
    assert cat.ids[best] in {2, 11, 21}
