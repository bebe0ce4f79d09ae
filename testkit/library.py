"""Put videos straight into a store from text, for search tests and benchmarks (real SQLite, real embedder)."""

from __future__ import annotations

from core.library.indexing import save_vectors
from core.models import Analysis, Chapter, Segment, Sentiment, Stage, Transcript, Translation
from core.store import Store


def add_video(store: Store, embedder, *, video_id: str, title: str, sentences: list[str], platform: str = "youtube",
              category: str = "education", sentiment: str = "neutral", upload_date: str | None = None,
              vectors=None, language: str = "en", translation: list[str] | None = None,
              chapters: list[Chapter] | None = None, seconds_per_sentence: float = 5.0) -> str:
    """A completed video; with `translation` (one English sentence per sentence), a translated one whose
    vectors are of the translation, as the pipeline makes them; with `chapters`, a video with chapters (and their
    vectors, as the pipeline keeps them)."""
    url = f"https://www.youtube.com/watch?v={video_id}" if platform == "youtube" else f"https://example.com/{video_id}"
    job = store.create_job(url=url, platform=platform, extractor=platform.capitalize(), video_id=video_id)
    step = seconds_per_sentence
    store.update_job(job.id, title=title, upload_date=upload_date, webpage_url=url, duration=len(sentences) * step,
                     chapters=chapters or [])
    segments = [Segment(start=i * step, end=i * step + step * 0.9, text=text) for i, text in enumerate(sentences)]
    store.save_transcript(job.id, Transcript(text=" ".join(sentences), language=language, segments=segments,
                                             engine="test"))
    if translation:
        store.save_translation(job.id, Translation(language="en", source_language=language, engine="test", segments=[
            segment.model_copy(update={"text": text}) for segment, text in zip(segments, translation, strict=True)]))
    store.save_analysis(job.id, Analysis(summary=sentences[0], topics=[],
                                         sentiment=Sentiment(label=sentiment, score=0.0),
                                         category=category, language=language, engine="test"))
    if vectors is None:
        vectors = embedder.embed(translation or sentences)
    save_vectors(store, job.id, embedder.model, Transcript(text="", segments=segments), vectors)
    store.enter_stage(job.id, Stage.COMPLETED)
    return job.id
