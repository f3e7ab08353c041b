"""The README's measured results are generated from the committed results files."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_tables_match_the_results_files():
    r = subprocess.run([sys.executable, str(ROOT / "eval" / "render_readme.py"), "--check"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_results_files_record_how_they_were_made():
    import json

    for name in ("grading.json", "grading-d2.json", "grading-asag.json", "model-answers.json"):
        meta = json.loads((ROOT / "eval" / "results" / name).read_text())["meta"]
        assert meta["git_sha"] and meta["command"].startswith("interviewer eval grading"), name
        assert meta["claim_checker"].startswith("claim-checker:") and meta["embedding_precision"], name
    readme = (ROOT / "README.md").read_text()
    assert "<!-- results:d2 -->\n_not measured" not in readme
