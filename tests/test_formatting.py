"""How jobs and times read."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from core.formatting import clock, highlight, waiting_hint
from core.models import Job, Stage
from core.text import stemmer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def job(status: Stage, idle_seconds: float) -> Job:
    stamp = (NOW - timedelta(seconds=idle_seconds)).isoformat()
    return Job(id="j", url="u", platform="p", extractor="e", video_id="v", status=status, stage=status,
               created_at=stamp, updated_at=stamp)


def test_clock():
    assert [clock(7), clock(754), clock(3723), clock(None)] == ["0:07", "12:34", "1:02:03", "–"]


def test_waiting_hints():
    assert waiting_hint(job(Stage.PENDING, 10), NOW) is None
    assert "Waiting for a worker for 3 min" in waiting_hint(job(Stage.PENDING, 200), NOW)
    assert waiting_hint(job(Stage.TRANSCRIBING, 300), NOW) is None
    assert "No progress for 15 min" in waiting_hint(job(Stage.TRANSCRIBING, 900), NOW)
    assert waiting_hint(job(Stage.COMPLETED, 9999), NOW) is None


def test_highlight_escapes_markdown():
    assert highlight("a *b* [c](d)", "") == "a \\*b\\* \\[c\\]\\(d\\)"


def test_highlight_marks_the_query_words_in_any_form():
    assert highlight("The strawberries are fresh.", "a strawberry tart") == "The **strawberries** are fresh\\."


def test_words_are_stemmed_alike_from_many_threads_at_once():
    words = [f"{root}{ending}" for root in ("garden", "water", "plant", "harvest", "prun", "sprout", "add")
             for ending in ("", "s", "ed", "ing", "er", "ers", "ingly", "ation", "ations")]
    alone = [stemmer()(word) for word in words]
    with ThreadPoolExecutor(8) as threads:
        for _ in range(20):
            assert list(threads.map(stemmer(), words)) == alone
    assert stemmer()("gardening") == stemmer()("gardens") == "garden" and stemmer()("added") == "add"
