"""Questions about the library, answered from the moments they come from, each cited."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from core.api.search import search
from core.api.themes import with_themes
from core.config import Settings, get_settings
from core.library import answers
from core.models import (
    MAX_ASK_HISTORY,
    MAX_QUESTION_CHARS,
    Answer,
    AskTurn,
    SearchFilters,
    SearchHit,
    Stage,
    Usage,
)
from core.providers.embed import get_embedder
from core.providers.hosted import OpenAIWriter
from core.providers.metering import meter
from core.store import LibraryUnavailable, ReadOnlyLibrary, get_store

log = logging.getLogger(__name__)

DEFAULT_CITATIONS = 4
MAX_CITATIONS = 20
#: Moments a written answer may draw on, at least: more than the offline one quotes, so the model can choose.
WRITER_MOMENTS = 8
LOCAL_ENGINE = "local:extractive"


class AskRefused(ValueError):
    """A question that cannot be asked as it is: empty, too long, or asking for more citations than an answer has."""


def ask(question: str, *, limit: int = DEFAULT_CITATIONS, filters: SearchFilters | None = None,
        history: list[AskTurn] | None = None, settings: Settings | None = None) -> Answer:
    """The answer to a question about the library (or the videos `filters` keep), citing where it was said."""
    for event in ask_stream(question, limit=limit, filters=filters, history=history, settings=settings):
        if isinstance(event, Answer):
            return event
    raise AssertionError("ask_stream ends with its answer")


def ask_stream(question: str, *, limit: int = DEFAULT_CITATIONS, filters: SearchFilters | None = None,
               history: list[AskTurn] | None = None, settings: Settings | None = None) -> Iterator[str | Answer]:
    """As `ask`, for a page that shows the answer while a model writes it: the pieces of text as they come (only
    from a model), then the checked Answer, whose text may differ (citations it was not given are dropped)."""
    settings = settings or get_settings()
    question = " ".join((question or "").split())
    filters = filters or SearchFilters()
    history = list(history or [])[-MAX_ASK_HISTORY:]
    _check(question, limit, filters)
    scope = _scope(filters)
    filters = with_themes(filters)
    writes = settings.uses_openai("ask")
    engine = OpenAIWriter(settings).name if writes else LOCAL_ENGINE
    not_ready = _not_ready(filters)
    if not_ready:
        yield Answer(answer=not_ready, supported=False, citations=[], engine=engine)
        return
    queries = answers.retrieval_queries(question, history)
    hits = _found(queries, max(3 * limit, 2 * WRITER_MOMENTS if writes else 12), filters, settings)
    if not writes:
        chosen = answers.choose_quotes(answers.rank_quotes(queries, hits, get_embedder(settings)), limit)
        if not chosen:
            yield Answer(answer=answers.not_covered(scope), supported=False, citations=[], engine=engine)
            return
        text, citations = answers.extractive_answer(chosen)
        yield Answer(answer=text, supported=True, citations=citations, engine=engine)
        return

    writer = OpenAIWriter(settings)
    if not hits:
        yield Answer(answer=answers.not_covered(scope), supported=False, citations=[], engine=engine)
        return
    moments_text, moments = answers.numbered_moments(question, hits[:max(WRITER_MOMENTS, 2 * limit)])
    written = []
    with meter() as used:
        for piece in writer.stream(answers.WRITER_INSTRUCTIONS, answers.writer_messages(question, moments_text,
                                                                                        history)):
            written.append(piece)
            yield piece
    usage = _total(used, writer.model)
    _keep_cost(usage)
    text, citations = answers.check_written("".join(written), moments)
    if text is None:
        yield Answer(answer=answers.not_covered(scope), supported=False, citations=[], engine=writer.name,
                     usage=usage)
        return
    yield Answer(answer=text, supported=True, citations=citations[:MAX_CITATIONS], engine=writer.name, usage=usage)


def _check(question: str, limit: int, filters: SearchFilters) -> None:
    if not question:
        raise AskRefused("Ask a question: it is empty.")
    if len(question) > MAX_QUESTION_CHARS:
        raise AskRefused(f"A question may be up to {MAX_QUESTION_CHARS:,} characters; this one has "
                         f"{len(question):,}.")
    if not 1 <= limit <= MAX_CITATIONS:
        raise AskRefused(f"An answer cites 1 to {MAX_CITATIONS} moments, not {limit}.")
    store = get_store()
    known = store.get_jobs(filters.job_ids) if filters.job_ids else {}
    for job_id in filters.job_ids:
        if job_id not in known:
            raise LookupError(f"There is no video {job_id!r} in the library.")
    if filters.collections:
        known = {collection.id for collection in store.get_collections(filters.collections)}
        missing = [c for c in filters.collections if c not in known]
        if missing:
            raise LookupError(f"There is no collection {missing[0]!r} in the library.")


def _not_ready(filters: SearchFilters) -> str | None:
    """Why nothing can answer yet: the video asked of is still being processed, or nothing is processed at all."""
    store = get_store()
    if filters.job_ids:
        waiting = [job for job in store.get_jobs(filters.job_ids).values() if job.status != Stage.COMPLETED]
        if waiting and len(waiting) == len(filters.job_ids):
            job = waiting[0]
            return (f"“{job.title or job.video_id}” is not processed yet ({job.status.label.lower()}): ask again once "
                    "it has completed.")
        return None
    if not store.list_jobs(statuses=[Stage.COMPLETED.value], collections=filters.collections or None):
        where = "this collection" if filters.collections else "the library"
        return (f"There are no processed videos in {where} yet: add some on the Submit page (or with `python -m "
                "core submit URL`), and ask once they have completed.")
    return None


def _found(queries: list[str], depth: int, filters: SearchFilters, settings: Settings) -> list[SearchHit]:
    """The moments found for any of the queries, best first."""
    best: dict[tuple[str, int], SearchHit] = {}
    for query in queries:
        for hit in search(query, limit=depth, filters=filters, settings=settings):
            key = (hit.job_id, hit.segment_index)
            if key not in best or hit.score > best[key].score:
                best[key] = hit
    return sorted(best.values(), key=lambda hit: -hit.score)


def _scope(filters: SearchFilters) -> str:
    if filters.job_ids:
        return "in this video" if len(filters.job_ids) == 1 else "in these videos"
    if filters.collections:
        return "in this collection"
    if filters.themes:
        return "in this theme" if len(filters.themes) == 1 else "in these themes"
    if filters != SearchFilters():
        return "in the videos the filters keep"
    return "in the library"


def _keep_cost(usage: Usage | None) -> None:
    """The answer's cost in the library's ledger; a library this app may only read keeps none (said in the log)."""
    if usage is None:
        return
    try:
        get_store(service_role=True).add_library_usage(usage)
    except (ReadOnlyLibrary, LibraryUnavailable) as exc:
        log.warning("the cost of an answer was not recorded: %s", exc)


def _total(records: list[Usage], model: str) -> Usage | None:
    if not records:
        return None
    costs = [record.cost_usd for record in records]
    return Usage(stage="ask", engine="openai", model=model,
                 input_tokens=sum(record.input_tokens for record in records),
                 output_tokens=sum(record.output_tokens for record in records),
                 cost_usd=None if None in costs else sum(costs))
