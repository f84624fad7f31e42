"""The same class on a Dask distributed cluster gives the same results as local threads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from classes import make_class
from conftest import run_cli

distributed = pytest.importorskip("distributed", reason="dask distributed is not installed")


def test_dask_local_cluster_grades_the_class_identically(tmp_path: Path) -> None:
    klass = make_class(tmp_path / "class", hostile=False)
    local = run_cli("grade", "perceptron", str(klass), "--out", str(tmp_path / "local"), "-j", "2",
                    "--no-cache", "--no-similarity")
    assert local.returncode == 0, local.stderr
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        done = run_cli("grade", "perceptron", str(klass), "--out", str(tmp_path / "dask"),
                       "--executor", "dask", "--scheduler", cluster.scheduler_address,
                       "--no-cache", "--no-similarity")
    assert done.returncode == 0, done.stderr
    columns = ["student_id", "status", "exit", "score"] + [
        c for c in pd.read_csv(tmp_path / "local" / "gradebook.csv").columns if c.startswith("check:")]
    a = pd.read_csv(tmp_path / "local" / "gradebook.csv")[columns].sort_values("student_id")
    b = pd.read_csv(tmp_path / "dask" / "gradebook.csv")[columns].sort_values("student_id")
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert len(a) == 6


def test_dask_needs_a_scheduler_address(tmp_path: Path) -> None:
    done = run_cli("grade", "perceptron", str(make_class(tmp_path / "c", hostile=False)),
                   "--executor", "dask", "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "--scheduler" in done.stderr
