"""Inter-annotator agreement between two labellings of the same sentences.

Each annotator's labels live in one folder of `<article id>.tsv` files, a line per
sentence: `<n><TAB><label><TAB><sentence>`. The files are compared sentence by sentence
(the sentence text must match), giving Cohen's kappa, raw agreement, per-label
(positive specific) agreement, the confusion table and every disagreement.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from factsep.model.labels import LABELS

from .dataset import DataError


@dataclass(frozen=True)
class Disagreement:
    doc_id: str
    number: int
    sentence: str
    first: str
    second: str


@dataclass(frozen=True)
class Agreement:
    articles: int
    sentences: int
    kappa: float
    observed: float
    per_label: dict[str, float]
    confusion: dict[tuple[str, str], int]
    disagreements: list[Disagreement]

    def render(self) -> str:
        lines = [
            f"{self.articles} articles, {self.sentences} sentences: Cohen's kappa "
            f"{self.kappa:.3f}, raw agreement {self.observed:.1%}",
            "per-label agreement (2 x both / (first + second)): "
            + ", ".join(f"{k} {v:.3f}" for k, v in self.per_label.items()),
            "confusion (rows first annotator, columns second):",
            "          " + "".join(f"{label:>9}" for label in LABELS),
        ]
        for a in LABELS:
            lines.append(f"{a:<10}" + "".join(f"{self.confusion[(a, b)]:>9}" for b in LABELS))
        return "\n".join(lines)


def read_labels(path: Path) -> list[tuple[str, str]]:
    """(label, sentence) per line of one annotator's file for one article."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[1] not in LABELS:
            raise DataError(f"{path}:{number}: expected '<n><TAB><label><TAB><sentence>'")
        rows.append((parts[1], parts[2].strip()))
    return rows


def compare(first_dir: Path, second_dir: Path) -> Agreement:
    """Agreement over every article both folders label."""
    first_labels: list[str] = []
    second_labels: list[str] = []
    disagreements = []
    shared = sorted(
        {p.stem for p in first_dir.glob("*.tsv")} & {p.stem for p in second_dir.glob("*.tsv")}
    )
    if not shared:
        raise DataError(f"{first_dir} and {second_dir} label no article in common")
    for doc_id in shared:
        a = read_labels(first_dir / f"{doc_id}.tsv")
        b = read_labels(second_dir / f"{doc_id}.tsv")
        if [s for _, s in a] != [s for _, s in b]:
            raise DataError(f"{doc_id}: the two annotators' files hold different sentences")
        for number, ((la, sentence), (lb, _)) in enumerate(zip(a, b, strict=True), start=1):
            first_labels.append(la)
            second_labels.append(lb)
            if la != lb:
                disagreements.append(Disagreement(doc_id, number, sentence, la, lb))
    first_counts, second_counts = Counter(first_labels), Counter(second_labels)
    both = Counter(a for a, b in zip(first_labels, second_labels, strict=True) if a == b)
    per_label = {
        label: 2 * both[label] / max(first_counts[label] + second_counts[label], 1)
        for label in LABELS
    }
    return Agreement(
        articles=len(shared),
        sentences=len(first_labels),
        kappa=float(cohen_kappa_score(first_labels, second_labels, labels=list(LABELS))),
        observed=sum(both.values()) / len(first_labels),
        per_label=per_label,
        confusion=Counter(zip(first_labels, second_labels, strict=True)),
        disagreements=disagreements,
    )
