"""Put videos straight into a store from text, for search tests and benchmarks (real SQLite, real embedder)."""

from __future__ import annotations

from core.models import Analysis, Segment, Sentiment, Stage, Transcript, Translation
from core.store import Store


def add_video(store: Store, embedder, *, video_id: str, title: str, sentences: list[str], platform: str = "youtube",
              category: str = "education", sentiment: str = "neutral", upload_date: str | None = None,
              vectors=None, language: str = "en", translation: list[str] | None = None) -> str:
    """A completed video; with `translation` (one English sentence per sentence), a translated one whose
    vectors are of the translation, as the pipeline makes them."""
    url = f"https://www.youtube.com/watch?v={video_id}" if platform == "youtube" else f"https://example.com/{video_id}"
    job = store.create_job(url=url, platform=platform, extractor=platform.capitalize(), video_id=video_id)
    store.update_job(job.id, title=title, upload_date=upload_date, webpage_url=url, duration=len(sentences) * 5.0)
    segments = [Segment(start=i * 5.0, end=i * 5.0 + 4.5, text=text) for i, text in enumerate(sentences)]
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
    store.save_embeddings(job.id, embedder.model, vectors)
    store.enter_stage(job.id, Stage.COMPLETED)
    return job.id
