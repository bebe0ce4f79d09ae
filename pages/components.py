"""Widgets shared by the pages. Display only: data comes from core.api."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from core import api
from core.formatting import clock, status_line, waiting_hint
from core.models import Job, Stage

VIDEO_PAGE = "pages/video.py"


def stop_unless_library_answers() -> None:
    """Say clearly, once, that the library cannot be reached, instead of failing half-way down a page."""
    problem = api.library_problem()
    if problem:
        st.error(problem, icon="🛑")
        st.stop()


def job_status(job: Job) -> None:
    """One job's live state: status, progress bar, error."""
    if job.status == Stage.FAILED:
        st.error(f"{status_line(job)}: {job.error}")
    elif job.status == Stage.COMPLETED:
        st.success(status_line(job))
    else:
        st.progress(job.overall_progress, text=status_line(job))
        hint = waiting_hint(job)
        if hint:
            st.caption(f"⚠️ {hint}")


def job_card(job: Job, *, show_open: bool = True, actions: Callable[[Job], None] | None = None,
             cost: float | None = None) -> None:
    """A job's thumbnail, title, details and live status; `actions` draws buttons in the card."""
    with st.container(border=True):
        thumb, body = st.columns([1, 4], vertical_alignment="center")
        audio = api.audio_file(job.id)
        image = api.media_file(audio.thumbnail_path) if audio else None
        if image:
            thumb.image(str(image), width="stretch")
        else:
            thumb.markdown("## 🎬")
        body.markdown(f"**{job.title or job.url}**")
        body.caption(" · ".join(filter(None, [
            job.platform, clock(job.duration) if job.duration else None, job.uploader, job.upload_date,
            f"≈ ${cost:.4f} hosted" if cost else None,
        ])))
        with body:
            job_status(job)
        with body.container(horizontal=True, vertical_alignment="center"):
            if show_open:
                st.page_link(VIDEO_PAGE, label="Open", icon="🎬", query_params={"job": job.id})
            if actions:
                actions(job)
