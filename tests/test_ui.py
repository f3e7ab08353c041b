"""The Gradio app on 127.0.0.1: driven by gradio_client and by a real headless chromium."""

import os
import threading

import pytest
from conftest import free_port, have, make_services


@pytest.fixture(scope="module")
def app(svc, tmp_path_factory):
    from interviewer.ui.app import serve

    s = make_services(tmp_path_factory.mktemp("ui"), ui={"voice": False}, voice={"tts": "none"})
    for shared in ("embedder", "query_embedder", "bank", "chroma", "index", "retriever", "grader", "reranker"):
        s.__dict__[shared] = getattr(svc, shared)
    port = free_port()
    demo = serve(s, port=port, block=False)
    yield f"http://127.0.0.1:{port}/", s
    demo.close()


def launch_chromium(p):
    """Debian's headless chromium with the flags this closed network needs."""
    return p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"])


def text_of(msg):
    c = msg["content"]
    return c if isinstance(c, str) else " ".join(p.get("text", "") for p in c if isinstance(p, dict))


def test_whole_interview_through_gradio_client(app):
    from gradio_client import Client

    url, s = app
    c = Client(url, verbose=False)
    chat, card, audio, _ = c.predict("mock", "Deep Learning Foundations", "Any", 2, 0, False, "", api_name="/start")
    assert text_of(chat[-1]).startswith("Question 1/2")
    chat, card, _, _ = c.predict("no idea", chat, False, api_name="/submit")
    assert "Score" in text_of(chat[-2]) or "Follow-up" in text_of(chat[-1])
    for _ in range(4):
        if "Question 2/2" in text_of(chat[-1]):
            break
        chat, card, _, _ = c.predict("still not sure", chat, False, api_name="/submit")
    assert "Question 2/2" in text_of(chat[-1])
    assert "### Score:" in card and "Key points" in card and "Model answer" in card
    chat, card, _, _ = c.predict(chat, False, api_name="/skip")
    assert "Session report" in text_of(chat[-1])
    report = c.predict(api_name="/report")
    assert "average" in report[0]
    files = report[3]
    assert len(files) == 2
    c.close()


def test_skip_during_a_follow_up_grades_the_answer_through_gradio_client(app):
    """Skip pressed while a follow-up is pending skips the follow-up: the chat and the card show the
    answer's grade, and the interview moves on (the answer is not scored 0 as skipped)."""
    from gradio_client import Client

    url, _ = app
    c = Client(url, verbose=False)
    chat, *_ = c.predict("mock", "Any", "Any", 2, 0, False, "004-048", api_name="/start")
    assert "What is dropout?" in text_of(chat[-1])
    chat, *_ = c.predict("Dropout randomly zeroes units with probability p during training so neurons cannot "
                         "co-adapt, which reduces overfitting.", chat, False, api_name="/submit")
    assert "Follow-up" in text_of(chat[-1]) or "?" in text_of(chat[-1])
    chat, card, _, _ = c.predict(chat, False, api_name="/skip")
    said = " ".join(text_of(m) for m in chat[-4:])
    assert "Follow-up skipped" in said and "Score" in said and "Question 2/2" in text_of(chat[-1]), said
    assert "### Score:" in card and "skipped" not in card.split("\n")[0].lower(), card[:200]
    c.close()


def test_a_coding_exercise_inside_a_mock_through_gradio_client(app):
    from gradio_client import Client

    url, s = app
    c = Client(url, verbose=False)
    chat, *_ = c.predict("mock", "Any", "Any", 1, 0, False, "", True, api_name="/start")
    assert text_of(chat[-1]).startswith("Coding exercise")
    ex = next(e for e in s.exercises.values() if e.title in text_of(chat[-1]))
    out = c.predict(ex.starter, api_name="/code_run")
    assert "examples" in out.lower()
    chat, card, *_ = c.predict(ex.reference, "", chat, False, api_name="/code_submit")
    assert any("Score 10.0/10 on the hidden tests" in text_of(m) for m in chat)
    assert "Session report" in text_of(chat[-1])
    c.close()


def test_two_clients_never_see_each_others_state(app):
    from gradio_client import Client

    url, _ = app
    a, b = Client(url, verbose=False), Client(url, verbose=False)
    chat_a, *_ = a.predict("mock", "Computer Vision", "Any", 3, 0, False, "", api_name="/start")
    results = {}

    def run_b():
        results["b"] = b.predict("mock", "Coding", "Any", 3, 0, False, "", api_name="/start")

    t = threading.Thread(target=run_b)
    t.start()
    chat_a2, *_ = a.predict("Convolutions share weights across positions.", chat_a, False, api_name="/submit")
    t.join()
    chat_b = results["b"][0]
    assert "Computer Vision" in text_of(chat_a[-1]) and "Coding" in text_of(chat_b[-1])
    assert all("Coding" not in text_of(m) for m in chat_a2)
    chat_b2, *_ = b.predict(chat_b, False, api_name="/skip")
    assert "Question 2/3" in text_of(chat_b2[-1]) and "Coding" in text_of(chat_b2[-1])
    a.close()
    b.close()


@pytest.mark.skipif(not have("chromium"), reason="needs Debian chromium (make test installs it)")
def test_real_browser_starts_an_interview(app, artifacts, tmp_path):
    from playwright.sync_api import sync_playwright

    url, _ = app
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(url)
        page.get_by_label("Time limit per answer (s, 0 = none)").fill("90")
        page.get_by_role("button", name="Start interview").click()
        page.get_by_text("Question 1/3").wait_for(timeout=30_000)
        # a visible countdown for the time limit (at most 1:30), ticking in the browser; any value: on a
        # busy 2-core machine the page can render well after the question's clock started (this waited
        # for 1:2x once and failed at 1:1x under the full suite)
        page.wait_for_function("/(1:[0-2][0-9]|1:30|0:[0-5][0-9]) left for this answer/.test(document.body.innerText)",
                               timeout=15_000)
        first = page.locator("#answer-countdown").inner_text()
        page.wait_for_timeout(2_100)
        assert page.locator("#answer-countdown").inner_text() != first
        page.get_by_label("Your answer").fill("Gradient descent moves the weights against the gradient.")
        page.get_by_role("button", name="Submit", exact=True).click()
        # the grade or a follow-up in the chat (not the "Score per topic" plot title, which is always there)
        page.wait_for_function("/Follow-up:|Score:? \\d/.test(document.body.innerText)", timeout=30_000)
        shot = artifacts / "ui-interview.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000


@pytest.mark.skipif(not have("chromium"), reason="needs Debian chromium (make test installs it)")
def test_real_browser_end_during_a_follow_up_keeps_the_answer(app, artifacts):
    """A 3-question mock interview picked by id; End pressed while a follow-up is pending: the
    main answer is graded and the report lists it with its grade."""
    from playwright.sync_api import sync_playwright

    url, s = app
    thin = "Dropout is a regularization method that switches off some neurons."
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(url)
        page.get_by_label("Start with a question (id or words, optional)").fill("004-048")
        page.get_by_role("button", name="Start interview").click()
        page.get_by_text("What is dropout", exact=False).first.wait_for(timeout=30_000)
        page.get_by_label("Your answer").fill(thin)
        page.get_by_role("button", name="Submit", exact=True).click()
        page.get_by_text("Follow-up:", exact=False).first.wait_for(timeout=30_000)
        page.get_by_role("button", name="End", exact=True).click()
        page.wait_for_function("document.body.innerText.includes('Session report ·')", timeout=30_000)
        body = page.inner_text("body")
        page.screenshot(path=str(artifacts / "ui-end-during-followup.png"), full_page=True)
        browser.close()
    report = body.split("Session report ·")[1]  # the report in the chat (not the "Session report" accordion)
    assert "No questions were answered" not in body
    assert "[004-048]" in report and thin[:40] in report
    assert "Score" in body


@pytest.mark.skipif(not have("chromium") or not have("bwrap"), reason="needs Debian chromium and bubblewrap")
def test_real_browser_solves_a_coding_exercise(app, artifacts):
    """Pick an exercise, write the solution in the code editor, submit: the hidden-test report shows."""
    from playwright.sync_api import sync_playwright

    from interviewer.exercises import get_exercise

    url, s = app
    ex = get_exercise("ex-softmax", s.settings.knowledge_dir / "exercises")
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(url)
        page.get_by_role("tab", name="Coding").click()
        box = page.get_by_label("Exercise", exact=True)
        box.click()
        box.fill("ex-softmax")
        page.get_by_role("option", name=f"{ex.title} (ex-softmax)").click()
        page.get_by_text(ex.title, exact=False).first.wait_for(timeout=20_000)
        editor = page.locator(".cm-content").first
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.insert_text(ex.reference)
        page.get_by_role("button", name="Submit (hidden tests)").click()
        page.wait_for_function("document.body.innerText.includes('hidden tests passed')", timeout=60_000)
        body = page.inner_text("body")
        page.screenshot(path=str(artifacts / "ui-coding.png"), full_page=True)
        browser.close()
    n = len([ln for ln in ex.tests.splitlines() if ln.startswith("def test_")])
    assert f"ex-softmax: {n}/{n} hidden tests passed" in body and "Score 10.0/10" in body


@pytest.mark.skipif(not have("espeak-ng"), reason="espeak-ng is installed by setup")
def test_the_grade_card_does_not_wait_for_speech(svc, tmp_path):
    """Submit returns the card with no audio; the interviewer's voice comes from the chained
    /speak event, in its own queue (so no grade waits behind text-to-speech)."""
    import wave

    from gradio_client import Client

    from interviewer.ui.app import serve

    s = make_services(tmp_path, ui={"voice": True}, voice={"tts": "espeak"})
    for shared in ("embedder", "query_embedder", "bank", "chroma", "index", "retriever", "grader", "reranker"):
        s.__dict__[shared] = getattr(svc, shared)
    port = free_port()
    demo = serve(s, port=port, block=False)
    try:
        c = Client(f"http://127.0.0.1:{port}/", verbose=False)
        chat, card, audio, _ = c.predict("mock", "Any", "Any", 2, 0, True, "004-048", api_name="/start")
        assert audio is None
        chat, card, audio, _ = c.predict("Dropout zeroes random units in training to stop co-adaptation; "
                                         "it is switched off at inference.", chat, True, api_name="/submit")
        assert audio is None
        for _ in range(3):  # follow-ups until the question is graded
            if isinstance(card, str) and "### Score:" in card:
                break
            chat, card, audio, _ = c.predict("Nothing to add.", chat, True, api_name="/submit")
            assert audio is None
        assert "### Score:" in card
        said = text_of(chat[-1])
        wav = c.predict(said, True, api_name="/speak")
        with wave.open(wav) as w:
            assert w.getnframes() / w.getframerate() > 1.0  # a spoken sentence, not an empty file
        assert c.predict(said, False, api_name="/speak") is None  # speech off: nothing synthesised
        c.close()
    finally:
        demo.close()


@pytest.mark.skipif(not have("espeak-ng"), reason="espeak-ng is installed by setup")
def test_files_are_served_to_their_owner_only(svc, tmp_path):
    """With logins on, a report, an export, the interviewer's voice and an uploaded recording are
    each served to the user they belong to; another logged-in user with the URL gets 404."""
    import httpx
    from gradio_client import Client

    from interviewer.ui.app import serve
    from interviewer.ui.auth import add_user

    users = tmp_path / "users.json"
    add_user(users, "alice", "correct horse battery")
    add_user(users, "bob", "another long passphrase")
    add_user(users, "carol", "a third long passphrase")
    s = make_services(tmp_path / "d", ui={"voice": True, "users_file": str(users)}, voice={"tts": "espeak"})
    for shared in ("embedder", "query_embedder", "bank", "chroma", "index", "retriever", "grader", "reranker"):
        s.__dict__[shared] = getattr(svc, shared)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    demo = serve(s, port=port, block=False)

    def login(name: str, password: str) -> httpx.Client:
        h = httpx.Client(base_url=url, timeout=60)
        assert h.post("login", data={"username": name, "password": password}).status_code == 200
        return h

    try:
        alice = Client(url, auth=("alice", "correct horse battery"), verbose=False, download_files=False)
        chat, *_ = alice.predict("mock", "Any", "Any", 1, 0, True, "004-048", api_name="/start")
        for _ in range(4):
            chat, card, *_ = alice.predict("Dropout zeroes random units while training.", chat, True,
                                           api_name="/submit")
            if isinstance(card, str) and "### Score:" in card:
                break
        files = alice.predict(api_name="/report")[3]
        voice = alice.predict(text_of(chat[-1]), True, api_name="/speak")
        urls = [f["url"] for f in files] + [voice["url"]]
        a, b = login("alice", "correct horse battery"), login("bob", "another long passphrase")
        take = b"RIFF" + os.urandom(8) + b"WAVEfmt "  # fresh bytes: Gradio's upload cache outlives the server
        up = a.post("gradio_api/upload", files={"files": ("take.wav", take, "audio/wav")})
        urls.append(f"{url}gradio_api/file={up.json()[0]}")
        anonymous = httpx.Client(timeout=60)
        for u in urls:
            assert a.get(u).status_code == 200, u
            assert b.get(u).status_code == 404, u
            assert anonymous.get(u).status_code in (401, 403, 404), u
        assert "Dropout" in a.get(urls[0]).text
        # the same bytes uploaded by bob land on the same path: both uploaders keep access, no one else
        up_b = b.post("gradio_api/upload", files={"files": ("take.wav", take, "audio/wav")})
        assert up_b.json() == up.json()
        shared, carol = urls[-1], login("carol", "a third long passphrase")
        assert a.get(shared).status_code == 200 and b.get(shared).status_code == 200
        assert carol.get(shared).status_code == 404
    finally:
        demo.close()
