"""Per-video topics: do they name the subject as a person would? Noun phrases (core.providers.topics, the default for
English) beside the YAKE key phrases used before, on the same transcripts, in one run.

    .venv/bin/python bench/topics.py

The transcripts are spoken-style talks (fillers, repetition, asides) and the short clips of testkit/quality.py; for
each, a person listed the words a topic about its subject would use. Printed per method:
- precision@5: the share of the first five topics that hold one of those words (lemmatised: "goals" is "goal");
- first: the share of videos whose first topic does;
- fragments: topics a person would not write: holding no subject word, or a verb, or only a vague word;
- repeats: pairs of topics in one video that share a word ("late goals" beside "goals");
- words per second of the topic step alone (the embedding model warm), and the seconds for a 2-hour talk (18,000
  words: the talks above said again and again).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import Settings  # noqa: E402
from core.providers.analyze import SPOKEN_FILLERS, TOPICS, key_phrases, sentiment_analyzer  # noqa: E402
from core.providers.embed import get_embedder  # noqa: E402
from core.providers.topics import _known, noun_lemma  # noqa: E402
from core.providers.topics import topics as noun_phrase_topics  # noqa: E402
from core.text import WORD, stop_words  # noqa: E402
from testkit.quality import CLIPS  # noqa: E402

TALKS = {
    "football": ("Hi everyone and welcome back to the channel. So the derby ended in a draw, two all, after two late "
                 "goals in the second half. Honestly the home side had the better of the first half, but their "
                 "striker missed a penalty just before the break. The manager was furious with the referee. Then in "
                 "the last ten minutes both late goals came from corners, which tells you a lot about the defending. "
                 "The goalkeeper could do nothing about either of them. Let me know in the comments what you thought "
                 "of the derby, and whether the draw was fair.",
                 "derby draw goal football match striker penalty referee corner goalkeeper manager defending side "
                 "team half"),
    "roof_garden": ("Okay so this is my little roof garden, and today I want to show you how I water the tomato "
                    "plants in summer. Up here the pots dry out really fast, so the water tank collects rain from the"
                    " roof and a drip line runs to every pot. The tomato plants need water every single morning. I "
                    "also grow basil and peppers next to them, because basil keeps the pests away. If you pick the "
                    "right strain of tomatoes, cherry tomatoes for example, you get fruit all summer even in small "
                    "pots.",
                    "roof garden tomato plant water tank pot rain drip line basil pepper pest strain cherry fruit "
                    "summer watering"),
    "sourdough": ("Right, let's bake some sourdough bread. First you feed your starter the night before, equal parts "
                  "flour and water. In the morning mix the flour, the water and a spoon of salt with the starter and "
                  "let the dough rest for an hour. Then you do the stretch and fold every half hour. The dough should"
                  " double in size before shaping. Bake the loaf in a hot dutch oven, lid on for twenty minutes and "
                  "lid off for twenty more, until the crust is dark and crackly. Honestly the crust is the best part.",
                  "sourdough bread starter flour water salt dough stretch fold loaf oven dutch crust baking shaping"),
    "budget": ("So you want to start a monthly budget. Step one is to write down every expense for a month, the rent,"
               " the groceries, the subscriptions, everything. Then split your income into needs, wants and savings. "
               "A lot of people use the fifty thirty twenty rule. Pay yourself first: move the savings into a "
               "separate account on payday. And build an emergency fund of three months of expenses before you invest"
               " in index funds. Credit card debt comes first though, because the interest rate is brutal.",
               "budget expense rent grocery subscription income need want saving savings rule account payday "
               "emergency fund index debt credit card interest rate money"),
    "telescope": ("Tonight we're looking at Jupiter through a small backyard telescope. You can actually see the four"
                  " big moons, they look like tiny stars in a line. With a bit of patience the cloud bands on the "
                  "planet show up too. Let the telescope cool down outside for half an hour, otherwise the image "
                  "wobbles. A higher magnification isn't always better, the atmosphere limits what you see. Next week"
                  " Saturn is well placed, and the rings are an amazing sight in any telescope.",
                  "jupiter telescope moon star cloud band planet magnification atmosphere saturn ring image backyard "
                  "astronomy sky"),
    "marathon": ("I ran my first marathon last weekend, and here's what I learned from the training. The long run "
                 "every Sunday is the key session, building up to thirty two kilometres. Easy runs should feel really"
                 " easy, you should be able to talk. I got blisters in week six, so new shoes and better socks. On "
                 "race day I started way too fast and hit the wall at kilometre thirty five. Next marathon, I'll pace"
                 " the first half slower and take a gel every forty minutes.",
                 "marathon training run session kilometre blister shoe sock race wall pace gel running"),
    "phone_review": ("This phone has been in my pocket for three weeks now, so here's the full review. The battery "
                     "easily lasts a day and a half. The camera is great in daylight, but in low light the photos get"
                     " noisy. The screen is bright and smooth at a hundred and twenty hertz. What I don't like is the"
                     " charger: it isn't in the box, and charging is slow compared to other phones. For the price, "
                     "though, it's the phone I'd recommend to most people.",
                     "phone review battery camera daylight light photo screen hertz charger box charging price "
                     "smartphone"),
    "volcano": ("Let's talk about how volcanoes actually erupt. Deep under the crust, rock melts into magma, and "
                "because magma is lighter than the rock around it, it rises into a magma chamber. Gas dissolved in "
                "the magma is under huge pressure. When the pressure gets too high, the gas escapes and the eruption "
                "starts. Runny lava, like in Hawaii, flows gently, while sticky magma traps the gas and explodes. "
                "That's why some eruptions throw ash kilometres into the sky.",
                "volcano magma crust rock chamber gas pressure eruption lava hawaii ash explosion"),
    "interview": ("Before the interview, research the company properly: what they build, who their customers are, and"
                  " what the job actually involves. Prepare three stories from your past work that show a problem you"
                  " solved. Interviewers love concrete examples with numbers. Dress one step smarter than the office."
                  " At the end, always ask a question about the team, and send a short thank-you email the same day. "
                  "Salary talk can wait for the second round.",
                  "interview company customer job story work interviewer example office question team email salary "
                  "round career"),
    "bees": ("Honey bees live in colonies of up to sixty thousand workers and one queen. The queen lays all the eggs,"
             " up to two thousand a day in early summer. Worker bees collect nectar and pollen from flowers and turn "
             "the nectar into honey in the hive. A beekeeper checks the frames every week for the queen, the brood "
             "and signs of mites. In autumn you leave enough honey in the hive so the colony survives the winter.",
             "bee honey colony worker queen egg nectar pollen flower hive beekeeper frame brood mite winter "
             "beekeeping"),
}
CLIP_WORDS = {
    "pasta": "pasta spaghetti tomato sauce basil garlic onion olive oil recipe cooking dinner",
    "derby": "derby club defender goalkeeper ball team goal fan stadium football defeat match",
    "laptop": "laptop battery screen keyboard computer review",
    "stars": "star cloud gas dust gravity material core fusion nuclear",
    "lisbon": "lisbon holiday street tram pastry river sunset hill travel",
    "flu": "flu season region hospital patient emergency room nurse doctor illness",
    "layoffs": "company loss quarter sale share price board employee job investor layoff",
    "concert": "band concert singer voice guitarist solo crowd song music",
}


def lemmas(phrase: str) -> list[str]:
    return [noun_lemma(word) for word in WORD.findall(phrase.lower())]


def is_fragment(topic: str, subject: set[str]) -> bool:
    words = lemmas(topic)
    has_verb = any(_known(word, "VERB") and not _known(word, "NOUN") and not _known(word, "ADJ") for word in words)
    return has_verb or not set(words) & subject


def repeats(found: list[str]) -> int:
    words = [set(lemmas(topic)) for topic in found]
    return sum(1 for i in range(len(words)) for j in range(i + 1, len(words)) if words[i] & words[j])


def main() -> None:
    embedder = get_embedder(Settings())
    stop, opinions = set(stop_words()) | SPOKEN_FILLERS, sentiment_analyzer().lexicon
    texts = {name: (text, set(lemmas(words))) for name, (text, words) in TALKS.items()}
    texts |= {clip.name: (clip.text, set(lemmas(CLIP_WORDS[clip.name]))) for clip in CLIPS}
    noun_phrase_topics("A warm-up sentence about gardens.", embedder.embed, TOPICS, stop, opinions)
    methods = {
        "noun phrases": lambda text: noun_phrase_topics(text, embedder.embed, TOPICS, stop, opinions),
        "YAKE (before)": lambda text: key_phrases(text, "en"),
    }
    words = sum(len(text.split()) for text, _subject in texts.values())
    print(f"{len(texts)} transcripts, {words} words; up to {TOPICS} topics each\n")
    print(f"{'method':15s} {'precision@5':>11s} {'first':>6s} {'fragments':>9s} {'repeats':>7s} {'words/s':>8s}")
    found_by_method = {}
    for method, extract in methods.items():
        started = time.perf_counter()
        found = {name: extract(text) for name, (text, _subject) in texts.items()}
        seconds = time.perf_counter() - started
        found_by_method[method] = found
        top5 = [(topic, texts[name][1]) for name, topics in found.items() for topic in topics[:5]]
        every = [(topic, texts[name][1]) for name, topics in found.items() for topic in topics]
        precision = sum(not is_fragment(topic, subject) for topic, subject in top5) / len(top5)
        first = sum(bool(topics) and not is_fragment(topics[0], texts[name][1]) for name, topics in found.items())
        fragments = sum(is_fragment(topic, subject) for topic, subject in every)
        print(f"{method:15s} {precision:11.2f} {first / len(texts):6.2f} {fragments:4d}/{len(every):<4d} "
              f"{sum(repeats(topics) for topics in found.values()):7d} {words / seconds:8.0f}")
    talk = " ".join(text for text, _subject in texts.values())
    talk = " ".join([talk] * (18_000 // len(talk.split()) + 1))
    for method, extract in methods.items():
        started = time.perf_counter()
        extract(talk)
        print(f"{method:15s} a 2-hour talk ({len(talk.split()):,} words): {time.perf_counter() - started:.2f} s")
    print()
    for name in texts:
        for method, found in found_by_method.items():
            shown = ", ".join(f"{topic}{'' if not is_fragment(topic, texts[name][1]) else ' (x)'}"
                              for topic in found[name])
            print(f"{name:13s} {method:15s} {shown}")


if __name__ == "__main__":
    main()
