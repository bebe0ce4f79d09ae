"""The one contract every store keeps, and the errors a store raises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from core.models import (
    Analysis,
    AudioFile,
    Chapter,
    Collection,
    Edit,
    Follow,
    Job,
    LibraryQuery,
    LibrarySummary,
    SearchFilters,
    Segment,
    Speaker,
    Stage,
    Theme,
    Transcript,
    Translation,
    Usage,
    VoiceSample,
)
from core.vectors import QueryVector

JOB_FIELDS = set(Job.model_fields)


class FoundMoment(NamedTuple):
    """What a search hit shows of a moment beyond its score: the segment (its translation, who says it), its
    video, the video's thumbnail and the language the video is spoken in."""

    segment: Segment
    job: Job
    thumbnail_path: str | None
    language: str | None


def chapter_rows(chapters) -> list[dict]:
    """Chapters (models or their dicts) as the JSON a store keeps."""
    return [chapter.model_dump() if isinstance(chapter, Chapter) else dict(chapter) for chapter in chapters]
class DuplicateJob(Exception):
    def __init__(self, existing: Job):
        super().__init__(existing.id)
        self.existing = existing


class LibraryUnavailable(Exception):
    """The library's database cannot be reached just now; the same call may work later."""


class ReadOnlyLibrary(Exception):
    """This process may read the library but not change it (it holds no key that may write)."""


class MediaStoreUnavailable(LibraryUnavailable):
    """The object store holding the media does not answer (or answers 5xx) just now; the same call may work later."""


class MediaStoreRefused(Exception):
    """The object store refuses what the app asks (wrong credentials, a missing permission, a bad address): a
    setting to fix, not something to retry. The message says which."""


class Store(Protocol):
    #: Whether this process may only read the library: every write then raises ReadOnlyLibrary.
    read_only: bool

    def create_job(self, *, url: str, platform: str, extractor: str, video_id: str) -> Job:
        """Insert a pending job; raises DuplicateJob when (platform, video_id) is already there."""
    def get_job(self, job_id: str) -> Job | None: ...
    def get_jobs(self, job_ids: list[str]) -> dict[str, Job]:
        """The jobs of those ids that exist, by id, in one read."""
    def find_job(self, platform: str, video_id: str) -> Job | None: ...
    def list_jobs(self, *, statuses: list[str] | None = None, platforms: list[str] | None = None,
                  collections: list[str] | None = None, limit: int | None = None, offset: int = 0) -> list[Job]:
        """The jobs of these statuses, platforms and collections (any, where None), newest first; `limit` of them
        from the `offset`-th on (all of them, where None)."""
    def job_counts(self, *, platforms: list[str] | None = None,
                   collections: list[str] | None = None) -> dict[str, int]:
        """How many jobs of these platforms and collections there are in each status (statuses without any absent),
        counted by the store."""
    def save_collection(self, *, url: str, platform: str, source_id: str, title: str | None) -> Collection:
        """The collection of (platform, source_id): created, or the existing one (retitled when a title is given)."""
    def get_collections(self, ids: list[str] | None = None) -> list[Collection]:
        """These collections (all of them when None), newest first."""
    def platforms(self) -> list[str]:
        """The platforms the library's videos come from, in order."""
    def library_summary(self, query: LibraryQuery, top_topics: int = 40, trend_topics: int = 5) -> LibrarySummary:
        """The completed, analysed videos `query` keeps, counted and averaged in the database: by sentiment,
        category, platform, base language, day completed and theme; themes and the `trend_topics` most frequent
        topics by upload month; the `top_topics` most frequent topics."""
    def set_collection_vocabulary(self, collection_id: str, words: list[str]) -> None:
        """The words and names speech-to-text should expect in a collection's videos."""
    def update_job(self, job_id: str, **fields) -> None: ...
    def enter_stage(self, job_id: str, stage: Stage, detail: str = "") -> None: ...
    def fail_job(self, job_id: str, stage: Stage, error: str) -> None: ...
    def reset_job(self, job_id: str) -> None:
        """Forget every result of the job and make it pending again (for reprocessing)."""
    def delete_job(self, job_id: str) -> None: ...

    def put_blob(self, bucket: str, name: str, source: Path) -> str: ...
    def media_location(self, key: str) -> Path | str | None:
        """A local file, or a URL (signed for private buckets), for a stored media key."""
    def media_problem(self) -> str | None:
        """Why media cannot be stored or opened just now (an object store that refuses or does not answer)."""

    def save_audio_file(self, audio: AudioFile) -> None: ...
    def get_audio_file(self, job_id: str) -> AudioFile | None: ...
    def get_audio_files(self, job_ids: list[str]) -> dict[str, AudioFile]: ...
    def expired_audio(self, before: str) -> list[AudioFile]:
        """Audio stored before this ISO time and still kept, oldest first."""
    def remove_audio(self, audio: AudioFile) -> None:
        """Delete the stored audio file and note when; the row, the thumbnail and every result stay."""
    def save_transcript(self, job_id: str, transcript: Transcript) -> None: ...
    def get_transcript(self, job_id: str) -> Transcript | None: ...
    def save_speakers(self, job_id: str, speakers: list[Speaker]) -> None:
        """Replace a transcript's speakers (their names), its segments untouched."""
    def add_library_usage(self, usage: Usage) -> None:
        """Note what a hosted engine used for the library rather than a job (an answer to a question)."""
    def library_costs(self) -> dict[str, dict]:
        """Estimated dollars and priced calls per library stage: {"ask": {"usd": 0.012, "calls": 3}}."""
    def save_voice_sample(self, sample: VoiceSample) -> None:
        """Keep a named speaker's voice print (replacing that speaker's earlier one)."""
    def remove_voice_sample(self, job_id: str, speaker: str) -> None: ...
    def get_voice_samples(self, with_voices: bool = True) -> list[VoiceSample]:
        """Every kept voice print, oldest first; without the prints themselves (which need the service role on
        Supabase) unless `with_voices`."""
    def forget_voice(self, name: str) -> int:
        """Delete a person's voice prints (any case; who spoke how long stays); how many there were."""
    def get_segments(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Segment]:
        """Those transcript segments, each with its translation's text where the video has one."""
    def save_translation(self, job_id: str, translation: Translation) -> None: ...
    def get_translation(self, job_id: str) -> Translation | None: ...
    def save_analysis(self, job_id: str, analysis: Analysis) -> None: ...
    def get_analysis(self, job_id: str) -> Analysis | None: ...
    def get_analyses(self, job_ids: list[str]) -> dict[str, Analysis]: ...
    def save_embeddings(self, job_id: str, model: str, vectors: np.ndarray,
                        parts: Sequence[tuple[int, int]] = ()) -> None:
        """The segments' vectors, each part's (`parts`: the segments [first, stop) of each chapter of a long video,
        core.library.chapters.chapter_parts) and the whole video's, replacing those of that model."""
    def has_embeddings(self, job_id: str, model: str) -> bool: ...
    def jobs_missing_embeddings(self, model: str) -> list[str]: ...
    def video_vectors(self, model: str) -> tuple[list[str], np.ndarray]:
        """The completed videos' whole-video vectors of this model: their job ids, and one unit row each."""
    def part_vectors(self, model: str) -> tuple[list[tuple[str, int]], np.ndarray]:
        """The completed videos' part (chapter) vectors of this model: (job id, chapter number), one unit row each."""
    def get_themes(self) -> list[Theme]:
        """Every theme, merged ones included, with its videos."""
    def save_themes(self, themes: list[Theme]) -> None:
        """Replace the themes and which videos belong to each (a video in at most one)."""
    def save_follow(self, follow: Follow) -> None:
        """Create or replace a follow (one per URL: another follow of the same URL is refused)."""
    def get_follows(self, ids: list[str] | None = None) -> list[Follow]:
        """These follows (all of them when None), oldest first."""
    def delete_follow(self, follow_id: str) -> None: ...
    def get_edits(self, job_id: str) -> list[Edit]:
        """A video's corrections, oldest first."""
    def add_edit(self, job_id: str, edit: Edit, base_revision: int) -> bool:
        """Record a correction as revision base_revision + 1, if base_revision is still the latest (False otherwise:
        someone corrected the transcript meanwhile); an undo marks the revision it takes back."""
    def add_usage(self, job_id: str, records: list[Usage]) -> None: ...
    def get_usage(self, job_id: str) -> list[Usage]: ...
    def costs(self) -> dict[str, float]: ...
    def search_segments(self, query: QueryVector, terms: list[str], model: str, limit: int,
                        filters: SearchFilters) -> list[tuple[str, int, float, bool]]:
        """(job_id, segment index, cosine similarity, keyword match) of the best segments, best first."""
    def prepare_search(self, model: str) -> None:
        """Load what searching this model's vectors needs, so that the first search does not wait for it."""
    def found_moments(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], FoundMoment]:
        """The moments at these (job_id, segment index) keys with what a search hit shows of their videos; keys
        not in the library are absent."""


#: The Store methods that change the library (or its media).
WRITES = frozenset({
    "create_job", "save_collection", "update_job", "enter_stage", "fail_job", "reset_job", "delete_job", "put_blob",
    "save_audio_file", "remove_audio", "save_transcript", "save_translation", "save_analysis", "save_embeddings",
    "add_usage", "save_speakers", "save_voice_sample", "remove_voice_sample", "forget_voice",
    "add_library_usage",
})


class GuardedWrites:
    """A store whose every write first asks `may_write()`; where it answers no, `refusal()` is raised instead and
    nothing is written. Reads go straight through."""

    def __init__(self, store: Store, may_write: Callable[[], bool], refusal: Callable[[], Exception]):
        self._store, self._may_write, self._refusal = store, may_write, refusal

    def __getattr__(self, name: str):
        found = getattr(self._store, name)
        if name not in WRITES:
            return found

        def guarded(*args, **kwargs):
            if not self._may_write():
                raise self._refusal()
            return found(*args, **kwargs)

        return guarded
