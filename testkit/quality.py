"""Spoken clips about clearly different subjects with a clear mood, and how well the offline engines
understand them: WER per speech-to-text candidate, search hit@1 and MRR (each query paraphrases one clip
without its key words, so only meaning can find it), sentiment and category agreement. bench/quality.py
prints these; tests/test_quality.py holds them to floors."""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core import api, audio
from core.config import Settings
from core.providers.transcribe import FasterWhisperTranscriber
from testkit.media import video_with_speech


@dataclass(frozen=True)
class Clip:
    name: str
    text: str
    category: str
    sentiment: str  # positive | negative | neutral
    query: str


CLIPS = [
    Clip("pasta", "Tonight I am cooking spaghetti with a rich tomato sauce, fresh basil and plenty of garlic. "
         "Let the onions soften slowly in olive oil before you add the tomatoes. The result is delicious, "
         "and my family loves this wonderful recipe.", "food", "positive",
         "preparing an Italian noodle dinner at home"),
    Clip("derby", "What a terrible afternoon for the club. The defenders made awful mistakes, the goalkeeper "
         "dropped an easy ball, and the team lost the derby by four goals. The fans left the stadium angry "
         "and disappointed.", "sports", "negative",
         "supporters upset after a heavy football defeat"),
    Clip("laptop", "I have been using the new laptop for a month and I love it. The battery lasts all day, the "
         "screen is bright and sharp, and the keyboard is a joy to type on. It is the best computer I have "
         "ever owned.", "technology", "positive",
         "a portable computer review with long battery life"),
    Clip("stars", "Stars are born inside huge clouds of gas and dust. Gravity pulls the material together until "
         "the core becomes hot and dense enough for nuclear fusion. The young star then shines for millions "
         "of years.", "science", "neutral",
         "how suns form in space from nebulas"),
    Clip("lisbon", "Our holiday in Lisbon was fantastic. We walked through the old streets, rode the yellow "
         "trams, ate pastries by the river and watched beautiful sunsets from the hills. We cannot wait to "
         "go back.", "travel", "positive",
         "a lovely vacation trip to the Portuguese capital"),
    Clip("flu", "The flu season is hitting the region hard. Hospitals are overwhelmed, patients wait for hours "
         "in crowded emergency rooms, and many nurses are sick themselves. Doctors warn that the situation "
         "is getting worse.", "health", "negative",
         "medical staff struggling with a wave of illness"),
    Clip("layoffs", "The company reported a huge loss this quarter. Sales collapsed, the share price fell sharply "
         "and the board announced that thousands of employees will lose their jobs. Investors are furious.",
         "business", "negative",
         "a firm cutting staff after bad financial results"),
    Clip("concert", "Last night the band played an amazing concert. The singer's voice was beautiful, the "
         "guitarist played a brilliant solo, and the whole crowd sang along to every song. It was a "
         "magical evening.", "music", "positive",
         "a great live show with a rock group"),
]
SPEECH_TO_TEXT_CANDIDATES = ["base", "tiny.en"]


@dataclass(frozen=True)
class ForeignClip:
    name: str
    voice: str  # an espeak-ng voice, which is also the spoken language
    text: str
    #: English content words a faithful translation contains.
    expected_words: tuple[str, ...]
    sentiment: str
    #: An English paraphrase of the clip, for cross-language search.
    query: str


FOREIGN_CLIPS = [
    ForeignClip("hotel-es", "es", "El hotel estaba muy sucio y el personal fue muy grosero. La comida del restaurante "
                "estaba fría. Fue la peor noche de mi vida. Nunca volveré a este lugar.",
                ("hotel", "dirty", "food", "restaurant", "cold", "night", "never", "place"), "negative",
                "a filthy guesthouse where dinner was served cold"),
    ForeignClip("market-es", "es", "Me encanta esta ciudad. La gente es muy amable, el mercado está lleno de frutas "
                "frescas y el sol brilla todos los días. Es un lugar maravilloso.",
                ("love", "city", "people", "market", "full", "fruits", "sun", "wonderful", "place"), "positive",
                "fresh fruit stalls at the market of a town I adore"),
    ForeignClip("train-de", "de", "Der Zug hatte drei Stunden Verspätung. Es war kalt, das Essen war schlecht und alle "
                "waren wütend. Eine schreckliche Reise.",
                ("train", "three", "hours", "late", "cold", "food", "bad", "angry", "terrible", "journey"), "negative",
                "a delayed railway trip that went badly"),
]


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower().replace("-", " ")))


def make_clips(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {clip.name: video_with_speech(clip.text, folder / f"{clip.name}.mp4") for clip in CLIPS}


def make_foreign_clips(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {clip.name: video_with_speech(clip.text, folder / f"{clip.name}.mp4", clip.voice) for clip in FOREIGN_CLIPS}


def _seconds(job, stage: str, after: str) -> float:
    times = job.stage_times
    return (datetime.fromisoformat(times[after]) - datetime.fromisoformat(times[stage])).total_seconds()


def translation_scores(site_url: str) -> dict:
    """Run the non-English clips through the whole pipeline (with its translating step); per clip: the
    share of expected English words in the translation, the sentiment found, where the English paraphrase
    ranks it, and the translating step's time as a share of the transcribing step's."""
    details = {}
    job_of = {}
    for clip in FOREIGN_CLIPS:
        job = api.run_now(f"{site_url}/{clip.name}.mp4")
        if job.status.value != "completed":
            raise RuntimeError(f"{clip.name} failed: {job.error}")
        job_of[clip.name] = job
    for clip in FOREIGN_CLIPS:
        job = job_of[clip.name]
        translation = api.translation(job.id)
        words = set(normalise(translation.text if translation else "").split())
        found = [w for w in clip.expected_words if w in words or w.rstrip("s") in words]
        ranked = list(dict.fromkeys(hit.job_id for hit in api.search(clip.query, limit=50)))
        analysis = api.analysis(job.id)
        details[clip.name] = {
            "spoken": api.transcript(job.id).language,
            "translation": translation.text if translation else None,
            "word_share": len(found) / len(clip.expected_words),
            "sentiment": analysis.sentiment.label, "expected_sentiment": clip.sentiment,
            "rank": ranked.index(job.id) + 1 if job.id in ranked else None,
            "time_ratio": _seconds(job, "translating", "analyzing") / _seconds(job, "transcribing", "translating"),
        }
    return details


def speech_to_text_scores(videos: dict[str, Path], data_dir: Path) -> dict[str, dict]:
    """Word error rate and speed of each candidate on every clip."""
    import jiwer  # a test tool, installed with the dev requirements

    scores = {}
    with tempfile.TemporaryDirectory() as tmp:
        wavs = {}
        for name, video in videos.items():
            wav = Path(tmp) / f"{name}.wav"
            audio.convert(video, [(wav, audio.SPEECH)])
            wavs[name] = wav
        for candidate in SPEECH_TO_TEXT_CANDIDATES:
            settings = Settings(whisper_model=candidate, data_dir=data_dir)
            transcriber = FasterWhisperTranscriber(settings)
            transcriber.load()
            references, hypotheses, spoken, wall = [], [], 0.0, 0.0
            for clip in CLIPS:
                duration = audio.duration_of(wavs[clip.name])
                started = time.perf_counter()
                transcript = transcriber.transcribe(wavs[clip.name], duration, lambda *_: None)
                wall += time.perf_counter() - started
                spoken += duration
                references.append(normalise(clip.text))
                hypotheses.append(normalise(transcript.text))
            scores[candidate] = {"wer": jiwer.wer(references, hypotheses), "speed": spoken / wall}
    return scores


def understanding_scores(site_url: str) -> dict:
    """Run every clip through the whole pipeline, then check search, sentiment and category."""
    job_of = {}
    for clip in CLIPS:
        job = api.run_now(f"{site_url}/{clip.name}.mp4")
        if job.status.value != "completed":
            raise RuntimeError(f"{clip.name} failed: {job.error}")
        job_of[clip.name] = job.id
    hits_at_1, reciprocal_ranks, sentiment_right, category_right, details = 0, [], 0, 0, []
    for clip in CLIPS:
        ranked_jobs = list(dict.fromkeys(hit.job_id for hit in api.search(clip.query, limit=50)))
        rank = ranked_jobs.index(job_of[clip.name]) + 1 if job_of[clip.name] in ranked_jobs else None
        hits_at_1 += rank == 1
        reciprocal_ranks.append(1 / rank if rank else 0.0)
        analysis = api.analysis(job_of[clip.name])
        sentiment_ok = analysis.sentiment.label == clip.sentiment
        sentiment_right += sentiment_ok
        category_right += analysis.category == clip.category
        details.append((clip.name, rank, analysis.sentiment.label, round(analysis.sentiment.score, 2),
                        clip.sentiment, analysis.category, clip.category))
    count = len(CLIPS)
    return {
        "hit_at_1": hits_at_1 / count,
        "mrr": sum(reciprocal_ranks) / count,
        "sentiment_agreement": sentiment_right / count,
        "category_agreement": category_right / count,
        "details": details,
    }
