"""The Dashboard's and the video page's charts read right at every size: one video, two on the same day, 5,000."""

import random
from collections import Counter, defaultdict

import pytest

from core.library import insights
from core.models import Analysis, LibrarySummary, MonthTally, Segment, Sentiment, Tally, Transcript


def video(number: int, day: str, score: float = 0.0, topics: tuple[str, ...] = ("gardens",)) -> dict:
    label = "positive" if score > 0.1 else "negative" if score < -0.1 else "neutral"
    return {"id": f"job{number:05d}", "day": day, "score": score, "sentiment": label, "topics": topics,
            "platform": "youtube", "category": "education", "language": "en"}


def summary(videos: list[dict]) -> insights.LibraryOverview:
    """The numbers a store counts for these videos (each added and completed on its upload day, in no theme)."""
    by: dict[str, list[Tally]] = {}
    for column, key in (("sentiment", "sentiment"), ("category", "category"), ("platform", "platform"),
                        ("language", "language"), ("processed_day", "day")):
        scores = defaultdict(list)
        for row in videos:
            scores[row[key]].append(row["score"])
        by[column] = [Tally(value=value, videos=len(found), score=sum(found) / len(found))
                      for value, found in scores.items()]
    by["theme"] = [Tally(value="", videos=len(videos), score=sum(row["score"] for row in videos) / len(videos))]
    topics = Counter(topic for row in videos for topic in row["topics"])
    leaders = [topic for topic, _ in topics.most_common(5)]
    months = Counter((topic, row["day"][:7]) for row in videos for topic in row["topics"] if topic in leaders)
    return insights.LibraryOverview(LibrarySummary(
        videos=len(videos), seconds=60.0 * len(videos), score=sum(row["score"] for row in videos) / len(videos),
        by=by, topics=[Tally(value=topic, videos=count) for topic, count in topics.most_common(40)],
        topic_months=[MonthTally(value=topic, month=month, videos=count) for (topic, month), count in months.items()],
        job_ids=[row["id"] for row in videos]))


def libraries() -> dict[str, insights.LibraryOverview]:
    chooser = random.Random(5)
    large = [video(n, f"202{5 + n % 2}-{1 + n % 12:02d}-{1 + n % 28:02d}", chooser.uniform(-1, 1),
                   (chooser.choice(["gardens", "football", "bread", "travel"]),)) for n in range(5000)]
    return {"one": summary([video(1, "2026-12-04", 0.02)]),
            "same day": summary([video(1, "2026-12-04", 0.6), video(2, "2026-12-04", -0.2)]),
            "5,000": summary(large)}


@pytest.mark.parametrize("size", ["one", "same day", "5,000"])
def test_dates_are_days_or_months_and_counts_whole_numbers(size):
    overview = libraries()[size]
    per_day = insights.processed_per_day(overview).layout
    assert per_day.xaxis.type == "date" and "%H" not in per_day.xaxis.tickformat and "%b" in per_day.xaxis.tickformat
    assert per_day.yaxis.tickformat == ",d" and per_day.yaxis.rangemode == "tozero"
    trend = insights.topic_trend(overview).layout
    assert trend.xaxis.type == "date" and trend.xaxis.tickformat == "%b %Y"
    assert trend.yaxis.tickformat == ",d"
    if size != "5,000":  # a few days, or a month: one tick each, with room either side, never hours
        assert per_day.xaxis.dtick == insights.DAY_MS and trend.xaxis.dtick == "M1"
        assert per_day.yaxis.dtick == 1 and trend.yaxis.dtick == 1
        start, end = per_day.xaxis.range
        assert (end - start).days == 2
    else:
        assert per_day.xaxis.dtick is None and per_day.yaxis.dtick is None  # plotly's own ticks, over two years
    assert insights.sentiment_distribution(overview).layout.yaxis.tickformat == ",d"
    assert insights.topic_frequency(overview).layout.xaxis.tickformat == ",d"


def test_an_average_near_zero_is_still_marked_and_labelled():
    figure = insights.sentiment_by(libraries()["same day"], "platform")
    bars, dots = figure.data
    assert list(bars.text) == ["+0.20"] and dots.mode == "markers" and list(dots.x) == [pytest.approx(0.2)]
    one = insights.sentiment_by(libraries()["one"], "platform")
    assert list(one.data[0].text) == ["+0.02"] and list(one.data[1].x) == [0.02]


def test_a_short_clip_runs_over_its_own_time_in_minutes_and_seconds():
    clip = Transcript(text="Hello there.", segments=[Segment(start=0.0, end=4.2, text="Hello there.")])
    analysis = Analysis(summary="", topics=[], sentiment=Sentiment(label="neutral", score=0.0), category="education",
                        segment_sentiment=[0.0])
    axis = insights.sentiment_timeline(clip, analysis).layout.xaxis
    assert list(axis.range) == [0, 4.2] and list(axis.ticktext) == ["0:00", "0:01", "0:02", "0:03", "0:04"]
    talk = Transcript(text="...", segments=[Segment(start=s, end=s + 30, text="...") for s in range(0, 7200, 30)])
    analysis.segment_sentiment = [0.1] * len(talk.segments)
    axis = insights.sentiment_timeline(talk, analysis).layout.xaxis
    assert axis.ticktext[:3] == ("0:00", "15:00", "30:00") and axis.ticktext[-1] == "2:00:00"
    assert len(axis.tickvals) <= insights.TIME_TICKS + 1


def test_the_gauge_title_has_room_and_empty_charts_say_what_will_appear():
    analysis = Analysis(summary="", topics=[], sentiment=Sentiment(label="positive", score=0.5), category="education")
    gauge = insights.sentiment_gauge(analysis).layout
    assert gauge.title.text == "Positive" and gauge.margin.t >= 50
    empty = summary([video(1, "2026-12-04", topics=())])
    not_grouped = (insights.theme_sizes(empty), insights.theme_trend(empty))  # no "(not grouped yet)" bar either
    for figure in (insights.topic_frequency(empty), insights.topic_trend(empty), *not_grouped):
        [note] = figure.layout.annotations
        assert "appear here" in note.text and figure.layout.xaxis.visible is False
