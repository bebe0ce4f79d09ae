"""Summary, topics, sentiment and category for one transcript."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

import numpy as np

from core.config import Settings
from core.models import CATEGORIES, Analysis, Sentiment, Transcript, sentiment_label
from core.providers.embed import Embedder
from core.providers.hosted import OpenAIAnalyzer
from core.providers.topics import tagger
from core.providers.topics import topics as noun_phrase_topics
from core.text import WORD, stem, stemmer, stop_words

TOPICS = 8
CATEGORY_WINDOW_WORDS = 150  # the embedding model reads at most 256 tokens at a time
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class Analyzer(Protocol):
    name: str

    def analyze(self, transcript: Transcript, title: str | None, description: str | None) -> Analysis: ...


class _PlainTokenizer:
    """Sentence and word splitting for sumy without NLTK's downloadable data."""

    language = "english"

    def to_sentences(self, paragraph: str) -> list[str]:
        return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]

    def to_words(self, sentence: str) -> list[str]:
        return WORD.findall(sentence)


def summarize(text: str, sentences: int) -> str:
    """One TextRank-best sentence from each of `sentences` equal stretches, so the summary covers the
    whole video rather than whichever part had the most central sentences."""
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.text_rank import TextRankSummarizer

    tokenizer = _PlainTokenizer()
    if len(tokenizer.to_sentences(text)) <= sentences:
        return text.strip()
    document = PlaintextParser(text, tokenizer).document
    summarizer = TextRankSummarizer(stem)
    summarizer.stop_words = stop_words()
    ratings = summarizer.rate_sentences(document)
    ordered = list(document.sentences)
    bounds = np.linspace(0, len(ordered), sentences + 1).astype(int)
    picked = [max(ordered[a:b], key=lambda sentence: ratings.get(sentence, 0.0))
              for a, b in pairwise(bounds) if b > a]
    return " ".join(str(sentence) for sentence in picked)


# Words that are frequent in speech but say nothing about the subject.
SPOKEN_FILLERS = frozenset(
    "today tonight yesterday tomorrow now let lets let's make made get got go going gonna want wanna "
    "thing things stuff way lot lots kind sort okay ok yeah yes hey hi hello welcome thanks thank guys "
    "everyone everybody actually basically literally really just pretty little big good great first "
    "next last time times day days year years minute minutes video videos channel today's".split()
)


def key_phrases(text: str, language: str | None, limit: int = TOPICS) -> list[str]:
    """Up to `limit` key phrases, best first, one per idea, without stop words or spoken fillers."""
    import yake

    stop = set(stop_words()) | SPOKEN_FILLERS
    extractor = yake.KeywordExtractor(lan=(language or "en")[:2], n=3, dedup_lim=0.7, top=limit * 5,
                                      stopwords=stop)
    phrases: list[str] = []
    seen_stems: set[str] = set()
    for phrase, _score in extractor.extract_keywords(text):  # best first
        words = WORD.findall(phrase)
        meaningful = [w for w in words if w.lower() not in stop and len(w) > 2]
        if not meaningful or (len(words) == 1 and len(words[0]) < 4):
            continue
        stems = {stem(word) for word in meaningful}
        if stems & seen_stems:  # one phrase per idea: "chocolate cake" hides "bake a chocolate"
            continue
        seen_stems |= stems
        phrases.append(phrase if any(ch.isupper() for ch in phrase[1:]) else phrase.lower())
        if len(phrases) == limit:
            break
    return phrases


def load_local_engines() -> None:
    """Import and build what local analysis uses: YAKE, TextRank, the stemmer and stop words, VADER's lexicon,
    the part-of-speech tagger (pure Python, no threads; ~0.8 s on a 2-core machine)."""
    import yake  # noqa: F401 - imported again, for free, where it is used
    from sumy.parsers.plaintext import PlaintextParser  # noqa: F401
    from sumy.summarizers.text_rank import TextRankSummarizer  # noqa: F401

    stemmer()
    stop_words()
    sentiment_analyzer()
    tagger()


@lru_cache(maxsize=1)
def sentiment_analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def overall_sentiment(segment_scores: list[float], texts: list[str]) -> float:
    """The video's sentiment: the mean of its sentences' scores, each sentence one vote, as VADER's authors advise
    for text longer than a sentence. Weighting sentences by their length let one long sentence, often a misheard or
    mistranslated one, outvote the rest of a short clip ("I love this town ... The people are very sick, the market
    is full of fresh fruit ... It is a wonderful place" came out neutral); scoring the whole text at once instead
    saturates on long videos and turns neutral explanations positive (bench/quality.py compares them). Segments
    without words (a translated line left empty) do not vote."""
    voting = [score for score, text in zip(segment_scores, texts, strict=True) if text.strip()]
    return float(np.mean(voting)) if voting else 0.0


def _category_rows() -> list[list[int]]:
    """For each category, the rows of its descriptions among all descriptions in order."""
    rows, start = [], 0
    for descriptions in CATEGORIES.values():
        rows.append(list(range(start, start + len(descriptions))))
        start += len(descriptions)
    return rows


@lru_cache(maxsize=2)
def category_vectors(embedder: Embedder) -> np.ndarray:
    """The categories' descriptions embedded, in order: once per process and embedding model."""
    return embedder.embed([d for group in CATEGORIES.values() for d in group])


class LocalAnalyzer:
    """VADER sentiment, noun-phrase topics (YAKE key phrases for other languages than English), TextRank summary,
    category by embedding similarity."""

    name = "local:vader+phrases+textrank"

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def _read(self, transcript: Transcript, title: str | None, description: str | None) -> tuple[str, np.ndarray]:
        """The category, and a unit vector of what the whole video says (its windows and heading, weighted)."""
        # Evenly spread windows over the whole talk, so the category reflects all of it.
        words = transcript.text.split()
        count = min(8, max(1, len(words) // CATEGORY_WINDOW_WORDS + 1))
        starts = np.linspace(0, max(0, len(words) - CATEGORY_WINDOW_WORDS), num=count, dtype=int)
        texts = [" ".join(words[s:s + CATEGORY_WINDOW_WORDS]) for s in sorted(set(starts))]
        weights = [1.0] * len(texts)
        heading = " ".join(filter(None, [title, (description or "")[:300]]))
        if heading:
            # Titles help, but are short and often generic ("talk", "episode 3"): they count half a window.
            texts.append(heading)
            weights.append(0.5)
        vectors = self.embedder.embed(texts)
        similarity = vectors @ category_vectors(self.embedder).T  # windows x descriptions
        per_category = np.stack([similarity[:, rows].max(axis=1) for rows in _category_rows()], axis=1)
        category = list(CATEGORIES)[int(np.argmax(np.average(per_category, axis=0, weights=weights)))]
        whole = np.average(vectors, axis=0, weights=weights)
        return category, whole / max(float(np.linalg.norm(whole)), 1e-9)

    def _topics(self, transcript: Transcript, video_vector: np.ndarray) -> list[str]:
        if (transcript.language or "en")[:2] != "en":  # the part-of-speech model knows English only
            return key_phrases(transcript.text, transcript.language)
        return noun_phrase_topics(transcript.text, self.embedder.embed, TOPICS, stop=set(stop_words()) | SPOKEN_FILLERS,
                                  opinions=sentiment_analyzer().lexicon, video_vector=video_vector)

    def analyze(self, transcript: Transcript, title: str | None, description: str | None) -> Analysis:
        vader = sentiment_analyzer()
        segment_scores = [round(vader.polarity_scores(s.text)["compound"], 4) for s in transcript.segments]
        overall = overall_sentiment(segment_scores, [s.text for s in transcript.segments])
        sentence_count = 3 if len(transcript.segments) < 40 else 5
        category, video_vector = self._read(transcript, title, description)
        return Analysis(
            summary=summarize(transcript.text, sentence_count),
            topics=self._topics(transcript, video_vector),
            sentiment=Sentiment(label=sentiment_label(overall), score=round(overall, 4)),
            segment_sentiment=segment_scores,
            category=category,
            language=transcript.language,
            engine=self.name,
        )


def get_analyzer(settings: Settings, embedder: Embedder) -> Analyzer:
    if settings.uses_openai("analysis"):
        return OpenAIAnalyzer(settings)
    return LocalAnalyzer(embedder)
