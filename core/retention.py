"""The old name of the audio clean-up, kept for clean-ups scheduled before it moved to core.jobs.retention (RQ
calls a queued task by the dotted name it was queued with)."""

from core.jobs.retention import cleanup

__all__ = ["cleanup"]
