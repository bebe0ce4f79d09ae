"""The old name of the webhook delivery, kept for deliveries queued before it moved to core.jobs.webhooks (RQ
calls a queued task by the dotted name it was queued with)."""

from core.jobs.webhooks import deliver

__all__ = ["deliver"]
