"""Generating embeddings and storing them: one vector per segment (of the translation when there is
one, so the whole library is searched in one language), then the video's."""

from __future__ import annotations

import numpy as np

from core.media import Progress
from core.models import VECTOR_BATCH, Transcript
from core.providers.embed import Embedder, get_embedder
from core.stages.context import Run


def embed_transcript(transcript: Transcript, embedder: Embedder, progress: Progress | None = None) -> np.ndarray:
    """One vector per segment, in batches of VECTOR_BATCH (one hosted request each)."""
    texts = [s.text for s in transcript.segments]
    vectors = []
    for start in range(0, len(texts), VECTOR_BATCH):
        vectors.append(embedder.embed(texts[start:start + VECTOR_BATCH]))
        done = min(len(texts), start + VECTOR_BATCH)
        if progress:
            progress(done / len(texts), f"{done} of {len(texts)} segments")
    return np.vstack(vectors)


def embed(run: Run) -> None:
    embedder = get_embedder(run.settings)
    np.save(run.vectors_file, embed_transcript(run.text_to_analyse(), embedder, run.progress))
    run.vectors_model_file.write_text(embedder.model)


def embedded(run: Run) -> bool:
    model = get_embedder(run.settings).model
    return run.store.has_embeddings(run.job.id, model) or (
        run.vectors_file.is_file() and run.vectors_model_file.is_file() and run.vectors_model_file.read_text() == model)


def store_vectors(run: Run) -> None:
    run.store.save_embeddings(run.job.id, run.vectors_model_file.read_text(), np.load(run.vectors_file))


def stored(run: Run) -> bool:
    return run.store.has_embeddings(run.job.id, get_embedder(run.settings).model)
