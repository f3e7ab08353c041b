from pathlib import Path

from interviewer.bank.loader import level_004
from interviewer.bank.parsers import parse_checklist, parse_markdown_qa, parse_nlp_master, repair_text

SRC = Path(__file__).resolve().parent.parent / "knowledge" / "sources"


def _read(prefix: str) -> tuple[str, str]:
    p = next(SRC.glob(f"{prefix}_*.txt"))
    return p.read_text(encoding="utf-8"), p.name


def test_004_all_200_items_including_the_unformatted_block():
    text, name = _read("004")
    items = parse_markdown_qa(text, name)
    assert [i.number for i in items] == list(range(1, 201))
    by = {i.number: i for i in items}
    # items 61-103 have no ### and no bold; 64 has a multi-line answer
    assert by[61].question == "What is teacher forcing in training?"
    assert "exposure bias" in by[61].answer
    assert by[64].answer.splitlines() == ["Greedy: Fast but low quality", "Beam Search: Better quality but more compute",
                                          "Sampling: More diverse but less coherent", "Nucleus: Balanced quality and diversity"]
    assert by[103].answer.startswith("Through confidence calibration")
    assert "softmax(QK^T/√d_k)V" in by[52].answer  # fenced code kept
    assert by[51].answer.count("\n- ") >= 4  # bulleted answer kept whole
    assert "Quick Reference" not in by[200].answer
    assert all(i.answer for i in items)
    assert [level_004(n) for n in (1, 50, 51, 120, 121, 180, 181, 200)] == [
        "Beginner", "Beginner", "Intermediate", "Intermediate", "Advanced", "Advanced", "Expert", "Expert"]


def test_002_all_100_items_with_difficulty_code_and_full_text_once():
    text, name = _read("002")
    items = parse_nlp_master(text, name)
    assert [i.number for i in items] == list(range(1, 101))
    levels = {i.difficulty for i in items}
    assert levels == {"Beginner", "Intermediate", "Advanced", "Math/Code"}
    code_items = [i for i in items if i.difficulty == "Math/Code"]
    assert len(code_items) == 25 and all(i.code for i in code_items)
    assert not any(i.code for i in items if i.difficulty != "Math/Code")
    by = {i.number: i for i in items}
    assert by[3].answer.endswith("For example, 'running' becomes 'run'.")  # the full text, not the truncated one
    assert not any(i.answer.endswith("...") for i in items)
    assert "def jaccard" in by[87].code
    assert all("Comprehensive Explanation" not in i.answer for i in items)


def test_checklists_sections_bullets_done_marks_and_mojibake_repair():
    t0, n0 = _read("000")
    b0 = parse_checklist(t0, n0)
    assert len(b0) == 71
    assert not any("â" in b.text or "ð" in b.text for b in b0)
    assert any(b.text == "BLEU ≠ quality" for b in b0)
    assert any(b.text == "Krippendorff's alpha" for b in b0)
    assert b0[-1].text == "Why does perplexity decrease but generation quality get worse?"
    assert {b.id.split(".")[0] for b in b0} == {f"000:{i}" for i in range(1, 13)}

    t1, n1 = _read("001")
    b1 = parse_checklist(t1, n1)
    assert len(b1) == 72
    assert {b.path[1] for b in b1} == {"Key Concepts", "Recent Advances"}

    t3, n3 = _read("003")
    b3 = parse_checklist(t3, n3)
    assert len(b3) == 180
    done = {b.text for b in b3 if b.done}
    assert "Feedforward neural networks" in done and "Failure modes (dead ReLU, saturation)" in done
    assert len(done) == 9
    assert not any("done" in b.text.lower() for b in b3)
    back = next(b for b in b3 if b.text.startswith("Backpropagation"))
    assert not back.done and not back.text.endswith("-")
    muon = next(b for b in b3 if "Muon" in b.text)
    assert muon.text == "Muon (high-level intuition)"
    nested = [b for b in b3 if "Common failure modes and debugging" in b.path]
    assert len(nested) == 3


def test_repair_is_a_library_fix_and_idempotent():
    broken = "Krippendorffâ€™s alpha"
    fixed = repair_text(broken)
    assert fixed == "Krippendorff's alpha"
    assert repair_text(fixed) == fixed
