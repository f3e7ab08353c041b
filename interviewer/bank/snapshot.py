"""A cached snapshot of the loaded bank, keyed by the content of every file it is built from.

Parsing ~2 MB of YAML and validating 528 items costs about a second on a laptop CPU; terminal
commands such as ``bank stats`` and ``progress`` should not pay it on every start. The snapshot is
a pickle under ``data_dir/cache`` named by a SHA-256 over the bank's input files and the loader's
own code, so any edit (a key point, an import, a new release) builds it again. A snapshot that
cannot be read is ignored and rebuilt; the YAML stays the only source of truth.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from interviewer.bank.loader import Bank, load_bank

_CODE = [Path(__file__).with_name(n) for n in ("loader.py", "schema.py", "parsers.py", "validate.py", "snapshot.py")]


def bank_inputs(knowledge: Path, extra_dirs: tuple[Path, ...] = ()) -> list[Path]:
    """Every file ``load_bank`` reads (sources, merges, rubrics, topics, imports) plus the loader's code."""
    files = [p for p in sorted((knowledge / "sources").glob("*")) if p.is_file()]
    files += [knowledge / "merges.yaml"] if (knowledge / "merges.yaml").exists() else []
    files += sorted((knowledge / "rubrics").glob("*.yaml")) + sorted((knowledge / "topics").glob("*.yaml"))
    files += sorted((knowledge / "contrasts").glob("*.jsonl")) + sorted((knowledge / "phrasings").glob("*.jsonl"))
    for d in (knowledge / "imported", *extra_dirs):
        files += sorted(d.glob("*.jsonl")) if d.is_dir() else []
    return files + _CODE


def fingerprint(files: list[Path]) -> str:
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.resolve()).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def load_bank_cached(knowledge: Path, extra_dirs: tuple[Path, ...] = (), cache_dir: Path | None = None) -> Bank:
    """``load_bank``, served from a snapshot when nothing it reads has changed since the last load."""
    if cache_dir is None:
        return load_bank(knowledge, extra_dirs)
    key = fingerprint(bank_inputs(knowledge, extra_dirs))
    path = cache_dir / f"bank-{key}.pickle"
    try:
        with path.open("rb") as f:
            bank = pickle.load(f)  # noqa: S301 - our own file, named by the hash of what it was built from
        if isinstance(bank, Bank):
            return bank
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        pass
    bank = load_bank(knowledge, extra_dirs)  # errors (bad YAML, …) surface here, as without a cache
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for old in cache_dir.glob("bank-*.pickle"):
            old.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".bank-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(bank, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:  # a read-only data directory: no snapshot, same bank
        pass
    return bank
