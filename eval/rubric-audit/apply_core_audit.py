"""Apply a blind rubric audit's edits (core points split from their add-ons, misconceptions reworded)
to knowledge/ — the rubric YAML files and the phrasings, contrasts and negations keyed by key point.

    python eval/rubric-audit/apply_core_audit.py eval/rubric-audit/core-addons-2026-12-06.jsonl [--knowledge DIR]

Each input line: {"item_id", "core_edits": [...], "misconception_edits": [...]} (the format the
helpers were given, eval/rubric-audit/core-addons-PROMPT.md). Edits are applied line by line to keep
every file's layout; each `old` must match the current text verbatim or nothing is written. The bank
is reloaded afterwards and every edit checked.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _item_blocks(lines: list[str]) -> dict[str, tuple[int, int]]:
    """item id -> (first line, end line) of its entry in a rubric/topic YAML file."""
    starts = []
    for i, ln in enumerate(lines):
        m = re.match(r"^(\s*)- id: [\"']?([\w.-]+)[\"']?\s*$", ln)
        if m and not re.match(r"^(kp|m)\d+$", m.group(2)):
            starts.append((i, len(m.group(1)), m.group(2)))
    out = {}
    for n, (i, ind, iid) in enumerate(starts):
        end = len(lines)
        for j, jind, _ in starts[n + 1:]:
            if jind <= ind:
                end = j
                break
        out[iid] = (i, end)
    return out


def _find(lines: list[str], lo: int, hi: int, pattern: str) -> int:
    for i in range(lo, hi):
        if re.match(pattern, lines[i]):
            return i
    raise KeyError(pattern)


def _replace_field(lines: list[str], at: int, hi: int, field: str, old: str, new: str, where: str) -> None:
    i = _find(lines, at + 1, hi, rf"^\s*{field}: ")
    indent, value = lines[i].split(f"{field}: ", 1)
    import yaml
    current = yaml.safe_load(value)
    if current != old:
        raise SystemExit(f"{where}: {field} is {current!r}, the edit expects {old!r}")
    lines[i] = f"{indent}{field}: {_quote(new)}\n"


def apply_yaml(path: Path, edits: dict[str, dict]) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    done = []
    # last item first: an edit never moves the lines of the items still to be edited
    for iid, (lo, hi) in sorted(_item_blocks(lines).items(), key=lambda kv: -kv[1][0]):
        e = edits.get(iid)
        if not e:
            continue
        mis_at = _find(lines, lo, hi, r"^\s*misconceptions:")
        for m in e.get("misconception_edits") or []:
            at = _find(lines, mis_at, hi, rf"^\s*- id: [\"']?{m['m_id']}[\"']?\s*$")
            _replace_field(lines, at, hi, "text", m["old"], m["text"], f"{path}:{iid}:{m['m_id']}")
            corr_old = _current(lines, at, hi, "correction")
            if m.get("correction") and m["correction"] != corr_old:
                _replace_field(lines, at, hi, "correction", corr_old, m["correction"], f"{path}:{iid}:{m['m_id']}")
        kp_lines = [i for i in range(lo, mis_at) if re.match(r"^\s*- id: [\"']?kp\d+[\"']?\s*$", lines[i])]
        ids = [int(re.search(r"kp(\d+)", lines[i]).group(1)) for i in kp_lines]
        next_id = max(ids) + 1
        new_kps = []
        for c in e.get("core_edits") or []:
            at = _find(lines, lo, mis_at, rf"^\s*- id: [\"']?{c['kp_id']}[\"']?\s*$")
            _replace_field(lines, at, mis_at, "text", c["old"], c["core"], f"{path}:{iid}:{c['kp_id']}")
            if c["action"] == "split":
                c["new_kp_id"] = f"kp{next_id}"
                next_id += 1
                new_kps.append(c)
        if new_kps:
            indent = re.match(r"^(\s*)-", lines[kp_lines[0]]).group(1)
            block = []
            for c in new_kps:
                block += [f"{indent}- id: {c['new_kp_id']}\n", f"{indent}  text: {_quote(c['supporting'])}\n",
                          f"{indent}  weight: supporting\n"]
            lines[mis_at:mis_at] = block
        done.append(iid)
    path.write_text("".join(lines), encoding="utf-8")
    return done


def _current(lines: list[str], at: int, hi: int, field: str) -> str:
    import yaml
    i = _find(lines, at + 1, hi, rf"^\s*{field}: ")
    return yaml.safe_load(lines[i].split(f"{field}: ", 1)[1])


def apply_jsonl(folder: Path, field: str, value_of, new_rows_of) -> int:
    """Rewrite rows keyed by (item_id, kp_id); append new rows to the file holding the item."""
    changed, placed = 0, set()
    for path in sorted(folder.glob("*.jsonl")):
        out, seen = [], set()
        for ln in path.read_text(encoding="utf-8").splitlines():
            if not ln.strip():
                out.append(ln)
                continue
            row = json.loads(ln)
            new = value_of(row["item_id"], row["kp_id"])
            if new is not None:
                row[field] = new
                changed += 1
                ln = json.dumps(row, ensure_ascii=False)
            out.append(ln)
            seen.add(row["item_id"])
        for iid in sorted(seen - placed):
            placed.add(iid)
            for row in new_rows_of(iid):
                out.append(json.dumps(row, ensure_ascii=False))
                changed += 1
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("audit", type=Path)
    ap.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    args = ap.parse_args(argv)
    kn = args.knowledge
    edits = {}
    for ln in args.audit.read_text(encoding="utf-8").splitlines():
        if ln.strip():
            row = json.loads(ln)
            if row.get("core_edits") or row.get("misconception_edits"):
                edits[row["item_id"]] = row
    done: list[str] = []
    for path in sorted([*kn.glob("rubrics/*.yaml"), *kn.glob("topics/*.yaml")]):
        done += apply_yaml(path, edits)
    missing = sorted(set(edits) - set(done))
    if missing:
        raise SystemExit(f"items not found in any rubric file: {missing}")
    core = {(iid, c["kp_id"]): c for iid, e in edits.items() for c in e.get("core_edits") or []}

    def phr(iid, kp):
        c = core.get((iid, kp))
        return c["core_phrasings"] if c else None

    def con(iid, kp):
        c = core.get((iid, kp))
        return c["core_contrast"] if c else None

    def neg(iid, kp):
        c = core.get((iid, kp))
        return c.get("core_negated") if c and c.get("core_negated") else None

    def new_contrasts(iid):
        return [{"item_id": iid, "kp_id": c["new_kp_id"], "contrast": c["supporting_contrast"]}
                for (i, _), c in sorted(core.items()) if i == iid and c["action"] == "split"]

    n_phr = apply_jsonl(kn / "phrasings", "phrasings", phr, lambda iid: [])
    n_con = apply_jsonl(kn / "contrasts", "contrast", con, new_contrasts)
    n_neg = apply_jsonl(kn / "phrasings-negated", "negated", neg, lambda iid: [])

    from interviewer.bank.loader import load_bank
    bank = load_bank(kn)
    for (iid, kp), c in core.items():
        item = bank.items[iid]
        k = {x.id: x for x in item.rubric.key_points}
        assert k[kp].text == c["core"] and k[kp].weight == "core", (iid, kp)
        if c["action"] == "split":
            s = k[c["new_kp_id"]]
            assert s.text == c["supporting"] and s.weight == "supporting" and s.contrast, (iid, s.id)
    print(json.dumps({"items": len(edits), "core_edits": len(core),
                      "splits": sum(c["action"] == "split" for c in core.values()),
                      "trims": sum(c["action"] == "trim" for c in core.values()),
                      "misconceptions": sum(len(e.get("misconception_edits") or []) for e in edits.values()),
                      "phrasings_rows": n_phr, "contrast_rows": n_con, "negated_rows": n_neg}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
