"""OpenAI (or any OpenAI-compatible server) engines: Whisper transcription, structured analysis, answers,
embeddings.

The openai client retries 429, 5xx and connection errors itself, with exponential backoff and jitter,
honouring Retry-After; what still fails becomes a job error that never shows the key.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from core.config import Settings
from core.models import (
    CATEGORIES,
    VECTOR_BATCH,
    Analysis,
    Segment,
    Sentiment,
    Transcript,
    Translation,
    sentiment_label,
)
from core.processes import per_process
from core.providers import EngineError
from core.providers.metering import record
from core.sources import audio
from core.vectors import normalise_rows

CHUNK_SECONDS = 600  # at 32 kb/s mono, 10 minutes is ~2.4 MB: far below the 25 MB upload limit
OVERLAP_SECONDS = 4  # chunks overlap so no word is cut; each side keeps its half of the overlap
ANALYSIS_CHUNK_CHARS = 24_000  # ~6k tokens of transcript per map call
TRANSLATION_BATCH_SEGMENTS = 40  # segments per translation request: small answers, little lost to a retry
TRANSLATION_BATCH_CHARS = 6_000
SEGMENT_TIMESTAMP_MODELS = {"whisper-1"}  # the others answer json/text only
#: Models that say who speaks each segment (response_format "diarized_json"); they take no prompt.
DIARIZING_MODELS = {"gpt-4o-transcribe-diarize"}
LANGUAGE_CODES = {
    "english": "en", "spanish": "es", "german": "de", "french": "fr", "italian": "it", "portuguese": "pt",
    "dutch": "nl", "russian": "ru", "chinese": "zh", "japanese": "ja", "korean": "ko", "arabic": "ar",
    "hindi": "hi", "turkish": "tr", "polish": "pl", "ukrainian": "uk", "swedish": "sv", "indonesian": "id",
}
_SECRET = re.compile(r"\b(sk|sess|rk)-[A-Za-z0-9_\-*.]{4,}")


class TransientEngineError(EngineError):
    """The hosted service is overloaded or unreachable even after retries; the queue may try the job again."""


def _scrub(text: str) -> str:
    return _SECRET.sub("[key hidden]", text)


def explain(exc: Exception, settings: Settings) -> EngineError:
    """An OpenAI client error as a message for the job, without the key."""
    import openai

    where = settings.openai_base_url or "OpenAI"
    detail = _scrub(getattr(exc, "message", None) or str(exc))[:300]
    if isinstance(exc, openai.AuthenticationError):
        return EngineError(f"{where} rejected the API key (401). Check OPENAI_API_KEY.")
    if isinstance(exc, openai.PermissionDeniedError):
        return EngineError(f"{where} refused access (403): {detail}")
    if isinstance(exc, openai.RateLimitError):
        if "quota" in detail.lower() or getattr(exc, "code", None) == "insufficient_quota":
            return EngineError(f"The OpenAI account is out of quota (429 insufficient_quota): add credit or "
                               f"raise the limit, then retry. {detail}")
        return TransientEngineError(f"{where} kept rate-limiting after {settings.openai_max_retries} retries.")
    if isinstance(exc, (openai.BadRequestError, openai.NotFoundError, openai.UnprocessableEntityError)):
        return EngineError(f"{where} refused the request ({exc.status_code}): {detail}")
    if isinstance(exc, openai.APITimeoutError):
        return TransientEngineError(f"{where} did not answer within {settings.openai_timeout_seconds:.0f} s "
                                    f"after {settings.openai_max_retries} retries.")
    if isinstance(exc, openai.APIConnectionError):
        return TransientEngineError(f"{where} could not be reached after {settings.openai_max_retries} retries.")
    if isinstance(exc, openai.APIStatusError):
        return TransientEngineError(f"{where} failed with HTTP {exc.status_code} after "
                                    f"{settings.openai_max_retries} retries.")
    return EngineError(f"{where} call failed: {type(exc).__name__}: {detail}")


@per_process(maxsize=4)
def _client(api_key: str, base_url: str | None, timeout: float, retries: int):
    import openai

    return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=retries)


def client(settings: Settings):
    if settings.openai_api_key is None:
        raise EngineError("An OpenAI engine was chosen but OPENAI_API_KEY is not set.")
    return _client(settings.openai_api_key.get_secret_value(), settings.openai_base_url,
                   settings.openai_timeout_seconds, settings.openai_max_retries)


def _call(settings: Settings, function, *args, **kwargs):
    import openai

    try:
        return function(*args, **kwargs)
    except openai.OpenAIError as exc:
        raise explain(exc, settings) from None


# --- speech to text ---------------------------------------------------------------------------
def plan_chunks(duration: float, chunk: float = CHUNK_SECONDS, overlap: float = OVERLAP_SECONDS):
    """(start, length, keep_from, keep_until) of overlapping pieces covering [0, duration]."""
    pieces, start = [], 0.0
    while True:
        length = min(chunk, duration - start)
        last = start + length >= duration
        keep_from = start + overlap / 2 if start > 0 else 0.0
        keep_until = duration + 1 if last else start + length - overlap / 2
        pieces.append((start, length, keep_from, keep_until))
        if last:
            return pieces
        start += chunk - overlap


class OpenAITranscriber:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = settings.openai_transcribe_model
        self.name = f"openai:{self.model}"

    def load(self) -> None:
        client(self.settings)

    def _encode(self, wav_path: Path, start: float, length: float, target: Path) -> Path:
        audio.convert(wav_path, [(target, audio.UPLOAD)], start=round(start, 3), length=round(length, 3))
        return target

    def _transcribe_piece(self, path: Path, prompt: str | None = None):
        api = client(self.settings)
        options = {"model": self.model} | ({"prompt": prompt} if prompt else {})
        if self.model in DIARIZING_MODELS:
            options = {"model": self.model, "response_format": "diarized_json", "chunking_strategy": "auto"}
        elif self.model in SEGMENT_TIMESTAMP_MODELS:
            options |= {"response_format": "verbose_json", "timestamp_granularities": ["segment"]}
        else:
            options |= {"response_format": "json"}
        with path.open("rb") as audio:
            return _call(self.settings, api.audio.transcriptions.create, file=audio, **options)

    def transcribe(self, wav_path: Path, duration: float, progress: Callable[[float, str], None],
                   prompt: str | None = None) -> Transcript:
        pieces = plan_chunks(duration)
        segments: list[Segment] = []
        language = None
        done = 0.0
        with tempfile.TemporaryDirectory() as tmp, \
                ThreadPoolExecutor(max_workers=max(1, self.settings.openai_parallel_requests)) as pool:
            futures = {
                pool.submit(self._transcribe_piece, self._encode(wav_path, start, length, Path(tmp) / f"{i}.mp3"),
                            prompt):
                (i, start, length, keep_from, keep_until)
                for i, (start, length, keep_from, keep_until) in enumerate(pieces)
            }
            for future in as_completed(futures):
                piece, start, length, keep_from, keep_until = futures[future]
                result = future.result()
                record("openai", self.model, audio_seconds=length)
                language = language or LANGUAGE_CODES.get(str(getattr(result, "language", "") or "").lower(),
                                                          getattr(result, "language", None) or None)
                timed = getattr(result, "segments", None)
                if timed:
                    # A diarizing model's speaker labels hold within its piece only ("A" of one piece need not be
                    # "A" of the next): the diarizing step matches them across pieces by voice.
                    found = [Segment(start=round(start + s.start, 2), end=round(start + s.end, 2), text=s.text.strip(),
                                     speaker=f"{piece}:{s.speaker}" if getattr(s, "speaker", None) else None)
                             for s in timed if s.text.strip()]
                elif (result.text or "").strip():
                    found = [Segment(start=round(max(start, keep_from), 2), end=round(start + length, 2),
                                     text=result.text.strip())]
                else:
                    found = []
                segments += [s for s in found if keep_from <= s.start < keep_until]
                done += length
                progress(min(1.0, done / max(duration, 1e-6)), f"{min(done, duration):.0f} s of {duration:.0f} s "
                                                               "of audio")
        segments.sort(key=lambda s: s.start)
        if not segments:
            raise EngineError("No speech was detected in this video, so there is nothing to transcribe.")
        return Transcript(text=" ".join(s.text for s in segments), language=language, segments=segments,
                          engine=self.name)


def structured(settings: Settings, model: str, schema: type[BaseModel], instructions: str, prompt: str):
    """One chat completion whose answer follows `schema` (structured outputs); the whole response."""
    return _call(settings, client(settings).chat.completions.parse, model=model, response_format=schema,
                 messages=[{"role": "system", "content": instructions}, {"role": "user", "content": prompt}])


def group_segments(segments: list[Segment], max_chars: int, max_count: int | None = None) -> list[list[int]]:
    """Indices of consecutive segments in groups of at most `max_chars` of text (and `max_count`
    segments): one request each."""
    groups, current, size = [], [], 0
    for index, segment in enumerate(segments):
        if current and (size + len(segment.text) > max_chars or (max_count and len(current) >= max_count)):
            groups.append(current)
            current, size = [], 0
        current.append(index)
        size += len(segment.text) + 8  # the "[index] " before each
    return groups + ([current] if current else [])


# --- analysis ---------------------------------------------------------------------------------
CategoryName = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]


class _SegmentScore(BaseModel):
    index: int
    score: float = Field(description="sentiment of that segment from -1 (very negative) to 1 (very positive)")


class _PartAnalysis(BaseModel):
    summary: str = Field(description="two or three sentences on what this part says")
    topics: list[str] = Field(description="up to 8 topics a person would tag this part with: short noun phrases "
                              "naming its subjects (\"late goal\", \"roof garden\"), singular, no verbs, most "
                              "important first")
    segments: list[_SegmentScore]


class _VideoAnalysis(BaseModel):
    summary: str = Field(description="three to five sentences covering the whole video")
    topics: list[str] = Field(description="3 to 8 topics a person would tag the video with: short noun phrases "
                              "naming its subjects (\"late goal\", \"roof garden\"), singular, each meaning once, no "
                              "verbs, most important first")
    sentiment_score: float = Field(description="overall sentiment from -1 (very negative) to 1 (very positive)")
    category: CategoryName


class _WholeAnalysis(_VideoAnalysis):
    segments: list[_SegmentScore]


INSTRUCTIONS = ("You analyse video transcripts for a searchable library. Be faithful to what is said; write the "
                "summary in the transcript's language. Score sentiment as the speaker's tone and what happens, "
                "not the topic.")


class OpenAIAnalyzer:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = settings.openai_analysis_model
        self.name = f"openai:{self.model}"

    def _parse(self, schema: type[BaseModel], prompt: str) -> BaseModel:
        response = structured(self.settings, self.model, schema, INSTRUCTIONS, prompt)
        if response.usage:
            record("openai", self.model, input_tokens=response.usage.prompt_tokens,
                   output_tokens=response.usage.completion_tokens)
        parsed = response.choices[0].message.parsed
        if parsed is None:
            raise EngineError(f"{self.name} returned no analysis (refusal: {response.choices[0].message.refusal}).")
        return parsed

    def analyze(self, transcript: Transcript, title: str | None, description: str | None) -> Analysis:
        heading = f"Title: {title or 'unknown'}\nDescription: {(description or '')[:1000]}\n"
        categories = ", ".join(CATEGORIES)
        parts = group_segments(transcript.segments, ANALYSIS_CHUNK_CHARS)
        scores = [0.0] * len(transcript.segments)

        def numbered(indices: list[int]) -> str:
            return "\n".join(f"[{i}] {transcript.segments[i].text}" for i in indices)

        if len(parts) == 1:
            whole = self._parse(_WholeAnalysis, f"{heading}\nCategories: {categories}\n\nTranscript segments:\n"
                                                f"{numbered(parts[0])}\n\nScore every segment by its index.")
            video, scored = whole, whole.segments
        else:
            # Map: each part on its own (never truncated); reduce: the whole from the parts' summaries.
            scored, notes = [], []
            for number, indices in enumerate(parts, 1):
                part = self._parse(_PartAnalysis, f"{heading}\nPart {number} of {len(parts)} of the transcript:\n"
                                                  f"{numbered(indices)}\n\nScore every segment by its index.")
                scored += part.segments
                notes.append(f"Part {number}: {part.summary}\nTopics: {', '.join(part.topics)}")
            video = self._parse(_VideoAnalysis, f"{heading}\nCategories: {categories}\n\nThe video, part by "
                                                f"part:\n" + "\n\n".join(notes))
        for item in scored:
            if 0 <= item.index < len(scores):
                scores[item.index] = round(max(-1.0, min(1.0, item.score)), 4)
        overall = round(max(-1.0, min(1.0, video.sentiment_score)), 4)
        return Analysis(summary=video.summary, topics=list(dict.fromkeys(video.topics))[:8],
                        sentiment=Sentiment(label=sentiment_label(overall), score=overall), category=video.category,
                        language=transcript.language, segment_sentiment=scores, engine=self.name)


# --- translation ------------------------------------------------------------------------------
class _ChapterTitle(BaseModel):
    index: int
    title: str = Field(description="a short title (2 to 6 words) naming what the chapter is about")


class _ChapterTitles(BaseModel):
    chapters: list[_ChapterTitle]

    def named(self) -> list[tuple[int, str]]:
        return [(chapter.index, chapter.title) for chapter in self.chapters]


CHAPTER_INSTRUCTIONS = ("You title the chapters of a video's transcript. Each chapter is given as [index] followed by "
                        "what is said in it. Give each a short title (2 to 6 words) naming its subject, in the "
                        "language of the transcript.")
CHAPTER_CHARS = 1500  # of each chapter's text shown to the model: its subject is clear well before


def chapter_titles(settings: Settings, texts: list[str]) -> list[str | None]:
    """A title for each chapter's text by the analysis model; None for one it left out."""
    prompt = "\n\n".join(f"[{i}] {text[:CHAPTER_CHARS]}" for i, text in enumerate(texts))
    return _numbered_names(settings, _ChapterTitles, CHAPTER_INSTRUCTIONS, prompt, len(texts), 100)


def _numbered_names(settings: Settings, schema, instructions: str, prompt: str, count: int,
                    longest: int) -> list[str | None]:
    """The analysis model's short name for each of the `count` items numbered [0], [1]... in `prompt` (`schema`
    answers them as (index, name) pairs by its `named()`); None for one it left out."""
    model = settings.openai_analysis_model
    response = structured(settings, model, schema, instructions, prompt)
    if response.usage:
        record("openai", model, input_tokens=response.usage.prompt_tokens,
               output_tokens=response.usage.completion_tokens)
    parsed = response.choices[0].message.parsed
    names: list[str | None] = [None] * count
    for index, name in parsed.named() if parsed else []:
        if 0 <= index < count and name.strip():
            names[index] = " ".join(name.split())[:longest]
    return names


class _ThemeName(BaseModel):
    index: int
    name: str = Field(description="a short name (1 to 4 words) for what the theme's videos are about")


class _ThemeNames(BaseModel):
    themes: list[_ThemeName]

    def named(self) -> list[tuple[int, str]]:
        return [(theme.index, theme.name) for theme in self.themes]


THEME_INSTRUCTIONS = ("You name the themes of a video library. Each theme is given as [index], the words that set "
                      "its videos apart, then some of its videos' titles and summaries. Give each a short name (1 to "
                      "4 words) a person would file those videos under, such as \"Rooftop gardening\" or \"Football "
                      "results\"; no two themes the same name.")
THEME_VIDEOS = 8  # videos shown to the model per theme
THEME_VIDEO_CHARS = 300


def theme_names(settings: Settings, themes: list[tuple[list[str], list[str]]]) -> list[str | None]:
    """A name for each theme (its keywords, its videos' texts) by the analysis model; None for one it left out."""
    prompt = "\n\n".join(
        f"[{i}] {', '.join(keywords)}\n" + "\n".join(f"- {' '.join(text.split())[:THEME_VIDEO_CHARS]}"
                                                   for text in texts[:THEME_VIDEOS])
        for i, (keywords, texts) in enumerate(themes))
    return _numbered_names(settings, _ThemeNames, THEME_INSTRUCTIONS, prompt, len(themes), 80)


class _TranslatedSegment(BaseModel):
    index: int
    text: str = Field(description="the segment in the target language")


class _TranslatedBatch(BaseModel):
    segments: list[_TranslatedSegment]


TRANSLATION_INSTRUCTIONS = (
    "You translate numbered segments of a video transcript. Answer with every index you were given, each "
    "segment translated on its own (never merged, split or skipped), faithful in meaning and tone, names kept.")


class OpenAITranslator:
    """gpt-4.1-mini translating the timed segments in batches, in parallel; times are kept as they are."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = settings.openai_analysis_model
        self.name = f"openai:{self.model}"

    def _request(self, segments: list[Segment], indices: list[int], source: str | None, target: str):
        numbered = "\n".join(f"[{i}] {segments[i].text}" for i in indices)
        prompt = (f"Translate from {source or 'the spoken language'} into the language with ISO 639-1 code "
                  f"{target!r}.\n\n{numbered}")
        response = structured(self.settings, self.model, _TranslatedBatch, TRANSLATION_INSTRUCTIONS, prompt)
        parsed = response.choices[0].message.parsed
        texts = {item.index: item.text.strip() for item in (parsed.segments if parsed else []) if item.index in indices}
        return texts, response.usage

    def _translate_batch(self, segments: list[Segment], indices: list[int], source: str | None, target: str):
        texts, usage = self._request(segments, indices, source, target)
        usages = [usage]
        missing = [i for i in indices if i not in texts]
        if missing:  # asked once more for what the answer left out
            more, usage = self._request(segments, missing, source, target)
            texts |= more
            usages.append(usage)
        return texts, usages

    def translate(self, transcript: Transcript, target: str, wav_path: Path | None, duration: float,
                  progress: Callable[[float, str], None]) -> Translation:
        segments = transcript.segments
        batches = group_segments(segments, TRANSLATION_BATCH_CHARS, TRANSLATION_BATCH_SEGMENTS)
        texts: dict[int, str] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.settings.openai_parallel_requests)) as pool:
            futures = [pool.submit(self._translate_batch, segments, batch, transcript.language, target)
                       for batch in batches]
            for done, future in enumerate(as_completed(futures), 1):
                found, usages = future.result()
                texts |= found
                for usage in usages:  # recorded here: the job's meter lives in this thread
                    if usage:
                        record("openai", self.model, input_tokens=usage.prompt_tokens,
                               output_tokens=usage.completion_tokens)
                progress(done / len(batches), f"{done} of {len(batches)} batches of segments")
        missing = [i for i in range(len(segments)) if i not in texts]
        if missing:
            raise EngineError(f"{self.name} left {len(missing)} of {len(segments)} segments untranslated "
                              f"(first: {missing[0]}).")
        return Translation(language=target, source_language=transcript.language, engine=self.name,
                           segments=[Segment(start=s.start, end=s.end, text=texts[i]) for i, s in enumerate(segments)])


# --- embeddings -------------------------------------------------------------------------------
class OpenAIWriter:
    """Writes an answer from the moments it is given, streamed as it is written."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = settings.openai_ask_model
        self.name = f"openai:{self.model}"

    def stream(self, instructions: str, messages: list[dict]):
        """The answer's text, piece by piece."""
        import openai

        api = client(self.settings)
        request = {"model": self.model, "messages": [{"role": "system", "content": instructions}, *messages],
                   "stream": True, "stream_options": {"include_usage": True}}
        try:
            try:
                pieces = api.chat.completions.create(**request)
            except openai.BadRequestError as exc:
                if "stream_options" not in str(exc):
                    raise
                del request["stream_options"]  # an OpenAI-compatible server that does not count usage
                pieces = api.chat.completions.create(**request)
            for piece in pieces:
                if piece.usage:
                    record("openai", self.model, input_tokens=piece.usage.prompt_tokens,
                           output_tokens=piece.usage.completion_tokens)
                for choice in piece.choices:
                    if choice.delta and choice.delta.content:
                        yield choice.delta.content
        except openai.OpenAIError as exc:
            raise explain(exc, self.settings) from None


class OpenAIEmbedder:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = settings.openai_embedding_model
        self.dim = 0  # known after the first answer

    def embed(self, texts: list[str]) -> np.ndarray:
        api = client(self.settings)
        rows = []
        for start in range(0, len(texts), VECTOR_BATCH):
            batch = [text or " " for text in texts[start:start + VECTOR_BATCH]]
            response = _call(self.settings, api.embeddings.create, model=self.model, input=batch)
            if response.usage:
                record("openai", self.model, input_tokens=response.usage.prompt_tokens)
            rows += [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
        if not rows:
            return np.zeros((0, self.dim or 1), dtype=np.float32)
        vectors = normalise_rows(rows)
        self.dim = vectors.shape[1]
        return vectors
