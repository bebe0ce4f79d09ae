"""Audio kept only as long as wanted (AUDIO_RETENTION_DAYS): stored audio older than that is removed, from
the local store or the Supabase bucket; transcripts, analyses, search and thumbnails stay."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from redis import Redis

from core.config import Settings, get_settings
from core.jobs.queue import enqueue_task
from core.store import get_store

log = logging.getLogger(__name__)
CLEANUP_EVERY_SECONDS = 3600
CLEANUP_FUNCTION = "core.jobs.retention.cleanup"


def cleanup(settings: Settings | None = None, now: datetime | None = None) -> int:
    """Remove the stored audio that is older than AUDIO_RETENTION_DAYS; returns how many files went."""
    settings = settings or get_settings()
    if not settings.audio_retention_days:
        return 0
    before = (now or datetime.now(UTC)) - timedelta(days=settings.audio_retention_days)
    store = get_store(service_role=True)
    expired = store.expired_audio(before.astimezone(UTC).isoformat(timespec="milliseconds"))
    for audio in expired:
        store.remove_audio(audio)
    if expired:
        log.info("removed the audio of %d videos older than %s days", len(expired), settings.audio_retention_days)
    return len(expired)


def schedule(settings: Settings, redis: Redis) -> None:
    """Queue a clean-up at most once an hour across all workers (the first worker to ask wins the hour)."""
    if settings.audio_retention_days and redis.set("vis:audio-cleanup", "1", nx=True, ex=CLEANUP_EVERY_SECONDS):
        enqueue_task(CLEANUP_FUNCTION, retry_delays=[60], description="audio clean-up", settings=settings)
