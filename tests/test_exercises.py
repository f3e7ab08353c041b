"""Every exercise in knowledge/exercises/ is sound: the reference passes its examples and hidden
tests, every buggy variant fails a hidden test with a readable message; the loader rejects
malformed files naming the file and the entry. Runs in the sandbox (needs bubblewrap)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from interviewer.errors import KnowledgeError
from interviewer.exercises import sandbox
from interviewer.exercises.loader import default_dir, load_exercises, load_file
from interviewer.exercises.runner import disallowed_imports, format_result, run_exercise

try:
    load_exercises()
    LOAD_ERROR = None
except KnowledgeError as e:  # reported by test_exercise_files_load, not as a collection error
    LOAD_ERROR = str(e)
# every valid entry of every file is still checked when another entry is broken
EXERCISES = {}
for _path in sorted(default_dir().glob("*.yaml")):
    try:
        for _ex in load_file(_path)[0]:
            EXERCISES[f"{_path.stem}:{_ex.id}"] = _ex
    except KnowledgeError:
        pass
IDS = sorted(EXERCISES)
BUGGY = [(i, b.name) for i in IDS for b in EXERCISES[i].buggy]

needs_bwrap = pytest.mark.skipif(sandbox.bwrap_problem() is not None,
                                 reason=f"bubblewrap unusable here: {sandbox.bwrap_problem()}")


def readable(msg: str | None) -> bool:
    """A failure message a candidate can act on: more than a bare assert or exception name."""
    if not msg:
        return False
    bare = msg.split(" (at solution.py")[0].strip()
    return not (bare in ("AssertionError", "AssertionError: assertion failed")
                or bare.startswith("AssertionError: assertion failed:") and "|" not in bare)


def test_exercise_files_load():
    assert LOAD_ERROR is None, LOAD_ERROR
    if not EXERCISES:
        pytest.skip(f"no exercises in {default_dir()} yet")


@needs_bwrap
@pytest.mark.parametrize("ex_id", IDS)
def test_reference_passes_examples_and_hidden_tests(ex_id):
    ex = EXERCISES[ex_id]
    assert not disallowed_imports(ex, ex.reference), f"reference imports outside allowed_imports: {ex.allowed_imports}"
    for hidden in (False, True):
        res = run_exercise(ex, ex.reference, hidden=hidden)
        assert res.ok and res.passed == res.total > 0, format_result(res)
        assert not res.hidden_revealed
    assert res.tests_time_s < 1.5, f"hidden suite takes {res.tests_time_s:.2f} s with the reference (keep it well under 1 s)"


@needs_bwrap
@pytest.mark.parametrize(("ex_id", "variant"), BUGGY)
def test_buggy_variant_fails_a_hidden_test_readably(ex_id, variant):
    ex = EXERCISES[ex_id]
    code = next(b.code for b in ex.buggy if b.name == variant)
    res = run_exercise(ex, code, hidden=True)
    failed = [t for t in res.tests if not t.passed]
    assert failed, f"buggy variant {variant!r} passes every hidden test:\n{format_result(res)}"
    assert any(readable(t.message) for t in failed), (
        f"buggy variant {variant!r} fails only with unreadable messages (add f'expected ..., got ...' to "
        f"the assert):\n{format_result(res)}")
    assert all(t.source is None for t in res.tests), "hidden test bodies must not be revealed"
    assert all(t.hint for t in failed), "every failing hidden test shows its hint"


# ----------------------------------------------------------------------------- loader
VALID = {
    "id": "ex-add", "title": "Add numbers", "source": "new", "topic": ["Coding"], "difficulty": "Beginner",
    "prompt": "Return the sum of a and b.", "entry_point": "add", "signature": "def add(a, b)",
    "starter": "def add(a, b):\n    raise NotImplementedError\n",
    "reference": "def add(a, b):\n    return a + b\n",
    "allowed_imports": ["math"], "time_limit_s": 2, "memory_mb": 256,
    "examples": "def test_small():\n    assert add(1, 2) == 3, f'expected 3, got {add(1, 2)}'\n",
    "tests": "def test_negative():\n    assert add(-1, -2) == -3, f'expected -3, got {add(-1, -2)}'\n",
    "hints": {"test_negative": "negative numbers"},
    "buggy": [{"name": "minus", "code": "def add(a, b):\n    return a - b\n"},
              {"name": "constant", "code": "def add(a, b):\n    return 3\n"}],
    "spoken": ["Addition is O(1)."],
}


def write(tmp_path: Path, name: str, entries) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(entries, sort_keys=False))
    return path


def test_loader_accepts_a_valid_file(tmp_path):
    write(tmp_path, "ok.yaml", [VALID])
    assert list(load_exercises(tmp_path)) == ["ex-add"]


@pytest.mark.parametrize(("change", "expect"), [
    ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"id": "softmax"}, "id: String should match pattern"),
    ({"topic": ["Cooking"]}, "topic must start with one of"),
    ({"difficulty": "Easy"}, "difficulty"),
    ({"hints": {}}, "hints missing for hidden tests: ['test_negative']"),
    ({"hints": {"test_negative": "x", "test_nope": "y"}}, "hints name tests that are not in tests"),
    ({"buggy": [{"name": "minus", "code": "def add(a, b):\n    return a - b\n"}]}, "buggy"),
    ({"reference": "def add(a, b):\n    return a +\n"}, "reference does not parse"),
    ({"entry_point": "plus"}, "reference does not define entry_point 'plus'"),
    ({"tests": "def check():\n    pass\n"}, "tests defines no test_* function"),
    ({"allowed_imports": ["requests"]}, "unknown: ['requests']"),
])
def test_loader_rejects_malformed_entry_naming_file_and_entry(tmp_path, change, expect):
    bad = {**copy.deepcopy(VALID), **change, "id": change.get("id", "ex-broken")}
    write(tmp_path, "good.yaml", [VALID])
    write(tmp_path, "broken.yaml", [{**VALID, "id": "ex-fine"}, bad])
    with pytest.raises(KnowledgeError) as e:
        load_exercises(tmp_path)
    msg = str(e.value)
    assert "broken.yaml" in msg and "entry 2" in msg and f"({bad['id']})" in msg, msg
    assert expect in msg, msg
    assert "good.yaml" not in msg


def test_loader_rejects_duplicate_ids_across_files(tmp_path):
    write(tmp_path, "a.yaml", [VALID])
    write(tmp_path, "b.yaml", [VALID])
    with pytest.raises(KnowledgeError, match=r"b\.yaml.*ex-add.*duplicate id.*a\.yaml"):
        load_exercises(tmp_path)


def test_loader_reports_invalid_yaml_and_non_list(tmp_path):
    (tmp_path / "syntax.yaml").write_text("- id: ex-a\n  title: [unclosed\n")
    (tmp_path / "mapping.yaml").write_text("id: ex-a\n")
    with pytest.raises(KnowledgeError) as e:
        load_exercises(tmp_path)
    assert "syntax.yaml:" in str(e.value) and "invalid YAML" in str(e.value)
    assert "mapping.yaml: expected a YAML list" in str(e.value)
