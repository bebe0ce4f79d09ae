"""The data the pipeline produces and the pages show."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field


class Stage(str, Enum):
    PENDING = "pending"
    DOWNLOADING = "downloading"
    EXTRACTING_AUDIO = "extracting_audio"
    UPLOADING = "uploading"
    TRANSCRIBING = "transcribing"
    ANALYZING = "analyzing"
    GENERATING_EMBEDDINGS = "generating_embeddings"
    STORING = "storing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


#: The stages a worker runs, in order.
WORK_STAGES: tuple[Stage, ...] = (
    Stage.DOWNLOADING,
    Stage.EXTRACTING_AUDIO,
    Stage.UPLOADING,
    Stage.TRANSCRIBING,
    Stage.ANALYZING,
    Stage.GENERATING_EMBEDDINGS,
    Stage.STORING,
)
FINAL_STATUSES = (Stage.COMPLETED, Stage.FAILED)
#: Vectors per request, to a hosted embedding API and to the library: full requests, and progress that
#: moves on long videos, without one request of tens of megabytes.
VECTOR_BATCH = 256


class Job(BaseModel):
    id: str
    url: str
    platform: str
    extractor: str
    video_id: str
    status: Stage = Stage.PENDING
    #: The stage the job is in, or failed in; "completed" once done.
    stage: Stage = Stage.PENDING
    #: Progress within the current stage, 0..1.
    progress: float = 0.0
    progress_detail: str = ""
    error: str | None = None
    title: str | None = None
    uploader: str | None = None
    duration: float | None = None
    upload_date: str | None = None
    description: str | None = None
    thumbnail_url: str | None = None
    webpage_url: str | None = None
    created_at: str
    updated_at: str
    #: ISO timestamp at which each stage started.
    stage_times: dict[str, str] = Field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def overall_progress(self) -> float:
        """0..1 across the whole pipeline, for one progress bar."""
        if self.status == Stage.COMPLETED:
            return 1.0
        if self.stage not in WORK_STAGES:
            return 0.0
        done = WORK_STAGES.index(self.stage)
        return min(1.0, (done + max(0.0, min(1.0, self.progress))) / len(WORK_STAGES))

    def public_dict(self) -> dict:
        return self.model_dump(mode="json")


class Word(BaseModel):
    start: float
    end: float
    text: str


class Segment(BaseModel):
    start: float
    end: float
    text: str
    #: Word-level times, where the engine gives them.
    words: list[Word] | None = None


class Transcript(BaseModel):
    text: str
    language: str | None = None
    segments: list[Segment]
    engine: str = ""


class Sentiment(BaseModel):
    label: str  # positive | neutral | negative
    score: float  # -1..1


class Analysis(BaseModel):
    summary: str
    topics: list[str]
    sentiment: Sentiment
    category: str
    language: str | None = None
    #: One compound score per transcript segment, for the sentiment timeline.
    segment_sentiment: list[float] = Field(default_factory=list)
    engine: str = ""


class AudioFile(BaseModel):
    job_id: str
    audio_path: str
    thumbnail_path: str | None = None
    duration: float
    size_bytes: int
    sample_rate: int


class SearchHit(BaseModel):
    job_id: str
    video_id: str
    title: str | None
    platform: str
    #: The original video at this moment, where the site supports a start time.
    url: str
    thumbnail_path: str | None = None
    segment_index: int
    start: float
    end: float
    text: str
    #: Cosine similarity of meaning between the query and the segment, -1..1.
    score: float
    #: Whether the segment also contains the query's words (the keyword half of hybrid search).
    keyword_match: bool = False


class SearchFilters(BaseModel):
    """Narrow a search to some videos. Empty lists and None mean no restriction."""

    platforms: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    sentiments: list[str] = Field(default_factory=list)
    #: Inclusive ISO dates (YYYY-MM-DD), compared with the upload date, else the date it was added.
    date_from: str | None = None
    date_to: str | None = None


class Usage(BaseModel):
    """What one engine used for one job stage (hosted engines only)."""

    stage: str = ""
    engine: str
    model: str
    audio_seconds: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
