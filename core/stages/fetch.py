"""Downloading, extracting audio and uploading: the video becomes stored audio and a thumbnail."""

from __future__ import annotations

import json

from core.media import download as fetch_media
from core.media import prepare
from core.models import AudioFile
from core.stages.context import Run
from core.stages.transcribing import load_ahead

JOB_METADATA = ("title", "uploader", "duration", "upload_date", "description", "thumbnail_url", "webpage_url")


def download(run: Run) -> None:
    result = fetch_media(run.job.url, run.workdir, run.settings, run.progress,
                         on_details=lambda captions_expected: load_ahead(run, captions_expected=captions_expected))
    meta = result.metadata
    run.store.update_job(run.job.id, **{k: meta.get(k) for k in JOB_METADATA})
    run.download_record.write_text(json.dumps({
        "media_path": str(result.media_path),
        "thumbnail_path": str(result.thumbnail_path) if result.thumbnail_path else None,
        "metadata": meta,
    }))


def downloaded(run: Run) -> bool:
    return not run.needs_local_audio() or run.load_download() is not None


def extract_audio(run: Run) -> None:
    load_ahead(run)
    prepared = prepare(run.load_download(), run.workdir, run.progress, run.settings.max_duration_seconds,
                       run.settings.keep_source_audio_max_kbps)
    if not run.store.get_job(run.job.id).duration:
        run.store.update_job(run.job.id, duration=round(prepared.duration, 2))
    run.prepared_record.write_text(json.dumps({
        "wav_path": str(prepared.wav_path),
        "stored_path": str(prepared.stored_path),
        "thumbnail_path": str(prepared.thumbnail_path) if prepared.thumbnail_path else None,
        "duration": prepared.duration,
        "stored_sample_rate": prepared.stored_sample_rate,
    }))


def audio_extracted(run: Run) -> bool:
    return not run.needs_local_audio() or run.load_prepared() is not None


def upload(run: Run) -> None:
    prepared = run.load_prepared()
    s = run.settings
    audio_key = run.store.put_blob(s.supabase_audio_bucket, f"{run.job.id}/audio{prepared.stored_path.suffix}",
                                 prepared.stored_path)
    run.progress(0.8, "audio stored")
    thumb_key = None
    if prepared.thumbnail_path:
        thumb_key = run.store.put_blob(s.supabase_thumbnail_bucket, f"{run.job.id}/thumbnail.jpg",
                                       prepared.thumbnail_path)
    run.store.save_audio_file(AudioFile(
        job_id=run.job.id, audio_path=audio_key, thumbnail_path=thumb_key, duration=prepared.duration,
        size_bytes=prepared.stored_path.stat().st_size, sample_rate=prepared.stored_sample_rate,
    ))


def uploaded(run: Run) -> bool:
    return run.store.get_audio_file(run.job.id) is not None
