"""Summary, topics, sentiment and category for one transcript."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Protocol

import numpy as np

from core.config import Settings
from core.models import Analysis, Sentiment, Transcript
from core.providers.embed import Embedder

#: The categories a video can fall into, each described in words the embedding model can match.
CATEGORIES: dict[str, str] = {
    "news": "news report, breaking news, current events, journalism, headlines, press conference",
    "education": "lesson, lecture, tutorial, learning, explanation for students, course, teacher",
    "technology": "technology, software, computers, gadgets, programming, artificial intelligence, smartphones",
    "science": "science, research, physics, biology, chemistry, space, astronomy, experiments, discoveries",
    "sports": "sports, football, basketball, tennis, match, athletes, score, championship, team",
    "music": "music, song, singing, band, concert, album, melody, lyrics, guitar",
    "travel": "travel, trip, vacation, tourism, visiting cities and countries, hotels, flights, beaches",
    "food": "food, cooking, recipe, restaurant, kitchen, eating, baking, cuisine, ingredients",
    "entertainment": "entertainment, movies, television, celebrities, comedy, film review, shows",
    "gaming": "video games, gaming, gameplay, consoles, esports, streamers, levels, players",
    "business": "business, finance, economy, markets, companies, investing, startups, money, sales",
    "health": "health, medicine, fitness, exercise, diet, doctors, disease, mental health, wellness",
    "lifestyle": "lifestyle, daily life, vlog, fashion, home, relationships, personal routine, family",
    "politics": "politics, government, elections, policy, parliament, politicians, law, voters",
}
POSITIVE_AT = 0.05  # VADER's own thresholds for its compound score
NEGATIVE_AT = -0.05
CATEGORY_WINDOW_WORDS = 150  # the embedding model reads at most 256 tokens at a time
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)


class Analyzer(Protocol):
    name: str

    def analyze(self, transcript: Transcript, title: str | None, description: str | None) -> Analysis: ...


class _PlainTokenizer:
    """Sentence and word splitting for sumy without NLTK's downloadable data."""

    language = "english"

    def to_sentences(self, paragraph: str) -> list[str]:
        return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]

    def to_words(self, sentence: str) -> list[str]:
        return _WORD.findall(sentence)


def summarize(text: str, sentences: int) -> str:
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.text_rank import TextRankSummarizer

    tokenizer = _PlainTokenizer()
    if len(tokenizer.to_sentences(text)) <= sentences:
        return text.strip()
    document = PlaintextParser(text, tokenizer).document
    summarizer = TextRankSummarizer(Stemmer("english"))
    summarizer.stop_words = _stop_words()
    return " ".join(str(s) for s in summarizer(document, sentences))


def key_phrases(text: str, language: str | None, limit: int = 8) -> list[str]:
    import yake

    extractor = yake.KeywordExtractor(lan=(language or "en")[:2], n=2, dedupLim=0.7, top=limit * 4)
    phrases: list[str] = []
    seen_stems: set[str] = set()
    for phrase, _score in extractor.extract_keywords(text):  # best first
        stems = {stem(word) for word in _WORD.findall(phrase)}
        if not stems or stems & seen_stems:  # one phrase per idea: "chocolate cake" hides "bake a chocolate"
            continue
        seen_stems |= stems
        phrases.append(phrase)
        if len(phrases) == limit:
            break
    return phrases


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sumy.utils import get_stop_words

    return frozenset(get_stop_words("english"))


@lru_cache(maxsize=1)
def _stemmer():
    from sumy.nlp.stemmers import Stemmer

    return Stemmer("english")


def stem(word: str) -> str:
    return _stemmer()(word.lower())


def content_words(text: str) -> list[str]:
    """The words of a query that carry meaning (no stop words), lower-cased, in order, once each."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) > 1 and word not in _stop_words():
            seen.setdefault(word)
    return list(seen)


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment_label(score: float) -> str:
    return "positive" if score >= POSITIVE_AT else "negative" if score <= NEGATIVE_AT else "neutral"


class LocalAnalyzer:
    """VADER sentiment, YAKE key phrases, TextRank summary, category by embedding similarity."""

    name = "local:vader+yake+textrank"

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def _category(self, transcript: Transcript, title: str | None, description: str | None) -> str:
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
        labels = list(CATEGORIES)
        similarity = self.embedder.embed(texts) @ self.embedder.embed([CATEGORIES[label] for label in labels]).T
        return labels[int(np.argmax(np.average(similarity, axis=0, weights=weights)))]

    def analyze(self, transcript: Transcript, title: str | None, description: str | None) -> Analysis:
        vader = _vader()
        segment_scores = [round(vader.polarity_scores(s.text)["compound"], 4) for s in transcript.segments]
        weights = np.array([max(1, len(s.text)) for s in transcript.segments], dtype=float)
        overall = float(np.average(segment_scores, weights=weights)) if segment_scores else 0.0
        sentence_count = 3 if len(transcript.segments) < 40 else 5
        return Analysis(
            summary=summarize(transcript.text, sentence_count),
            topics=key_phrases(transcript.text, transcript.language),
            sentiment=Sentiment(label=sentiment_label(overall), score=round(overall, 4)),
            segment_sentiment=segment_scores,
            category=self._category(transcript, title, description),
            language=transcript.language,
            engine=self.name,
        )


def get_analyzer(settings: Settings, embedder: Embedder) -> Analyzer:
    return LocalAnalyzer(embedder)
