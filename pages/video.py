"""One video: its status, player, transcript (and its translation) and analysis."""

import streamlit as st
import streamlit.components.v1 as components

from core import api
from core.formatting import clock, literal
from core.library import insights
from core.models import MAX_SEGMENT_CHARS, SearchFilters, Stage, chapter_at
from pages.components import (
    LIVE_SECONDS,
    cancel_button,
    conversation,
    job_facts,
    job_status,
    page_start,
    transcript_lines,
)

READ_ALONG = "🎧 Read along"

page_start()
job_id = st.query_params.get("job")
job = api.get_job(job_id) if job_id else None
if job is None:
    st.warning("No such video in the library.", icon="🔍")
    st.page_link("pages/library.py", label="Back to the library", icon="📚")
    st.stop()

st.title(literal(job.title or job.url))
st.caption(job_facts(job))
collection = api.collections_of([job]).get(job.collection_id)
if collection:
    st.caption(f"📂 From the collection **{literal(collection.title or collection.url)}**")
video_themes = api.themes_of(job.id)
if video_themes:
    named = [f"**{literal(theme.label)}** ({theme.videos} video{'s' if theme.videos != 1 else ''})"
             for theme in video_themes]
    st.caption(f"🏷️ Theme{'s' if len(named) > 1 else ''}: {', '.join(named)}")
st.markdown(f"[Open the original]({job.webpage_url or job.url})")


@st.fragment(run_every=LIVE_SECONDS)
def live_status() -> None:
    current = api.get_job(job.id)
    job_status(current)
    cancel_button(current)
    if current.status != job.status and current.is_final:
        st.rerun()  # results just arrived: draw the whole page again


if not job.is_final:
    live_status()
    st.stop()
job_status(job)
if job.status == Stage.FAILED:
    if st.button("Retry", icon="🔁", help="Resumes from the stage that failed"):
        try:
            api.retry(job.id)
        except api.QueueUnavailable as exc:
            st.error(str(exc))
        else:
            st.rerun()
    st.stop()

# A search result opens the page at its moment (?t=SECONDS); clicking a segment seeks from there on.
seek = st.session_state.get(f"seek-{job.id}", float(st.query_params.get("t", 0) or 0))
audio = api.audio_file(job.id)
audio_path = api.media_file(audio.audio_path) if audio and not audio.audio_removed_at else None
if audio_path:
    st.audio(str(audio_path), format=api.media_type(audio.audio_path), start_time=int(seek))
elif audio and audio.audio_removed_at:
    st.info(f"The audio is no longer kept here (removed on {audio.audio_removed_at[:10]}, after "
            "AUDIO_RETENTION_DAYS). The transcript, analysis and search stay, and each time below opens the "
            "original at that moment.", icon="🗄️")

if job.chapters:
    with st.expander(f"📑 Chapters ({len(job.chapters)})", expanded=True):
        current = chapter_at(job.chapters, seek)
        for number, chapter in enumerate(job.chapters):
            time_col, title_col = st.columns([1, 9], vertical_alignment="center")
            here = chapter == current
            if not audio_path:
                time_col.link_button(clock(chapter.start), api.moment_link(job, chapter.start),
                                     help="Open the original here")
            elif time_col.button(clock(chapter.start), key=f"chapter-{number}", help="Play from here",
                                 type="primary" if here else "secondary"):
                st.session_state[f"seek-{job.id}"] = chapter.start
                st.rerun()
            source = "" if chapter.source == "creator" else " :gray-badge[found in the talk]"
            title_col.markdown(f"{'▶ **' if here else ''}{literal(chapter.title)}{'**' if here else ''}{source}")

read_only = api.read_only()
revision = api.revision(job.id)  # corrections made from here must still be the latest when saved


def signed_in() -> str | None:
    return st.user.get("email") if st.user.get("is_logged_in", False) else None


def correct_line(index: int, text: str) -> None:
    """A line corrected in place: its times stay; search and the analysis follow."""
    try:
        api.edit_segment(job.id, index, text, base_revision=revision, by=signed_in())
    except (api.EditConflict, api.EditRefused) as exc:
        st.error(str(exc))
    else:
        st.rerun()


def name_speakers() -> None:
    """Names for the video's voices, once; every line, export and search hit then says who speaks."""
    with st.form("speaker-names", border=False):
        names = {speaker.id: st.text_input(speaker.id, speaker.name or "", max_chars=80,
                                           placeholder=speaker.suggested_name or "a name",
                                           key=f"speaker-{speaker.id}")
                 for speaker in transcript.speakers}
        if st.form_submit_button("Save names", type="primary"):
            try:
                api.name_speakers(job.id, names)
            except api.SpeakerRefused as exc:
                st.error(str(exc))
            else:
                st.rerun()


def speakers_row(colours: dict[str, str]) -> None:
    """Who speaks, in their colours, with their talk time (and sentiment); named in place."""
    if not transcript.speakers:
        if transcript.speakers_note:
            st.caption(f"🗣️ {literal(transcript.speakers_note)}")
        return
    moods = insights.speaker_sentiment(transcript, analysis)
    badges_col, edit_col = st.columns([8, 1], vertical_alignment="center")
    badges_col.markdown("🗣️ " + " ".join(
        f":{colours[s.id]}-badge[{literal(s.label)} · {clock(s.seconds)}"
        + (f" · {moods[s.id]:+.2f}" if s.id in moods else "") + "]"
        + (f" :gray[(sounds like {literal(s.suggested_name)}?)]" if s.suggested_name and not s.name else "")
        for s in transcript.speakers), help="talk time and sentiment of each speaker")
    if not read_only:
        with edit_col.popover("✏️", help="Name the speakers"):
            name_speakers()


def find_and_replace() -> None:
    """A name misheard everywhere: the lines that would change first, then all of them as one correction."""
    old_col, new_col = st.columns(2)
    old = old_col.text_input("Replace", placeholder="Lovelock", key="replace-old")
    new = new_col.text_input("with", placeholder="Lovelace", key="replace-new")
    if not old.strip():
        return
    try:
        changes, _ = api.replace_words(job.id, old, new)
    except (api.EditRefused, api.EditConflict) as exc:
        st.error(str(exc))
        return
    if not changes:
        st.caption(f"No line holds “{literal(old)}”.")
        return
    st.caption(f"{len(changes)} line{'s' if len(changes) != 1 else ''} would change:")
    for change in changes:
        st.markdown(f"~~{literal(change.before)}~~  \n{literal(change.after)}")
    if st.button(f"Replace in {len(changes)} line{'s' if len(changes) != 1 else ''}", type="primary",
                 key="replace-apply"):
        try:
            api.replace_words(job.id, old, new, apply=True, base_revision=revision, by=signed_in())
        except (api.EditRefused, api.EditConflict) as exc:
            st.error(str(exc))
        else:
            st.rerun()


transcript = api.transcript(job.id)
translation = api.translation(job.id)
analysis = api.analysis(job.id)
# Only the open tab is built (and its charts drawn); the tab is kept in the link (?tab=...).
transcript_tab, analysis_tab, ask_tab = st.tabs(["📝 Transcript", "🧠 Analysis", "💬 Ask this video"], key="tab",
                                                bind="query-params")
if transcript_tab.open:
    with transcript_tab:
        if transcript is None:
            st.info("No transcript yet.")
        else:
            spoken = (transcript.language or "?").upper()
            st.caption(f"Language: {transcript.language or 'unknown'} · {len(transcript.segments)} segments · "
                       f"{transcript.engine}" + (f" · translated into {translation.language} by {translation.engine}"
                                                 if translation else "")
                       + (f" · expecting {literal(', '.join(transcript.vocabulary))}" if transcript.vocabulary else ""))
            original = f"Original ({spoken})"
            views = [original]
            exports = {original: api.transcript_files(job, transcript, analysis)}  # from what is read
            if translation:  # side by side on wide screens, one under the other on narrow ones
                translated = f"Translation ({translation.language.upper()})"
                views = ["Side by side", original, translated]
                exports[translated] = api.transcript_files(job, transcript, analysis, translation)
            if audio_path:
                views.append(READ_ALONG)
            view = st.segmented_control("Show", views, default=views[0], key="transcript-view") or views[0]
            for label, files in exports.items():
                columns = st.columns([2] + [1] * len(files))
                columns[0].caption(label)
                for column, (fmt, (name, content, mime)) in zip(columns[1:], files.items(), strict=True):
                    column.download_button(fmt.upper(), content, file_name=name, mime=mime, key=f"export-{name}",
                                           on_click="ignore")
            needle = st.text_input("Find in transcript", placeholder="a word or phrase, in either language")
            lines = insights.transcript_lines(transcript, translation, needle)
            pages = insights.transcript_pages(lines)
            if needle.strip():
                st.caption(f"{len(lines)} of {len(transcript.segments)} lines hold “{literal(needle.strip())}”")
            colours = insights.speaker_colours(transcript.speakers)
            speakers_row(colours)
            page = 1
            if pages > 1:
                page = st.number_input(f"Page (of {pages}, {insights.TRANSCRIPT_PAGE_SIZE} lines each)", 1, pages,
                                       value=min(pages, insights.page_at(transcript, lines, seek)),
                                       key=f"page-{needle}")
            scores = analysis.segment_sentiment if analysis else []
            size = insights.TRANSCRIPT_PAGE_SIZE
            shown_lines = lines[(page - 1) * size:page * size]
            if view == READ_ALONG:  # the words light up as the audio above plays; click one to play from it
                components.html(insights.read_along([transcript.segments[i] for i in shown_lines],
                                                     chapters=job.chapters, speakers=transcript.speakers),
                                height=insights.READ_ALONG_HEIGHT + 50)
            else:
                rows = insights.transcript_rows(transcript, translation, shown_lines, scores,
                                                translated=view.startswith("Translation"),
                                                link_at=None if audio_path else lambda at: api.moment_link(job, at))
                saved = transcript_lines(rows, key=f"lines-{job.id}", audio=bool(audio_path),
                                         editable=not read_only, side_by_side=view == "Side by side",
                                         max_chars=MAX_SEGMENT_CHARS)
                if saved:
                    correct_line(saved["index"], saved["text"])
            edits = api.edit_history(job.id)
            if edits and not read_only:
                undo_col, note_col = st.columns([1, 4], vertical_alignment="center")
                if undo_col.button("Undo", icon="↩️", help="Take back the latest correction"):
                    try:
                        api.undo(job.id, base_revision=revision, by=signed_in())
                    except (api.EditConflict, api.EditRefused) as exc:
                        st.error(str(exc))
                    else:
                        st.rerun()
                note_col.caption(f"Revision {revision} · {len(edits)} correction{'s' if len(edits) != 1 else ''}")
            if not read_only:
                with st.expander("🔁 Find and replace in this transcript"):
                    find_and_replace()
            learned = insights.new_words(edits)
            if learned and job.collection_id and not read_only:
                if st.button(f"Expect {', '.join(learned)} in this collection's videos", icon="📖",
                             help="Adds the corrected words to the collection's vocabulary, so speech-to-text "
                                  "expects them in the videos transcribed from now on"):
                    try:
                        api.set_vocabulary(job.collection_id, learned, add=True)
                    except api.VocabularyTooLong as exc:
                        st.error(str(exc))
                    else:
                        st.toast("Added to the collection's vocabulary.", icon="📖")
            if edits:
                with st.expander("Corrections"):
                    for edit in reversed(edits):
                        state = " · taken back" if edit.undone else ""
                        when = edit.at[:16].replace("T", " ")
                        st.markdown(f"**Revision {edit.revision}** · {edit.kind}{state} · {when}"
                                    + (f" · {literal(edit.by)}" if edit.by else ""))
                        for change in edit.changes:
                            st.caption(f"line {change.index}: ~~{literal(change.before)}~~ → {literal(change.after)}")

if analysis_tab.open:
    with analysis_tab:
        if analysis is None:
            st.info("No analysis yet.")
        else:
            summary_col, gauge_col = st.columns([3, 2])
            summary_col.subheader("Summary")
            summary_col.write(analysis.summary)
            summary_col.markdown(" ".join(f":violet-badge[{topic}]" for topic in analysis.topics) or "–")
            gauge_col.plotly_chart(insights.sentiment_gauge(analysis), key="gauge")
            cost = api.costs().get(job.id)
            cols = st.columns(4 if cost else 3)
            cols[0].metric("Sentiment", analysis.sentiment.label.capitalize(), f"{analysis.sentiment.score:+.2f}")
            cols[1].metric("Category", analysis.category.capitalize())
            cols[2].metric("Language", (analysis.language or "?").upper(),
                           help=f"analysed in its translation into {translation.language}" if translation else None)
            if cost:
                cols[3].metric("Hosted cost", f"${cost:.4f}", help="estimated from core/pricing.py")
            summed_up = [chapter for chapter in job.chapters if chapter.summary]
            if summed_up:
                st.subheader("Chapter by chapter")
                for chapter in summed_up:
                    st.markdown(f"**{clock(chapter.start)} {literal(chapter.title)}** — {literal(chapter.summary)}")
            if transcript and analysis.segment_sentiment:
                st.subheader("Sentiment through the video")
                st.plotly_chart(insights.sentiment_timeline(transcript, analysis), key="timeline")

if ask_tab.open:
    with ask_tab:
        conversation(f"video-{job.id}", SearchFilters(job_ids=[job.id]), placeholder="Ask a question about this video")
