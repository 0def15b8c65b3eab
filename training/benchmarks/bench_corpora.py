"""The three corpora `factsep bench` times, written as JSONL into a scratch folder.

- `test`: the test split repeated (long, dense articles);
- `real`: articles shaped like published news (about 30 sentences of about 120 characters,
  a paragraph break every sentence or two, a byline and page furniture), generated here
  from sentence patterns written for this project, so no third-party text is involved;
- `short`: every test-split sentence as its own one-sentence record.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

from ..data.dataset import read_articles

CORPORA = ("test", "real", "short")

_NAMES = ["Priya Desai", "Tomasz Kowal", "Amara Obi", "Lena Fischer", "Jorge Ruiz",
          "Hannah Price", "Kenji Mori", "Fatima Haddad", "Owen Gallagher", "Sofia Rossi"]
_BODIES = ["city council", "regional health board", "transport authority", "school trust",
           "water company", "housing association", "county planning committee"]
_TOPICS = ["night buses", "a new library", "flood defences", "school meals", "bike lanes",
           "a rent cap", "hospital parking", "street lighting", "a recycling scheme"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
_MONTHS = ["January", "March", "April", "June", "September", "November"]
_FACTS = [
    "The {body} voted {a}-{b} on {day} to approve {topic}, at a cost of £{m} million a year.",
    "{name}, who chairs the {body}, said the first phase would start in {month} and run for "
    "{k} months.",
    "Figures published on {day} show demand for {topic} rose {p}% in the year to {month}.",
    "The plan was first proposed in {year}, when a survey of {n} residents found strong support.",
    "According to the {body}, {n} households in the area will be affected by the change.",
    "Officials said the money would come from reserves rather than from a rise in local taxes.",
    "A consultation on {topic} closed in {month} after receiving {n} written responses.",
    "The {body} expects to publish a full report on the trial by the end of {month} {year}.",
]
_OPINIONS = [
    "Frankly, the {body} should have acted on {topic} years ago.",
    "It is hard to see how anyone could defend spending £{m} million on something so modest.",
    "I believe residents deserve far better than another round of half-hearted promises.",
    "This is exactly the kind of timid decision that makes people lose faith in local politics.",
    "The trial is a welcome step, but it will only matter if the {body} funds it properly.",
    "Nobody should pretend that {topic} alone will fix a problem this deep.",
]
_FILLERS = [
    "Sign up for our morning newsletter to get stories like this in your inbox.",
    "Share this story with a neighbour who cares about {topic}.",
    "Having lived on the same street for twenty years, I have seen plenty of plans come and go.",
    "Why did the council meeting run so late? Somebody brought biscuits.",
    "Read More",
    "Photo: a queue outside the town hall on {day} morning.",
    "Most towns of this size have argued about {topic} at some point.",
]


def write_corpus(name: str, test_path: Path, min_sentences: int, folder: Path) -> Path:
    """Write corpus `name` with at least `min_sentences` gold or generated sentences."""
    path = folder / f"{name}.jsonl"
    builders = {"test": _test_repeated, "real": _real_length, "short": _one_sentence}
    with path.open("w", encoding="utf-8") as stream:
        for doc_id, text in builders[name](test_path, min_sentences):
            stream.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    return path


def _test_repeated(test_path: Path, min_sentences: int) -> Iterator[tuple[str, str]]:
    articles = read_articles(test_path)
    total, copy = 0, 0
    while total < min_sentences:
        for article in articles:
            yield f"{article['id']}#{copy}", article["text"]
            total += len(article["sentences"])
        copy += 1


def _one_sentence(test_path: Path, min_sentences: int) -> Iterator[tuple[str, str]]:
    sentences = [
        (f"{a['id']}.{i}", a["text"][s["start"] : s["end"]])
        for a in read_articles(test_path)
        for i, s in enumerate(a["sentences"])
    ]
    for number in range(min_sentences):
        doc_id, text = sentences[number % len(sentences)]
        yield f"{doc_id}#{number // len(sentences)}", text


def _real_length(_: Path, min_sentences: int) -> Iterator[tuple[str, str]]:
    rng = random.Random(7)
    total, number = 0, 0
    while total < min_sentences:
        text, count = generate_article(rng)
        yield f"real-{number:05d}", text
        total += count
        number += 1


def generate_article(rng: random.Random) -> tuple[str, int]:
    """One news-shaped article: headline, byline, paragraphs of one or two sentences."""
    values = {
        "name": rng.choice(_NAMES), "body": rng.choice(_BODIES), "topic": rng.choice(_TOPICS),
        "day": rng.choice(_DAYS), "month": rng.choice(_MONTHS), "year": rng.randint(2015, 2025),
        "a": rng.randint(5, 12), "b": rng.randint(1, 4), "m": round(rng.uniform(0.2, 9.5), 1),
        "k": rng.randint(6, 24), "p": rng.randint(3, 40), "n": rng.randint(120, 9000),
    }
    headline = f"{values['body'].title()} Backs {values['topic'].title()} After Long Debate"
    lines = [headline, f"By {values['name']}"]
    pools = [_FACTS] * 5 + [_OPINIONS] * 3 + [_FILLERS] * 2
    count, target = 2, rng.randint(24, 38)
    while count < target:
        paragraph = [rng.choice(rng.choice(pools)).format(**values)
                     for _ in range(rng.choice((1, 1, 2)))]
        lines.append(" ".join(paragraph))
        count += len(paragraph)
    return "\n\n".join(lines) + "\n", count
