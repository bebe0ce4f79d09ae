"""Spoken clips about clearly different subjects with a clear mood, and how well the offline engines
understand them: WER per speech-to-text candidate, search hit@1 and MRR (each query paraphrases one clip
without its key words, so only meaning can find it), sentiment and category agreement. bench/quality.py
prints these; tests/test_quality.py holds them to floors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core import api
from core.config import Settings
from core.pipeline import run_now
from core.providers.transcribe import FasterWhisperTranscriber
from core.sources import audio
from testkit.media import speak, video_with_speech


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


FOREIGN_CLIPS = [  # the first three also go through the whole pipeline (tests/test_translation.py)
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
    ForeignClip("beach-es", "es", "Las vacaciones en la playa fueron perfectas. El agua estaba limpia y caliente. "
                "Comimos pescado delicioso cada noche. Volveremos el próximo verano.",
                ("beach", "perfect", "water", "clean", "fish", "delicious", "night", "summer"), "positive",
                "a seaside holiday with clear water and good seafood"),
    ForeignClip("phone-es", "es", "Compré este teléfono hace una semana y ya está roto. La batería no dura nada y la "
                "pantalla se apaga sola. El servicio al cliente no me ayudó. Qué desastre.",
                ("bought", "phone", "week", "broken", "battery", "screen", "service", "help", "disaster"), "negative",
                "a mobile that stopped working after a few days"),
    ForeignClip("school-es", "es", "Mi hija está muy feliz en su nueva escuela. Los profesores son excelentes y tiene "
                "muchos amigos. Estamos muy contentos con el cambio.",
                ("daughter", "happy", "new", "school", "teachers", "excellent", "friends", "change"), "positive",
                "a child who likes her teachers and classmates"),
    ForeignClip("traffic-es", "es", "El tráfico en la ciudad es horrible. Cada mañana pierdo dos horas en el coche. "
                "El aire está contaminado y todos están cansados y enfadados.",
                ("traffic", "city", "horrible", "morning", "hours", "car", "air", "polluted", "tired", "angry"),
                "negative", "commuters stuck in jams and dirty air"),
    ForeignClip("concert-fr", "fr", "Le concert d'hier soir était magnifique. La chanteuse avait une voix superbe "
                "et le public était heureux. Une soirée merveilleuse.",
                ("concert", "night", "magnificent", "singer", "voice", "audience", "happy", "wonderful", "evening"),
                "positive", "a singer who delighted her audience"),
    ForeignClip("strike-fr", "fr", "La grève a bloqué tous les trains pendant une semaine. Les voyageurs étaient "
                "furieux et fatigués. C'est une situation terrible pour tout le monde.",
                ("strike", "blocked", "trains", "week", "travellers", "furious", "tired", "terrible", "situation"),
                "negative", "a rail walkout that stranded passengers"),
    ForeignClip("garden-de", "de", "Mein Garten ist dieses Jahr wunderschön. Die Blumen blühen überall und die Tomaten "
                "schmecken sehr gut. Ich bin sehr glücklich.",
                ("garden", "year", "beautiful", "flowers", "tomatoes", "taste", "good", "happy"), "positive",
                "a flowering vegetable plot this summer"),
    ForeignClip("movie-it", "it", "Il film era noioso e troppo lungo. Gli attori erano pessimi e la storia non aveva "
                "senso. Ho perso due ore della mia vita.",
                ("film", "boring", "long", "actors", "story", "sense", "lost", "two", "hours", "life"), "negative",
                "a dull cinema evening with bad acting"),
]
PIPELINE_FOREIGN_CLIPS = FOREIGN_CLIPS[:3]

#: English clips whose mood is carried by most sentences but contradicted by one long one, or that have none:
#: the overall sentiment must follow the majority, and explanations must stay neutral.
MIXED_CLIPS = [
    Clip("seaside", "We loved our week at the seaside hotel. The staff were kind and the breakfast was excellent. The "
         "only problem was the noisy road outside our window, which kept us awake for a long time on the first "
         "night and made us tired and grumpy the next morning. Still, we had a wonderful stay and would happily go "
         "back.", "travel", "positive", "a pleasant coastal stay despite street noise"),
    Clip("wedding", "Yesterday my sister got married and it was the happiest day of our family. The sun was shining, "
         "the music was lovely and everyone danced until midnight. I have never seen her smile so much.",
         "lifestyle", "positive", "a family celebration of a marriage"),
    Clip("timetable", "The number twelve bus leaves the station every twenty minutes. It stops at the library, the "
         "town hall and the hospital. On Sundays the first bus leaves at eight and the last one at ten in the "
         "evening. Tickets can be bought from the driver or at the machine.", "travel", "neutral",
         "when the town's buses run"),
    Clip("volcano", "A volcano forms where hot rock from deep inside the earth rises to the surface. When pressure "
         "builds up, gas and lava escape through an opening in the crust. Some volcanoes erupt often, while others "
         "stay quiet for thousands of years.", "science", "neutral", "how eruptions happen"),
]


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower().replace("-", " ")))


def make_clips(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {clip.name: video_with_speech(clip.text, folder / f"{clip.name}.mp4") for clip in CLIPS}


def make_foreign_clips(folder: Path, clips: list[ForeignClip] = PIPELINE_FOREIGN_CLIPS) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {clip.name: video_with_speech(clip.text, folder / f"{clip.name}.mp4", clip.voice) for clip in clips}


def _seconds(job, stage: str, after: str) -> float:
    times = job.stage_times
    return (datetime.fromisoformat(times[after]) - datetime.fromisoformat(times[stage])).total_seconds()


def translation_scores(site_url: str) -> dict:
    """Run the non-English clips through the whole pipeline (with its translating step); per clip: the
    share of expected English words in the translation, the sentiment found, where the English paraphrase
    ranks it, and the translating step's time as a share of the transcribing step's."""
    details = {}
    job_of = {}
    for clip in PIPELINE_FOREIGN_CLIPS:
        job = run_now(f"{site_url}/{clip.name}.mp4")
        if job.status.value != "completed":
            raise RuntimeError(f"{clip.name} failed: {job.error}")
        job_of[clip.name] = job
    for clip in PIPELINE_FOREIGN_CLIPS:
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
        job = run_now(f"{site_url}/{clip.name}.mp4")
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


# --- the offline engines alone, under each CPU path a user's machine may take -------------------------------------

#: What a machine may compute the offline engines with, as the environment of a fresh process: this CPU as it comes
#: (the OpenVINO encoder in bfloat16 where it has AMX), the encoder in float32, a CPU with AVX2 only (CTranslate2's AVX2
#: kernels too), the encoder forced to bfloat16, and CTranslate2's own encoder.
CPU_PATHS: dict[str, dict[str, str]] = {
    "this-cpu": {},
    "f32": {"WHISPER_ENCODER_PRECISION": "f32"},
    "avx2-f32": {"CT2_FORCE_CPU_ISA": "AVX2", "WHISPER_ENCODER_PRECISION": "f32"},
    "bf16": {"WHISPER_ENCODER_PRECISION": "bf16"},
    "ctranslate2-encoder": {"WHISPER_ENCODER": "ctranslate2"},
}
ENGINE_CLIPS = [*CLIPS, *MIXED_CLIPS, *FOREIGN_CLIPS]


def cpu_has_bfloat16() -> bool:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def make_engine_clips(folder: Path) -> Path:
    """Every clip as the 16 kHz WAV speech-to-text reads, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for clip in ENGINE_CLIPS:
        spoken = speak(clip.text, folder / f"{clip.name}.espeak.wav", getattr(clip, "voice", "en-us"))
        audio.convert(spoken, [(folder / f"{clip.name}.wav", audio.SPEECH)])
        spoken.unlink()
    return folder


def engine_scores(folder: Path, data_dir: Path) -> dict:
    """Transcribe, translate and analyse every clip of `make_engine_clips` with the offline engines, in this process,
    as configured by the environment. Per clip: the language found, the text analysed, the sentiment; overall: the
    English WER, the share of expected words in the translations, and how many moods and languages are right."""
    import jiwer

    from core.providers.analyze import LocalAnalyzer
    from core.providers.embed import get_embedder
    from core.providers.translate import WhisperTranslator

    settings = Settings(data_dir=data_dir)
    transcriber, translator = FasterWhisperTranscriber(settings), WhisperTranslator(settings)
    analyzer = LocalAnalyzer(get_embedder(settings))
    clips, references, hypotheses, shares = {}, [], [], []
    for clip in ENGINE_CLIPS:
        wav = folder / f"{clip.name}.wav"
        duration = audio.duration_of(wav)
        transcript = transcriber.transcribe(wav, duration, lambda *_: None)
        spoken = getattr(clip, "voice", "en")
        analysed = transcript
        if spoken != "en":
            analysed = translator.translate(transcript, "en", wav, duration, lambda *_: None).as_transcript()
            words = set(normalise(analysed.text).split())
            shares.append(sum(w in words or w.rstrip("s") in words for w in clip.expected_words)
                          / len(clip.expected_words))
        else:
            references.append(normalise(clip.text))
            hypotheses.append(normalise(transcript.text))
        sentiment = analyzer.analyze(analysed, None, None).sentiment
        clips[clip.name] = {"language": transcript.language, "expected_language": spoken, "text": analysed.text,
                            "segments": [segment.text for segment in analysed.segments],
                            "sentiment": sentiment.label, "score": sentiment.score, "expected": clip.sentiment}
    return {
        "wer": jiwer.wer(references, hypotheses),
        "word_share": sum(shares) / len(shares),
        "lowest_word_share": min(shares),
        "moods_right": sum(c["sentiment"] == c["expected"] for c in clips.values()),
        "languages_right": sum(c["language"] == c["expected_language"] for c in clips.values()),
        "clips": clips,
    }


def engine_scores_under(environment: dict[str, str], folder: Path, data_dir: Path) -> dict:
    """`engine_scores` in a fresh process with `environment` added (an instruction set is chosen as engines load)."""
    root = Path(__file__).resolve().parent.parent
    env = os.environ | {"PYTHONPATH": str(root)} | environment
    done = subprocess.run([sys.executable, "-m", "testkit.quality", str(folder), str(data_dir)], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the engines failed under {environment}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


if __name__ == "__main__":
    print(json.dumps(engine_scores(Path(sys.argv[1]), Path(sys.argv[2]))))
