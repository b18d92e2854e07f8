"""results_cache.py: the signed Parquet copy that makes a big results.tsv fast to read. It must give the
same rows as parsing the text, follow the eval's own appends without a full parse, and never be trusted
after any other write, a forged state or a swapped Parquet file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import append_rows
from polars.testing import assert_frame_equal

from autoresearch import results, results_cache
from autoresearch.config import Config
from autoresearch.paths import Project


@pytest.fixture
def big(project: Path, result_row, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A project whose record counts as big (the copy is used from 1 byte on), with 40 rows."""
    monkeypatch.setattr(results_cache, "MIN_BYTES", 1)
    append_rows(project, [result_row(val_bpb=2.0 - i / 100, seed=i, idea=f"idea{i % 3}") for i in range(40)])
    return Project.find(project)


def parsed_first_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first row number of every text parse from now on (1 = the whole file, more = a tail)."""
    calls: list[int] = []
    real = results._parse

    def spy(path, metric, data, first_row):
        calls.append(first_row)
        return real(path, metric, data, first_row)

    monkeypatch.setattr(results, "_parse", spy)
    return calls


def load(project: Project) -> results.Record:
    return results.load(project, Config.load(project))


def from_text(project: Project) -> results.Record:
    return results.read(project.results, Config.load(project).metric)


def test_the_copy_gives_the_rows_of_the_text_and_spares_the_parse(big: Project, monkeypatch) -> None:
    parses = parsed_first_rows(monkeypatch)
    first = load(big)  # builds the copy
    second = load(big)  # reads it
    assert parses == [1]
    assert_frame_equal(first.df, from_text(big).df)
    assert_frame_equal(second.df, first.df)
    assert (big.git_dir / "autoresearch" / "results-cache.parquet").exists()


def test_the_evals_own_appends_are_read_as_a_tail(big: Project, result_row, monkeypatch) -> None:
    load(big)
    append_rows(big.root, [result_row(val_bpb=1.0, idea="new"), result_row(status="crash", reason="nan")])
    parses = parsed_first_rows(monkeypatch)
    after = load(big)
    assert parses == [41]  # only the two new rows were parsed
    assert_frame_equal(after.df, from_text(big).df)
    assert after.best_per_profile()["val_bpb"].to_list() == [1.0]


def test_a_foreign_write_of_the_same_size_is_seen_not_hidden_by_the_copy(big: Project, monkeypatch) -> None:
    load(big)
    text = big.results.read_text()
    forged = text.replace("\t1.610000\t", "\t1.010000\t", 1)  # one value, same length: only the stat's ctime changes
    assert forged != text and len(forged) == len(text)
    big.results.write_text(forged)
    parses = parsed_first_rows(monkeypatch)
    seen = load(big)
    assert parses == [1]  # rebuilt from the text
    assert_frame_equal(seen.df, from_text(big).df)
    assert 1.01 in seen.df["val_bpb"].to_list()


def test_a_touch_alone_makes_the_copy_stale(big: Project, monkeypatch) -> None:
    load(big)
    os.utime(big.results)
    parses = parsed_first_rows(monkeypatch)
    load(big)
    assert parses == [1]


def test_a_forged_state_or_a_swapped_parquet_is_never_trusted(big: Project, monkeypatch) -> None:
    """The attacker rewrites the copy to show a better number, and makes the state match the file's stat:
    without the key the signature fails; with the old signature the digest fails."""
    import polars as pl

    load(big)
    folder = big.git_dir / "autoresearch"
    copy, state_path = folder / "results-cache.parquet", folder / "results-cache.json"
    state = json.loads(state_path.read_text())
    forged = pl.read_parquet(copy).with_columns(pl.lit(0.5).alias("val_bpb"))

    forged.write_parquet(copy)  # 1: the Parquet swapped, the signed state kept (its digest no longer matches)
    assert load(big).df["val_bpb"].min() > 0.5

    forged.write_parquet(copy)  # 2: and a state naming the new digest, signed without the key
    import hashlib

    state["parquet"] = hashlib.sha256(copy.read_bytes()).hexdigest()
    state["sig"] = "00000000:" + "0" * 32
    state_path.write_text(json.dumps(state))
    assert load(big).df["val_bpb"].min() > 0.5

    state_path.write_text("not json")  # 3: garbage: ignored, rebuilt
    assert_frame_equal(load(big).df, from_text(big).df)


def test_a_shrunk_file_is_reparsed(big: Project, monkeypatch) -> None:
    load(big)
    lines = big.results.read_text().splitlines(keepends=True)
    big.results.write_text("".join(lines[:-5]))
    assert load(big).height == 35


def test_a_small_record_has_no_copy(project: Path, result_row) -> None:
    append_rows(project, [result_row()])
    p = Project.find(project)
    load(p)
    assert not (p.git_dir / "autoresearch" / "results-cache.parquet").exists()
