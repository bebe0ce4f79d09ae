"""Asking the library offline: where the line lies between a question the library answers and one it does not, and
how long an answer takes beside a plain search.

    .venv/bin/python bench/ask.py [--segments 100000] [--questions 200]

1. Calibration. A generated library of talks on different subjects (gardening, a cup final, an outage, baking,
   travel, a budget debate, astronomy, a guitar lesson; some share words across subjects) and questions in other
   words than the talks': some answered by one sentence, some on subjects the library never speaks of, some near a
   subject it does (a question about football transfers beside the cup final). For each, the best sentence's score
   (core.library.answers.rank_quotes), whether it is the sentence that answers, and, for the threshold in
   core.library.answers.SUPPORT_THRESHOLD and the best one on this set, how many questions are judged right.
2. Speed. The synthetic library of bench/search.py at --segments, then p50/p95 of an offline answer and of a plain
   search of the same questions, in one run (goal: answer p95 <= 300 ms at 100,000 segments).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TALKS = {
    "Rooftop gardens": [
        "Welcome back to the channel, today we are on my rooftop garden.",
        "Tomatoes need at least six hours of direct sunshine every day.",
        "I water the beds early in the morning so the leaves dry before noon.",
        "Slugs were eating my lettuce until I put copper tape around the boxes.",
        "Compost from the kitchen goes into a worm bin in the corner.",
        "The whole garden cost me about four hundred dollars to build.",
    ],
    "Cup final highlights": [
        "What a night at the stadium for the cup final.",
        "The striker scored twice in the second half to win the match.",
        "Their goalkeeper saved a penalty in the very last minute.",
        "Forty thousand fans sang for the whole game.",
        "The coach said the team had trained for penalties all week.",
        "Next season the club plays in the European competition.",
    ],
    "Postmortem of the outage": [
        "On Tuesday our service was down for three hours.",
        "The database ran out of disk space because old logs were never deleted.",
        "Failover to the replica took forty minutes, far too long.",
        "We now page the on-call engineer when disk use passes eighty percent.",
        "Customers got a credit for the downtime on their next bill.",
        "Log rotation is now part of every new server we set up.",
    ],
    "Sourdough at home": [
        "Sourdough only needs flour, water, salt and a starter.",
        "Feed the starter twice a day for a week before you bake.",
        "Let the dough rise overnight in the fridge for a sour taste.",
        "Bake it at two hundred and fifty degrees in a covered pot.",
        "Tomato and basil make a good topping for a focaccia.",
        "Wait an hour before you cut the loaf, or it will be gummy.",
    ],
    "Two weeks in Japan": [
        "We flew into Tokyo and spent the first week in the city.",
        "The rail pass paid for itself after two bullet train trips.",
        "In Kyoto we stayed in a small inn with paper walls.",
        "Cherry blossoms were at their peak in early April.",
        "Convenience store food was cheap and surprisingly good.",
        "The whole trip cost us about three thousand dollars each.",
    ],
    "Budget debate in the senate": [
        "The senate debated the new budget late into the night.",
        "Spending on schools rises by four percent next year.",
        "The opposition wants lower taxes for small businesses.",
        "Defence spending stays the same as last year.",
        "The vote is expected before the end of the month.",
        "Economists warn that the deficit will keep growing.",
    ],
    "Planets around other stars": [
        "Astronomers have found more than five thousand planets around other stars.",
        "Most of them were found by watching a star dim as a planet passes in front.",
        "Some of these planets are hotter than molten lava.",
        "The new space telescope can read the air of a distant planet.",
        "Water vapour was found in the atmosphere of one of them.",
        "Life elsewhere has not been found, but the search goes on.",
    ],
    "First guitar lesson": [
        "Today you will learn your first three chords on the guitar.",
        "Press the strings just behind the metal fret, not on top of it.",
        "Your fingertips will hurt for the first two weeks, that is normal.",
        "Practise changing between the chords slowly for ten minutes a day.",
        "A capo lets you play the same shapes in a higher key.",
        "Tune the guitar before every practice with a clip-on tuner.",
    ],
}
#: (question, the sentence that answers it)
ANSWERED = [
    ("How much sun do tomato plants need?", "six hours of direct sunshine"),
    ("When should I water my vegetables?", "early in the morning"),
    ("How did she stop slugs eating the salad?", "copper tape"),
    ("What did building the rooftop garden cost?", "four hundred dollars"),
    ("Who scored in the final?", "striker scored twice"),
    ("What happened with the penalty at the end?", "saved a penalty"),
    ("How many supporters were at the game?", "Forty thousand fans"),
    ("Why did the service go down?", "ran out of disk space"),
    ("How long did the failover take?", "forty minutes"),
    ("Were customers compensated for the outage?", "credit for the downtime"),
    ("When is the on-call engineer alerted now?", "eighty percent"),
    ("What ingredients does sourdough need?", "flour, water, salt"),
    ("How often do you feed a starter?", "twice a day"),
    ("At what temperature is the bread baked?", "two hundred and fifty degrees"),
    ("When can I slice the bread?", "Wait an hour"),
    ("Was the Japan rail pass worth it?", "rail pass paid for itself"),
    ("Where did they sleep in Kyoto?", "small inn"),
    ("When do the cherry trees bloom?", "early April"),
    ("How expensive was the trip to Japan?", "three thousand dollars"),
    ("How much more money goes to education?", "four percent"),
    ("What does the opposition want?", "lower taxes"),
    ("When will the senate vote on the budget?", "before the end of the month"),
    ("How many exoplanets are known?", "five thousand planets"),
    ("How are planets around other stars detected?", "star dim"),
    ("Has water been found on another planet?", "Water vapour"),
    ("Do my fingers hurt when learning guitar?", "fingertips will hurt"),
    ("Where do I press the guitar strings?", "behind the metal fret"),
    ("What is a capo for?", "capo lets you play"),
    ("How long should I practise chord changes each day?", "ten minutes a day"),
]
UNANSWERED = [
    "Who won the election in France?",
    "How do I change a car tyre?",
    "What is the best vaccine for the flu?",
    "How do I train a puppy to sit?",
    "What are the side effects of ibuprofen?",
    "How do I file my tax return online?",
    "Which player did the club buy in the transfer window?",
    "How do I grow orchids indoors?",
    "What programming language should I learn first?",
    "How do I fix a leaking kitchen tap?",
    "What is the capital of Australia?",
    "How do I make sushi rice?",
    "When does the next iPhone come out?",
    "How much does a wedding cost?",
    "What is the recipe for chocolate cake?",
    "How do I play the piano?",
    "What did the president say about immigration?",
    "How do solar panels work?",
]


def calibrate() -> None:
    from core.api.ask import _found
    from core.config import get_settings
    from core.library import answers
    from core.models import SearchFilters
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    settings, store = get_settings(), get_store()
    embedder = get_embedder(settings)
    for number, (title, said) in enumerate(TALKS.items()):
        add_video(store, embedder, video_id=f"talk{number:07d}", title=title, sentences=said)

    def best(question: str):
        hits = _found([question], 12, SearchFilters(), settings)
        quotes = answers.rank_quotes([question], hits, embedder)
        return quotes[0] if quotes else None

    answered = [(question, best(question), expected) for question, expected in ANSWERED]
    unanswered = [(question, best(question)) for question in UNANSWERED]
    right_sentence = sum(quote is not None and expected.lower() in quote.text.lower()
                         for _, quote, expected in answered)
    scores_in = np.array([quote.score for _, quote, _ in answered])
    scores_out = np.array([quote.score if quote else 0.0 for _, quote in unanswered])
    print(f"calibration: {len(TALKS)} talks, {len(ANSWERED)} answerable and {len(UNANSWERED)} unanswerable questions")
    print(f"  answerable:   best score {scores_in.min():.2f}-{scores_in.max():.2f} (median {np.median(scores_in):.2f});"
          f" the best sentence is the answer for {right_sentence}/{len(ANSWERED)}")
    print(f"  unanswerable: best score {scores_out.min():.2f}-{scores_out.max():.2f}"
          f" (median {np.median(scores_out):.2f})")
    for question, quote, expected in answered:
        if expected.lower() not in quote.text.lower():
            print(f"    answered by another sentence: {question!r} -> {quote.text!r} ({quote.score:.2f})")

    def judged_right(threshold: float) -> int:
        return int((scores_in >= threshold).sum() + (scores_out < threshold).sum())

    candidates = np.round(np.arange(0.20, 0.80, 0.01), 2)
    top = max(judged_right(t) for t in candidates)
    best_range = [t for t in candidates if judged_right(t) == top]
    total = len(scores_in) + len(scores_out)
    current = answers.SUPPORT_THRESHOLD
    print(f"  threshold {current:.2f} (SUPPORT_THRESHOLD): {judged_right(current)}/{total} judged right "
          f"({(scores_in < current).sum()} answerable called unsupported, {(scores_out >= current).sum()} "
          "unanswerable called supported)")
    print(f"  best on this set: {top}/{total} for thresholds {best_range[0]:.2f}-{best_range[-1]:.2f} "
          f"(middle {best_range[len(best_range) // 2]:.2f})")
    for question, quote in unanswered:
        if quote and quote.score >= current:
            print(f"    supported though unanswerable: {question!r} -> {quote.text!r} ({quote.score:.2f})")


def speed(segments: int, questions: int) -> None:
    from bench.search import (
        QUERIES,
        SEGMENTS_PER_VIDEO,
        percentile,
        sentences,
        unit_vectors,
        vocabulary,
        wait_for_search_index,
    )
    from core import api
    from core.api.search import query_vectors
    from core.config import get_settings
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    store, embedder = get_store(), get_embedder(get_settings())
    rng, chooser = np.random.default_rng(7), random.Random(7)
    words, weights = vocabulary(chooser)
    videos = max(1, segments // SEGMENTS_PER_VIDEO)
    for number in range(videos):
        said = sentences(chooser, words, weights, SEGMENTS_PER_VIDEO)
        # as in speech recognisers' segments, about one in three holds two sentences
        said = [f"{s[:len(s) // 2]}. {s[len(s) // 2:]}." if i % 3 == 0 else f"{s}." for i, s in enumerate(said)]
        add_video(store, embedder, video_id=f"bench{number:06d}", title=f"Video {number}", sentences=said,
                  vectors=unit_vectors(rng, SEGMENTS_PER_VIDEO, embedder.dim))
    wait_for_search_index(store, embedder.model)
    api.ask(QUERIES[0])
    searched, asked = [], []
    for number in range(questions):
        question = QUERIES[number % len(QUERIES)]
        query_vectors.clear()  # each search embeds its query, as a new question's is
        began = time.perf_counter()
        api.search(question, limit=12)
        searched.append(1000 * (time.perf_counter() - began))
        query_vectors.clear()
        began = time.perf_counter()
        api.ask(question)
        asked.append(1000 * (time.perf_counter() - began))
    s95, a95 = percentile(searched, 95), percentile(asked, 95)
    print(f"\nover {videos * SEGMENTS_PER_VIDEO:,} segments, {questions} questions (embedded store)")
    print(f"  plain search (12 moments): p50 {percentile(searched, 50):6.1f} ms   p95 {s95:6.1f} ms")
    print(f"  offline answer:            p50 {percentile(asked, 50):6.1f} ms   p95 {a95:6.1f} ms   "
          f"({a95 / s95:.1f}x the search; goal: p95 <= 300 ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    os.environ["ASK_ENGINE"] = "local"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATA_DIR"] = str(Path(tmp) / "calibration")
        calibrate()
        os.environ["DATA_DIR"] = str(Path(tmp) / "speed")
        speed(args.segments, args.questions)


if __name__ == "__main__":
    main()
