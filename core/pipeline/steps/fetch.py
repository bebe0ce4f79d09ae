"""Downloading, extracting audio and uploading: the video becomes stored audio and a thumbnail."""

from __future__ import annotations

import json

from core.library.chapters import creator_chapters
from core.models import AudioFile
from core.pipeline.steps.context import JobContext
from core.pipeline.steps.transcribing import load_ahead
from core.sources import audio
from core.sources.media import download as fetch_media
from core.sources.media import prepare

JOB_METADATA = ("title", "uploader", "duration", "upload_date", "description", "thumbnail_url", "webpage_url")


def download(context: JobContext) -> None:
    result = fetch_media(context.job.url, context.workdir, context.settings, context.progress,
                         on_details=lambda captions_expected: load_ahead(context, captions_expected=captions_expected))
    meta = result.metadata
    context.store.update_job(context.job.id, **{k: meta.get(k) for k in JOB_METADATA},
                             chapters=creator_chapters(meta.get("chapters") or [], meta.get("duration")))
    context.download_record.write_text(json.dumps({
        "media_path": str(result.media_path),
        "thumbnail_path": str(result.thumbnail_path) if result.thumbnail_path else None,
        "metadata": meta,
    }))


def downloaded(context: JobContext) -> bool:
    return not context.needs_local_audio() or context.load_download() is not None


def extract_audio(context: JobContext) -> None:
    load_ahead(context)
    settings = context.settings
    prepared = prepare(context.load_download(), context.workdir, context.progress, settings.max_duration_seconds,
                       settings.keep_source_audio_max_kbps)
    job = context.store.get_job(context.job.id)
    if not job.duration:
        context.store.update_job(context.job.id, duration=round(prepared.duration, 2))
    if not job.chapters:  # the site told of none: the media file may hold the creator's (MP4, ID3 CHAP)
        found = creator_chapters(audio.chapters_of(context.load_download().media_path), prepared.duration)
        if found:
            context.store.update_job(context.job.id, chapters=found)
    context.prepared_record.write_text(json.dumps({
        "wav_path": str(prepared.wav_path),
        "stored_path": str(prepared.stored_path),
        "thumbnail_path": str(prepared.thumbnail_path) if prepared.thumbnail_path else None,
        "duration": prepared.duration,
        "stored_sample_rate": prepared.stored_sample_rate,
    }))


def audio_extracted(context: JobContext) -> bool:
    return not context.needs_local_audio() or context.load_prepared() is not None


def upload(context: JobContext) -> None:
    prepared = context.load_prepared()
    s = context.settings
    audio_key = context.store.put_blob(s.supabase_audio_bucket, f"{context.job.id}/audio{prepared.stored_path.suffix}",
                                 prepared.stored_path)
    context.progress(0.8, "audio stored")
    thumb_key = None
    if prepared.thumbnail_path:
        thumb_key = context.store.put_blob(s.supabase_thumbnail_bucket, f"{context.job.id}/thumbnail.jpg",
                                       prepared.thumbnail_path)
    context.store.save_audio_file(AudioFile(
        job_id=context.job.id, audio_path=audio_key, thumbnail_path=thumb_key, duration=prepared.duration,
        size_bytes=prepared.stored_path.stat().st_size, sample_rate=prepared.stored_sample_rate,
    ))


def uploaded(context: JobContext) -> bool:
    return context.store.get_audio_file(context.job.id) is not None
