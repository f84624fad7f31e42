"""A warm evaluation sandbox: started ahead, used once, replaced by a cold one if it died."""

from __future__ import annotations

import time

import numpy as np

from grader.evaluate import WarmEvaluator, evaluate
from grader.settings import DEFAULT_LIMITS

SCRIPT = "import os\nex.put('doble', ex.inputs['x'] * 2)\nex.put('visto', {'files': sorted(os.listdir('.'))})"


def run(sandbox, warm: WarmEvaluator | None, tmp_path) -> tuple[np.ndarray, list[str]]:
    model = tmp_path / "modelo.bin"
    model.write_bytes(b"pesos")
    with evaluate(SCRIPT, model_files=[model], inputs={"x": np.arange(3.0)}, sandbox=sandbox,
                  limits=DEFAULT_LIMITS, warm=warm) as ev:
        assert ev.ok, ev.detail
        return ev.artifacts.array("doble"), ev.artifacts.value("visto")["files"]


def test_warm_process_runs_the_script_after_its_prelude(sandbox, tmp_path) -> None:
    warm = WarmEvaluator("import json\nMARCA = 1", sandbox, DEFAULT_LIMITS)
    try:
        doubled, seen = run(sandbox, warm, tmp_path)
        assert warm.take() is None  # used once
    finally:
        warm.close()
    assert doubled.tolist() == [0.0, 2.0, 4.0]
    assert seen == ["modelo.bin"]


def test_dead_warm_process_falls_back_to_a_cold_one(sandbox, tmp_path) -> None:
    warm = WarmEvaluator("raise SystemExit(3)", sandbox, DEFAULT_LIMITS)
    try:
        deadline = time.monotonic() + 30
        while warm.process is not None and warm.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        doubled, _ = run(sandbox, warm, tmp_path)
    finally:
        warm.close()
    assert doubled.tolist() == [0.0, 2.0, 4.0]
    assert not warm.folder.root.exists()


def test_unused_warm_process_is_killed_and_removed(sandbox) -> None:
    warm = WarmEvaluator("import time", sandbox, DEFAULT_LIMITS)
    process = warm.process
    warm.close()
    assert process is not None and process.poll() is not None
    assert not warm.folder.root.exists()


def test_a_kept_evaluation_is_read_back_not_run_again(sandbox, tmp_path, monkeypatch) -> None:
    from grader.sandbox import Sandbox

    model = tmp_path / "modelo.bin"
    model.write_bytes(b"pesos")
    cache = tmp_path / "evaluaciones"
    kwargs = dict(model_files=[model], inputs={"x": np.arange(3.0)}, sandbox=sandbox,
                  limits=DEFAULT_LIMITS, cache_dir=cache)
    with evaluate(SCRIPT, **kwargs) as first:
        assert first.ok and first.artifacts.array("doble").tolist() == [0.0, 2.0, 4.0]
    # from now on no sandbox can start: a second evaluation must come from the cache
    monkeypatch.setattr(Sandbox, "command", lambda self, argv, **kw: ["false"])
    with evaluate(SCRIPT, **kwargs) as again:
        assert again.ok and again.artifacts.array("doble").tolist() == [0.0, 2.0, 4.0]
    model.write_bytes(b"otros pesos")  # another model is another evaluation
    with evaluate(SCRIPT, **kwargs) as changed:
        assert not changed.ok
