import json
import shutil
from pathlib import Path

import pytest
from conftest import run_cli

from interviewer.bank.importer import import_file, parse_import
from interviewer.bank.loader import load_bank
from interviewer.errors import KnowledgeError

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture()
def kn(tmp_path):
    dest = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, dest, ignore=shutil.ignore_patterns("imported"))
    return dest


def test_markdown_csv_json_imports(tmp_path, kn):
    md = tmp_path / "mine.md"
    md.write_text("### 1. What is a confusion matrix?\n**Answer:** A table of predicted vs actual classes.\n\n"
                  "2. What is recall?\nAnswer: TP / (TP + FN).\n- the share of positives found\n")
    csv_f = tmp_path / "cards.csv"
    csv_f.write_text('question,answer,difficulty,topic\n"What is precision?","TP / (TP + FP)",beginner,Evaluation & Metrics\n')
    js = tmp_path / "qa.json"
    js.write_text(json.dumps([{"question": "What is AUC?", "answer": "Area under the ROC curve."}]))
    bank = load_bank(kn)
    n0 = len(bank)
    for f in (md, csv_f, js):
        import_file(f, load_bank(kn), kn / "imported")
    bank = load_bank(kn)
    assert len(bank) == n0 + 4
    recall = next(it for it in bank.items.values() if it.question == "What is recall?")
    assert "share of positives" in recall.reference_answer
    prec = next(it for it in bank.items.values() if it.question == "What is precision?")
    assert prec.difficulty == "Beginner" and prec.topic == ["Evaluation & Metrics"]


@pytest.mark.parametrize("name,content,msg", [
    ("empty.md", b"", "empty"),
    ("blank.csv", b"   \n\n", "no content"),
    ("bin.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ("latin.csv", "question,answer\nWhat is café?,An answer\n".encode("latin-1"), "not UTF-8"),
    ("notes.docx", b"whatever", "unknown format"),
    ("bad.jsonl", b'{"question": "a?", "reference_answer": "b"}\n{"question": oops}\n', "bad.jsonl:2"),
    ("bad.csv", b'question,answer\n"What is x?","an answer",extra\n', "bad.csv:2"),
    ("unclosed.csv", b'question,answer\n"What is x?","an answer\n"What is y?","another"\n"What is z?",zz\n',
     "unclosed.csv:2: malformed CSV (check the quotes of the row that starts here)"),
    ("short.csv", b'question,answer,topic\n"What is x?"\n', "short.csv:2: fewer fields"),
    ("noans.md", b"1. What is x?\nAnswer:\n", "no answer"),
    ("bad.json", b'[{"question": "q?", "answer": "a"},\n {"question": }]', "bad.json:2"),
    ("topic.jsonl", b'{"question": "q?", "answer": "a", "topic": 7}\n', "'topic' must be text"),
    ("tags.json", b'[{"question": "q?", "answer": "a", "tags": 3}]', "'tags' must be text"),
])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(tmp_path, kn, name, content, msg):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(KnowledgeError) as e:
        import_file(f, load_bank(kn), kn / "imported")
    assert msg in str(e.value)
    assert not (kn / "imported").exists() or not any((kn / "imported").iterdir())


@pytest.mark.parametrize("content,msg", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file, not JSON Lines"),
    (b"", "the file is empty"),
    (b'{"question": "q", "student_answer": "a", "reference_answer": "r"}\n{oops\n', "answers.jsonl:2"),
])
def test_grade_batch_input_errors_name_its_own_format(tmp_path, content, msg):
    from interviewer.grading.batch import read_batch

    f = tmp_path / "answers.jsonl"
    f.write_bytes(content)
    with pytest.raises(KnowledgeError) as e:
        read_batch(f)
    assert msg in str(e.value) and "Markdown" not in str(e.value)


def test_cli_import_writes_under_the_data_dir_not_the_checkout(tmp_path):
    f = tmp_path / "mine.json"
    f.write_text(json.dumps([{"question": "What is a confusion matrix?", "answer": "Predicted vs actual counts."}]))
    data = tmp_path / "data"
    before = sorted((KNOWLEDGE / "imported").glob("*")) if (KNOWLEDGE / "imported").exists() else []
    r = run_cli("import", str(f), env={"INTERVIEWER_DATA_DIR": str(data), "INTERVIEWER_LLM__MODE": "none"})
    assert r.returncode == 0, r.stderr
    assert (data / "imported" / "mine.jsonl").exists()
    after = sorted((KNOWLEDGE / "imported").glob("*")) if (KNOWLEDGE / "imported").exists() else []
    assert before == after
    r = run_cli("bank", "show", "--json", "imp-mine-001", env={"INTERVIEWER_DATA_DIR": str(data)})
    assert r.returncode == 0 and "confusion matrix" in r.stdout, r.stderr


def test_cli_import_error_exit_code_and_bank_unchanged(tmp_path):
    f = tmp_path / "broken.jsonl"
    f.write_text('{"question": "ok?", "answer": "fine"}\nnot json\n')
    before = sorted((KNOWLEDGE / "imported").glob("*")) if (KNOWLEDGE / "imported").exists() else []
    r = run_cli("import", str(f))
    assert r.returncode != 0
    assert "broken.jsonl:2" in r.stderr and "Traceback" not in r.stderr
    after = sorted((KNOWLEDGE / "imported").glob("*")) if (KNOWLEDGE / "imported").exists() else []
    assert before == after


def test_reimport_needs_replace(tmp_path, kn):
    f = tmp_path / "q.json"
    f.write_text(json.dumps([{"question": "What is AUC?", "answer": "Area under the ROC curve."}]))
    import_file(f, load_bank(kn), kn / "imported")
    with pytest.raises(KnowledgeError, match="--replace"):
        import_file(f, load_bank(kn), kn / "imported")
    import_file(f, load_bank(kn), kn / "imported", replace=True)
    assert len(parse_import(f)) == 1
