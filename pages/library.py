"""Every video in the library, with filters."""

import streamlit as st

from core import api
from core.models import Stage
from pages.components import job_card

st.title("📚 Library")

all_jobs = api.list_jobs()
if not all_jobs:
    st.info("The library is empty. Paste a link on the Submit page to add your first video.", icon="👋")
    st.page_link("pages/submit.py", label="Submit a video", icon="➕")
    st.stop()

counts = api.status_counts(all_jobs)
columns = st.columns(4)
columns[0].metric("Videos", len(all_jobs))
columns[1].metric("Completed", counts.get(Stage.COMPLETED.value, 0))
columns[2].metric("In progress", sum(v for k, v in counts.items() if k not in ("completed", "failed")))
columns[3].metric("Failed", counts.get(Stage.FAILED.value, 0))

left, right = st.columns(2)
statuses = left.multiselect("Status", sorted(counts), placeholder="All statuses")
platforms = right.multiselect("Platform", api.platforms_in_library(), placeholder="All platforms")


@st.fragment(run_every=3)
def job_list() -> None:
    jobs = api.list_jobs(statuses=statuses or None, platforms=platforms or None)
    if not jobs:
        st.write("No videos match these filters.")
    for job in jobs:
        job_card(job)
        if job.status == Stage.FAILED and st.button("Retry", key=f"retry-{job.id}", icon="🔁"):
            try:
                api.retry(job.id)
            except api.QueueUnavailable as exc:
                st.error(str(exc))
            st.rerun(scope="fragment")


job_list()
