"""Parsers for the five seed formats in ``knowledge/sources/``.

Each parser is a pure function from text to plain records, so it can be tested on
strings and reused by ``interviewer import``. Source files are never modified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import ftfy

from interviewer.errors import KnowledgeError


@dataclass
class SeedQA:
    """One question/answer pair as it appears in a seed file."""

    source: str  # file name, e.g. "004_4b6c22918726922d.txt"
    number: int  # item number inside the file
    question: str
    answer: str
    line: int  # 1-based line of the question in the file
    explanation: str = ""
    code: str = ""
    difficulty: str | None = None  # Beginner | Intermediate | Advanced | Math/Code | Expert
    section: str = ""  # the heading the item sits under

    @property
    def key(self) -> str:
        """Provenance key "<file prefix>:<number>", e.g. "004:17"."""
        return f"{self.source[:3]}:{self.number}"


@dataclass
class Bullet:
    """One topic bullet of a checklist (000, 001, 003)."""

    id: str  # "003:1.2.3" = file prefix : section.subsection.bullet
    source: str
    path: list[str]  # section, subsection/group titles
    text: str
    line: int
    done: bool = False
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- 004
_Q004 = re.compile(r"^(?:###\s*)?(\d{1,3})\.\s+(.+?\?|.+\.)\s*$")
_A004 = re.compile(r"^(?:\*\*)?Answer:(?:\*\*)?\s*(.*)$")


def parse_markdown_qa(text: str, source: str) -> list[SeedQA]:
    """Parse "N. Question / Answer: ..." Markdown, with or without ``###`` and bold.

    Answers run until the next question, level heading or horizontal rule, so
    multi-line and bulleted answers (items 61-103 of 004) are kept whole.
    """
    lines = text.splitlines()
    items: list[SeedQA] = []
    section = ""
    cur: SeedQA | None = None
    buf: list[str] = []
    in_answer = False
    in_fence = False

    def close() -> None:
        nonlocal cur, buf, in_answer
        if cur is not None:
            cur.answer = _tidy("\n".join(buf))
            items.append(cur)
        cur, buf, in_answer = None, [], False

    for i, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if line.strip().startswith("```"):
            in_fence = not in_fence
            if in_answer:
                buf.append(line)
            continue
        if not in_fence:
            if line.startswith("## ") and not line.startswith("### "):
                close()
                section = line[3:].strip()
                continue
            if line.strip() == "---":
                close()
                continue
            m = _Q004.match(line.strip())
            looks_like_q = m and (line.startswith("###") or (cur is None or in_answer) and _A004.match(_peek(lines, i)))
            if m and looks_like_q:
                close()
                cur = SeedQA(source=source, number=int(m.group(1)), question=m.group(2).strip(),
                             answer="", line=i, section=section)
                continue
            a = _A004.match(line.strip())
            if cur is not None and a and not in_answer:
                in_answer = True
                if a.group(1):
                    buf.append(a.group(1))
                continue
        if in_answer:
            buf.append(line)
    close()
    return items


def _peek(lines: list[str], i: int) -> str:
    """Next non-blank line after 1-based line ``i``."""
    for nxt in lines[i:]:
        if nxt.strip():
            return nxt.strip()
    return ""


def _tidy(text: str) -> str:
    """Collapse the blank lines between list items; strip bold markers around labels."""
    out: list[str] = []
    for ln in text.strip().splitlines():
        if not ln.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        out.append(ln.rstrip())
    joined = "\n".join(out).strip()
    # answers like "Greedy: x\n\nBeam: y" read better as one line per entry
    return re.sub(r"\n\n(?=\S)", "\n", joined) if _is_listy(out) else joined


def _is_listy(lines: list[str]) -> bool:
    body = [ln for ln in lines if ln]
    return len(body) > 1 and all(":" in ln[:40] or ln.lstrip().startswith(("-", "*")) for ln in body)


# --------------------------------------------------------------------------- 002
_LEVELS = ("Beginner", "Intermediate", "Advanced", "Math/Code")


def parse_nlp_master(text: str, source: str) -> list[SeedQA]:
    """Parse the "NLP Interview Master" page scrape (002).

    Block shape: number / question / difficulty / truncated summary / "Comprehensive
    Explanation" / full text / [``Python / PyTorch Code`` / code] / trailing category
    line. The truncated summary is dropped in favour of the full explanation.
    """
    lines = text.splitlines()
    starts = [i for i in range(len(lines) - 2)
              if lines[i].strip().isdigit() and lines[i + 2].strip() in _LEVELS]
    items: list[SeedQA] = []
    for n, s in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        block = [ln.rstrip() for ln in lines[s:end]]
        number, question, level = int(block[0]), block[1].strip(), block[2].strip()
        rest = block[3:]
        try:
            k = next(j for j, ln in enumerate(rest) if ln.strip() == "Comprehensive Explanation")
        except StopIteration:
            raise KnowledgeError(f"{source}:{s + 1}: item {number} has no 'Comprehensive Explanation'") from None
        summary = " ".join(ln.strip() for ln in rest[:k] if ln.strip())
        body = rest[k + 1:]
        # the block ends with a category echo ("Beginner", "Math_code", ...)
        while body and (not body[-1].strip() or body[-1].strip() in _LEVELS
                        or body[-1].strip().lower() in ("math_code", "intermediate", "advanced", "beginner")):
            body.pop()
        code = ""
        if "Python / PyTorch Code" in [b.strip() for b in body]:
            c = [b.strip() for b in body].index("Python / PyTorch Code")
            code = "\n".join(body[c + 1:]).strip("\n")
            body = body[:c]
        explanation = "\n".join(b for b in body).strip()
        if not explanation:
            explanation = summary.removesuffix("...").strip()
        items.append(SeedQA(source=source, number=number, question=question, answer=explanation,
                            explanation="", code=code, difficulty=level, line=s + 2,
                            section=level))
    return items


# --------------------------------------------------------------------- checklists
_DONE = re.compile(r"\s*(?:\*\*\s*-\s*done\s*\*\*|-\s*\*\*\s*done\s*\*\*|-\s*done)\s*$", re.I)
_TRAIL_DASH = re.compile(r"\s+-\s*$")


def repair_text(text: str) -> str:
    """Undo double-encoded UTF-8 (mojibake) with ftfy; a no-op on clean text."""
    return ftfy.fix_text(text)


def _clean_title(title: str) -> str:
    title = title.strip().strip("#").strip()
    title = re.sub(r"^[\U0001F300-\U0001FAFF\u2600-\u27BF\ufe0f]+\s*", "", title)  # 🔹 etc.
    title = re.sub(r"^\d+\.\s*", "", title)
    title = re.sub(r"^\d[^\sA-Za-z]*\s+", "", title)  # keycap digits and their residue
    title = re.sub(r"\s*⭐+", "", title)
    return title.replace("**", "").strip()


def _section_number(title: str, fallback: int) -> int | None:
    t = title.strip().lstrip("#").strip()
    if t.startswith("\U0001F51F"):  # 🔟
        return 10
    # keycap emoji ("1️⃣"); in 000 the double encoding lost a byte of U+FE0F, so ftfy
    # cannot restore it and a residue such as "1ï¸âƒ£" remains: read the digits of the run
    m = re.match(r"^(\d[^\sA-Za-z]*?)\s", t)
    if m and not re.match(r"^\d+\.", t):
        return int("".join(ch for ch in m.group(1) if ch.isdigit()))
    m = re.match(r"^(\d+)\.", t)
    if m:
        return int(m.group(1))
    return None


def parse_checklist(text: str, source: str) -> list[Bullet]:
    """Parse a Markdown topic checklist into bullets with their section path.

    ``##``/``###`` headings (numbered sections only: chatty trailers such as "How to use
    this list" are not study topics), ``-``/``*`` bullets (nested bullets take their
    parent as a group), "**Key Concepts**:"-style group bullets, a ``>`` quote (000's
    killer question) and trailing "done" marks (kept as ``done=True``).
    """
    text = repair_text(text)
    prefix = source[:3]
    lines = text.splitlines()
    bullets: list[Bullet] = []
    h2 = h3 = ""
    s_no: int | None = None
    sub_no = 0
    b_no = 0
    top_level = "### " if re.search(r"^### \d+\. ", text, re.M) and not re.search(r"^## \d", text, re.M) else "## "
    group: str | None = None
    group_indent = -1
    for i, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            continue
        if line.startswith(top_level) and (top_level == "### " or not line.startswith("### ")):
            s_no = _section_number(line.lstrip("#").strip() if top_level == "## " else line[4:], 0)
            h2, h3, sub_no, b_no, group = _clean_title(line), "", 0, 0, None
            if s_no is not None:
                h2 = re.sub(r"\s*⭐+.*$", "", h2).strip()
            continue
        if s_no is None:
            continue
        if top_level == "## " and line.startswith("### "):
            h3, sub_no, b_no, group = _clean_title(line), sub_no + 1, 0, None
            continue
        if stripped.startswith(">"):
            q = stripped.lstrip(">").strip().replace("**", "").strip()
            b_no += 1
            bullets.append(Bullet(f"{prefix}:{s_no}.{sub_no}.{b_no}", source, [h2] + ([h3] if h3 else []), q, i))
            continue
        m = re.match(r"^(\s*)[-*]\s+(.*)$", line)
        if not m:
            if stripped.startswith("**Why") and bullets and bullets[-1].id.startswith(f"{prefix}:{s_no}."):
                bullets[-1].notes.append(stripped.replace("**", ""))
            continue
        indent, body = len(m.group(1)), m.group(2).strip()
        gm = re.match(r"^\*\*(.+?)\*\*\s*:?\s*(.*)$", body)
        if gm and (body.endswith(":") or gm.group(1).endswith(":") or body.rstrip(":").endswith("**")):
            name = gm.group(1).rstrip(":").strip()
            if name.lower().startswith("why it matters"):
                continue
            group, group_indent = name, indent
            sub_no, b_no = sub_no + 1, 0
            continue
        if gm and gm.group(1).rstrip(":").lower().startswith("why it matters"):
            continue
        # a plain bullet that ends with ":" and has children below is a group too
        if body.endswith(":") and _has_children(lines, i, indent):
            group, group_indent = body.rstrip(":").strip(), indent
            continue
        if group is not None and indent <= group_indent and top_level == "## ":
            group = None
        done = bool(_DONE.search(body))
        body = _DONE.sub("", body)
        body = _TRAIL_DASH.sub("", body).replace("**", "").strip()
        body = re.sub(r"^⭐+\s*", "", body)  # a starred priority, not part of the topic
        body = body.rstrip(".").strip() if body.endswith(".") and top_level == "### " else body
        b_no += 1
        path = [h2] + ([h3] if h3 else []) + ([group] if group else [])
        bullets.append(Bullet(f"{prefix}:{s_no}.{sub_no}.{b_no}", source, path, body, i, done=done))
    return bullets


def _has_children(lines: list[str], i: int, indent: int) -> bool:
    for nxt in lines[i:]:
        if not nxt.strip():
            continue
        m = re.match(r"^(\s*)[-*]\s+", nxt)
        return bool(m and len(m.group(1)) > indent)
    return False
