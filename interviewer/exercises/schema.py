"""The exercise file format (``knowledge/exercises/*.yaml``), validated strictly.

See ``interviewer/exercises/README.md``. Unknown fields are errors; code fields must parse;
test suites must define ``test_*`` functions; every hidden test has a hint.
"""

from __future__ import annotations

import ast
import sys
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from interviewer.bank.schema import TOPICS, Difficulty

#: modules an exercise may allow besides the standard library
THIRD_PARTY_ALLOWED: tuple[str, ...] = ("numpy", "torch", "hypothesis")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _parse(code: str, what: str) -> ast.Module:
    try:
        return ast.parse(code, filename=what)
    except SyntaxError as e:
        raise ValueError(f"{what} does not parse: line {e.lineno}: {e.msg}") from None


def suite_tests(code: str) -> list[str]:
    """Top-level ``test_*`` functions of a test suite, in order."""
    tree = ast.parse(code)
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            and n.name.startswith("test_")]


def defined_names(code: str) -> set[str]:
    """Names a module defines at top level (functions, classes, assignments, imports)."""
    out: set[str] = set()
    for n in ast.parse(code).body:
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(n.name)
        elif isinstance(n, ast.Assign):
            out |= {t.id for t in n.targets if isinstance(t, ast.Name)}
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            out.add(n.target.id)
        elif isinstance(n, ast.Import | ast.ImportFrom):
            out |= {(a.asname or a.name).split(".")[0] for a in n.names}
    return out


def imported_modules(code: str) -> set[str]:
    """Top-level package names a piece of code imports (anywhere in it)."""
    mods: set[str] = set()
    for n in ast.walk(ast.parse(code)):
        if isinstance(n, ast.Import):
            mods |= {a.name.split(".")[0] for a in n.names}
        elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
            mods.add(n.module.split(".")[0])
    return mods


class BuggyVariant(_Strict):
    name: str = Field(min_length=1)
    code: str = Field(min_length=1)

    @field_validator("code")
    @classmethod
    def _parses(cls, v: str) -> str:
        _parse(v, "code")
        return v


class Exercise(_Strict):
    """One coding exercise: prompt, reference, visible examples, hidden tests, buggy variants."""

    id: str = Field(pattern=r"^ex-[a-z0-9-]+$")
    title: str = Field(min_length=3)
    source: str = Field(pattern=r"^(new|\d{3}-\d{3})$")
    topic: list[str] = Field(min_length=1, max_length=3)
    difficulty: Difficulty
    prompt: str = Field(min_length=10)
    entry_point: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    signature: str = Field(min_length=3)
    starter: str
    reference: str
    allowed_imports: list[str] = Field(default_factory=list)
    time_limit_s: float = Field(default=5, gt=0, le=60)
    memory_mb: int = Field(default=512, ge=64, le=4096)
    examples: str
    tests: str
    hints: dict[str, str] = Field(default_factory=dict)
    buggy: list[BuggyVariant] = Field(min_length=2)
    spoken: list[str] = Field(default_factory=list)

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, v: list[str]) -> list[str]:
        if v[0] not in TOPICS:
            raise ValueError(f"topic must start with one of {list(TOPICS)}, got {v[0]!r}")
        return v

    @field_validator("allowed_imports")
    @classmethod
    def _known_modules(cls, v: list[str]) -> list[str]:
        stdlib = sys.stdlib_module_names
        bad = [m for m in v if m not in stdlib and m not in THIRD_PARTY_ALLOWED]
        if bad:
            raise ValueError(f"allowed_imports must be stdlib modules or one of {list(THIRD_PARTY_ALLOWED)}; "
                             f"unknown: {bad}")
        return v

    @field_validator("starter", "reference", "examples", "tests")
    @classmethod
    def _code_parses(cls, v: str, info) -> str:
        _parse(v, info.field_name)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Exercise:
        if self.entry_point not in defined_names(self.reference):
            raise ValueError(f"reference does not define entry_point {self.entry_point!r}")
        if self.entry_point not in defined_names(self.starter):
            raise ValueError(f"starter does not define entry_point {self.entry_point!r}")
        for field in ("examples", "tests"):
            names = suite_tests(getattr(self, field))
            if not names:
                raise ValueError(f"{field} defines no test_* function")
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"{field} defines {dup} more than once (the later one would hide the first)")
        hidden = suite_tests(self.tests)
        unknown = sorted(set(self.hints) - set(hidden))
        if unknown:
            raise ValueError(f"hints name tests that are not in tests: {unknown}")
        missing = [n for n in hidden if n not in self.hints]
        if missing:
            raise ValueError(f"hints missing for hidden tests: {missing}")
        names = [b.name for b in self.buggy]
        if len(set(names)) != len(names):
            raise ValueError("buggy variant names must be unique")
        for b in self.buggy:
            if b.code.strip() == self.reference.strip():
                raise ValueError(f"buggy variant {b.name!r} is identical to the reference")
        return self

    @property
    def uses_torch(self) -> bool:
        return "torch" in self.allowed_imports

    def suite(self, hidden: bool) -> str:
        return self.tests if hidden else self.examples

    def source_of(self, hidden: bool, name: str) -> str:
        """The source of one test function (for visible examples only -- callers decide)."""
        code = self.suite(hidden)
        tree = ast.parse(code)
        for n in tree.body:
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name:
                return ast.get_source_segment(code, n, padded=False) or ""
        return ""


RunSuite = Literal["examples", "hidden"]
