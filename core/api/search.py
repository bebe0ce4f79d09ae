"""Finding moments across the library by meaning and by words, and re-indexing it for a new embedding model."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from core.api.themes import with_themes
from core.config import Settings, get_settings
from core.library.indexing import embed_transcript, save_vectors, text_to_analyse
from core.models import (
    SearchFilters,
    SearchHit,
    Segment,
    Stage,
    chapter_at,
)
from core.providers import EngineError
from core.providers.embed import Embedder, embedding_model_name, get_embedder
from core.sources.platforms import link_at
from core.store import LibraryUnavailable, get_store
from core.store.hybrid import search_threads
from core.text import content_words, stem

log = logging.getLogger(__name__)


class QueryVectors:
    """The vectors of the queries searched last, by embedding model: a page run again for the same query (another
    filter, more results, a hit opened and left) searches again, and a hosted embedder would be asked, and paid,
    over the network each time."""

    def __init__(self, kept: int = 512):
        self.kept, self._vectors, self._lock = kept, OrderedDict(), threading.Lock()

    def vector(self, embedder: Embedder, query: str) -> np.ndarray:
        key = (embedder.model, query)
        with self._lock:
            if key in self._vectors:
                self._vectors.move_to_end(key)
                return self._vectors[key]
        vector = embedder.embed([query])[0]
        vector.setflags(write=False)  # shared by every search of these words
        with self._lock:
            self._vectors[key] = vector
            while len(self._vectors) > self.kept:
                self._vectors.popitem(last=False)
        return vector

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


query_vectors = QueryVectors()


def search(query: str, limit: int = 10, filters: SearchFilters | None = None,
           settings: Settings | None = None) -> list[SearchHit]:
    """Transcript moments across the library, ranked by meaning and by the query's own words."""
    settings = settings or get_settings()
    query = (query or "").strip()
    if not query:
        return []
    filters = with_themes(filters or SearchFilters())
    store = get_store()
    embedder = get_embedder(settings)
    # The store narrows the library and starts the keyword half while the query is being embedded.
    vector = search_threads().submit(query_vectors.vector, embedder, query)
    found = store.search_segments(vector, content_words(query), embedder.model, limit, filters)
    moments = store.found_moments([(job_id, idx) for job_id, idx, _, _ in found])
    query_stems = {stem(word) for word in content_words(query)}
    hits = []
    for job_id, idx, similarity, keyword_match in found:
        if (job_id, idx) not in moments:
            continue
        segment, job, thumbnail_path, spoken = moments[(job_id, idx)]
        hits.append(SearchHit(
            job_id=job_id, video_id=job.video_id, title=job.title, platform=job.platform,
            url=link_at(job.webpage_url or job.url, job.platform, segment.start),
            thumbnail_path=thumbnail_path, segment_index=idx, start=segment.start,
            end=segment.end, text=segment.text, translation=segment.translation,
            language=_matched_language(segment, spoken, query_stems, keyword_match),
            score=round(similarity, 4), keyword_match=keyword_match,
            chapter=chapter.title if (chapter := chapter_at(job.chapters, segment.start)) else None,
            speaker=segment.speaker_name or segment.speaker,
        ))
    return hits


@lru_cache(maxsize=1)
def prepare_search() -> threading.Thread:
    """Load the local embedding model, the library's vectors and the stemmer on a thread of their own, once per
    process: the API's server calls this as it starts, the app's as its first visitor arrives, so that their first
    search answers as fast as the next (it took 1.8-2.5 s)."""
    thread = threading.Thread(target=_load_for_search, name="warm-up-search", daemon=True)
    thread.start()
    return thread


def _load_for_search() -> None:
    settings = get_settings()
    words = content_words("preparing the first search")  # the stop words and the stemmer, loaded on first use
    stem(words[0])
    try:
        if not settings.uses_openai("embedding"):  # a hosted embedder has nothing to load, and costs per call
            get_embedder(settings).embed(words)  # its first run sets up buffers the next ones reuse
        get_store().prepare_search(embedding_model_name(settings))
    except (LibraryUnavailable, EngineError, OSError) as exc:  # the first search says so, where someone sees it
        log.warning("Could not prepare search ahead of the first query: %s", exc)


def _matched_language(segment: Segment, spoken: str | None, query_stems: set[str], keyword_match: bool) -> str | None:
    """A translated video is searched by the meaning of its translation, and by the words of both."""
    if segment.translation is None:
        return spoken
    if keyword_match and query_stems & {stem(word) for word in content_words(segment.text)}:
        return spoken
    return segment.translation_language


def reindex(settings: Settings | None = None, progress=None, every: bool = False) -> int:
    """Embed again every completed video that has no vectors from the current embedding model (`every`: every
    completed video), with the pipeline's own embedding and storing steps."""
    settings = settings or get_settings()
    store = get_store(service_role=True)
    embedder = get_embedder(settings)
    missing = ([job.id for job in store.list_jobs(statuses=[Stage.COMPLETED.value])] if every
               else store.jobs_missing_embeddings(embedder.model))
    for number, job_id in enumerate(missing, 1):
        found = text_to_analyse(store, job_id)
        if found and found.segments:
            save_vectors(store, job_id, embedder.model, found, embed_transcript(found, embedder))
        if progress:
            progress(number, len(missing))
    return len(missing)
