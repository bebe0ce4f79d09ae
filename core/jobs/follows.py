"""Following channels, playlists, profiles and feeds: whatever yt-dlp lists as several videos is checked every so
often by a worker (RQ's scheduler runs each check at its time), and what is new goes into the follow's collection
like a pasted link (deduped per video, the same limits and address policy). One check of a follow runs at a time
however many workers there are; a check that fails is tried again sooner, with a growing wait, and shown."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.config import MAX_PLAYLIST_HARD_CAP, Settings, get_settings
from core.jobs import webhooks
from core.jobs.queue import QueueUnavailable, connect, schedule_task
from core.jobs.submitting import enqueue_listed, save_source_collection
from core.models import Follow, FollowView
from core.sources.addresses import AddressPolicy
from core.sources.media import Listing, MediaError, TransientMediaError, list_or_explain
from core.sources.platforms import InvalidURL, check_callback_url, detect
from core.store import get_store

log = logging.getLogger(__name__)
CHECK_FUNCTION = "core.jobs.follows.check"
#: A failed check is tried again after this, doubled after each further failure, never later than its interval.
RETRY_AFTER_SECONDS = 300
LOCK_SECONDS = 900
DEFAULT_EVERY_SECONDS = 6 * 3600
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class FollowRefused(ValueError):
    """A link that cannot be followed as asked: one video, nothing listed, an interval under the minimum."""


@dataclass
class Preview:
    """What following a link would do, told before the person confirms."""

    url: str
    platform: str
    title: str | None
    #: The videos it lists now (at most MAX_PLAYLIST_ITEMS).
    listed: int
    #: Of those, the ones already in the library.
    known: int


def every_seconds(text: str) -> int:
    """'6h' -> 21600: a number with s, m, h or d."""
    found = _EVERY.match(text or "")
    if not found:
        raise FollowRefused(f"{text!r} is not an interval: write a number and s, m, h or d (such as 30m, 6h or 1d).")
    return int(float(found.group(1)) * _UNITS[found.group(2).lower()])


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _listing(url: str, settings: Settings):
    """The source's detected link and its listing; FollowRefused for a link that is not several videos."""
    source = detect(url, policy=AddressPolicy.from_settings(settings))
    limit = max(1, min(settings.max_playlist_items, MAX_PLAYLIST_HARD_CAP))
    try:
        listing = list_or_explain(source.url, settings, limit) if source.kind != "video" else None
    except MediaError as exc:
        raise FollowRefused(f"That link cannot be listed now, so it cannot be followed: {exc}") from None
    if listing is None or not listing.urls:
        raise FollowRefused("That link is one video, not a channel, playlist, profile or feed: there is nothing to "
                            "follow. Submit it as a video instead.")
    return source, listing


def preview(url: str, settings: Settings | None = None) -> Preview:
    """What following `url` would list now, and how much of it the library holds already."""
    settings = settings or get_settings()
    source, listing = _listing(url, settings)
    known = sum(1 for entry in listing.urls if _known(entry, settings))
    return Preview(url=source.url, platform=source.platform, title=listing.title, listed=len(listing.urls),
                   known=known)


def _known(url: str, settings: Settings) -> bool:
    try:
        entry = detect(url, policy=AddressPolicy.from_settings(settings))
    except InvalidURL:
        return False
    return get_store().find_job(entry.platform, entry.video_id) is not None


def follow(url: str, *, every: int | None = None, new_only: bool = False, callback_url: str | None = None,
           settings: Settings | None = None) -> tuple[Follow, bool]:
    """Follow a source: (the follow, whether it is new). Its first check runs now: the videos it lists are taken,
    or with `new_only` only marked as seen; later checks run every `every` seconds on a worker."""
    settings = settings or get_settings()
    every = DEFAULT_EVERY_SECONDS if every is None else int(every)
    if every < settings.follow_min_interval_seconds:
        raise FollowRefused(f"A source can be checked at most every {settings.follow_min_interval_seconds:,} s "
                            f"(FOLLOW_MIN_INTERVAL_SECONDS); {every:,} s is too often.")
    if callback_url is not None:
        callback_url = check_callback_url(callback_url, AddressPolicy.from_settings(settings))
    source, listing = _listing(url, settings)
    store = get_store(service_role=True)
    existing = next((f for f in store.get_follows() if f.url == source.url), None)
    if existing:
        return existing, False
    collection = save_source_collection(source, listing)
    now = _now()
    followed = Follow(id=uuid.uuid4().hex[:12], url=source.url, platform=source.platform, title=listing.title,
                      collection_id=collection.id, every_seconds=every, new_only=new_only,
                      callback_url=callback_url, created_at=_stamp(now), next_check_at=_stamp(now))
    store.save_follow(followed)
    return _take(followed, listing, settings, first=True), True


def check(follow_id: str) -> str:
    """One check of a follow (a worker runs it at its time): list the source, add what is new, and schedule the
    next check. Returns what happened."""
    settings = get_settings()
    redis = connect(settings)
    lock = f"vis:follow-check:{follow_id}"
    if not redis.set(lock, "1", nx=True, ex=LOCK_SECONDS):
        return "another worker is checking it"
    try:
        followed = _one(get_store(service_role=True), follow_id)
        if followed is None:
            return "unfollowed"
        limit = max(1, min(settings.max_playlist_items, MAX_PLAYLIST_HARD_CAP))
        try:
            listing = list_or_explain(followed.url, settings, limit)
        except MediaError as exc:
            return _failed(followed, str(exc), gone=not isinstance(exc, TransientMediaError), settings=settings)
        if listing is None or not listing.urls:
            return _failed(followed, "The source lists no videos now.", gone=True, settings=settings)
        followed = _take(followed, listing, settings, first=False)
        return f"{followed.videos_added} videos added in all"
    finally:
        redis.delete(lock)


def _take(followed: Follow, listing: Listing, settings: Settings, first: bool) -> Follow:
    """Add the listed videos not seen before (none, on a first check with new_only), note the check, and schedule
    the next."""
    store = get_store(service_role=True)
    new = [url for url in listing.urls if url not in set(followed.seen)]
    added = []
    if new and not (first and followed.new_only):
        collection = next(iter(store.get_collections([followed.collection_id])), None)
        submissions = enqueue_listed(new, collection, followed.callback_url, settings)
        added = [submission.job.id for submission in submissions if submission.created]
    now = _now()
    followed = followed.model_copy(update={
        "seen": [*followed.seen, *new][-5000:], "videos_added": followed.videos_added + len(added),
        "title": listing.title or followed.title, "last_checked_at": _stamp(now), "last_error": None,
        "failures": 0, "gone": False, "next_check_at": _stamp(now + timedelta(seconds=followed.every_seconds))})
    store.save_follow(followed)
    schedule_next(followed, settings)
    if added:
        log.info("follow %s (%s): %d new videos", followed.id, followed.url, len(added))
        webhooks.follow_brought(followed, added, settings)
    return followed


def _failed(followed: Follow, error: str, gone: bool, settings: Settings) -> str:
    failures = followed.failures + 1
    wait = followed.every_seconds if gone else min(followed.every_seconds, RETRY_AFTER_SECONDS * 2 ** (failures - 1))
    now = _now()
    followed = followed.model_copy(update={
        "last_checked_at": _stamp(now), "last_error": error[:500], "failures": failures, "gone": gone,
        "next_check_at": _stamp(now + timedelta(seconds=wait))})
    get_store(service_role=True).save_follow(followed)
    schedule_next(followed, settings)
    log.warning("follow %s (%s): check failed (%d in a row): %s", followed.id, followed.url, failures, error)
    return f"failed: {error}"


def schedule_next(followed: Follow, settings: Settings) -> None:
    """Have a worker check the follow at its next_check_at (asked twice, scheduled once)."""
    try:
        _schedule(followed, datetime.fromisoformat(followed.next_check_at), settings)
    except QueueUnavailable as exc:  # the maintenance round of a worker schedules it once Redis is back
        log.warning("the next check of follow %s could not be scheduled: %s", followed.id, exc)


def schedule_due(settings: Settings | None = None) -> int:
    """Schedule every follow whose check is due or coming and not scheduled (after Redis lost its scheduled jobs,
    say); a worker's maintenance round runs this. Returns how many it scheduled."""
    settings = settings or get_settings()
    scheduled = 0
    now = _now()
    for followed in get_store(service_role=True).get_follows():
        at = datetime.fromisoformat(followed.next_check_at)
        late = at < now - timedelta(seconds=LOCK_SECONDS)  # long overdue: its check died without a trace
        try:
            scheduled += _schedule(followed, now if late else at, settings,
                                   f"late-{int(now.timestamp()) // LOCK_SECONDS}" if late else None)
        except QueueUnavailable:
            return scheduled
    return scheduled


def _schedule(followed: Follow, at: datetime, settings: Settings, moment: str | None = None) -> bool:
    """One check of the follow at `at`, named by that moment: asked again for the same one, scheduled once."""
    return schedule_task(CHECK_FUNCTION, followed.id, at=at,
                         task_id=f"follow-{followed.id}-{moment or int(at.timestamp())}",
                         description=f"check follow {followed.id}", settings=settings)


def _one(store, follow_id: str) -> Follow | None:
    return next(iter(store.get_follows([follow_id])), None)


def check_soon(follow_id: str, settings: Settings | None = None) -> Follow:
    """Check a follow now rather than at its time."""
    settings = settings or get_settings()
    store = get_store(service_role=True)
    followed = _one(store, follow_id)
    if followed is None:
        raise LookupError(f"There is no follow {follow_id!r}.")
    followed = followed.model_copy(update={"next_check_at": _stamp(_now())})
    store.save_follow(followed)
    schedule_next(followed, settings)
    return followed


def unfollow(follow_id: str) -> None:
    """Stop following; the videos it added stay, in its collection (a scheduled check finds it gone)."""
    store = get_store(service_role=True)
    if _one(store, follow_id) is None:
        raise LookupError(f"There is no follow {follow_id!r}.")
    store.delete_follow(follow_id)


def follows() -> list[FollowView]:
    return [FollowView.of(followed) for followed in get_store().get_follows()]

