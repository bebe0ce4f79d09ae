"""What a job made: its transcript, translation, analysis and media, their exports, and what it cost."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from core.api.jobs import collections_of
from core.api.themes import videos_of
from core.jobs.submitting import require_job
from core.library import exports, insights
from core.library import themes as library_themes
from core.library.exports import FORMATS as EXPORT_FORMATS
from core.models import (
    Analysis,
    AnalysisView,
    AudioFile,
    Job,
    JobDetails,
    LibraryQuery,
    MediaLinks,
    SpeakerView,
    Transcript,
    TranscriptView,
    Translation,
    TranslationView,
)
from core.sources.platforms import link_at
from core.store import get_store


def transcript(job_id: str) -> Transcript | None:
    return get_store().get_transcript(job_id)


def translation(job_id: str) -> Translation | None:
    return get_store().get_translation(job_id)


def analysis(job_id: str) -> Analysis | None:
    return get_store().get_analysis(job_id)


def audio_file(job_id: str) -> AudioFile | None:
    return get_store().get_audio_file(job_id)


def media_file(key: str | None) -> Path | str | None:
    """The file or URL behind a stored media key (audio or thumbnail), if it is there."""
    return get_store().media_location(key) if key else None


def stored_media(job_id: str, kind: str) -> Path | str | None:
    """The stored audio or thumbnail of a job (`kind`): a local file or a URL; None when there is none (not stored
    yet, or the audio removed by retention)."""
    store = get_store()
    return _located(store, store.get_audio_file(job_id), kind)


def _located(store, audio: AudioFile | None, kind: str) -> Path | str | None:
    if audio is None or (kind == "audio" and audio.audio_removed_at):
        return None
    key = audio.audio_path if kind == "audio" else audio.thumbnail_path
    return store.media_location(key) if key else None


def media_links(job_id: str) -> MediaLinks:
    """Where a job's stored audio and thumbnail open, as programs are told (`show --json`, `GET /jobs/{id}`)."""
    store = get_store()
    audio = store.get_audio_file(job_id)
    found = {kind: _located(store, audio, kind) for kind in ("audio", "thumbnail")}
    return MediaLinks(**{f"{kind}_url": str(where) if where else None for kind, where in found.items()})


def media_problem() -> str | None:
    """Why media cannot be stored or opened just now (an object store that refuses or does not answer), or None."""
    return get_store().media_problem()


def thumbnails(jobs: list[Job]) -> dict[str, Path | str]:
    """Where each job's thumbnail is (a file or a URL), for those that have one, in one read."""
    store = get_store()
    found = store.get_audio_files([job.id for job in jobs])
    located = {job_id: store.media_location(audio.thumbnail_path) for job_id, audio in found.items()
               if audio.thumbnail_path}
    return {job_id: where for job_id, where in located.items() if where}


def job_details(job_id: str) -> JobDetails | None:
    """A job with its transcript, analysis and hosted cost (the CLI's `show --json`, the HTTP API)."""
    store = get_store()
    job = store.get_job(job_id)
    if job is None:
        return None
    found_transcript = store.get_transcript(job_id)
    found_translation = store.get_translation(job_id)
    found_analysis = store.get_analysis(job_id)
    if found_transcript and found_translation:  # a translated moment is said by whoever said the original
        found_translation = found_translation.model_copy(update={"segments": [
            moment.model_copy(update={"speaker": said.speaker})
            for moment, said in zip(found_translation.segments, found_transcript.segments, strict=False)]})
    return JobDetails.of(
        job, collections_of([job]).get(job.collection_id), cost=_cost_summary(store.get_usage(job_id)),
        media=media_links(job_id),
        transcript=TranscriptView.model_validate(found_transcript.model_dump()) if found_transcript else None,
        speakers=[SpeakerView.model_validate(s.public_dict()) for s in found_transcript.speakers]
        if found_transcript else [],
        speakers_note=found_transcript.speakers_note if found_transcript else None,
        translation=TranslationView.model_validate(found_translation.model_dump()) if found_translation else None,
        analysis=AnalysisView.model_validate(found_analysis.model_dump()) if found_analysis else None)


def _cost_summary(usage) -> dict | None:
    """Audio minutes, tokens and estimated dollars per stage; None when only local engines ran."""
    if not usage:
        return None
    stages: dict[str, dict] = {}
    for u in usage:
        entry = stages.setdefault(u.stage, {"models": [], "audio_minutes": 0.0, "input_tokens": 0,
                                            "output_tokens": 0, "usd": 0.0})
        if u.model not in entry["models"]:
            entry["models"].append(u.model)
        entry["audio_minutes"] = round(entry["audio_minutes"] + u.audio_seconds / 60, 3)
        entry["input_tokens"] += u.input_tokens
        entry["output_tokens"] += u.output_tokens
        entry["usd"] = round(entry["usd"] + (u.cost_usd or 0.0), 6)
    known = [u.cost_usd for u in usage if u.cost_usd is not None]
    return {"usd": round(sum(known), 6) if known else None, "stages": stages}


def costs() -> dict[str, float]:
    """Estimated hosted-engine cost per job id (jobs that used none are absent)."""
    return get_store().costs()


def library_costs() -> dict[str, dict]:
    """Estimated hosted-engine cost of what the library as a whole asked for: {"ask": {"usd", "calls"}}."""
    return get_store().library_costs()


def moment_link(job: Job, seconds: float) -> str:
    """The original video at a moment, where its site supports a start time."""
    return link_at(job.webpage_url or job.url, job.platform, seconds)


def transcript_files(job: Job, found: Transcript, analysis: Analysis | None,
                     translated: Translation | None = None) -> dict[str, tuple[str, Callable[[], str], str]]:
    """Every export of a transcript (or of its translation) already in hand: format -> (file name, a function
    that writes it, MIME type). Written when asked for: a 2-hour talk's five files take ~0.2 s to write."""
    language = translated.language if translated else None
    return {fmt: (exports.filename(job, fmt, language),
                  functools.partial(exports.export, job, found, analysis, fmt, translated), mime)
            for fmt, mime in EXPORT_FORMATS.items() if fmt != "chapters" or (job.chapters and not translated)}


def export(job_id: str, fmt: str, *, translated: bool = False) -> tuple[str, str]:
    """(file name, content) of a job's transcript, or of its translation, in one of EXPORT_FORMATS."""
    store = get_store()
    job = require_job(store, job_id)
    found = store.get_transcript(job_id)
    if found is None:
        raise LookupError(f"Job {job_id} has no transcript yet ({job.status.value}).")
    translation_found = store.get_translation(job_id) if translated else None
    if translated and translation_found is None:
        raise LookupError(f"Job {job_id} has no translation: it was spoken in TRANSLATE_TO's language, or "
                          "translation was off when it ran.")
    language = translation_found.language if translation_found else None
    return (exports.filename(job, fmt, language),
            exports.export(job, found, store.get_analysis(job_id), fmt, translation_found))


def library_overview(query: LibraryQuery | None = None, theme_ids: list[str] | None = None) -> insights.LibraryOverview:
    """The Dashboard's numbers for the completed videos `query` keeps and these themes hold, counted by the store
    (a few rows, however large the library), each theme shown by its label."""
    store = get_store()
    query = query or LibraryQuery()
    themes = store.get_themes()
    if theme_ids:
        query = query.model_copy(update={"job_ids": videos_of(themes, theme_ids, query.job_ids)})
    if insights.UNKNOWN_LANGUAGE in query.languages:  # those whose language is not known
        query = query.model_copy(update={"languages": [
            "" if language == insights.UNKNOWN_LANGUAGE else language for language in query.languages]})
    labels = {theme_id: target.label for theme_id, target in library_themes.shown_as(themes).items()}
    return insights.LibraryOverview(store.library_summary(query), labels)
