"""The library's themes kept up to date by the workers: grouped again after videos complete, one round at a time
however many workers there are, and never while a page loads."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError

from core.config import Settings, get_settings
from core.jobs.queue import QueueUnavailable, connect, schedule_task
from core.library import themes
from core.providers.embed import embedding_model_name
from core.store import get_store

log = logging.getLogger(__name__)
REFRESH_FUNCTION = "core.jobs.themes.refresh"
#: Set while a round waits on the queue, so a burst of completed videos asks for one round, not one each.
WAITING_KEY = "vis:themes-waiting"
#: How long after a video completes the library is grouped again, so that others completing meanwhile join the round.
REFRESH_DELAY_SECONDS = 20


def refresh(settings: Settings | None = None) -> int:
    """Group the library's videos again; returns how many themes there are."""
    settings = settings or get_settings()
    try:
        connect(settings).delete(WAITING_KEY)  # a video completing from now on asks for another round
    except RedisError:
        pass
    found = themes.refresh(get_store(service_role=True), embedding_model_name(settings), themes.hosted_namer(settings))
    log.info("the library's %d videos fall into %d themes", sum(len(t.job_ids) for t in found), len(found))
    return len(found)


def schedule(settings: Settings | None = None) -> None:
    """Ask a worker to group the library again in a little while (RQ's scheduler), unless a round is already
    waiting: the videos of a playlist completing one after another make one round, not one each."""
    settings = settings or get_settings()
    at = datetime.now(UTC) + timedelta(seconds=REFRESH_DELAY_SECONDS)
    try:
        if connect(settings).set(WAITING_KEY, "1", nx=True, ex=3600):
            schedule_task(REFRESH_FUNCTION, at=at, task_id=f"themes-{int(at.timestamp() * 1000)}",
                          description="group the library into themes", settings=settings)
    except (RedisError, QueueUnavailable) as exc:  # the next completed video, or worker start, asks again
        log.warning("could not ask for the themes to be grouped again: %s", exc)


def after_completion(settings: Settings, queued: bool) -> None:
    """A video completed: from the queue, a worker groups the library soon; run by hand (no queue), here."""
    if queued:
        schedule(settings)
        return
    try:
        refresh(settings)
    except Exception:  # noqa: BLE001 - themes are a view of the library: a failure here fails no video
        log.exception("grouping the library into themes failed")
