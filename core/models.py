"""The data the pipeline produces and the pages show."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Stage(str, Enum):
    """A job's status: pending, one per pipeline step in the order the steps run (core.pipeline.steps.STEPS, which
    tests/test_layers.py keeps equal to this), then completed or failed. A new step adds its member here."""

    PENDING = "pending"
    DOWNLOADING = "downloading"
    EXTRACTING_AUDIO = "extracting_audio"
    UPLOADING = "uploading"
    TRANSCRIBING = "transcribing"
    DIARIZING = "diarizing"
    TRANSLATING = "translating"
    ANALYZING = "analyzing"
    GENERATING_EMBEDDINGS = "generating_embeddings"
    STORING = "storing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return _SHOWN_AS[self][0]

    @property
    def icon(self) -> str:
        return _SHOWN_AS[self][1]


_SHOWN_AS: dict[Stage, tuple[str, str]] = {
    Stage.PENDING: ("Pending", "⏳"),
    Stage.DOWNLOADING: ("Downloading", "⬇️"),
    Stage.EXTRACTING_AUDIO: ("Extracting audio", "🎚️"),
    Stage.UPLOADING: ("Uploading", "📦"),
    Stage.TRANSCRIBING: ("Transcribing", "📝"),
    Stage.DIARIZING: ("Finding speakers", "🗣️"),
    Stage.TRANSLATING: ("Translating", "🌐"),
    Stage.ANALYZING: ("Analyzing", "🧠"),
    Stage.GENERATING_EMBEDDINGS: ("Generating embeddings", "🧭"),
    Stage.STORING: ("Storing", "💾"),
    Stage.COMPLETED: ("Completed", "✅"),
    Stage.FAILED: ("Failed", "❌"),
}

#: The stages a worker runs, in order.
WORK_STAGES: tuple[Stage, ...] = tuple(s for s in Stage if s not in (Stage.PENDING, Stage.COMPLETED, Stage.FAILED))
FINAL_STATUSES = (Stage.COMPLETED, Stage.FAILED)
#: Vectors per request, to a hosted embedding API and to the library: full requests, and progress that
#: moves on long videos, without one request of tens of megabytes.
VECTOR_BATCH = 256


#: The categories a video can fall into, each described by a few typical videos; a video takes the
#: category whose closest description is closest to what is said in it.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "news": ("breaking news report on current events", "journalists report the headlines of the day",
             "a press conference about an incident"),
    "education": ("a lesson or lecture explaining a subject to students", "a tutorial that teaches how to do something",
                  "a teacher explains a course topic"),
    "technology": ("a review of a new laptop, smartphone or gadget", "software, programming and computers",
                   "artificial intelligence and tech companies"),
    "science": ("scientific research and experiments", "physics, chemistry, biology and space",
                "astronomy, planets and stars"),
    "sports": ("a football, basketball or tennis match", "athletes, teams, goals and championships",
               "a sports game result"),
    "music": ("a concert with a band and a singer", "songs, albums, melodies and lyrics",
              "musicians playing guitar, piano or drums"),
    "travel": ("a holiday trip to a foreign city", "tourism, hotels, flights and sightseeing",
               "exploring beaches, streets and landmarks on vacation"),
    "food": ("cooking a recipe in the kitchen", "restaurants, dishes and tasting food",
             "baking bread, cakes and desserts"),
    "entertainment": ("movies, television shows and celebrities", "a film review or comedy show",
                      "entertainment news about actors"),
    "gaming": ("playing video games", "gameplay, consoles, levels and players", "esports and game streamers"),
    "business": ("company earnings, sales and profits", "the stock market, investors and the economy",
                 "startups, jobs and corporate strategy"),
    "health": ("hospitals, doctors, nurses and patients", "illness, disease, medicine and vaccines",
               "fitness, exercise, diet and wellbeing"),
    "lifestyle": ("daily life vlog and personal routine", "fashion, home decoration and relationships",
                  "family life and self improvement"),
    "politics": ("government, elections and politicians", "parliament votes on a new law or budget",
                 "political parties and policy debates"),
}
# VADER marks a sentence neutral within ±0.05; a whole video needs a clearer lean to count as
# positive or negative, or one upbeat word in a factual talk would make it "positive".
POSITIVE_AT = 0.1
NEGATIVE_AT = -0.1


def sentiment_label(score: float) -> str:
    return "positive" if score >= POSITIVE_AT else "negative" if score <= NEGATIVE_AT else "neutral"


class Chapter(BaseModel):
    """A stretch of a video with a title: the creator's own, or found where the talk changes subject."""

    start: float
    end: float
    title: str
    source: Literal["creator", "generated"]
    #: What is said in it, in a sentence or two (generated chapters).
    summary: str | None = None


def chapters_by_segment(segments: list[Segment], chapters: list[Chapter]):
    """Each segment, with the chapters that begin at it (or just before it), in order; chapters that end before the
    first segment (a later page of a transcript) are left out."""
    upcoming = [c for c in chapters if not segments or c.end > segments[0].start]
    for segment in segments:
        starting = []
        while upcoming and upcoming[0].start <= segment.start + 0.5:
            starting.append(upcoming.pop(0))
        yield segment, starting


def chapter_at(chapters: list[Chapter], seconds: float) -> Chapter | None:
    """The chapter holding a moment of the video."""
    return next((chapter for chapter in chapters if chapter.start <= seconds < chapter.end), None)


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
    #: Where the job's JSON is POSTed when it completes or fails (given through the HTTP API).
    callback_url: str | None = None
    #: The playlist, channel or multi-video page the video came with, if any.
    collection_id: str | None = None
    #: The video's chapters: the creator's, else found in the transcript of a long video.
    chapters: list[Chapter] = Field(default_factory=list)

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
    #: How sure the recogniser was of the word (0-1), where it says.
    probability: float | None = None


class Segment(BaseModel):
    start: float
    end: float
    text: str
    #: Word-level times, where the engine gives them.
    words: list[Word] | None = None
    #: The same moment in the video's translation, and that translation's language, where the video has
    #: one (filled by the store's get_segments, for search hits).
    translation: str | None = None
    translation_language: str | None = None
    #: Who says it: a speaker id of the transcript ("S1"), where speakers were found; and what they are called
    #: (their name, else that id), filled by the store's get_segments for search hits.
    speaker: str | None = None
    speaker_name: str | None = None


class Speaker(BaseModel):
    """A voice in one video: S1, S2... in the order they first speak."""

    id: str
    #: The name a person gave it, and the name of a known voice it sounds like (not yet confirmed).
    name: str | None = None
    suggested_name: str | None = None
    #: Talk time.
    seconds: float = 0.0
    #: The voice's print (the mean of its windows' unit vectors), for recognising it in other videos, and the
    #: network that made it (SPEAKER_MODEL): prints of different networks are never compared.
    voice: list[float] | None = None
    voice_model: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.id

    def public_dict(self) -> dict:
        return self.model_dump(mode="json", exclude={"voice", "voice_model"})


class VoiceSample(BaseModel):
    """A named speaker's voice in one video: what a person's voice print is made from."""

    job_id: str
    speaker: str
    name: str
    seconds: float
    #: The speaker's voice print: empty where it was forgotten or VOICE_PROFILES is off (who and how long stay, for
    #: talk time), and where only who and how long are read.
    voice: list[float] = Field(default_factory=list)
    #: Whether a voice print is kept (also where it was not read), and the network that made it.
    has_voice: bool = False
    model: str = "ge2e"

    @property
    def person(self) -> str:
        return person_key(self.name)


def person_key(name: str) -> str:
    """One person whatever the case and spacing of their name."""
    return " ".join(name.split()).casefold()


class VoiceView(BaseModel):
    """A person named in the library's videos: in how many, with how much talk time, and whether their voice is
    recognised in new videos (a voice print is kept)."""

    name: str
    videos: int
    seconds: float
    recognised: bool = True


class Transcript(BaseModel):
    text: str
    language: str | None = None
    segments: list[Segment]
    engine: str = ""
    #: The words and names speech-to-text was told to expect (VOCABULARY and the collection's), and the prompt
    #: they made.
    vocabulary: list[str] = Field(default_factory=list)
    prompt: str | None = None
    #: Whether speakers were looked for, the voices found, and why there are none where none were found.
    diarized: bool = False
    speakers: list[Speaker] = Field(default_factory=list)
    speakers_note: str | None = None

    @property
    def from_captions(self) -> bool:
        """The creator's captions (no voices to tell apart), not speech-to-text."""
        return self.engine.startswith("captions:")

    def without_speakers(self) -> Transcript:
        """The transcript as one voice: no segment says who speaks it."""
        return self.model_copy(update={"segments": [s.model_copy(update={"speaker": None}) for s in self.segments]})

    def speaker_names(self) -> dict[str, str]:
        """Speaker id -> what to call them: the given name, else the id."""
        return {speaker.id: speaker.label for speaker in self.speakers}


def base_language(code: str | None) -> str:
    """'es' for 'es', 'es-419' or 'ES_es': what to compare when asking whether two languages differ."""
    return (code or "").replace("_", "-").split("-")[0].strip().lower()


class Translation(BaseModel):
    """The transcript in another language: one segment per transcript segment, at the same times."""

    language: str
    #: The spoken language it was translated from.
    source_language: str | None = None
    engine: str
    segments: list[Segment]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)

    def as_transcript(self) -> Transcript:
        return Transcript(text=self.text, language=self.language, segments=self.segments, engine=self.engine)


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
    #: When the audio was removed because AUDIO_RETENTION_DAYS passed; None while it is kept.
    audio_removed_at: str | None = None


class Collection(BaseModel):
    """The videos of one playlist, channel, profile or multi-video page."""

    id: str
    url: str
    platform: str
    #: The playlist's or channel's own id on its site (a digest of the page's address for other pages).
    source_id: str
    title: str | None = None
    #: Words and names speech-to-text should expect in its videos (beside VOCABULARY).
    vocabulary: list[str] = Field(default_factory=list)


class CollectionRef(BaseModel):
    id: str
    title: str | None


class JobView(BaseModel):
    """A job as programs see it: what the CLI's --json prints and the HTTP API answers."""

    id: str
    url: str
    platform: str
    video_id: str
    status: Stage
    stage: Stage
    progress: float
    progress_detail: str
    error: str | None
    title: str | None
    duration: float | None
    uploader: str | None
    upload_date: str | None
    thumbnail_url: str | None
    webpage_url: str | None
    created_at: str
    updated_at: str
    stage_times: dict[str, str]
    callback_url: str | None = None
    #: `{"id": ..., "title": ...}` of the playlist or channel it came with; null for a single video.
    collection: CollectionRef | None = None
    #: The creator's chapters (yt-dlp's, or those in the media file), else ones found where a long talk changes
    #: subject; empty for a short video.
    chapters: list[Chapter] = Field(default_factory=list)

    @classmethod
    def of(cls, job: Job, collection: Collection | None = None, **extra) -> JobView:
        fields = job.model_dump(include=set(JobView.model_fields) - {"collection"})
        reference = CollectionRef(id=collection.id, title=collection.title) if collection else None
        return cls(**fields, collection=reference, **extra)


class SubmittedJob(JobView):
    """A link handed in: the job (created, or the one already in the library for that video)."""

    job_id: str
    created: bool

    @classmethod
    def of(cls, job: Job, created: bool = True, collection: Collection | None = None) -> SubmittedJob:
        return super().of(job, collection, job_id=job.id, created=created)


class SegmentView(BaseModel):
    start: float
    end: float
    text: str
    #: Who says it ("S1"), where speakers were found.
    speaker: str | None = None


class SpeakerView(BaseModel):
    id: str
    #: The name given to the voice, and the name of a known voice it sounds like, until confirmed.
    name: str | None = None
    suggested_name: str | None = None
    #: Talk time.
    seconds: float = 0.0


class TranscriptView(BaseModel):
    text: str
    language: str | None
    engine: str
    #: What speech-to-text was told to expect, and the prompt it was given.
    vocabulary: list[str] = Field(default_factory=list)
    prompt: str | None = None
    segments: list[SegmentView]


class TranslationView(BaseModel):
    language: str
    source_language: str | None
    engine: str
    #: One per transcript segment, at the same times.
    segments: list[SegmentView]


class AnalysisView(BaseModel):
    summary: str
    topics: list[str]
    sentiment: Sentiment
    category: str
    language: str | None
    #: What analysed it: "local:vader+phrases+textrank" or "openai:<model>".
    engine: str = ""


class MediaLinks(BaseModel):
    """Where the stored copies of a job's media open: a presigned S3 URL, a signed Supabase URL, or the local file's
    path (on the machine that answers). Null while not stored, and for the audio once retention removed it."""

    audio_url: str | None = None
    thumbnail_url: str | None = None


class JobDetails(JobView):
    """A job with its transcript and analysis (`show --json`, `GET /jobs/{id}?details=true`)."""

    #: The stored audio and thumbnail (the top-level `thumbnail_url` is the site's own).
    media: MediaLinks = Field(default_factory=MediaLinks)

    transcript: TranscriptView | None = None
    #: The voices in the video, in the order they first speak; empty for one voice or creator captions, and
    #: then `speakers_note` says why.
    speakers: list[SpeakerView] = Field(default_factory=list)
    speakers_note: str | None = None
    #: The transcript in TRANSLATE_TO's language, when the video was spoken in another one.
    translation: TranslationView | None = None
    analysis: AnalysisView | None = None
    #: Hosted-engine use per stage and estimated dollars; None when only local engines ran.
    cost: dict | None = None


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
    #: The moment in the video's translation, where it has one.
    translation: str | None = None
    #: The language whose text matched: the spoken one, or the translation's (by meaning, or by its words).
    language: str | None = None
    #: Cosine similarity of meaning between the query and the segment, -1..1.
    score: float
    #: Whether the segment also contains the query's words (the keyword half of hybrid search).
    keyword_match: bool = False
    #: The title of the video's chapter holding the moment, where it has chapters.
    chapter: str | None = None
    #: Who said it: the speaker's name, else their id in the video ("S2"); null where no speakers were found.
    speaker: str | None = None


class SearchFilters(BaseModel):
    """Narrow a search to some videos. Empty lists and None mean no restriction."""

    platforms: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    sentiments: list[str] = Field(default_factory=list)
    #: Inclusive ISO dates (YYYY-MM-DD), compared with the upload date, else the date it was added.
    date_from: str | None = None
    date_to: str | None = None
    #: Only these videos (job ids): "ask this video".
    job_ids: list[str] = Field(default_factory=list)
    #: Only the videos of these collections (collection ids).
    collections: list[str] = Field(default_factory=list)
    #: Only the videos of these themes (theme ids).
    themes: list[str] = Field(default_factory=list)
    #: Only what these people said (speaker names, any case).
    speakers: list[str] = Field(default_factory=list)


class LibraryQuery(BaseModel):
    """Which completed videos the Dashboard counts. Empty lists and None mean no restriction."""

    platforms: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    #: Base languages ("en" also keeps "en-US").
    languages: list[str] = Field(default_factory=list)
    collections: list[str] = Field(default_factory=list)
    #: Only these videos (a theme's).
    job_ids: list[str] = Field(default_factory=list)
    #: Inclusive ISO dates (YYYY-MM-DD), compared with the upload date, else the date it was added.
    date_from: str | None = None
    date_to: str | None = None


class Tally(BaseModel):
    """How many videos have one value (a category, a day, a theme id, a topic...), and their average sentiment."""

    value: str
    videos: int
    score: float = 0.0


class MonthTally(BaseModel):
    value: str
    #: YYYY-MM of the videos' upload (else the month they were added).
    month: str
    videos: int


#: What LibrarySummary.by counts the videos by.
SUMMARY_COLUMNS = ("sentiment", "category", "platform", "language", "processed_day", "theme")


class LibrarySummary(BaseModel):
    """The Dashboard's numbers for the videos a LibraryQuery keeps, counted by the store (never row by row in the
    app): however large the library, the same few rows."""

    videos: int = 0
    seconds: float = 0.0
    #: Their average sentiment.
    score: float = 0.0
    #: Per SUMMARY_COLUMNS name, a tally per value; "theme" counts theme ids (a video in two counts in each; "" for
    #: the videos in none), "language" base languages ("" for unknown), "processed_day" the day each completed.
    by: dict[str, list[Tally]] = Field(default_factory=dict)
    #: Videos per theme id and upload month.
    theme_months: list[MonthTally] = Field(default_factory=list)
    #: The most frequent per-video topics (lower-cased), most first; each video counts once per topic.
    topics: list[Tally] = Field(default_factory=list)
    #: Videos per upload month for the few most frequent topics.
    topic_months: list[MonthTally] = Field(default_factory=list)
    #: The videos counted (their ids), for what is read per video (talk time, hosted cost).
    job_ids: list[str] = Field(default_factory=list)


class Usage(BaseModel):
    """What one engine used for one job stage (hosted engines only)."""

    stage: str = ""
    engine: str
    model: str
    audio_seconds: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None


#: The longest question the library answers, in characters.
MAX_QUESTION_CHARS = 1000
#: How many earlier questions and answers of a conversation are kept for a follow-up.
MAX_ASK_HISTORY = 10


class AskTurn(BaseModel):
    """One earlier question of a conversation and the answer it got, for a follow-up question."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: str | None = Field(default=None, max_length=20_000)


class Citation(BaseModel):
    """A moment an answer quotes or was written from."""

    #: The moment's number in the answer: "[2]" in a written answer; the offline answer cites by time.
    number: int
    job_id: str
    video_id: str
    title: str | None
    start: float
    end: float
    #: What the answer quotes: the sentence, in the language the answer is in.
    text: str
    #: The original video at this moment, where the site supports a start time.
    url: str
    #: The words as spoken, when `text` is their translation.
    original: str | None = None
    #: The language of `text`.
    language: str | None = None
    #: The title of the video's chapter holding the moment, where it has chapters.
    chapter: str | None = None
    #: Who said it, where the video's speakers were found.
    speaker: str | None = None


class Answer(BaseModel):
    """An answer to a question about the library, with the moments it comes from."""

    #: The answer, citing its moments; when the library does not cover the question, a sentence saying so.
    answer: str | None
    #: Whether the answer stands on cited moments of the library. False: `citations` is empty.
    supported: bool
    citations: list[Citation]
    #: What answered: `local:extractive` (the transcripts' own sentences) or `openai:<model>`.
    engine: str
    #: What a hosted model used and cost, where one answered.
    usage: Usage | None = None


class Theme(BaseModel):
    """A group of the library's videos about one subject, found from their vectors and named from their words."""

    id: str
    label: str
    #: The words that set the theme's videos apart from the rest of the library, most telling first.
    keywords: list[str] = Field(default_factory=list)
    job_ids: list[str] = Field(default_factory=list)
    #: Whether a person gave the label (it is then kept whatever the videos' words).
    named: bool = False
    #: A theme a person merged into another: its videos are shown in that one.
    merged_into: str | None = None


class ThemeView(BaseModel):
    id: str
    label: str
    keywords: list[str]
    videos: int
    job_ids: list[str]


class Follow(BaseModel):
    """A channel, playlist, profile or feed whose new videos are added to the library as they appear."""

    id: str
    url: str
    platform: str
    title: str | None = None
    #: The collection its videos go into.
    collection_id: str | None = None
    every_seconds: int
    #: Whether the videos listed when it was followed were only marked as seen, not added.
    new_only: bool = False
    callback_url: str | None = None
    created_at: str
    last_checked_at: str | None = None
    next_check_at: str
    videos_added: int = 0
    #: Why the last check failed; None after one that worked.
    last_error: str | None = None
    #: Checks failed in a row (the next waits longer after each).
    failures: int = 0
    #: Whether the source itself is gone (removed, private): it is still checked, and kept until unfollowed.
    gone: bool = False
    #: The video links the source has listed so far.
    seen: list[str] = Field(default_factory=list)


class FollowView(BaseModel):
    """A follow as programs see it (`follow --list --json`, `GET /follows`)."""

    id: str
    url: str
    platform: str
    title: str | None
    collection_id: str | None
    every_seconds: int
    new_only: bool
    created_at: str
    last_checked_at: str | None
    next_check_at: str
    videos_added: int
    #: The videos the source has listed so far (added, or marked as seen).
    videos_seen: int
    last_error: str | None
    #: `active`, `retrying` (the last check failed; it is tried again sooner) or `gone` (the source disappeared).
    status: Literal["active", "retrying", "gone"]

    @classmethod
    def of(cls, follow: Follow) -> FollowView:
        status = "gone" if follow.gone else "retrying" if follow.last_error else "active"
        return cls(**follow.model_dump(include=set(cls.model_fields) - {"status", "videos_seen"}), status=status,
                   videos_seen=len(follow.seen))


#: The longest text a corrected transcript line may hold.
MAX_SEGMENT_CHARS = 5000


class SegmentChange(BaseModel):
    index: int
    before: str
    after: str


class Edit(BaseModel):
    """One correction of a transcript, kept so it can be listed and taken back."""

    #: 1 for a transcript's first correction, one more for each after (an undo is a correction too).
    revision: int
    at: str
    #: Who made it: the API key's name, the signed-in person, or None (the command line, an open app).
    by: str | None = None
    kind: Literal["edit", "replace", "undo"]
    changes: list[SegmentChange]
    #: For an undo, the revision it took back.
    undoes: int | None = None
    #: Whether a later undo took this one back.
    undone: bool = False

    @property
    def standing(self) -> bool:
        """A correction still in the transcript: not an undo, and not taken back."""
        return self.kind != "undo" and not self.undone

