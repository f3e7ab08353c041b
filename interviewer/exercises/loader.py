"""Load and validate every ``knowledge/exercises/*.yaml``. Errors name the file, line and entry."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from interviewer.bank.validate import format_validation
from interviewer.bank.yamlio import entry_lines, load_yaml
from interviewer.errors import KnowledgeError
from interviewer.exercises.schema import Exercise


def default_dir() -> Path:
    """``knowledge/exercises`` of the repo checkout, else of the installed package data."""
    here = Path(__file__).resolve().parent.parent
    for cand in (here.parent / "knowledge" / "exercises", here / "_data" / "knowledge" / "exercises"):
        if cand.is_dir():
            return cand
    return here.parent / "knowledge" / "exercises"


def load_file(path: Path) -> tuple[list[Exercise], list[str]]:
    """The valid exercises of one file and one error string per invalid entry."""
    data = load_yaml(path)
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [f"{path}: expected a YAML list of exercises, got {type(data).__name__}"]
    try:
        lines = entry_lines(path)
    except Exception:  # noqa: BLE001 -- line numbers are a nicety
        lines = []
    out: list[Exercise] = []
    errors: list[str] = []
    for i, row in enumerate(data):
        line = lines[i] if i < len(lines) else 0
        ident = row.get("id") if isinstance(row, dict) else None
        where = f"{path}:{line}: entry {i + 1}" + (f" ({ident})" if ident else "")
        if not isinstance(row, dict):
            errors.append(f"{where}: expected a mapping, got {type(row).__name__}")
            continue
        try:
            out.append(Exercise.model_validate(row))
        except ValidationError as e:
            errors.append(f"{where}: {format_validation(e)}")
    return out, errors


def load_exercises(directory: Path | None = None) -> dict[str, Exercise]:
    """Every exercise by id, in file order. Raises KnowledgeError listing every problem
    (file:line, entry number and id) when any file or entry is invalid or an id repeats."""
    directory = directory or default_dir()
    found: dict[str, Exercise] = {}
    where: dict[str, str] = {}
    errors: list[str] = []
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
        try:
            exercises, errs = load_file(path)
        except KnowledgeError as e:
            errors.append(str(e))
            continue
        errors += errs
        for ex in exercises:
            if ex.id in found:
                errors.append(f"{path}: entry ({ex.id}): duplicate id, already defined in {where[ex.id]}")
                continue
            found[ex.id] = ex
            where[ex.id] = str(path)
    if errors:
        raise KnowledgeError(f"{len(errors)} problem(s) in exercise files:\n" + "\n".join(errors))
    return found


def get_exercise(exercise_id: str, directory: Path | None = None) -> Exercise:
    exercises = load_exercises(directory)
    try:
        return exercises[exercise_id]
    except KeyError:
        known = ", ".join(sorted(exercises)) or "none"
        raise KnowledgeError(f"unknown exercise {exercise_id!r} (known: {known})") from None
