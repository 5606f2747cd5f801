"""recommend() edge cases: tiny catalogues, unknown ids, cold start, reasons, feedback."""

from __future__ import annotations

import threading

from model import Recommender, RecommenderConfig, TrainingConfig, merge_feedback


def test_tiny_catalogue_and_unknown_ids(catalogue):
    """A 20-title catalogue with a list full of unknown ids still yields k valid picks."""
    tiny = catalogue[:20]
    entries = [{"mediaId": 5000 + i, "score": 9, "status": "COMPLETED"} for i in range(30)]
    entries.append({"mediaId": 1, "score": 10, "status": "COMPLETED"})
    picks = Recommender(tiny).recommend(entries, k=5)
    ids = {m["id"] for m in tiny}
    assert len(picks) == 5 and all(p.media_id in ids and p.media_id != 1 for p in picks)


def test_asking_for_more_than_exists_returns_what_there_is(catalogue):
    """k larger than the allowed candidates returns every allowed title once."""
    picks = Recommender(catalogue[:4]).recommend(k=50)
    assert sorted(p.media_id for p in picks) == [1, 11]  # sequels 2 and 12 are locked


def test_cold_start_lifts_the_franchise_and_explains_it(catalogue):
    """With no other lists, a user who rated a first season 10 gets its (less popular) sequel
    among the top 3, with a reason naming the rated title, and scores on 0-10."""
    entries = [{"mediaId": 21, "score": 10, "status": "COMPLETED"}]
    top = Recommender(catalogue).recommend(entries, k=3)
    sequel = [p for p in top if p.media_id == 22]
    assert sequel and sequel[0].reason.startswith("Because you rated Comet2 Mecha 10/10")
    assert all(0.0 <= p.score <= 10.0 for p in top)


def test_feedback_overrides_list_scores():
    """A button rating replaces the list's score and adds unknown titles as COMPLETED."""
    lists = {"a": [{"mediaId": 1, "score": 3, "status": "COMPLETED"}]}
    merged = merge_feedback(lists, [("a", 1, 10), ("b", 7, 2)])
    assert merged["a"] == [{"mediaId": 1, "score": 10.0, "status": "COMPLETED"}]
    assert merged["b"] == [{"mediaId": 7, "status": "COMPLETED", "score": 2.0}]


def test_recommend_while_another_thread_trains(catalogue, lists):
    """Serving keeps answering while a training thread works on the same object."""
    config = RecommenderConfig(ease_lambda=10.0, training=TrainingConfig(epochs=2))
    recommender = Recommender(catalogue, lists, config=config)
    trainer = threading.Thread(target=recommender.train)
    trainer.start()
    answers = [recommender.recommend(lists["user2"][:4], k=3) for _ in range(20)]
    trainer.join()
    assert all(len(a) == 3 for a in answers)
    assert recommender.trained


def test_liked_titles_unknown_to_the_collaborative_model(catalogue, lists):
    """A user whose liked titles appear in nobody else's list still gets picks and reasons
    (the collaborative part of the reason has nothing to draw on)."""
    half = {m["id"] for m in catalogue[: len(catalogue) // 2]}
    seen_by_others = {
        user: [e for e in entries if e["mediaId"] in half] for user, entries in lists.items()
    }
    recommender = Recommender(catalogue, seen_by_others)
    recommender.fit()
    unseen = [m["id"] for m in catalogue if m["id"] not in half][:3]
    entries = [{"mediaId": media_id, "score": 10, "status": "COMPLETED"} for media_id in unseen]
    picks = recommender.recommend(entries, k=5)
    assert len(picks) == 5 and all(p.reason for p in picks)
