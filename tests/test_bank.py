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
    assert st["merged_duplicates"]["groups"] == 12
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
        assert 3 <= len(r.key_points) <= 6 and 1 <= len(r.misconceptions) <= 3 and 2 <= len(r.follow_ups) <= 3
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


def test_content_hash_changes_with_content(bank):
    it = bank.get("004-010")
    h = it.content_hash()
    assert h == bank.get("004-010").content_hash()
    assert it.model_copy(update={"question": it.question + " (temperature)"}).content_hash() != h


def test_difficulties_from_seeds(bank):
    c = Counter(it.difficulty for it in bank.items.values() if it.provenance[0].source.startswith("002"))
    assert c["Math/Code"] == 25
    assert bank.get("004-190").difficulty == "Expert"
