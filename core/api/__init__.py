"""What the pages, the CLI and the HTTP API call: the one façade over the library and the queue. Nothing here knows
about Streamlit, and importing it loads no engine and no part of the pipeline (the worker's side).

Its names come from the modules that hold each concern: submitting and acting on jobs (core.jobs.submitting),
following channels and feeds (core.jobs.follows),
reading jobs (jobs), what a job made (results), who speaks in it (speakers), finding moments (search), answering
questions (ask), what the library is about (themes), correcting transcripts (edits).
"""

from core.access import exposure_warning
from core.api.ask import DEFAULT_CITATIONS, MAX_CITATIONS, AskRefused, ask, ask_stream
from core.api.edits import (
    EditConflict,
    EditRefused,
    edit_history,
    edit_segment,
    replace_words,
    revision,
    set_vocabulary,
    undo,
    vocabulary,
)
from core.api.jobs import (
    collections,
    collections_of,
    get_job,
    get_jobs,
    job_views,
    library_problem,
    list_jobs,
    platforms_in_library,
    read_only,
    status_counts,
    submitted_views,
    wait,
)
from core.api.results import (
    EXPORT_FORMATS,
    analysis,
    audio_file,
    costs,
    export,
    job_details,
    library_costs,
    library_overview,
    media_file,
    media_links,
    media_problem,
    moment_link,
    stored_media,
    thumbnails,
    transcript,
    transcript_files,
    translation,
)
from core.api.search import prepare_search, reindex, search
from core.api.speakers import (
    SpeakerRefused,
    forget_voice,
    name_speakers,
    parse_names,
    people,
    speakers,
    voices,
)
from core.api.themes import ThemeRefused, merge_themes, refresh_themes, rename_theme, themes, themes_of
from core.config import MAX_PLAYLIST_HARD_CAP
from core.jobs.follows import FollowRefused, every_seconds, follow, follows, unfollow
from core.jobs.follows import check_soon as check_follow_now
from core.jobs.follows import preview as preview_follow
from core.jobs.queue import JobBusy, QueueUnavailable
from core.jobs.submitting import (
    CorrectionsKept,
    Submission,
    cancel,
    collection_summaries,
    default_playlist_items,
    delete,
    prepare_link_checks,
    queue_status,
    reprocess,
    retry,
    retry_failed,
    split_urls,
    submit,
    submit_many,
    validate_all,
)
from core.models import FollowView
from core.providers import EngineError
from core.providers.prompts import VocabularyTooLong
from core.sources.platforms import InvalidURL
from core.store import LibraryUnavailable, MediaStoreRefused, ReadOnlyLibrary
from core.store.files import media_type

__all__ = [
    "AskRefused", "CorrectionsKept", "DEFAULT_CITATIONS", "EXPORT_FORMATS", "EditConflict", "EditRefused",
    "EngineError", "FollowRefused", "FollowView", "InvalidURL", "JobBusy", "LibraryUnavailable", "MAX_CITATIONS",
    "MAX_PLAYLIST_HARD_CAP", "MediaStoreRefused", "QueueUnavailable", "ReadOnlyLibrary", "SpeakerRefused",
    "Submission", "ThemeRefused", "VocabularyTooLong", "analysis", "ask", "ask_stream",
    "audio_file", "cancel", "check_follow_now", "collection_summaries", "collections", "collections_of", "costs",
    "default_playlist_items", "delete", "edit_history", "edit_segment", "every_seconds", "export", "exposure_warning",
    "follow", "follows", "forget_voice", "get_job", "get_jobs", "job_details", "job_views",
    "library_costs", "library_overview", "library_problem", "list_jobs", "media_file", "media_links", "media_problem",
    "media_type",
    "merge_themes", "moment_link", "name_speakers", "parse_names", "people", "platforms_in_library",
    "prepare_link_checks", "prepare_search", "preview_follow", "queue_status", "read_only", "refresh_themes",
    "reindex", "rename_theme",
    "replace_words", "reprocess", "retry", "retry_failed", "revision", "search", "set_vocabulary", "speakers",
    "split_urls", "status_counts", "stored_media", "submit", "submit_many", "submitted_views", "themes", "themes_of",
    "thumbnails", "transcript", "transcript_files", "translation", "undo", "unfollow", "validate_all", "vocabulary",
    "voices", "wait"
]
