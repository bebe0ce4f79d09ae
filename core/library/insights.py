"""Figures and tables for the pages (plotly), built from what core.api returns. The CLI can use them too."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from core.formatting import clock
from core.library.corrections import last_undoable
from core.models import (
    Analysis,
    Chapter,
    Edit,
    LibrarySummary,
    MonthTally,
    Segment,
    Speaker,
    Tally,
    Transcript,
    Translation,
    VoiceView,
    Word,
    chapters_by_segment,
    sentiment_label,
)
from core.text import WORD

SENTIMENT_COLOURS = {"positive": "#2E9E6B", "neutral": "#8C8AA0", "negative": "#D1495B"}


#: Streamlit's named text colours for the same moods.
MOOD_MARKS = {"positive": "green", "neutral": "gray", "negative": "red"}


#: Streamlit's named colours for the speakers of a video, in the order they first speak (repeating after six).
SPEAKER_COLOURS = ("blue", "orange", "green", "violet", "red", "gray")
SPEAKER_HEX = {"blue": "#1C83E1", "orange": "#FF8700", "green": "#21C354", "violet": "#803DF5", "red": "#FF4B4B",
               "gray": "#808495"}


def speaker_colours(speakers: list[Speaker]) -> dict[str, str]:
    return {speaker.id: SPEAKER_COLOURS[number % len(SPEAKER_COLOURS)] for number, speaker in enumerate(speakers)}


def turn_starts(segments: list[Segment], speakers: list[Speaker]) -> list[str | None]:
    """For each segment, the speaker's id where the voice changes (a known speaker begins a turn), else None: the
    places a transcript names who speaks."""
    known, previous, starts = {speaker.id for speaker in speakers}, None, []
    for segment in segments:
        starts.append(segment.speaker if segment.speaker in known and segment.speaker != previous else None)
        previous = segment.speaker
    return starts


def speaker_sentiment(transcript: Transcript, analysis: Analysis | None) -> dict[str, float]:
    """Each speaker's sentiment: the mean of their lines' scores, weighted by how long each line lasts."""
    if analysis is None or not transcript.speakers:
        return {}
    totals: dict[str, list[float]] = {}
    for segment, score in zip(transcript.segments, analysis.segment_sentiment, strict=False):
        if segment.speaker:
            weight = max(segment.end - segment.start, 0.1)
            sums = totals.setdefault(segment.speaker, [0.0, 0.0])
            sums[0] += score * weight
            sums[1] += weight
    return {speaker: round(weighted / weights, 3) for speaker, (weighted, weights) in totals.items() if weights}


def sentiment_colour(score: float) -> str:
    return SENTIMENT_COLOURS[sentiment_label(score)]


def segment_mood(scores: list[float], index: int) -> str:
    return sentiment_label(scores[index]) if index < len(scores) else "neutral"


#: Video cards the Library lists at once.
LIBRARY_PAGE_SIZE = 20

#: Transcript lines drawn at once on a video's page: a two-hour talk stays quick to open and to scroll.
TRANSCRIPT_PAGE_SIZE = 50


def transcript_lines(transcript: Transcript, translation: Translation | None, needle: str = "") -> list[int]:
    """Indices of the segments to list: all of them, or those holding `needle` in either language."""
    needle = needle.strip().lower()
    translated = translation.segments if translation else []
    return [index for index, segment in enumerate(transcript.segments)
            if not needle or needle in segment.text.lower()
            or (index < len(translated) and needle in translated[index].text.lower())]


def transcript_pages(lines: list[int]) -> int:
    return max(1, -(-len(lines) // TRANSCRIPT_PAGE_SIZE))


def transcript_rows(transcript: Transcript, translation: Translation | None, shown: list[int],
                    scores: list[float], *, translated: bool = False,
                    link_at: Callable[[float], str] | None = None) -> list[dict]:
    """The lines `shown` as a video's page draws them: time, mood, who speaks where the voice changes, the text (its
    translation with `translated`, and beside it for side by side), whether it is the original's (so correctable),
    and, with `link_at`, where the original opens at that moment."""
    colours, names = speaker_colours(transcript.speakers), transcript.speaker_names()
    others = translation.segments if translation else []
    segments = [transcript.segments[index] for index in shown]
    rows = []
    for index, segment, turn in zip(shown, segments, turn_starts(segments, transcript.speakers), strict=True):
        other = others[index].text if index < len(others) else None
        rows.append({"index": index, "start": segment.start, "end": segment.end, "clock": clock(segment.start),
                     "mood": MOOD_MARKS[segment_mood(scores, index)],
                     "speaker": names[turn] if turn else None, "colour": colours[turn] if turn else None,
                     "text": other if translated and other is not None else segment.text,
                     "translation": other, "editable": not (translated and other is not None),
                     "link": link_at(segment.start) if link_at else None})
    return rows


def page_at(transcript: Transcript, lines: list[int], seconds: float) -> int:
    """The page (from 1) of `lines` holding the moment `seconds`: a search hit opens the transcript there."""
    before = sum(1 for index in lines if transcript.segments[index].start <= seconds)
    return max(1, -(-before // TRANSCRIPT_PAGE_SIZE))


#: Steps between the ticks of a video's time axis, in seconds: the smallest giving at most TIME_TICKS ticks is used.
TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
TIME_TICKS = 8


def time_axis(seconds: float) -> dict:
    """An axis over a video's own time, 0 to its end, ticked in round steps labelled m:ss (h:mm:ss past an hour)."""
    end = max(seconds, 1.0)
    step = next((step for step in TIME_STEPS if end / step <= TIME_TICKS), TIME_STEPS[-1])
    ticks = [step * n for n in range(int(end // step) + 1)]
    return dict(range=[0, end], tickmode="array", tickvals=ticks, ticktext=[clock(t) for t in ticks])


def sentiment_timeline(transcript: Transcript, analysis: Analysis) -> go.Figure:
    """Sentiment of each segment along the video; hover shows what was said."""
    scores = analysis.segment_sentiment[: len(transcript.segments)]
    segments = transcript.segments[: len(scores)]
    figure = go.Figure(go.Scatter(  # each segment at its middle: a lone segment is not drawn on the axis's edge
        x=[(s.start + s.end) / 2 for s in segments], y=scores, mode="lines+markers", line_shape="spline",
        marker=dict(color=[sentiment_colour(v) for v in scores], size=8),
        customdata=[[clock(s.start), s.text] for s in segments],
        hovertemplate="%{customdata[0]} · %{y:+.2f}<br>%{customdata[1]}<extra></extra>",
    ))
    figure.add_hline(y=0, line_dash="dot", line_color="#8C8AA0")
    figure.update_layout(xaxis_title="time in the video", yaxis_title="sentiment", yaxis_range=[-1.05, 1.05],
                         xaxis=time_axis(max((s.end for s in segments), default=0.0)),
                         height=280, margin=dict(l=10, r=10, t=10, b=10))
    return figure


def sentiment_gauge(analysis: Analysis) -> go.Figure:
    figure = go.Figure(go.Indicator(
        mode="gauge+number", value=analysis.sentiment.score, number=dict(valueformat="+.2f"),
        gauge=dict(axis=dict(range=[-1, 1]), bar=dict(color=SENTIMENT_COLOURS[analysis.sentiment.label]),
                   steps=[dict(range=[-1, -0.1], color="#F6D5DA"), dict(range=[-0.1, 0.1], color="#ECEBF2"),
                          dict(range=[0.1, 1], color="#D3EFE1")]),
    ))
    # The title in the layout, with room above the gauge: as the indicator's own it was cut off at the top.
    figure.update_layout(height=240, margin=dict(l=20, r=20, t=50, b=10),
                         title=dict(text=analysis.sentiment.label.capitalize(), x=0.5, xanchor="center"))
    return figure


NO_THEME = "(not grouped yet)"
UNKNOWN_LANGUAGE = "unknown"


@dataclass
class LibraryOverview:
    """The Dashboard's numbers (core.models.LibrarySummary, counted by the store) with each theme id shown by its
    theme's label (a theme merged into another by that one's)."""

    summary: LibrarySummary
    theme_labels: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.summary.videos == 0

    @property
    def hours(self) -> float:
        return self.summary.seconds / 3600

    @property
    def job_ids(self) -> list[str]:
        return self.summary.job_ids

    def tallies(self, column: str) -> list[Tally]:
        """The videos counted by `column` (SUMMARY_COLUMNS), the most first: themes by label (NO_THEME for those in
        none), languages with UNKNOWN_LANGUAGE for those not known."""
        found = self.summary.by.get(column, [])
        if column == "language":
            return [t.model_copy(update={"value": t.value or UNKNOWN_LANGUAGE}) for t in found]
        if column != "theme":
            return found
        merged: dict[str, list[float]] = {}  # label -> [videos, sum of scores]
        for tally in found:
            label = self.theme_label(tally.value)
            videos, total = merged.setdefault(label, [0, 0.0])
            merged[label] = [videos + tally.videos, total + tally.score * tally.videos]
        return sorted((Tally(value=label, videos=int(videos), score=total / videos)
                       for label, (videos, total) in merged.items()), key=lambda t: (-t.videos, t.value))

    def theme_label(self, theme_id: str) -> str:
        return self.theme_labels.get(theme_id, NO_THEME) if theme_id else NO_THEME

    def theme_months(self) -> list[MonthTally]:
        summed: Counter = Counter()
        for row in self.summary.theme_months:
            summed[(self.theme_label(row.value), row.month)] += row.videos
        return [MonthTally(value=label, month=month, videos=videos) for (label, month), videos in summed.items()]


# Figures are built with graph_objects: plotly.express takes 25-40 ms a figure to build the same (measured),
# which a Dashboard of several charts pays on every rerun.
SENTIMENT_SCALE = [[0, SENTIMENT_COLOURS["negative"]], [0.5, "#ECEBF2"], [1, SENTIMENT_COLOURS["positive"]]]


def _small(figure: go.Figure, title: str, height: int = 320, x_title: str | None = None,
           y_title: str | None = None) -> go.Figure:
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=50, b=10), title=title, xaxis_title=x_title,
                         yaxis_title=y_title)
    return figure


DAY_MS = 86_400_000


def count_axis(largest: float) -> dict:
    """An axis of counts (videos): whole numbers only, from zero; every one ticked while there are few."""
    axis = dict(rangemode="tozero", tickformat=",d")
    if largest <= 10:
        axis.update(dtick=1, range=[0, max(largest, 1) + 0.5])
    return axis


def day_axis(days: list[str]) -> dict:
    """A date axis in days, however few there are: plotly would zoom a single day into hours, or milliseconds."""
    axis = dict(type="date", tickformat="%b %-d, %Y", hoverformat="%b %-d, %Y")
    first, last = pd.Timestamp(min(days)), pd.Timestamp(max(days))
    if (last - first).days < 10:  # a few days: each ticked, and a day's room on each side
        axis.update(dtick=DAY_MS, range=[first - pd.Timedelta(days=1), last + pd.Timedelta(days=1)])
    return axis


def month_axis(months: list[str]) -> dict:
    """A date axis in months (YYYY-MM), however few there are."""
    axis = dict(type="date", tickformat="%b %Y", hoverformat="%B %Y")
    first, last = pd.Timestamp(min(months)), pd.Timestamp(max(months))
    if (last.year - first.year) * 12 + last.month - first.month < 12:
        axis.update(dtick="M1", range=[first - pd.Timedelta(days=20), last + pd.Timedelta(days=20)])
    return axis


def _nothing_yet(figure: go.Figure, message: str) -> go.Figure:
    """An empty chart says what will appear in it, and when."""
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                          font=dict(color="#8C8AA0"))
    return figure.update_xaxes(visible=False).update_yaxes(visible=False)


def sentiment_distribution(overview: LibraryOverview) -> go.Figure:
    counts = {tally.value: tally.videos for tally in overview.tallies("sentiment")}
    values = [counts.get(label, 0) for label in SENTIMENT_COLOURS]
    bars = go.Bar(x=list(SENTIMENT_COLOURS), y=values, marker_color=list(SENTIMENT_COLOURS.values()))
    figure = _small(go.Figure(bars), "Sentiment of videos", x_title="sentiment", y_title="videos")
    return figure.update_yaxes(**count_axis(max(values, default=0)))


def sentiment_by(overview: LibraryOverview, column: str) -> go.Figure:
    ordered = sorted(overview.tallies(column), key=lambda tally: tally.score)
    means, names = [tally.score for tally in ordered], [tally.value for tally in ordered]
    bars = go.Bar(x=means, y=names, orientation="h", hoverinfo="skip", showlegend=False,
                  marker=dict(color=means, colorscale=SENTIMENT_SCALE, cmin=-1, cmax=1, showscale=True),
                  text=[f"{value:+.2f}" for value in means], textposition="outside", cliponaxis=False)
    # A dot at each value, so an average near zero (a bar too thin to see) still shows where it is.
    dots = go.Scatter(x=means, y=names, mode="markers", showlegend=False,
                      marker=dict(color="#3A3950", size=7), hovertemplate="%{y}: %{x:+.2f}<extra></extra>")
    figure = _small(go.Figure([bars, dots]), f"Average sentiment by {column}", x_title="average sentiment",
                    y_title=column)
    return figure.update_xaxes(range=[-1.15, 1.15], zeroline=True, zerolinecolor="#8C8AA0")


def topic_frequency(overview: LibraryOverview, top: int = 15) -> go.Figure:
    counts = overview.summary.topics[:top][::-1]  # the most frequent at the top
    bars = go.Bar(x=[tally.videos for tally in counts], y=[tally.value for tally in counts], orientation="h")
    figure = _small(go.Figure(bars), f"Top {top} topics", height=max(320, 24 * len(counts) + 80), x_title="videos",
                    y_title="topic")
    if not counts:
        return _nothing_yet(figure, "Topics appear here once a video's analysis has found some.")
    return figure.update_xaxes(**count_axis(counts[-1].videos))


def topic_trend(overview: LibraryOverview) -> go.Figure:
    """The most frequent topics' videos by upload month (those the store counted by month)."""
    leaders = list(dict.fromkeys(row.value for row in sorted(overview.summary.topic_months, key=lambda row: row.value)))
    order = {tally.value: n for n, tally in enumerate(overview.summary.topics)}
    return _by_month(overview.summary.topic_months, sorted(leaders, key=lambda value: order.get(value, 0)),
                     "Top topics by upload month", "Topics appear here by upload month once videos are analysed.")


def _by_month(rows: list[MonthTally], leaders: list[str], title: str, empty: str) -> go.Figure:
    """A line per leading value: how many videos hold it, by upload month."""
    kept = [row for row in rows if row.value in leaders]
    lines = []
    for value in leaders:
        months = sorted((row.month, row.videos) for row in kept if row.value == value)
        if months:
            lines.append(go.Scatter(x=[month for month, _ in months], y=[videos for _, videos in months],
                                    mode="lines+markers", name=value))
    figure = _small(go.Figure(lines), title, x_title="month", y_title="videos")
    if not kept:
        return _nothing_yet(figure, empty)
    return (figure.update_xaxes(**month_axis([row.month for row in kept]))
            .update_yaxes(**count_axis(max(row.videos for row in kept))))


def talk_time(people: list[VoiceView], top: int = 15) -> go.Figure:
    """Minutes each named person speaks across the videos, the most heard at the top."""
    shown = sorted(people, key=lambda person: person.seconds, reverse=True)[:top][::-1]
    bars = go.Bar(x=[person.seconds / 60 for person in shown], y=[person.name for person in shown], orientation="h",
                  customdata=[[clock(person.seconds), person.videos] for person in shown],
                  hovertemplate="%{y}: %{customdata[0]} in %{customdata[1]} video(s)<extra></extra>")
    figure = _small(go.Figure(bars), "Talk time per person", height=max(320, 28 * len(shown) + 80),
                    x_title="minutes")
    if not shown:
        return _nothing_yet(figure, "Name the speakers of a video (on its page) to see who speaks how long.")
    return figure


def theme_sizes(overview: LibraryOverview, top: int = 15) -> go.Figure:
    """Videos per theme, the largest at the top."""
    counts = [tally for tally in overview.tallies("theme") if tally.value != NO_THEME][:top][::-1]
    bars = go.Bar(x=[tally.videos for tally in counts], y=[tally.value for tally in counts], orientation="h",
                  hovertemplate="%{y}: %{x} videos<extra></extra>")
    figure = _small(go.Figure(bars), "Videos per theme", height=max(320, 28 * len(counts) + 80), x_title="videos")
    if not counts:
        return _nothing_yet(figure, "Themes appear here once a worker has grouped the completed videos.")
    return figure.update_xaxes(**count_axis(max(tally.videos for tally in counts)))


def theme_trend(overview: LibraryOverview, top: int = 5) -> go.Figure:
    """The largest themes' videos by upload month."""
    leaders = [tally.value for tally in overview.tallies("theme") if tally.value != NO_THEME][:top]
    return _by_month(overview.theme_months(), leaders, "Themes by upload month",
                     "Themes appear here by upload month once videos are grouped.")


def share_by(overview: LibraryOverview, column: str, title: str) -> go.Figure:
    """A donut of how many videos have each value of `column` (category, platform, language, theme...)."""
    counts = overview.tallies(column)
    return _small(go.Figure(go.Pie(values=[tally.videos for tally in counts], labels=[tally.value for tally in counts],
                                   hole=0.45, sort=False)), title)


def processed_per_day(overview: LibraryOverview) -> go.Figure:
    counts = sorted(overview.tallies("processed_day"), key=lambda tally: tally.value)
    days, values = [tally.value for tally in counts], [tally.videos for tally in counts]
    # each bar a day wide (less a gap): alone on a date axis, plotly would draw it a millisecond wide
    bars = go.Bar(x=days, y=values, width=0.8 * DAY_MS, hovertemplate="%{x}: %{y} videos<extra></extra>")
    figure = _small(go.Figure(bars), "Videos processed per day", x_title="day", y_title="videos")
    if not counts:
        return _nothing_yet(figure, "Each day's count appears here once videos complete.")
    return figure.update_xaxes(**day_axis(days)).update_yaxes(**count_axis(max(values)))


#: A word the recogniser gave a lower probability than this is marked for proofreading.
UNSURE_BELOW = 0.5
READ_ALONG_HEIGHT = 420


def unsure_words(segments: list[Segment]) -> int:
    return sum(1 for s in segments for w in s.words or [] if w.probability is not None and w.probability < UNSURE_BELOW)


def read_along(segments: list[Segment], first_index: int = 0, chapters: list[Chapter] | None = None,
               speakers: list[Speaker] | None = None) -> str:
    """A transcript to read while the page's audio plays (an HTML document for an st.components iframe, which may
    reach the page's own audio element): the word being spoken is highlighted and kept in view, a click on a word
    plays from it, Space plays or pauses, ←/→ step a line, N jumps to the next word the recogniser was unsure of;
    chapter headings stand where chapters begin, the one playing marked; the speaker's name where the voice changes."""
    lines = []
    names = {speaker.id: speaker.label for speaker in speakers or []}
    colours = {key: SPEAKER_HEX[colour] for key, colour in speaker_colours(speakers or []).items()}
    turns = turn_starts(segments, speakers or [])
    for number, (segment, starting) in enumerate(chapters_by_segment(segments, chapters or []), first_index):
        for chapter in starting:
            lines.append(f'<h4 class="ch" data-s="{chapter.start:.2f}" data-e="{chapter.end:.2f}">'
                         f'{clock(chapter.start)} · {html.escape(chapter.title)}</h4>')
        words = segment.words or [Word(start=segment.start, end=segment.end, text=segment.text)]
        spans = []
        for word in words:
            unsure = word.probability is not None and word.probability < UNSURE_BELOW
            title = f' title="unsure: {word.probability:.0%}"' if unsure else ""
            spans.append(f'<span class="w{" u" if unsure else ""}" data-s="{word.start:.2f}" data-e="{word.end:.2f}"'
                         f'{title}>{html.escape(word.text)}</span>')
        turn = turns[number - first_index]
        said_by = (f'<span class="who" style="color:{colours[turn]}">{html.escape(names[turn])}</span> '
                   if turn else "")
        lines.append(f'<p class="line" data-s="{segment.start:.2f}" data-i="{number}"><b>{clock(segment.start)}</b> '
                     + said_by + " ".join(spans) + "</p>")
    page = (Path(__file__).with_name("read_along.html").read_text()
            .replace("{height}", str(READ_ALONG_HEIGHT)).replace("{unsure}", str(unsure_words(segments))))
    return page.replace("{lines}", "\n".join(lines))


def new_words(edits: list[Edit]) -> list[str]:
    """The words the latest correction not taken back brought in (names a person had to type: worth expecting)."""
    latest = last_undoable(edits)
    if latest is None:
        return []
    found: dict[str, str] = {}
    for change in latest.changes:
        before = {word.casefold() for word in WORD.findall(change.before)}
        for word in WORD.findall(change.after):
            if word.casefold() not in before and len(word) > 2:
                found.setdefault(word.casefold(), word)
    return list(found.values())[:10]
