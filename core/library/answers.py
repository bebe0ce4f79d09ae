"""Answers to questions about the library from the moments search found: offline, the transcripts' own sentences
that answer best; with a model, its text checked against the moments it was given. Either way every claim cites a
moment that exists, and when the moments do not answer, the answer says so."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.formatting import clock
from core.models import AskTurn, Citation, SearchHit
from core.providers.embed import Embedder
from core.store.hybrid import KEYWORD_WEIGHT
from core.text import content_words, stem

#: A sentence scoring below this (cosine similarity to the question, plus the keyword bonus search gives) does not
#: answer it. Calibrated by bench/ask.py on generated libraries: questions a sentence answers scored 0.50-0.93,
#: questions nothing answers 0.07-0.42 (all-MiniLM-L6-v2, int8).
SUPPORT_THRESHOLD = 0.53
#: Further sentences join the answer while they score within this of the best one.
ANSWER_MARGIN = 0.07
#: A sentence sharing this much of its words with one already quoted repeats it.
REPEAT_OVERLAP = 0.8
SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+")
NOT_COVERED_MARK = "NOT_COVERED"
WRITER_INSTRUCTIONS = f"""You answer questions about a library of video transcripts.
You are given numbered moments: what was said in a video at a time. Use only those moments, never other knowledge.
Cite every claim with the number of the moment it comes from in square brackets, like [2] or [1][3], right after the
claim. Be brief: a few sentences. Answer in the language of the question.
If the moments do not answer the question, reply with exactly {NOT_COVERED_MARK} and nothing else."""
_CITED = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")


def not_covered(scope: str) -> str:
    return f"The library does not cover this: nothing {scope} answers the question."


@dataclass(frozen=True)
class Quote:
    """A sentence of a found moment, in the language it is quoted in, and how well it answers."""

    hit: SearchHit
    text: str
    translated: bool
    score: float


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(text.strip()) if len(content_words(part)) > 0]


def _stems(text: str) -> set[str]:
    return {stem(word) for word in content_words(text)}


def quoted_text(hit: SearchHit, question_stems: set[str]) -> tuple[str, bool]:
    """The moment's words in the question's language: its translation, unless the question shares more words
    with what was spoken. Returns (text, whether it is the translation)."""
    if hit.translation is None:
        return hit.text, False
    if len(question_stems & _stems(hit.text)) > len(question_stems & _stems(hit.translation)):
        return hit.text, False
    return hit.translation, True


def retrieval_queries(question: str, history: list[AskTurn]) -> list[str]:
    """What to search for: the question, and for a follow-up ("and how long does it take?") the question read
    with the one before it, which names what "it" is."""
    if history:
        return [question, f"{history[-1].question} {question}"]
    return [question]


def rank_quotes(queries: list[str], hits: list[SearchHit], embedder: Embedder) -> list[Quote]:
    """Every sentence of the found moments, scored by its meaning against the question plus the search's bonus for
    holding the question's words; best first. A follow-up's sentences score the mean of both readings, so "how much
    did it cost?" after a question about a trip prefers the trip's cost to any other. A moment of one sentence asked
    once keeps the similarity search measured from its stored vector; only the other sentences are embedded."""
    question_stems = _stems(queries[0])
    candidates: list[tuple[SearchHit, str, bool, float | None]] = []
    for hit in hits:
        text, translated = quoted_text(hit, question_stems)
        parts = sentences(text)
        known = hit.score if len(parts) == 1 and len(queries) == 1 else None
        candidates += [(hit, sentence, translated, known) for sentence in parts]
    unmeasured = [sentence for _, sentence, _, meaning in candidates if meaning is None]
    if unmeasured:
        vectors = embedder.embed([*queries, *unmeasured])
        measured = iter((vectors[len(queries):] @ vectors[:len(queries)].T).mean(axis=1).tolist())
        candidates = [(hit, sentence, translated, next(measured) if meaning is None else meaning)
                      for hit, sentence, translated, meaning in candidates]
    quotes = []
    for hit, sentence, translated, meaning in candidates:
        coverage = len(question_stems & _stems(sentence)) / len(question_stems) if question_stems else 0.0
        quotes.append(Quote(hit, sentence, translated, meaning + KEYWORD_WEIGHT * coverage))
    return sorted(quotes, key=lambda quote: -quote.score)


def _repeats(quote: Quote, chosen: list[Quote]) -> bool:
    words = _stems(quote.text)
    for other in chosen:
        if other.text.casefold() == quote.text.casefold():
            return True
        theirs = _stems(other.text)
        if words and theirs and len(words & theirs) / len(words | theirs) >= REPEAT_OVERLAP:
            return True
    return False


def choose_quotes(quotes: list[Quote], limit: int) -> list[Quote]:
    """The sentences that answer: the best, if it clears the support threshold, and those close to it, without
    repeats, at most `limit`."""
    if not quotes or quotes[0].score < SUPPORT_THRESHOLD:
        return []
    floor = max(SUPPORT_THRESHOLD, quotes[0].score - ANSWER_MARGIN)
    chosen: list[Quote] = []
    for quote in quotes:
        if len(chosen) == limit or quote.score < floor:
            break
        if not _repeats(quote, chosen):
            chosen.append(quote)
    return chosen


def citation(number: int, hit: SearchHit, text: str, translated: bool) -> Citation:
    return Citation(number=number, job_id=hit.job_id, video_id=hit.video_id, title=hit.title, start=hit.start,
                    end=hit.end, text=text, url=hit.url, original=hit.text if translated else None,
                    language=None if translated or hit.translation is None else hit.language, chapter=hit.chapter,
                    speaker=hit.speaker)


def extractive_answer(chosen: list[Quote]) -> tuple[str, list[Citation]]:
    """The chosen sentences grouped by video (the video of the best first), in the order they were said, each
    followed by its time."""
    by_video: dict[str, list[Quote]] = {}
    for quote in chosen:
        by_video.setdefault(quote.hit.job_id, []).append(quote)
    paragraphs, citations = [], []
    for quotes in by_video.values():
        quotes.sort(key=lambda quote: quote.hit.start)
        said = " ".join(f"{quote.text} [{clock(quote.hit.start)}]" for quote in quotes)
        title = quotes[0].hit.title or quotes[0].hit.video_id
        paragraphs.append(f"In “{title}”: {said}")
        citations += [citation(number, quote.hit, quote.text, quote.translated)
                      for number, quote in enumerate(quotes, len(citations) + 1)]
    return "\n\n".join(paragraphs), citations


# --- answers written by a model -----------------------------------------------------------
def numbered_moments(question: str, hits: list[SearchHit]) -> tuple[str, list[tuple[SearchHit, str, bool]]]:
    """The moments a model may cite, numbered from 1, as the prompt shows them, and each moment's quoted text."""
    question_stems = _stems(question)
    moments, lines = [], []
    for number, hit in enumerate(hits, 1):
        text, translated = quoted_text(hit, question_stems)
        moments.append((hit, text, translated))
        said = f"{text} (spoken: {hit.text})" if translated else text
        where = f", chapter “{hit.chapter}”" if hit.chapter else ""
        who = f", {hit.speaker} says" if hit.speaker else ""
        lines.append(f"[{number}] “{hit.title or hit.video_id}”{where} at {clock(hit.start)}{who}: {said}")
    return "\n".join(lines), moments


def writer_messages(question: str, moments_text: str, history: list[AskTurn]) -> list[dict]:
    """The conversation so far, then the moments and the question."""
    messages = []
    for turn in history:
        messages.append({"role": "user", "content": turn.question})
        if turn.answer:
            messages.append({"role": "assistant", "content": turn.answer})
    messages.append({"role": "user", "content": f"Moments:\n{moments_text}\n\nQuestion: {question}"})
    return messages


def check_written(text: str, moments: list[tuple[SearchHit, str, bool]]) -> tuple[str | None, list[Citation]]:
    """A model's answer with only real citations: numbers it was not given are dropped, the rest renumbered in the
    order they first appear, as the citations are listed. (None, []) when it cites nothing real or says the moments
    do not answer."""
    if not text.strip() or NOT_COVERED_MARK in text:
        return None, []
    renumbered: dict[int, int] = {}

    def keep_real(match: re.Match) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        real = [n for n in numbers if 1 <= n <= len(moments)]
        for n in real:
            renumbered.setdefault(n, len(renumbered) + 1)
        return "".join(f"[{renumbered[n]}]" for n in dict.fromkeys(real))

    def replace(match: re.Match) -> str:
        kept = keep_real(match)
        return (" " if kept and match.group(0)[:1].isspace() else "") + kept

    checked = _CITED.sub(replace, text).strip()
    if not renumbered:
        return None, []
    citations = []
    for given, number in sorted(renumbered.items(), key=lambda item: item[1]):
        hit, quoted, translated = moments[given - 1]
        citations.append(citation(number, hit, quoted, translated))
    return checked, citations

