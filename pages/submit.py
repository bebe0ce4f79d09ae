"""Paste links, queue them, watch them move through the pipeline."""

import streamlit as st

from core import api
from core.formatting import literal
from pages.components import LIVE_SECONDS, cancel_button, follows_here, job_cards, page_start, queue_warning

page_start("🎬 Video Insight Studio")
st.caption("Paste video links from YouTube, TikTok, Instagram, Facebook, X, Vimeo, Reddit and "
           "any other site yt-dlp supports. Each becomes a transcript, an analysis and searchable moments.")

tracked: list[str] = st.session_state.setdefault("tracked_jobs", [])

read_only = api.read_only()
if read_only:
    st.info("This library is read-only here: browse, read and search it. Adding videos needs the "
            "service role key (SUPABASE_SERVICE_ROLE_KEY).", icon="🔒")

with st.form("submit", clear_on_submit=False):
    text = st.text_area("Video links", placeholder="https://www.youtube.com/watch?v=…\nhttps://vimeo.com/…",
                        help="One link per line.")
    force = st.checkbox("Process again if a video is already in the library")
    limit = st.number_input("Videos to take from a playlist, channel or page", min_value=1,
                            max_value=api.MAX_PLAYLIST_HARD_CAP, value=api.default_playlist_items(),
                            help="A playlist or channel link adds its first videos, as a collection.")
    sent = st.form_submit_button("Process", type="primary", disabled=read_only)

if sent:
    try:
        submissions = api.submit_many(api.split_urls(text), force=force, limit=int(limit))
    except api.InvalidURL as exc:
        problems = "\n".join(f"- {line}" for line in str(exc).splitlines())
        st.error(f"Nothing was queued. Fix these links and try again:\n\n{problems}", icon="⚠️")
    except api.QueueUnavailable as exc:
        st.error(str(exc), icon="🛑")
    else:
        for summary in api.collection_summaries(submissions):
            st.info(literal(summary), icon="📂")
        for submission in reversed(submissions):
            if submission.job.id not in tracked:
                tracked.insert(0, submission.job.id)
        for submission in submissions:
            if not submission.created and not submission.collection:
                st.info(f"Already in the library: {literal(submission.job.title or submission.job.url)} "
                        "(tick the box above to process it again).", icon="ℹ️")


with st.expander("📡 Follow a channel, playlist, profile or feed", expanded=bool(st.session_state.get("preview"))):
    follows_here()


def live_status() -> None:
    jobs = api.get_jobs(tracked)
    if jobs:
        st.subheader("Your jobs")
        queue_warning(sum(1 for job in jobs if not job.is_final))
    job_cards(jobs, actions=lambda job: cancel_button(job, rerun_scope="fragment"))
    if moving and not any(not job.is_final for job in jobs):
        st.rerun()  # all done: drawn once more, then left alone


# Polled only while one of the jobs moves: an open page costs nothing while none does.
moving = any(not job.is_final for job in api.get_jobs(tracked))
st.fragment(run_every=LIVE_SECONDS if moving else None)(live_status)()
