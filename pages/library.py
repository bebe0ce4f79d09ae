"""Every video in the library, with filters."""

import streamlit as st

from core import api
from core.formatting import literal
from core.library.insights import LIBRARY_PAGE_SIZE
from core.models import FINAL_STATUSES, Job, Stage
from pages.components import (
    LIVE_SECONDS,
    STILL_SECONDS,
    cancel_button,
    follow_card,
    job_cards,
    page_start,
    queue_warning,
)

page_start("📚 Library")

# Counted and read a page at a time by the store: a library of thousands of videos costs what one page does.
counts = api.status_counts()


@st.fragment(run_every=STILL_SECONDS)
def look_for_changes() -> None:
    """While no video moves: only the library's counts are read (a few milliseconds), and the page is drawn again
    when they changed (someone added, deleted or reprocessed a video); drawing the cards again each time cost the
    app's server and the browser 2-5 % of a core for a page nobody touched."""
    if api.status_counts() != counts:
        st.rerun()


if not counts:
    st.info("The library is empty. Paste a link on the Submit page to add your first video.", icon="👋")
    st.page_link("pages/submit.py", label="Submit a video", icon="➕")
    look_for_changes()
    st.stop()

columns = st.columns(4)
columns[0].metric("Videos", sum(counts.values()))
columns[1].metric("Completed", counts.get(Stage.COMPLETED.value, 0))
columns[2].metric("In progress", sum(v for k, v in counts.items() if k not in ("completed", "failed")))
columns[3].metric("Failed", counts.get(Stage.FAILED.value, 0))

if counts.get(Stage.FAILED.value) and st.button(f"Retry all failed ({counts[Stage.FAILED.value]})", icon="🔁"):
    try:
        api.retry_failed()
    except api.QueueUnavailable as exc:
        st.error(str(exc))
    st.rerun()


@st.dialog("Delete this video?")
def confirm_delete(job_id: str, title: str) -> None:
    st.write(f"**{literal(title)}** and its transcript, analysis, audio and search entries will be removed for good.")
    if st.button("Delete for good", type="primary"):
        try:
            api.delete(job_id)
        except (api.JobBusy, api.QueueUnavailable, api.LibraryUnavailable, api.MediaStoreRefused) as exc:
            st.error(str(exc))
            return
        st.rerun()


@st.dialog("Throw away the corrections?")
def confirm_reprocess(job_id: str, message: str) -> None:
    st.write(literal(message))
    if st.button("Reprocess and discard the corrections", type="primary"):
        try:
            api.reprocess(job_id, discard_corrections=True)
        except (api.JobBusy, api.QueueUnavailable, api.LibraryUnavailable, api.MediaStoreRefused) as exc:
            st.error(str(exc))
            return
        st.rerun()


left, middle, collection_column, right = st.columns([3, 3, 3, 1])
statuses = left.multiselect("Status", sorted(counts), placeholder="All statuses")
platforms = middle.multiselect("Platform", api.platforms_in_library(), placeholder="All platforms")
known_collections = {collection.id: collection for collection in api.collections()}
collections = collection_column.multiselect(
    "Collection", list(known_collections), placeholder="All collections",
    format_func=lambda cid: known_collections[cid].title or known_collections[cid].url)
if len(collections) == 1:  # one collection: follow it, or see how its follow does; and the words it expects
    chosen = known_collections[collections[0]]
    with st.expander("📖 Words and names to expect in this collection"):
        words = st.text_input("Vocabulary", ", ".join(chosen.vocabulary), key=f"vocabulary-{chosen.id}",
                              placeholder="Ada Lovelace, Babbage, Analytical Engine",
                              help="Speech-to-text expects them in the videos transcribed from now on")
        if st.button("Save", key="vocabulary-save", disabled=api.read_only()):
            try:
                api.set_vocabulary(chosen.id, words)
            except (api.VocabularyTooLong, api.ReadOnlyLibrary) as exc:
                st.error(str(exc))
            else:
                st.success("Saved: videos transcribed from now on expect these words.")
    followed = next((f for f in api.follows() if f.collection_id == chosen.id or f.url == chosen.url), None)
    if followed:
        follow_card(followed)
    elif st.button("Follow this collection", icon="📡", disabled=api.read_only(),
                   help="A worker looks for new videos every 6 hours and adds them here"):
        try:
            api.follow(chosen.url)
        except (api.InvalidURL, api.FollowRefused, api.ReadOnlyLibrary) as exc:
            st.error(str(exc), icon="⚠️")
        else:
            st.rerun()
FINAL = {stage.value for stage in FINAL_STATUSES}


def matching_counts(found: dict[str, int] | None = None) -> dict[str, int]:
    """How many videos the filters keep in each status (of `found`, the library's counts, when given)."""
    if found is None:
        found = api.status_counts(platforms=platforms or None, collections=collections or None)
    return {status: count for status, count in found.items() if not statuses or status in statuses}


# Without a platform or collection chosen, the library's counts read above are the ones wanted.
matching = matching_counts(None if platforms or collections else counts)
just_read = [matching]  # the page's own run draws the list with these; the list's later runs read them again
pages = max(1, -(-sum(matching.values()) // LIBRARY_PAGE_SIZE))
page = right.number_input("Page", min_value=1, max_value=pages, value=1, step=1) if pages > 1 else 1
moving = any(status not in FINAL for status in matching)


def job_list(scope: str = "app") -> None:
    now = just_read.pop() if just_read else matching_counts()
    total, waiting = sum(now.values()), sum(count for status, count in now.items() if status not in FINAL)
    shown = api.list_jobs(statuses=statuses or None, platforms=platforms or None, collections=collections or None,
                          limit=LIBRARY_PAGE_SIZE, offset=(page - 1) * LIBRARY_PAGE_SIZE)
    if not total:
        st.write("No videos match these filters.")
    if total > LIBRARY_PAGE_SIZE:
        first = (page - 1) * LIBRARY_PAGE_SIZE + 1
        st.caption(f"{first}–{first + len(shown) - 1} of {total} videos")
    queue_warning(waiting)
    job_cards(shown, actions=lambda job: job_actions(job, scope), costs=api.costs())
    if bool(waiting) != moving:
        st.rerun()  # from still to moving or back: drawn again at the other pace


def job_actions(job: Job, scope: str) -> None:
    cancel_button(job, rerun_scope=scope)
    try:
        if job.status == Stage.FAILED and st.button("Retry", key=f"retry-{job.id}", icon="🔁"):
            api.retry(job.id)
            st.rerun(scope=scope)
        if job.is_final and st.button("Reprocess", key=f"again-{job.id}", icon="♻️"):
            try:
                api.reprocess(job.id)
            except api.CorrectionsKept as exc:  # asked first: corrections are never thrown away unasked
                confirm_reprocess(job.id, str(exc))
                return
            st.rerun(scope=scope)
    except (api.QueueUnavailable, api.JobBusy, api.LibraryUnavailable, api.MediaStoreRefused) as exc:
        st.error(str(exc))
    if st.button("Delete", key=f"delete-{job.id}", icon="🗑️"):
        confirm_delete(job.id, job.title or job.url)


@st.fragment(run_every=LIVE_SECONDS)
def moving_list() -> None:
    """While videos move: their cards drawn again every few seconds, the rest of the page left as it is."""
    job_list(scope="fragment")


if moving:
    moving_list()
else:
    job_list()
    look_for_changes()
