"""Which text of a video the library analyses and searches, and its vectors: the same for the pipeline's steps and
for re-indexing the library after a change of embedding model."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.library.chapters import chapter_parts
from core.models import VECTOR_BATCH, Transcript
from core.providers.embed import Embedder
from core.store import Store


def text_to_analyse(store: Store, job_id: str) -> Transcript | None:
    """The transcript in the language the library is analysed and searched in: its translation when there
    is one (same segments, same times), else the transcript itself."""
    transcript = store.get_transcript(job_id)
    translation = store.get_translation(job_id) if transcript else None
    return translation.as_transcript() if translation else transcript


def embed_transcript(transcript: Transcript, embedder: Embedder,
                     progress: Callable[[float, str], None] | None = None) -> np.ndarray:
    """One vector per segment, in batches of VECTOR_BATCH (one hosted request each)."""
    texts = [s.text for s in transcript.segments]
    vectors = []
    for start in range(0, len(texts), VECTOR_BATCH):
        vectors.append(embedder.embed(texts[start:start + VECTOR_BATCH]))
        done = min(len(texts), start + VECTOR_BATCH)
        if progress:
            progress(done / len(texts), f"{done} of {len(texts)} segments")
    return np.vstack(vectors)


def save_vectors(store: Store, job_id: str, model: str, transcript: Transcript, vectors: np.ndarray) -> None:
    """Keep a video's segment vectors (of `transcript`'s segments, in order), with one per chapter where it has
    chapters of their own subjects, and the whole video's."""
    job = store.get_job(job_id)
    store.save_embeddings(job_id, model, vectors, chapter_parts(transcript.segments, job.chapters if job else []))
