"""Regenerate the measured-results tables in README.md from the committed results files.

    python eval/render_readme.py          # rewrite the blocks between <!-- results:NAME --> markers
    python eval/render_readme.py --check  # exit 1 if README.md differs from the results (a test runs this)

Every table says which file it comes from and the command that produced it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "eval" / "results"
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- results:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /results:(?P=name) -->)", re.S)


def _load(name: str) -> dict[str, Any] | None:
    p = RESULTS / name
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


def _f(x: Any, nd: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def _source(res: dict[str, Any], file: str) -> str:
    m = res.get("meta", {})
    return (f"`{m.get('command', '?')}` → `eval/results/{file}` (git {str(m.get('git_sha', '?'))[:10]}, "
            f"{m.get('date', '?')}; claim checker `{m.get('claim_checker', '?')}`, {m.get('claim_checker_precision', '?')})")


def block_d2() -> str:
    res = _load("grading-d2.json")
    if res is None:
        return "_not measured yet_\n"
    r = res["rubric"]
    rows = [("all 150", r["all"]), ("substantive (no off-topic / manipulation)", r["substantive"]),
            ("test questions, substantive", r["per_split"]["test"]["substantive"]),
            ("dev questions, substantive", r["per_split"]["dev"]["substantive"])]
    out = ["| d2 answers | n | Spearman | Pearson | MAE |", "|---|---|---|---|---|"]
    out += [f"| {name} | {m['n']} | {_f(m['spearman'])} | {_f(m['pearson'])} | {_f(m['mae'], 2)} |" for name, m in rows]
    bar = r["interviewer_bar"]
    out += ["", f"- answers the interviewer graded ≥ 9 that score ≥ 8: **{bar['graded_9_plus_scoring_8_plus']}**; "
                f"graded ≤ 1 that score ≤ 2: **{bar['graded_1_or_less_scoring_2_or_less']}** (substantive rows)",
            f"- expert answers (concise + thorough) average {_f(bar['expert_mean_predicted'], 2)}, misconception "
            f"answers {_f(bar['misconception_mean_predicted'], 2)}; spoken answers {_f(bar['spoken_informal_mean_predicted'], 2)} "
            f"against the interviewer's {_f(bar['spoken_informal_mean_human'], 2)}",
            f"- rank agreement within a style (mean Spearman): {_f(r['within_category_mean_spearman'])}", "",
            "| style | n | interviewer mean | predicted mean | predicted range | Spearman within |", "|---|---|---|---|---|---|"]
    for c, m in r["per_category"].items():
        out.append(f"| {c} | {m['n']} | {m['mean_human']:.2f} | {m['mean_predicted']:.2f} | "
                   f"{m['min_predicted']:.1f}–{m['max_predicted']:.1f} | {_f(m['spearman'])} |")
    out += ["", f"Source: {_source(res, 'grading-d2.json')}"]
    return "\n".join(out) + "\n"


def block_d2_llm() -> str:
    res = _load("grading-d2-llm.json")
    if res is None or "fused" not in res:
        return "_not measured yet_\n"
    from interviewer.evaluation.grading import TRIVIAL

    top = [x for x in res["predictions"] if x["human"] >= 9 and x["category"] not in TRIVIAL]
    out = ["| d2 answers, Spearman | all | substantive | dev questions, substantive | test questions, substantive "
           "| graded ≥ 9 scoring ≥ 8 |", "|---|---|---|---|---|---|"]
    for col, name, key in (("rubric", "rubric only (the default)", "predicted"), ("llm_only", "LLM judge alone", "llm_only"),
                           ("fused", "rubric + LLM judge (fused)", "fused")):
        r = res[col]
        out.append(f"| {name} | {_f(r['all']['spearman'])} | {_f(r['substantive']['spearman'])} | "
                   f"{_f(r['per_split']['dev']['substantive']['spearman'])} | "
                   f"{_f(r['per_split']['test']['substantive']['spearman'])} | "
                   f"{sum(x[key] >= 8 for x in top)}/{len(top)} |")
    llm = res.get("llm", {})
    reused = llm.get("reused_verdicts", 0)
    timing = (f"{llm.get('seconds', '?')} s for {res['meta'].get('answers', '?')} answers" if not reused else
              f"{reused} of {res['meta'].get('answers', '?')} verdicts reused from `eval/results/llm-verdicts.jsonl` "
              "(same model and prompt; the judge calls were made by an earlier run)")
    out += ["", f"Judge: `{llm.get('model', '?')}`, fused with weight {llm.get('weight', '?')}, "
                f"{llm.get('judge_failures', 0)} failed calls, {timing}. "
                f"Source: {_source(res, 'grading-d2-llm.json')}"]
    return "\n".join(out) + "\n"


def block_own() -> str:
    res = _load("grading.json")
    if res is None:
        return "_not measured yet_\n"
    r = res["rubric"]
    rows = [("all 180", r["all"]), ("substantive (124)", r["substantive"]),
            ("test files s3/s4, all", r["per_split"]["test"]["all"]),
            ("test files s3/s4, substantive", r["per_split"]["test"]["substantive"]),
            ("dev files s1/s2, substantive", r["per_split"]["dev"]["substantive"])]
    out = ["| own labelled set | n | Spearman | Pearson | MAE |", "|---|---|---|---|---|"]
    out += [f"| {name} | {m['n']} | {_f(m['spearman'])} | {_f(m['pearson'])} | {_f(m['mae'], 2)} |" for name, m in rows]
    out += ["", f"Rank agreement within a category (mean Spearman): {_f(r['within_category_mean_spearman'])}.", "",
            "| category | n | human mean | predicted mean | predicted max | Spearman within |", "|---|---|---|---|---|---|"]
    for c, m in r["per_category"].items():
        out.append(f"| {c} | {m['n']} | {m['mean_human']:.2f} | {m['mean_predicted']:.2f} | {m['max_predicted']:.1f} | "
                   f"{_f(m['spearman'])} |")
    out += ["", f"Source: {_source(res, 'grading.json')}"]
    return "\n".join(out) + "\n"


def block_asag() -> str:
    res = _load("grading-asag.json")
    if res is None:
        return "_not measured yet_\n"
    out = ["| test split | n | 3-way macro-F1 | 5-way macro-F1 | 5-way weighted-F1 | reference-only Pearson | RMSE | MiniLM cosine Pearson |",
           "|---|---|---|---|---|---|---|---|"]
    for name, e in res["files"].items():
        ro, cos = e.get("reference_only", {}), e.get("minilm_cosine_baseline", {})
        out.append(f"| {name} | {e['n']} | {_f(e.get('3way', {}).get('macro_f1'))} | {_f(e.get('5way', {}).get('macro_f1'))} | "
                   f"{_f(e.get('5way', {}).get('weighted_f1'))} | {_f(ro.get('pearson'))} | {_f(ro.get('rmse'))} | "
                   f"{_f(cos.get('pearson'))} |")
    out += ["", f"Source: {_source(res, 'grading-asag.json')}"]
    return "\n".join(out) + "\n"


def block_model_answers() -> str:
    res = _load("model-answers.json")
    if res is None:
        return "_not measured yet_\n"
    held = res.get("held_out_items")
    test = (f" Of the {held['n']} held-out items' model answers (the calibration's anchors are the others'), "
            f"{held['below_9']} score below 9 (minimum {held['min']}).") if held else ""
    return (f"Every model answer graded against its own rubric: {res['items']} items, {res['below_9']} below 9, "
            f"minimum {res['min']}, mean {res['mean']}.{test} (`{res['meta']['command']}` → "
            "`eval/results/model-answers.json`).\n")


def block_key_points() -> str:
    res = _load("key-points.json")
    if res is None:
        return "_not measured yet_\n"
    out = [f"What the grade card says about each key point, against labels written with the answers: "
           f"{res['rules']['shipped']['points']:,} labelled key points in {res['answers']} answers to the "
           f"{res['items']} held-out items (the claim checker's validation questions) — "
           f"{_source(res, 'key-points.json')}.", "",
           "| card rule | agrees with the label | not stated, shown covered | contradicted, shown covered "
           "| stated, shown missing | shown contradicted: labelled so |", "|---|---|---|---|---|---|"]
    for rule, m in res["rules"].items():
        shown = (f"{m['shown_contradicted_labelled_so']} of {m['shown_contradicted']}"
                 if "shown_contradicted" in m else "—")
        out.append(f"| {rule} | {m['agreement']:.3f} | {m['not_stated_shown_covered']} of {m['not_stated']} "
                   f"| {m['contradicted_shown_covered']} of {m['contradicted']} "
                   f"| {m['entailed_shown_missing']} of {m['entailed']} | {shown} |")
    return "\n".join(out) + "\n"


def block_checker() -> str:
    res = _load("claim-checker-train.json")
    if res is None:
        return "_not trained yet_\n"
    v = res["validation"]
    t = res["trained_on"]
    chain = []  # earlier runs this one continued from, oldest first
    prev = res.get("continued_from") or {}
    while prev:
        chain.insert(0, prev)
        prev = prev.get("continued_from") or {}
    how = f"`{res['command'].strip()}` in {res['train_seconds'] / 60:.0f} min"
    if chain:
        done = 0.0
        steps = []
        for c in chain:
            ep = float(c.get("epochs") or 1) - done
            done += ep
            steps.append(f"`{(c.get('command') or '').strip()}` ({ep:g} epoch)")
        how = (", then ".join(steps) + f", then continued with {how} ({res['epochs']:g} epochs in all)")
    out = [f"Trained by {how} on this 2-core CPU "
           f"({res['precision']}, seed {res['seed']}): {t['asag_train_pairs']:,} human-graded ASAG pairs + "
           f"{t['bank_train_pairs']:,} pairs for this bank's key points; {t['held_out_bank_items']} bank items that "
           "any evaluation set uses were never trained on. Validation on unseen questions "
           "(`eval/results/claim-checker-train.json`):", "",
           "| validation set (unseen questions) | pairs | accuracy | macro-F1 |", "|---|---|---|---|"]
    for k, m in v.items():
        if not k.startswith("hard-"):
            out.append(f"| {k} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |")
    hard = {k: m for k, m in v.items() if k.startswith("hard-")}
    if hard:
        out += ["", "Unseen answers to training items — the held-out fifth of the hard answers "
                "(`eval/claims/next/`: a number changed, spoken paraphrase, wrong in the rubric's words, compact "
                "expert), every key point (kp) and misconception (mc) pair:", "",
                "| held-out hard answers | pairs | accuracy | macro-F1 |", "|---|---|---|---|"]
        for k, m in hard.items():
            name = k.removeprefix("hard-").replace("-misconception", " (mc)")
            name = name if name.endswith("(mc)") else name + " (kp)"
            out.append(f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |")
    return "\n".join(out) + "\n"


def block_bench() -> str:
    res = _load("bench.json")
    if res is None:
        return "_not measured yet_\n"
    m = res.get("meta", {})
    sections, full = m.get("sections") or {}, m.get("full_run") or m

    def cpu(st: dict) -> str:
        # runs that did not record their CPU ran on the Intel AVX-512/AMX machine (eval/bench.py)
        return str(st.get("cpu") or "Intel, AVX-512 + AMX")

    # each row names the CPU of the run that measured it (bench.py's table() records the section; sections
    # are re-measured one at a time, on whatever CPU the session had): speed rows are not comparable across CPUs
    out = ["| measurement | CPU | result |", "|---|---|---|"]
    for row in res.get("table", []):
        where = row.get("cpu") or cpu(sections.get(row.get("section", ""), full))
        out.append(f"| {row['what']} | {where} | {row['result']} |")

    def src(st: dict) -> str:
        return (f"`{st.get('command', 'python eval/bench.py')}` (git {str(st.get('git_sha', '?'))[:10]}, "
                f"{st.get('date', '?')}, {cpu(st)})")

    parts = [f"{src(full)}"] if set(sections) != {"grading", "checker_concurrency", "llm", "ask", "batch", "ui_start", "cli_start", "ui_card"} else []
    for st in {json.dumps(v, sort_keys=True): v for v in sections.values()}.values():
        names = ", ".join(sorted(k for k, v in sections.items() if v == st))
        parts.append(f"{src(st)} for the rows on {names}")
    out += ["", f"Source: {'; '.join(parts)} → `eval/results/bench.json` ({m.get('machine', '')})."]
    return "\n".join(out) + "\n"


def block_retrieval() -> str:
    res = _load("retrieval.json")
    if res is None:
        return "_not measured yet_\n"
    out = ["| method | recall@1 | recall@3 | recall@5 | MRR |", "|---|---|---|---|---|"]
    for name in ("bm25", "dense", "hybrid"):
        m = res[name]
        out.append(f"| {name} | {m['recall@1']:.3f} | {m['recall@3']:.3f} | {m['recall@5']:.3f} | {m['mrr']:.3f} |")
    lat = res.get("latency_ms", {})
    out += ["", f"Search latency (whole call): p50 {lat.get('p50')} ms, p95 {lat.get('p95')} ms. "
                "Source: `interviewer eval retrieval` → `eval/results/retrieval.json`."]
    return "\n".join(out) + "\n"


def _blind_pooled(pool: dict | None) -> str:
    """One sentence: the blind sets pooled (each written without seeing a result, read once when first scored)."""
    if not pool:
        return ""
    cov = pool["covered"]
    first, last = pool["splits"][0], pool["splits"][-1]
    return (f"Pooled over the blind sets {first} … {last} ({pool['n']} questions; `blind_pooled`): covered "
            f"citation {cov['citation_correct_any']:.3f} ({round(cov['citation_correct_any'] * cov['n'])} of "
            f"{cov['n']}), right entry cited or listed {cov['right_item_cited_or_related']:.3f}, uncovered "
            f"refused {pool['refusal_recall']:.3f} (precision {pool['refusal_precision']:.3f}). ")


def block_ask() -> str:
    res = _load("ask.json")
    if res is None:
        return "_not measured yet_\n"
    out = ["| ask, questions written for this | rule | n | cites a right item (covered) | right item cited or listed as related (covered) | first citation right (covered) | "
           "cites a right item (partly covered) | refusal precision | refusal recall | not covered but answered: "
           "says what the bank lacks | answerable, yet flagged (of them covered) | expected entries cited (covered): as shown / "
           "without comparison sides | citations that are expected entries (covered): as shown / without sides |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    runs = [(res, "shipped", "`interviewer eval ask` → `eval/results/ask.json`")]
    one = _load("ask-one-reranker.json")
    if one is not None:
        runs.append((one, "one reranker for every question, `ask.short_reranker = false`",
                     "`INTERVIEWER_ASK__SHORT_RERANKER=false interviewer eval ask --out eval/results/ask-one-reranker.json` "
                     "→ `eval/results/ask-one-reranker.json`"))
    for n, label in (("v1", "first reranker"), ("v2", "second reranker"),
                     ("short", "a reranker trained with short questions, withdrawn")):
        earlier = _load(f"ask-reranker-{n}.json")
        if earlier is not None:
            runs.append((earlier, label, "`" + str(earlier["meta"]["command"]) + f"` → `eval/results/ask-reranker-{n}.json`"))
    decision = _load("ask-threshold-decision.json")
    other = _load("ask-cosine.json")
    if other is not None and other.get("method") != res.get("method"):
        runs.append((other, "`ask.reranker = false`",
                     "`INTERVIEWER_ASK__RERANKER=false interviewer eval ask --out eval/results/ask-cosine.json` → "
                     "`eval/results/ask-cosine.json`"))
    for split, key in (("dev", "dev"), ("test", "test"), ("test-b", "test_b"), ("test-c (comparisons)", "test_c"),
                       ("test-d (choices, \"A or B\")", "test_d"), ("test-e (blind, 2026-12-04)", "test_e"),
                       ("test-f (blind, decided the threshold)", "test_f"),
                       ("test-g (blind, decided the lexical rule)", "test_g"),
                       ("test-h (blind, a plain reading, 2026-12-05)", "test_h"),
                       ("test-i (blind, a plain reading, 2026-12-05)", "test_i"),
                       ("test-j (blind, a plain reading after the ONNX change, 2026-12-05)", "test_j"),
                       ("test-k (blind, a plain reading, 2026-12-05)", "test_k"),
                       ("test-l (blind, read once after the title rule was chosen)", "test_l"),
                       ("basic-dev (short questions; chose the title rule)", "basic_dev"),
                       ("basic-test (short questions, blind, read once)", "basic_test"),
                       ("test-m (blind, read once after the short-question reranker was chosen)", "test_m"),
                       ("basic-2 (short questions, blind, read once)", "basic2"),
                       ("test-n (blind, a plain reading, 2026-12-05)", "test_n"),
                       ("basic-3 (short questions, blind, read once for the short-question router)", "basic3")):
        rows = [(r[key], label, r) for r, label, _ in runs if key in r]
        if f"{key}_without_comparison_rule" in res:
            rows.insert(1, (res[f"{key}_without_comparison_rule"], "shipped, without the comparison rule", res))
        if f"{key}_without_lexical_rule" in res:
            rows.insert(1, (res[f"{key}_without_lexical_rule"], "shipped, without the lexical-support rule", res))
        if f"{key}_without_title_rule" in res and res[f"{key}_without_title_rule"] != res.get(key):
            rows.insert(1, (res[f"{key}_without_title_rule"], "shipped, without the title rule", res))
        if decision is not None:  # the threshold the shipped one replaced, same code otherwise
            before = decision["after_exact_search"]
            m = before["test_f_at_previous"] if key == "test_f" else before["other_splits_at_previous"].get(key)
            if m is not None:
                rows.insert(1, (m, "before 2026-12-04", {"method": res.get("method"), "threshold_in_use": decision["previous"]}))
        for m, label, r in rows:
            cov, part = m.get("covered", {}), m.get("partly", {})
            leak = (f"{m['of_which_flagged_unknown_term']} of {m['not_covered_answered']}"
                    if "not_covered_answered" in m else "—")
            rule = f"{r.get('method', 'cosine')} ≥ {r['threshold_in_use']} ({label})"
            out.append(f"| {split} | {rule} | {m['n']} | {_f(cov.get('citation_correct_any'))} | "
                       f"{_f(cov.get('right_item_cited_or_related'))} | "
                       f"{_f(cov.get('citation_correct_first'))} | {_f(part.get('citation_correct_any'))} | "
                       f"{_f(m['refusal_precision'])} | {_f(m['refusal_recall'])} | {leak} | "
                       f"{m.get('answerable_flagged_unknown_term', '—')}"
                       + (f" ({m['covered_flagged_unknown_term']})" if "covered_flagged_unknown_term" in m else "")
                       + " | "
                       + (f"{_f(cov['expected_items_cited'])} / {_f(cov['expected_items_cited_without_sides'])} | "
                          f"{_f(cov['citations_expected'])} / {_f(cov['citations_expected_without_sides'])} |"
                          if "citations_expected" in cov else "— | — |"))
    lat = res["latency_s"]
    src = [f"{cmd} (git {str(r['meta']['git_sha'])[:10]})" for r, _, cmd in runs]
    out += ["", f"The second-citation gap was chosen on dev, and the refusal threshold first was too (0.1); "
                f"test-b is a second held-out set written later and scored with it; "
                f"test-c holds 60 comparison questions written after the comparison rule was fixed, test-d 50 "
                f"questions with an \"or\" written after choices were added to it, test-e 80 questions written "
                f"blind and scored once (eval/README.md, \"Ask comparisons\", \"Ask, comparisons the bank cannot "
                f"make\"). On 2026-12-04 the threshold was re-chosen on those 472 questions pooled (all read by then, "
                f"so from then on they are development data, not tests) and adopted on test-f, 80 questions "
                f"written blind for that decision (eval/README.md, \"Ask threshold re-chosen\"; "
                f"`python eval/ask_threshold_sweep.py`, `eval/results/ask-threshold-decision.json`). "
                f"The lexical-support rule (a first hit below {res.get('lexical_below')} confidence must use at least "
                f"{res.get('lexical_min')} of the question's distinctive words, IDF-weighted) was chosen on the 552 "
                f"questions read by then and adopted on test-g, 80 questions written blind for that decision "
                f"(eval/README.md, \"Ask lexical support\"; `python eval/ask_lexical_sweep.py`, "
                f"`eval/results/ask-lexical-decision.json`). test-h, 80 more questions written blind the same way, "
                f"was first scored on 2026-12-05 with the rules already in place, to read them on unseen questions; "
                f"nothing was chosen on it. test-i, 80 more written the same way, was scored once later that day "
                f"the same way, the first blind reading of the related entries (\"right item cited or listed\"), "
                f"test-j, 80 more, once after the query-side models moved to ONNX Runtime, and test-k, 80 more, "
                f"once later that day the same way. The title rule (an entry whose own question is within cosine "
                f"{res.get('title_min')} of the user's leads the answer) was chosen on the read sets and basic-dev, "
                f"the half of 120 short questions a learner types first (eval/README.md, \"Ask: a question that "
                f"matches an entry's own question\"; `python eval/ask_title_sweep.py`, "
                f"`eval/results/ask-title-sweep.json`), then test-l (80, blind) and basic-test were read once; "
                f"a \"without the title rule\" row is shown where the rule changes a number. A reranker "
                f"retrained with short questions was adopted on the 1,152 questions read by then, and test-m (80) "
                f"and basic-2 (120 short), written blind for that decision, were read once with both rerankers; "
                f"it was then withdrawn because it broke Ask behaviours the test suite requires (its rows: "
                f"eval/README.md, \"Ask reranker trained with short questions\"). Its second try (a compared "
                f"side's entry is the hit whose own question is nearest \"What is <side>?\" — kept; the reranker "
                f"retrained — rejected on dev: results/ask-reranker-short2-decision.json) had test-n (80) written "
                f"blind for it, which became a plain reading of the shipped Ask. Since then a short question "
                f"(at most 9 words) that compares nothing is read by that retrained reranker and every other "
                f"question by the main one: adopted on the 1,352 read questions and read once on basic-3 (120 "
                f"short questions, blind; eval/README.md, \"Ask: short questions read by the short-question "
                f"reranker\"). "
                + _blind_pooled(res.get("blind_pooled")) +
                f"Whole grounded answer (shipped rule): p50 {lat['p50'] * 1000:.0f} ms, "
                f"p95 {lat['p95'] * 1000:.0f} ms. Source: " + "; ".join(src) + "."]
    return "\n".join(out) + "\n"


def block_sandbox() -> str:
    res = _load("bench-sandbox.json")
    if res is None:
        return "_not measured yet_\n"
    r, m = res["results"], res["meta"]
    over = r["bubblewrap"]["median_s"] - r["inprocess"]["median_s"]
    return (f"Sandbox overhead for a passing exercise (`{m['exercise']}`, {m['tests']} hidden tests, median of "
            f"{r['bubblewrap']['n']} runs): {r['bubblewrap']['median_s']:.2f} s in bubblewrap vs "
            f"{r['inprocess']['median_s']:.2f} s in-process, i.e. **{over:.2f} s** (bwrap itself "
            f"{r['bwrap_true']['median_s'] * 1000:.0f} ms; the rest is starting Python with numpy and hypothesis). "
            "Source: `python eval/bench_sandbox.py` → `eval/results/bench-sandbox.json`.\n")


def block_load() -> str:
    res = _load("load.json")
    if res is None:
        return "_not measured yet_\n"
    out = ["| replicas | users | graded answer p50 / p95 | start p95 | hint p95 | report p95 | requests/s | "
           "answers acknowledged | lost | duplicated | failed requests |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["runs"]:
        a = r["actions"]
        g = a.get("answer (graded)", {})
        tot = a.get("Aggregated", {})

        def p95(name: str, a: dict = a) -> str:
            return f"{a[name]['p95_ms'] / 1000:.1f} s" if name in a else "—"

        out.append(f"| {r['replicas']} | {r['users']} | {g.get('p50_ms', 0) / 1000:.1f} s / {g.get('p95_ms', 0) / 1000:.1f} s | "
                   f"{p95('start')} | {p95('hint')} | {p95('report')} | {tot.get('requests_per_s', '—')} | "
                   f"{r['acknowledged_answers']} | {r['lost_answers']} | {r['duplicated_answers']} | "
                   f"{tot.get('failures', '—')} |")
    m = res["machine"]
    out += ["", f"Each run {res['runs'][0]['seconds']} s. Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_mb']} MB. "
                f"Source: `{res['command']}` → `eval/results/load.json` (git {str(res['git_sha'])[:10]}, {res['date']})."]
    return "\n".join(out) + "\n"


BLOCKS = {"load": block_load, "d2": block_d2, "d2-llm": block_d2_llm, "own": block_own, "asag": block_asag, "model-answers": block_model_answers,
          "key-points": block_key_points,
          "checker": block_checker, "bench": block_bench, "retrieval": block_retrieval,
          "ask": block_ask, "sandbox": block_sandbox}


def render(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        fn = BLOCKS.get(m.group("name"))
        body = fn() if fn else m.group("body")
        return m.group(1) + body + m.group(4)

    return BLOCK.sub(sub, text)


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in argv:
        if new != text:
            print("README.md tables differ from eval/results: run `python eval/render_readme.py`", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
