"""``interviewer eval ask``: does ``ask`` cite the right items, and refuse what the bank does not cover?

``eval/ask/questions.jsonl``: questions written for this (covered / partly covered / not covered,
each with the items a good answer cites), split dev/test. The confidence threshold below which
``ask`` says "not covered" is chosen on the dev half only (``--calibrate`` prints the best one);
the report gives dev and test separately: citation correctness on covered questions, refusal
precision and recall, and latency of the whole (extractive) answer.

``eval/ask/questions-b.jsonl`` (split ``test-b``): a second held-out set, written later by helpers who
saw only the bank's entries (never the first set or any result), scored with the thresholds already
chosen — nothing is chosen on it. ``eval/ask/questions-c.jsonl`` (split ``test-c``): 60 comparison
questions ("A vs B", "the difference between A and B", ...), written by a helper from the bank alone
after the comparison rule (``concepts.compares_unknowns``) was fixed; scored once, nothing chosen on
it. ``eval/ask/questions-d.jsonl`` (split ``test-d``): 40 "A or B" choice questions and 10 covered
questions with an "or" that is no choice, written the same way after choices were added to the
rule. ``eval/ask/questions-e.jsonl`` (split ``test-e``): 80 questions (24 covered, 16 partly, 40
uncovered: ML-adjacent methods, homonyms, systems questions, comparisons of two unknowns), written
the same way, blind, when sides the bank never names got no entry (2026-12-04). Every split is
scored with and without that rule (``*_without_comparison_rule``). ``eval/ask/questions-f.jsonl`` (split
``test-f``): 80 more (24/16/40), written the same way from a dump of the bank's entries, blind, to
decide the threshold re-chosen on the five earlier sets (2026-12-04; eval/README.md, "Ask threshold
re-chosen"). ``eval/ask/questions-g.jsonl`` (split ``test-g``): 80 more, written the same way, which
decided the lexical-support rule (eval/README.md, "Ask lexical support"); every split is also scored
without that rule (``*_without_lexical_rule``). ``eval/ask/questions-h.jsonl`` (split ``test-h``): 80 more,
written the same way, first scored on 2026-12-05 as a plain reading of the shipped rules (no change was
decided on it). ``eval/ask/questions-i.jsonl`` (split ``test-i``): 80 more, written the same way, scored
once the same day as a plain reading (the first blind reading of Related entries).
``eval/ask/questions-j.jsonl`` (split ``test-j``): 80 more, written the same way, scored once the same day
as a plain reading after the query-side models moved to ONNX Runtime.
``eval/ask/questions-k.jsonl`` (split ``test-k``): 80 more, written the same way from a bank dump with no
access to the repository, scored once as a plain reading of the shipped Ask (2026-12-05, twenty-third
session). ``eval/ask/questions-basic.jsonl`` (splits ``basic-dev`` / ``basic-test`` by a hash of the text):
120 short questions a learner types first; basic-dev chose the title rule (``Coverage.title_min``),
basic-test and ``eval/ask/questions-l.jsonl`` (``test-l``, 80) were read once after it;
``eval/ask/questions-m.jsonl`` (``test-m``, 80) and ``eval/ask/questions-basic2.jsonl`` (``basic2``, 120
short) were read once for a reranker trained with short questions (withdrawn);
``eval/ask/questions-n.jsonl`` (``test-n``, 80) was written for its second try (2026-12-05, twenty-fourth
session; rejected on dev) and is a plain reading of the shipped Ask; ``eval/ask/questions-basic3.jsonl``
(``basic3``, 120 short) was read once for routing short questions to the short-question reranker
(the same session). Every split is also
scored without the title rule (``*_without_title_rule``). ``blind_pooled``: the blind sets (``BLIND``: each
written without seeing any result and read once when first scored) pooled, the figures issue 11's Ask
targets are read on.
``--reranker DIR --threshold T`` scores other reranker weights (e.g. an earlier model) with their own
dev-chosen threshold, for comparison.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from interviewer.settings import ROOT

QUESTIONS = ROOT / "eval" / "ask" / "questions.jsonl"
QUESTIONS_B = ROOT / "eval" / "ask" / "questions-b.jsonl"
QUESTIONS_C = ROOT / "eval" / "ask" / "questions-c.jsonl"
QUESTIONS_D = ROOT / "eval" / "ask" / "questions-d.jsonl"
QUESTIONS_E = ROOT / "eval" / "ask" / "questions-e.jsonl"
QUESTIONS_F = ROOT / "eval" / "ask" / "questions-f.jsonl"
QUESTIONS_G = ROOT / "eval" / "ask" / "questions-g.jsonl"
QUESTIONS_H = ROOT / "eval" / "ask" / "questions-h.jsonl"
QUESTIONS_I = ROOT / "eval" / "ask" / "questions-i.jsonl"
QUESTIONS_J = ROOT / "eval" / "ask" / "questions-j.jsonl"
QUESTIONS_K = ROOT / "eval" / "ask" / "questions-k.jsonl"
QUESTIONS_L = ROOT / "eval" / "ask" / "questions-l.jsonl"
QUESTIONS_M = ROOT / "eval" / "ask" / "questions-m.jsonl"
QUESTIONS_BASIC2 = ROOT / "eval" / "ask" / "questions-basic2.jsonl"
QUESTIONS_N = ROOT / "eval" / "ask" / "questions-n.jsonl"
QUESTIONS_BASIC3 = ROOT / "eval" / "ask" / "questions-basic3.jsonl"
HELD_OUT = ("test_b", "test_c", "test_d", "test_e", "test_f", "test_g", "test_h", "test_i", "test_j", "test_k",
            "test_l", "basic_dev", "basic_test", "test_m", "basic2", "test_n", "basic3")
BLIND = ("test-e", "test-f", "test-g", "test-h", "test-i", "test-j", "test-k", "test-l", "test-m", "test-n")
OUT = ROOT / "eval" / "results" / "ask.json"


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * (len(xs) - 1) + 0.5))], 4) if xs else 0.0


def hits_under(r: dict[str, Any], rule: Any) -> list[Any]:
    """The hits ``ask`` reads for this question under ``rule``: the search's, with the title match
    first when the rule takes it (``Coverage.title_min``)."""
    from interviewer.concepts import with_title

    return with_title(r["_hits"], r.get("_title"), rule)


def support_under(r: dict[str, Any], rule: Any) -> float | None:
    """``lexical_support`` of the first hit under ``rule`` (the title match's when it leads)."""
    hits = hits_under(r, rule)
    if not hits:
        return None
    return r["_support"] if hits[0][0].id == r["_hits"][0][0].id else r.get("_title_support")


def refuses(r: dict[str, Any], rule: Any) -> bool:
    """What ``ask`` does with this question under ``rule``: refuse (True) or answer."""
    from interviewer.concepts import answerable

    return not answerable(hits_under(r, rule), r.get("_sides", []), rule, support_under(r, rule))


def _score(rows: list[dict[str, Any]], rule: Any) -> dict[str, Any]:
    from interviewer.concepts import NOT_IN_BANK, add_compared, confident, related

    refused = [refuses(r, rule) for r in rows]
    should_refuse = [r["kind"] == "not_covered" for r in rows]
    tp = sum(a and b for a, b in zip(refused, should_refuse, strict=True))
    fp = sum(a and not b for a, b in zip(refused, should_refuse, strict=True))
    fn = sum(b and not a for a, b in zip(refused, should_refuse, strict=True))
    out: dict[str, Any] = {"n": len(rows), "threshold": round(rule.minimum, 3),
                           "refusal_precision": round(tp / (tp + fp), 3) if tp + fp else None,
                           "refusal_recall": round(tp / (tp + fn), 3) if tp + fn else None}
    if all("_text" in r for r in rows):
        # not-covered questions answered anyway: how many say up front what the bank lacks; and how
        # many answerable ones carry that note wrongly
        leaked = [r for r, ref in zip(rows, refused, strict=True) if r["kind"] == "not_covered" and not ref]
        out["not_covered_answered"] = len(leaked)
        out["of_which_flagged_unknown_term"] = sum(NOT_IN_BANK in r["_text"] for r in leaked)
        out["answerable_flagged_unknown_term"] = sum(NOT_IN_BANK in r["_text"] for r in rows
                                                     if r["kind"] != "not_covered")
        # of those, the fully covered ones: a partly covered question's note usually names the part the
        # bank lacks (correct); on a covered question the note is a false alarm
        out["covered_flagged_unknown_term"] = sum(NOT_IN_BANK in r["_text"] for r in rows if r["kind"] == "covered")
    for kind in ("covered", "partly"):
        sel = [(r, ref) for r, ref in zip(rows, refused, strict=True) if r["kind"] == kind]
        if not sel:
            continue
        answered = [(r, ref) for r, ref in sel if not ref]
        cites = [confident(hits_under(r, rule), rule) for r, _ in answered]  # the search's citations, in order
        first_ok = sum(1 for c, (r, _) in zip(cites, answered, strict=True) if c[0][0].id in r["_expected"])
        main = [{it.id for it, _ in c} for c in cites]
        any_ok = sum(1 for ids, (r, _) in zip(main, answered, strict=True) if ids & set(r["_expected"]))
        out[kind] = {"n": len(sel), "answered": len(answered),
                     "citation_correct_first": round(first_ok / len(sel), 3),
                     "citation_correct_any": round(any_ok / len(sel), 3),
                     "citation_correct_when_answered": round(any_ok / len(answered), 3) if answered else None}
        # the citations as shown (a comparison's sides added) and without the sides: the share of the
        # expected entries cited, and the share of the citations that are expected ones (what sides cost)
        with_sides = [add_compared(c, r.get("_sides", []), rule) for c, (r, _) in zip(cites, answered, strict=True)]
        shown = [{it.id for it, _ in c} for c in with_sides]
        # the answer also lists the search's other close hits by id ("Related entries"), not as citations:
        # how often a right entry is on the screen at all, cited or listed
        listed = [ids | {it.id for it, _ in related(hits_under(r, rule), c, rule)}
                  for ids, c, (r, _) in zip(shown, with_sides, answered, strict=True)]
        out[kind]["right_item_cited_or_related"] = round(
            sum(1 for ids, (r, _) in zip(listed, answered, strict=True) if ids & set(r["_expected"])) / len(sel), 3)
        want = sum(len(set(r["_expected"])) for r, _ in sel)
        for suffix, cited in (("", shown), ("_without_sides", main)):
            hits = sum(len(ids & set(r["_expected"])) for ids, (r, _) in zip(cited, answered, strict=True))
            n_cited = sum(len(ids) for ids in cited)
            out[kind][f"expected_items_cited{suffix}"] = round(hits / want, 3) if want else None
            out[kind][f"citations_expected{suffix}"] = round(hits / n_cited, 3) if n_cited else None
    return out


def balanced_accuracy(rows: list[dict[str, Any]], rule: Any) -> float:
    """Mean of refusal recall (uncovered questions refused) and answer recall (the others answered)."""
    refuse_ok = [refuses(r, rule) for r in rows if r["kind"] == "not_covered"]
    answer_ok = [not refuses(r, rule) for r in rows if r["kind"] != "not_covered"]
    return (sum(refuse_ok) / max(1, len(refuse_ok)) + sum(answer_ok) / max(1, len(answer_ok))) / 2


def best_threshold(rows: list[dict[str, Any]], rule: Any) -> float:
    """Balanced accuracy of answer-vs-refuse on these rows, maximised over the observed confidences."""
    import dataclasses

    from interviewer.concepts import confidence

    cands = sorted({round(confidence(r["_hits"]), 3) for r in rows if r["_hits"]} | {0.0})
    best, best_t = -1.0, rule.minimum
    for t in cands:
        bal = balanced_accuracy(rows, dataclasses.replace(rule, minimum=t))
        if bal > best:
            best, best_t = bal, t
    return best_t


def _read(path: Path, split: str | None = None) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    for r in rows:
        if split:
            r["split"] = split
    return rows


QUESTIONS_BASIC = ROOT / "eval" / "ask" / "questions-basic.jsonl"


def read_basic() -> list[dict[str, Any]]:
    """The basic set (short questions a learner types first), each row split by the SHA-256 of its
    text: even first byte ``basic-dev``, odd ``basic-test`` (eval/README.md, "Ask: a question that
    matches an entry's own question")."""
    import hashlib

    rows = _read(QUESTIONS_BASIC)
    for r in rows:
        r["split"] = "basic-dev" if hashlib.sha256(r["question"].encode("utf-8")).digest()[0] % 2 == 0 else "basic-test"
    return rows


def read_sets() -> list[dict[str, Any]]:
    """Every question set ``eval ask`` scores, each row with its split."""
    return (_read(QUESTIONS) + _read(QUESTIONS_B, "test-b") + _read(QUESTIONS_C, "test-c")
            + _read(QUESTIONS_D, "test-d") + _read(QUESTIONS_E, "test-e") + _read(QUESTIONS_F, "test-f")
            + _read(QUESTIONS_G, "test-g") + _read(QUESTIONS_H, "test-h") + _read(QUESTIONS_I, "test-i")
            + _read(QUESTIONS_J, "test-j") + _read(QUESTIONS_K, "test-k") + _read(QUESTIONS_L, "test-l")
            + read_basic() + _read(QUESTIONS_M, "test-m") + _read(QUESTIONS_BASIC2, "basic2")
            + _read(QUESTIONS_N, "test-n") + _read(QUESTIONS_BASIC3, "basic3"))


def read_before(split: str) -> list[dict[str, Any]]:
    """The questions of every set written before ``split`` (``read_sets`` lists the sets in the order
    they were written): what a rule decided on ``split`` was chosen on. A set written later never enters."""
    rows = read_sets()
    return rows[:next(i for i, r in enumerate(rows) if r["split"] == split)]


def retrieve_rows(svc: Any, rows: list[dict[str, Any]]) -> None:
    """What the answer-or-refuse decision reads, per question: the expected ids resolved, the search's
    hits with their confidences, and the compared sides' entries."""
    from interviewer.concepts import lexical_support, retrieve_for_question, side_entries

    for r in rows:
        r["_expected"] = [svc.bank.resolve(e) for e in r.get("expected", [])]
        details: dict[str, Any] = {}
        r["_hits"] = retrieve_for_question(svc, r["question"], details=details)  # without the title rule
        r["_title"] = details.get("title")  # (entry, question cosine, reranker probability): rules apply it
        r["_sides"] = side_entries(svc, r["question"])
        r["_support"] = lexical_support(r["question"], r["_hits"][0][0].id, svc.bank) if r["_hits"] else None
        r["_title_support"] = (lexical_support(r["question"], r["_title"][0].id, svc.bank)
                               if r["_title"] is not None else None)


def run_ask_eval(svc: Any, calibrate: bool = False, out: Path | None = None, threshold: float | None = None,
                 command: str = "interviewer eval ask") -> str:
    import dataclasses

    from interviewer.concepts import answer_question, confidence, coverage_rule
    from interviewer.evaluation.grading import _git_sha

    rows = read_sets()
    if calibrate:  # the dev half alone: choosing a threshold (or a model) never looks at a held-out question
        rows = [r for r in rows if r.get("split") == "dev"]
    svc.ensure_index()
    retrieve_rows(svc, rows)
    lat = []
    for r in rows:
        t = time.perf_counter()
        r["_text"] = "".join(answer_question(svc, r["question"], llm=False))
        lat.append(time.perf_counter() - t)
    dev = [r for r in rows if r.get("split") == "dev"]
    test = [r for r in rows if r.get("split") == "test"]
    held = [(name, [r for r in rows if r.get("split") == name.replace("_", "-")]) for name in HELD_OUT]
    parts = [("dev", dev), ("test", test), *((n, p) for n, p in held if p)]
    rule = coverage_rule(svc)
    if threshold is not None:
        rule = dataclasses.replace(rule, minimum=threshold)
    chosen = best_threshold(dev, rule)
    res: dict[str, Any] = {
        "method": rule.method, "threshold_in_use": rule.minimum, "second_gap": rule.second_gap,
        "lexical_below": rule.lexical_below, "lexical_min": rule.lexical_min, "title_min": rule.title_min,
        "threshold_best_on_dev": chosen,
        "dev": _score(dev, rule), "test": _score(test, rule), "all": _score(dev + test, rule),
        **{name: _score(part, rule) for name, part in held if part},
        **{f"{name}_without_comparison_rule": _score(part, dataclasses.replace(rule, sides=False))
           for name, part in parts},
        **{f"{name}_without_lexical_rule": _score(part, dataclasses.replace(rule, lexical_below=0.0))
           for name, part in parts},
        **{f"{name}_without_title_rule": _score(part, dataclasses.replace(rule, title_min=0.0))
           for name, part in parts},
        **({"blind_pooled": {**_score(blind, rule), "splits": sorted({r["split"] for r in blind})}}
           if (blind := [r for r in rows if r.get("split") in BLIND]) else {}),
        "latency_s": {"p50": _pct(lat, 0.5), "p95": _pct(lat, 0.95), "note": "whole extractive answer, no LLM"},
        "per_question": [{"question": r["question"], "kind": r["kind"], "split": r.get("split"),
                          "expected": r["_expected"],
                          "confidence": round(confidence(hits_under(r, rule)), 3) if r["_hits"] else None,
                          "top": [it.id for it, _ in hits_under(r, rule)[:3]],
                          "title_match": [r["_title"][0].id, round(r["_title"][1], 3)] if r.get("_title") else None,
                          "sides": {side: [hit[0].id, round(hit[1], 3)] if hit else None for side, hit in r["_sides"]},
                          "lexical_support": (round(sup, 3) if (sup := support_under(r, rule)) is not None
                                              else None),
                          "refused": refuses(r, rule)} for r in rows],
        "meta": {"git_sha": _git_sha(), "command": command, "questions": len(rows),
                 "embedding_model": svc.embedder.model_id,
                 "reranker": svc.reranker.model_id if svc.reranker is not None else None,
                 "precision": getattr(svc.embedder, "precision", None),  # the embedder's and the reranker's matmuls
                 "query_embedding_runtime": getattr(svc.query_embedder, "runtime", "torch"),
                 "note": "the threshold in use was chosen on dev, test and test-b … test-e pooled (472 questions, all "
                         "read before; the smallest with refusal recall >= 0.9 and covered citation >= 0.9) and "
                         "adopted on the blind test-f (eval/README.md, 'Ask threshold re-chosen'); the lexical-support "
                         "rule was chosen on the 552 questions of dev … test-f and adopted on the blind test-g "
                         "(eval/README.md, 'Ask lexical support'); the title rule was chosen on those read by 2026-12-05 "
                         "and basic-dev and read once on basic-test and test-l (eval/README.md, 'Ask: a question "
                         "that matches an entry's own question'); a compared side's entry is, of the hits that reach the "
                         "side floor, the one whose own question is nearest 'What is <side>?' (kept on the 1,352 read "
                         "questions, 2026-12-05); test-n is a plain reading; a short question (at most 9 words) that "
                         "compares nothing is read by the short-question reranker (adopted on the 1,352 read "
                         "questions, read once on basic-3, 2026-12-05); the *_without_* rows change the decision only: "
                         "their text-based counts (notes) read the shipped answer's text; "
                         "threshold_best_on_dev is the dev-only balanced-accuracy choice, for reference"},
    }
    if calibrate:
        at = dataclasses.replace(rule, minimum=chosen)
        d = _score(dev, at)
        return (f"best {rule.method} threshold on dev: {chosen} (in use: {rule.minimum}); at it, dev: balanced "
                f"accuracy {balanced_accuracy(dev, at):.3f}, refusal recall {d['refusal_recall']} precision "
                f"{d['refusal_precision']}, covered citation {d.get('covered', {}).get('citation_correct_any')}, "
                f"partly answered {d.get('partly', {}).get('answered')}/{d.get('partly', {}).get('n')} "
                "(held-out questions were not run)")
    dest = out or OUT
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    t = res["test"]
    return (f"ask: {len(rows)} questions; {rule.method} threshold {rule.minimum} (best on dev {chosen}); test: refusal "
            f"precision {t['refusal_precision']} recall {t['refusal_recall']}, covered citation "
            f"{t.get('covered', {}).get('citation_correct_any')}; latency p50 {res['latency_s']['p50']} s; {dest}")
