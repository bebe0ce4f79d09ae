"""Telling programs that a job ended: the job's JSON POSTed to the callback URL given with its link,
signed with HMAC-SHA256 under WEBHOOK_SECRET, and retried with growing delays while the receiver fails.
Deliveries are RQ jobs on the pipeline queue, so any worker sends them and a restart loses none."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from core.config import Settings, get_settings
from core.jobs.queue import QueueUnavailable, enqueue_task
from core.models import Follow, FollowView, Job, JobView
from core.sources.addresses import AddressPolicy, RefusedConnection, run_guarded
from core.store import get_store

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Video-Insight-Signature"
EVENT_HEADER = "X-Video-Insight-Event"
DELIVERY_FUNCTION = "core.jobs.webhooks.deliver"
RETRY_DELAYS = [5, 30, 120, 600, 1800]  # seconds before each new try while the receiver fails
TIMEOUT_SECONDS = 10


class DeliveryFailed(Exception):
    """The receiver did not take the notification; the queue tries again later."""


def signature(secret: str, body: bytes) -> str:
    """What the signature header carries: `sha256=` and the hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def job_ended(job: Job, settings: Settings | None = None) -> None:
    """Queue the notification of a job that completed or failed, if a callback URL was given with it."""
    if not job.callback_url or not job.is_final:
        return
    settings = settings or get_settings()
    try:
        enqueue_task(DELIVERY_FUNCTION, job.id, job.status.value, retry_delays=RETRY_DELAYS,
                     description=f"webhook {job.id}", settings=settings)
    except QueueUnavailable:  # no queue (python -m core run without Redis): one try, now
        try:
            deliver(job.id, job.status.value)
        except DeliveryFailed as exc:
            log.warning("webhook for job %s not delivered: %s", job.id, exc)


def deliver(job_id: str, event: str) -> str:
    """POST the job as it is now to its callback URL (the queue calls this by name)."""
    settings = get_settings()
    job = get_store(service_role=True).get_job(job_id)  # as it is now
    if job is None or not job.callback_url:
        return "nothing to send"
    store = get_store(service_role=True)
    collection = next(iter(store.get_collections([job.collection_id])), None) if job.collection_id else None
    return _send(job.callback_url, JobView.of(job, collection).model_dump_json().encode(), f"job.{event}", settings)


def _send(url: str, body: bytes, event: str, settings: Settings) -> str:
    """POST a signed notification from a guarded process; DeliveryFailed when the receiver does not take it."""
    headers = {"Content-Type": "application/json", "User-Agent": "VideoInsightStudio-Webhook/1", EVENT_HEADER: event}
    if settings.webhook_secret:
        headers[SIGNATURE_HEADER] = signature(settings.webhook_secret.get_secret_value(), body)
    try:
        status = run_guarded(AddressPolicy.from_settings(settings), _post, (url, body, headers))
    except RefusedConnection as exc:  # a policy answer, not a failure to retry
        log.warning("webhook %s to %s refused: %s", event, url, exc)
        return f"refused: {exc}"
    except Exception as exc:  # noqa: BLE001 - the receiver or the network failed: the queue tries again
        raise DeliveryFailed(f"{url} could not be reached: {type(exc).__name__}: {exc}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"{url} answered {status}")
    return f"delivered ({status})"


def _post(report, url: str, body: bytes, headers: dict) -> int:
    import httpx  # loaded in the delivery's own process

    # Redirects are not followed: the notification goes to the address given, nowhere else.
    return httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False).status_code


FOLLOW_DELIVERY_FUNCTION = "core.jobs.webhooks.deliver_follow"


def follow_brought(followed: Follow, job_ids: list[str], settings: Settings | None = None) -> None:
    """Queue the notification that a followed source brought new videos, if the follow has a callback URL."""
    if not followed.callback_url:
        return
    settings = settings or get_settings()
    try:
        enqueue_task(FOLLOW_DELIVERY_FUNCTION, followed.id, job_ids, retry_delays=RETRY_DELAYS,
                     description=f"webhook follow {followed.id}", settings=settings)
    except QueueUnavailable:
        log.warning("webhook for follow %s not queued: the queue cannot be reached", followed.id)


def deliver_follow(follow_id: str, job_ids: list[str]) -> str:
    """POST `{"follow": ..., "job_ids": [...]}` to the follow's callback URL (event `follow.videos_added`)."""
    settings = get_settings()
    followed = next(iter(get_store(service_role=True).get_follows([follow_id])), None)
    if followed is None or not followed.callback_url:
        return "nothing to send"
    body = json.dumps({"follow": FollowView.of(followed).model_dump(mode="json"), "job_ids": job_ids}).encode()
    return _send(followed.callback_url, body, "follow.videos_added", settings)
