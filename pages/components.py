"""Widgets shared by the pages. Display only: data comes from core.api."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from pathlib import Path

import streamlit as st

from core import api
from core.formatting import NO_WORKER, clock, interval, literal, status_line, waiting_hint
from core.models import CATEGORIES, MAX_QUESTION_CHARS, Answer, AskTurn, Job, SearchFilters, Stage, ThemeView

VIDEO_PAGE = "pages/video.py"

#: How often a page looks again at jobs that move, and at a library where none does (each look of a Streamlit
#: fragment costs the server ~40 ms of CPU, so a page polling every 2 s for nothing cost 2-6 % of a core).
LIVE_SECONDS = 2
STILL_SECONDS = 15

_HERE = Path(__file__).parent
_TRANSCRIPT_LINES = st.components.v2.component(
    "video_insight_studio.transcript_lines", js=(_HERE / "transcript_lines.js").read_text(),
    css=(_HERE / "transcript_lines.css").read_text())


def transcript_lines(rows: list[dict], *, key: str, audio: bool, editable: bool, side_by_side: bool,
                     max_chars: int) -> dict | None:
    """A page of a transcript's lines (core.library.insights.transcript_rows) as one element: a line's time plays the
    page's audio from there in the browser (no rerun), or opens the original at that moment; ✏️ corrects a line in
    place. Returns the correction just saved, {"index", "text"}, or None."""
    result = _TRANSCRIPT_LINES(data={"rows": rows, "audio": audio, "editable": editable,
                                     "side_by_side": side_by_side, "max_chars": max_chars},
                               key=key, on_save_change=lambda: None)
    return result.save


def require_sign_in() -> None:
    """With an [auth] section in .streamlit/secrets.toml (Streamlit's OpenID Connect login), nothing of
    the library shows before the person has signed in."""
    if not _sign_in_configured():
        return
    if not st.user.get("is_logged_in", False):
        st.title("🎬 Video Insight Studio")
        st.write("Sign in to use this library.")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    st.sidebar.button("Sign out", on_click=st.logout)


def _sign_in_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets.toml at all
        return False


def app_pages() -> list:
    """The app's pages, for st.navigation (streamlit_app.py)."""
    return [
        st.Page("pages/submit.py", title="Submit", icon="➕", default=True),
        st.Page("pages/library.py", title="Library", icon="📚"),
        st.Page("pages/dashboard.py", title="Dashboard", icon="📊"),
        st.Page("pages/search.py", title="Search", icon="🔎"),
        st.Page("pages/ask.py", title="Ask", icon="💬"),
        st.Page("pages/video.py", title="Video", icon="🎬", url_path="video", visibility="hidden"),
    ]


THROUGH_THE_APP = "through-the-app"  # set by streamlit_app.py on each session's runs


def page_start(title: str | None = None) -> None:
    """What every page does first: sign-in, a word when the app is open to the network, the title, and a
    clear stop when the library cannot be reached instead of failing half-way down the page."""
    if THROUGH_THE_APP not in st.session_state:
        # A page's address opened before anything opened the app on this server: Streamlit, seeing a folder
        # named pages/, ran this file on its own, with every file of the folder in the sidebar. Declaring the
        # app's pages ends that mode for the whole server; the page then runs again through streamlit_app.py
        # (same address), on this first run of the session, which carries no click to lose.
        st.navigation(app_pages(), position="hidden")
        st.rerun()
    require_sign_in()
    warning = api.exposure_warning(st.get_option("server.address"), _sign_in_configured())
    if warning:
        st.sidebar.warning(warning, icon="🔓")
    if title:
        st.title(title)
    problem = api.library_problem()
    if problem:
        st.error(problem, icon="🛑")
        st.stop()
    media_problem = api.media_problem()
    if media_problem:
        st.warning(f"{media_problem} Until then stored audio and thumbnails may not open, and new videos cannot "
                   "be stored.", icon="🪣")


def job_status(job: Job) -> None:
    """One job's live state: status, progress bar, error."""
    if job.status == Stage.FAILED:
        st.error(f"{status_line(job)}: {literal(job.error)}")
    elif job.status == Stage.COMPLETED:
        st.success(status_line(job))
    else:
        st.progress(job.overall_progress, text=status_line(job))
        hint = waiting_hint(job)
        if hint:
            st.caption(f"⚠️ {hint}")


def cancel_button(job: Job, *, rerun_scope: str = "app") -> None:
    """Stop a waiting or running job (it ends failed, "Cancelled", and Retry resumes it)."""
    if job.is_final or not st.button("Cancel", key=f"cancel-{job.id}", icon="⏹️",
                                     help="Stop it; Retry resumes it later from where it stopped"):
        return
    try:
        api.cancel(job.id)
    except (api.JobBusy, api.QueueUnavailable) as exc:
        st.error(str(exc))
        return
    st.rerun(scope=rerun_scope)


def queue_warning(waiting: int) -> None:
    """Say so when `waiting` jobs wait and no worker serves the queue, or the queue cannot be reached."""
    if not waiting:
        return
    try:
        workers = api.queue_status().workers
    except api.QueueUnavailable as exc:
        st.warning(f"{waiting} video(s) waiting. {exc}", icon="🛑")
        return
    if workers == 0:
        st.warning(f"{waiting} video(s) waiting. {NO_WORKER}", icon="⚠️")


def job_facts(job: Job, cost: float | None = None) -> str:
    """Platform · duration · uploader · upload date (· hosted cost), as Markdown."""
    return " · ".join(filter(None, [
        literal(job.platform), clock(job.duration) if job.duration else None, literal(job.uploader) or None,
        literal(job.upload_date) or None, f"≈ \\${cost:.4f} hosted" if cost else None,
    ]))


def job_cards(jobs: list[Job], *, actions: Callable[[Job], None] | None = None,
              costs: dict[str, float] | None = None) -> None:
    """A card for each job, their thumbnails found in one read."""
    images = api.thumbnails(jobs)
    for job in jobs:
        job_card(job, image=images.get(job.id), actions=actions, cost=(costs or {}).get(job.id))


def job_card(job: Job, *, image=None, show_open: bool = True, actions: Callable[[Job], None] | None = None,
             cost: float | None = None) -> None:
    """A job's thumbnail, title, details and live status; `actions` draws buttons in the card."""
    with st.container(border=True):
        thumb, body = st.columns([1, 4], vertical_alignment="center")
        if image:
            thumb.image(str(image), width="stretch")
        else:
            thumb.markdown("## 🎬")
        body.markdown(f"**{literal(job.title or job.url)}**")
        body.caption(job_facts(job, cost))
        with body:
            job_status(job)
        with body.container(horizontal=True, vertical_alignment="center"):
            if show_open:
                st.page_link(VIDEO_PAGE, label="Open", icon="🎬", query_params={"job": job.id})
            if actions:
                actions(job)


def library_filters(key: str, label: str, *, sentiments: bool = True, collections: bool = False,
                    cited: bool = False) -> tuple[SearchFilters, int]:
    """A closed box of filters over the library (platform, category, sentiment, dates, theme, speaker, collection),
    and, on the Ask page, how many moments an answer cites. Its choices (and the library's platforms, themes and
    people they are read from) are read only while the box is open, so a page that opens with it closed draws none
    of its widgets; what was chosen stays in force when it is closed, and is said under it. Kept for the session
    under `key` (the box's state also in the address)."""
    box = st.expander(label, key=key, on_change="rerun", bind="query-params")
    chosen = st.session_state.setdefault(f"{key}-chosen", {})
    if box.open:
        with box:
            first_row = iter(st.columns(3))  # Search: platform, category, sentiment; Ask: collection first
            if collections:
                found = {collection.id: collection.title or collection.url for collection in api.collections()}
                kept = chosen.get("collection")
                picked = next(first_row).selectbox("Collection", list(found), placeholder="every collection",
                                                   format_func=found.get,
                                                   index=list(found).index(kept) if kept in found else None)
                chosen["collection"], chosen["collection_label"] = picked, found.get(picked)
            chosen["platforms"] = next(first_row).multiselect("Platform", api.platforms_in_library(),
                                                              default=chosen.get("platforms"))
            chosen["categories"] = next(first_row).multiselect("Category", sorted(CATEGORIES),
                                                               default=chosen.get("categories"))
            if sentiments:
                chosen["sentiments"] = next(first_row).multiselect("Sentiment", ["positive", "neutral", "negative"],
                                                                   default=chosen.get("sentiments"))
            start, end, theme_column, *rest = st.columns(4 if cited else 3)
            chosen["date_from"] = start.date_input("Uploaded from", value=chosen.get("date_from"))
            chosen["date_to"] = end.date_input("Uploaded until", value=chosen.get("date_to"))
            labels = {view.id: view.label for view in api.themes()}
            chosen["themes"] = theme_column.multiselect("Theme", list(labels), format_func=labels.get,
                                                        default=[t for t in chosen.get("themes", []) if t in labels])
            chosen["theme_labels"] = [labels[t] for t in chosen["themes"]]
            if cited:
                chosen["limit"] = rest[0].slider("Moments cited, at most", 1, 10,
                                                 chosen.get("limit", api.DEFAULT_CITATIONS))
            chosen["speakers"] = st.multiselect("Said by", [person.name for person in api.people()],
                                                default=chosen.get("speakers"), placeholder="anyone",
                                                help="only what these people said")
    else:
        active = [f"{name}: {', '.join(map(str, values))}" for name, values in (
            ("collection", [chosen["collection_label"]] if chosen.get("collection") else []),
            ("platform", chosen.get("platforms")), ("category", chosen.get("categories")),
            ("sentiment", chosen.get("sentiments")), ("theme", chosen.get("theme_labels")),
            ("said by", chosen.get("speakers")),
            ("from", [chosen["date_from"]] if chosen.get("date_from") else []),
            ("until", [chosen["date_to"]] if chosen.get("date_to") else [])) if values]
        if active:
            st.caption("Filtered by " + " · ".join(literal(item) for item in active))
    date_from, date_to = chosen.get("date_from"), chosen.get("date_to")
    filters = SearchFilters(platforms=chosen.get("platforms", []), categories=chosen.get("categories", []),
                            sentiments=chosen.get("sentiments", []), themes=chosen.get("themes", []),
                            speakers=chosen.get("speakers", []),
                            collections=[chosen["collection"]] if chosen.get("collection") else [],
                            date_from=date_from.isoformat() if date_from else None,
                            date_to=date_to.isoformat() if date_to else None)
    return filters, chosen.get("limit", api.DEFAULT_CITATIONS)


def conversation(key: str, filters: SearchFilters, *, limit: int = api.DEFAULT_CITATIONS,
                 placeholder: str = "Ask a question about the library") -> None:
    """Questions and their answers, each citing the moments it comes from; follow-up questions are read with the
    ones before. Kept for the session under `key`."""
    turns: list[tuple[str, Answer]] = st.session_state.setdefault(f"ask-{key}", [])
    for question, answer in turns:
        with st.chat_message("user"):
            st.markdown(literal(question))
        with st.chat_message("assistant"):
            answer_view(answer)
    if turns and st.button("New conversation", icon="🧹", key=f"ask-clear-{key}"):
        turns.clear()
        st.rerun()
    question = st.chat_input(placeholder, key=f"ask-input-{key}", max_chars=MAX_QUESTION_CHARS)
    if not question:
        return
    with st.chat_message("user"):
        st.markdown(literal(question))
    with st.chat_message("assistant"):
        history = [AskTurn(question=q, answer=a.answer if a.supported else None) for q, a in turns]
        written = st.empty()
        text = ""
        try:
            events = api.ask_stream(question, limit=limit, filters=filters, history=history)
            with st.spinner("Looking through the library…"):
                first = next(events)  # the moments found (and offline, the whole answer)
            for event in chain([first], events):
                if isinstance(event, Answer):
                    written.empty()
                    turns.append((question, event))
                    answer_view(event)
                else:  # a model writing: the text as it comes
                    text += event
                    written.markdown(literal(text))
        except (api.AskRefused, LookupError) as exc:
            written.warning(str(exc.args[0] if exc.args else exc), icon="💬")
        except api.EngineError as exc:
            written.error(str(exc), icon="🛑")


def answer_view(answer: Answer) -> None:
    """An answer and its cited moments, each opening the video here at that second, or the original there."""
    if not answer.supported:
        st.info(answer.answer or "", icon="🤷")
        return
    for paragraph in (answer.answer or "").split("\n\n"):
        st.markdown(literal(paragraph))
    for c in answer.citations:
        with st.container(border=True):
            chapter = f" · 📑 {literal(c.chapter)}" if c.chapter else ""
            said_by = f"{literal(c.speaker)}: " if c.speaker else ""
            st.markdown(f"**[{c.number}]** {literal(c.title or c.video_id)}{chapter} · {clock(c.start)} — "
                        f"{said_by}{literal(c.text)}")
            if c.original:
                st.caption(f"Spoken: {literal(c.original)}")
            with st.container(horizontal=True):
                st.page_link(VIDEO_PAGE, label="Open at this moment", icon="▶️",
                             query_params={"job": c.job_id, "t": str(int(c.start))})
                st.link_button("Original", c.url, icon="🔗")
    if answer.usage and answer.usage.cost_usd is not None:
        st.caption(f"{answer.engine} · ≈ \\${answer.usage.cost_usd:.4f}")


def theme_editor(themes: list[ThemeView]) -> None:
    """Rename a theme, or merge one into another; what a person does here is kept when the library is regrouped."""
    labels = {view.id: f"{view.label} ({view.videos})" for view in themes}
    chosen = st.selectbox("Theme", list(labels), format_func=labels.get, key="theme-edit")
    rename, merge = st.columns(2)
    name = rename.text_input("New name", max_chars=80, key="theme-name")
    others = [theme_id for theme_id in labels if theme_id != chosen]
    into = merge.selectbox("Merge into", others, format_func=labels.get, index=None, key="theme-into",
                           placeholder="another theme")
    with st.container(horizontal=True):
        renaming = st.button("Rename", icon="✏️", disabled=not name.strip(), key="theme-rename")
        merging = st.button("Merge", icon="🔗", disabled=into is None, key="theme-merge")
    try:
        if renaming:
            api.rename_theme(chosen, name)
        elif merging:
            api.merge_themes(chosen, into)
        else:
            return
    except (api.ThemeRefused, LookupError, api.ReadOnlyLibrary) as exc:
        st.error(str(exc.args[0] if exc.args else exc))
        return
    st.rerun()


FOLLOW_INTERVALS = {"every hour": 3600, "every 6 hours": 6 * 3600, "every day": 86400, "every week": 7 * 86400}


def follows_here() -> None:
    """Follow a source (told first what following it would do), and the follows with their checks."""
    url = st.text_input("Link to follow", placeholder="https://www.youtube.com/@channel, a playlist or a podcast feed",
                        key="follow-url")
    left, right = st.columns(2)
    every = left.selectbox("Look for new videos", list(FOLLOW_INTERVALS), index=1, key="follow-every")
    new_only = right.checkbox("Only videos uploaded from now on", key="follow-new-only",
                              help="The videos it lists now are marked as seen instead of added")
    if st.button("Preview", icon="🔍", disabled=not url.strip() or api.read_only(), key="follow-preview"):
        try:
            st.session_state["preview"] = api.preview_follow(url.strip())
        except (api.InvalidURL, api.FollowRefused) as exc:
            st.session_state.pop("preview", None)
            st.error(str(exc), icon="⚠️")
    shown = st.session_state.get("preview")
    if shown and shown.url.rstrip("/") == url.strip().rstrip("/"):
        new = shown.listed - shown.known
        plan = ("they are marked as seen, and only videos uploaded from now on are added" if new_only else
                f"{new} new to the library will be processed now" if new else "all are in the library already")
        st.info(f"**{literal(shown.title or shown.url)}** lists {shown.listed} video"
                f"{'s' if shown.listed != 1 else ''} ({shown.known} already in the library): {plan}; it is "
                f"then checked {every}.", icon="📡")
        if st.button("Follow", type="primary", icon="📡", key="follow-confirm"):
            try:
                followed, created = api.follow(url.strip(), every=FOLLOW_INTERVALS[every], new_only=new_only)
            except (api.InvalidURL, api.FollowRefused, api.QueueUnavailable, api.ReadOnlyLibrary) as exc:
                st.error(str(exc), icon="⚠️")
            else:
                st.session_state.pop("preview", None)
                st.success(f"{'Following' if created else 'Already following'} "
                           f"{literal(followed.title or followed.url)}: {followed.videos_added} videos added.")
    for followed in api.follows():
        follow_card(followed)


def follow_card(followed) -> None:
    """A follow: what it is, its last and next checks, what it added, and what went wrong."""
    with st.container(border=True):
        badge = {"active": ":green-badge[following]", "retrying": ":orange-badge[retrying]",
                 "gone": ":red-badge[source gone]"}[followed.status]
        st.markdown(f"{badge} **{literal(followed.title or followed.url)}** · every {interval(followed.every_seconds)}"
                    f" · {followed.videos_added} videos added")
        checked = followed.last_checked_at[:16].replace("T", " ") if followed.last_checked_at else "not yet"
        st.caption(f"Last check {checked} · next {followed.next_check_at[:16].replace('T', ' ')} (UTC) · "
                   f"{literal(followed.url)}")
        if followed.last_error:
            st.warning(literal(followed.last_error), icon="⚠️")
        with st.container(horizontal=True):
            if st.button("Check now", icon="🔄", key=f"check-{followed.id}", disabled=api.read_only()):
                api.check_follow_now(followed.id)
                st.rerun()
            if st.button("Unfollow", icon="✖️", key=f"unfollow-{followed.id}", disabled=api.read_only()):
                api.unfollow(followed.id)
                st.rerun()
