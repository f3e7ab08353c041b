"""Coding exercises: the format (schema), the loader, and running candidate code in a sandbox.

Public entry points: ``load_exercises``, ``get_exercise``, ``run_exercise``, ``format_result``,
``SandboxUnavailable``. See README.md in this directory.
"""

from interviewer.exercises.loader import get_exercise, load_exercises
from interviewer.exercises.runner import RunResult, TestOutcome, format_result, run_exercise
from interviewer.exercises.sandbox import ISOLATION_MODES, SandboxUnavailable, bwrap_problem

__all__ = ["ISOLATION_MODES", "RunResult", "SandboxUnavailable", "TestOutcome", "bwrap_problem", "format_result",
           "get_exercise", "load_exercises", "run_exercise"]
