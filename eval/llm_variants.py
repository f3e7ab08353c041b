"""Can the Ask paragraph's first token come sooner with the same model? (issue 11: < 2 s)

Times the first token and the generation rate of the bundled Qwen2.5-Coder-1.5B GGUF on the Ask
prompts of the first six covered dev questions (what ``eval/bench.py``'s Ask row sends), as
shipped (Q4_K_M) and in variants llama.cpp can make offline from it: with flash attention, and
requantized to Q8_0 and Q4_0 (``llama_model_quantize``, requantizing the installed file; written
beside it under ``data_dir/models``). Speed only: nothing here is chosen on answer quality.
Run on an idle machine: ``python eval/llm_variants.py`` → ``eval/results/llm-variants.json``.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = [("Q4_K_M", False), ("Q4_K_M", True), ("Q8_0", False), ("Q4_0", False)]


def ask_prompts(svc, n: int = 6) -> list:
    from interviewer.concepts import (
        add_compared,
        answerable,
        coverage_rule,
        lexical_support,
        llm_context,
        retrieve_for_question,
        side_entries,
    )
    from interviewer.prompts import render

    qs = [json.loads(line) for line in (ROOT / "eval" / "ask" / "questions.jsonl").read_text().splitlines() if line.strip()]
    qs = [q for q in qs if q.get("split") == "dev" and q.get("kind") == "covered"][:n]
    rule, out = coverage_rule(svc), []
    for q in qs:
        sides = side_entries(svc, q["question"])  # what answer_question decides and shows (refused: no LLM call)
        hits = retrieve_for_question(svc, q["question"])
        support = lexical_support(q["question"], hits[0][0].id, svc.bank) if hits else None
        rel = add_compared(answerable(hits, sides, rule, support), sides, rule)
        if rel:
            out.append(render(svc.settings.prompts_dir, "ask", question=q["question"], context=llm_context(rel)))
    return out


def variant_path(src: Path, quant: str) -> Path:
    import llama_cpp

    if quant == "Q4_K_M":
        return src
    dest = src.with_name(src.stem.replace("q4_k_m", quant.lower()) + ".gguf")
    if not dest.exists():
        p = llama_cpp.llama_model_quantize_default_params()
        p.ftype = {"Q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0, "Q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0}[quant]
        p.allow_requantize = True
        if llama_cpp.llama_model_quantize(str(src).encode(), str(dest).encode(), p) != 0:
            raise SystemExit(f"quantizing to {quant} failed")
    return dest


def main() -> None:
    from llama_cpp import Llama

    from interviewer.llm.models import ensure_default_gguf
    from interviewer.settings import load_settings
    from interviewer.wiring import Services

    svc = Services(load_settings())
    prompts = ask_prompts(svc)
    src = ensure_default_gguf(svc.settings.data_dir / "models")
    runs: dict[tuple[str, bool], dict] = {}
    # two rounds, the second in reverse order: this machine drifts, so no variant always runs first
    for quant, flash in VARIANTS + VARIANTS[::-1]:
        path = variant_path(src, quant)
        llm = Llama(model_path=str(path), n_ctx=4096, n_threads=2, verbose=False, seed=7, flash_attn=flash)
        firsts, rates = [], []
        for messages in prompts:
            t, first, n = time.perf_counter(), None, 0
            for chunk in llm.create_chat_completion(messages=messages, temperature=0.0, max_tokens=120, stream=True):
                d = chunk["choices"][0].get("delta", {}).get("content")
                if d:
                    if first is None and d.strip():
                        first = time.perf_counter() - t
                    n += 1
            total = time.perf_counter() - t
            firsts.append(first or total)
            rates.append(n / max(total - (first or total), 1e-6))
        run = runs.setdefault((quant, flash), {"quant": quant, "flash_attn": flash,
                                               "file_gb": round(path.stat().st_size / 1e9, 2),
                                               "first_token_s": [], "warm": [], "rates": []})
        run["first_token_s"] += [round(f, 2) for f in firsts]
        run["warm"] += firsts[1:]
        run["rates"] += rates
        print(quant, flash, [round(f, 2) for f in firsts], flush=True)
        del llm
    rows = [{**{k: v for k, v in r.items() if k not in ("warm", "rates")},
             "first_token_p50_s": round(statistics.median(r["first_token_s"]), 2),
             "first_token_p50_s_warm": round(statistics.median(r["warm"]), 2),
             "generation_tok_s_p50": round(statistics.median(r["rates"]), 1)} for r in runs.values()]
    sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    out = {"rows": rows, "meta": {"git_sha": sha, "date": time.strftime("%Y-%m-%d"), "command": "python eval/llm_variants.py",
                                  "cpu": platform.processor() or platform.machine(), "n_threads": 2,
                                  "prompts": "Ask prompts of the first 6 covered dev questions, two rounds (the second in reverse "
                                             "variant order); the first prompt of a load is cold (system prompt not yet "
                                             "cached), hence the warm median too"}}
    (ROOT / "eval" / "results" / "llm-variants.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
