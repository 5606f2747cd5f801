"""The offline CLIs on a small FORMAT.md-shaped directory written by the test."""

from __future__ import annotations

import gzip
import json

import pytest

from benchmarks import bench_growth
from model.offline import evaluate, recommend_batch


@pytest.fixture
def bench_dir(tmp_path, catalogue, lists):
    def write(name, rows):
        with gzip.open(tmp_path / name, "wt", encoding="utf-8") as file:
            file.writelines(json.dumps(row) + "\n" for row in rows)

    train = {u: e[: len(e) * 4 // 5] for u, e in lists.items()}
    test = {u: e[len(e) * 4 // 5 :] for u, e in lists.items()}
    write("catalogue.jsonl.gz", catalogue)
    write("train.jsonl.gz", [{"user": u, "entries": e} for u, e in train.items()])
    write("test.jsonl.gz", [{"user": u, "entries": e} for u, e in test.items() if e])
    return tmp_path, train


@pytest.mark.parametrize("cold", [False, True])
def test_evaluate_prints_a_table_and_a_json_line_with_all_methods(bench_dir, capsys, cold):
    """evaluate reports every method, metrics within [0, 1], and timings, ending in JSON."""
    directory, _ = bench_dir
    evaluate.main([str(directory), *(["--cold"] if cold else [])])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].split() == ["method", "NDCG@10", "Recall@10", "HR@10", "coverage@10"]
    summary = json.loads(lines[-1])
    assert {"anime8", "popularity", "itemknn", "ease"} <= set(summary["results"])
    assert summary["mode"] == ("cold" if cold else "warm") and summary["users"] > 0
    for row in summary["results"].values():
        assert all(0.0 <= value <= 1.0 for value in row.values())
    assert summary["timings"]["per_user_p95_ms"] >= summary["timings"]["per_user_median_ms"]


def test_recommend_batch_writes_k_new_titles_per_train_user(bench_dir, tmp_path):
    """One JSON line per train user with k ids, none of them already on that user's list."""
    directory, train = bench_dir
    out = tmp_path / "recs.jsonl"
    recommend_batch.main([str(directory), "--k", "3", "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["user"] for r in rows] == list(train)
    for row in rows:
        listed = {e["mediaId"] for e in train[row["user"]]}
        assert len(row["items"]) == 3 and not set(row["items"]) & listed


def test_bench_growth_prints_default_cold_and_ease_per_size(bench_dir, capsys):
    """bench_growth prints one column per size (the last = every list) for the three rows, and
    a JSON line whose figures are NDCG values over the same users."""
    directory, train = bench_dir
    bench_growth.main([str(directory), "--users", "12", "--sizes", "10,all"])
    lines = capsys.readouterr().out.strip().splitlines()
    header = next(line for line in lines if line.startswith("lists seen"))
    assert header.split()[2:] == ["10", str(len(train))]
    for name in ("default", "cold", "EASE"):
        assert len(next(line for line in lines if line.startswith(name + " ")).split()) == 3
    summary = json.loads(lines[-1])
    assert summary["users"] == 12 and [c["lists"] for c in summary["sizes"]] == [10, len(train)]
    for column in summary["sizes"]:
        assert all(0.0 <= column[key] <= 1.0 for key in ("default", "cold", "ease"))
        assert column["default_minus_cold_se"] >= 0.0
    gaps = next(line for line in lines if line.startswith("default-cold")).split()[1:]
    assert [float(g) for g in gaps] == [
        pytest.approx(c["default"] - c["cold"], abs=5e-5) for c in summary["sizes"]
    ]


def test_paired_standard_error_is_that_of_the_mean_difference():
    """Differences 1, 0, 1, 0: standard deviation 0.5774 over four users gives 0.2887; the
    same figures on both sides differ by nothing."""
    assert bench_growth.paired_se([1, 0, 1, 0], [0, 0, 0, 0]) == pytest.approx(0.28868, abs=1e-5)
    assert bench_growth.paired_se([0.3, 0.5, 0.1], [0.3, 0.5, 0.1]) == 0.0
