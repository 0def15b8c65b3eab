"""Label Studio tasks from labelled JSONL: the model's labels as pre-annotations.

Each article becomes one task, `{"data": {"text", "doc_id"}, "predictions": [...]}`, with
one `labels` region per sentence carrying the sentence's label and score (Label Studio's
pre-annotation format for text spans). The prediction's own score is the least sure
sentence's score, so sorting tasks by prediction score in Label Studio's Data Manager
brings the articles most worth correcting first. The labelling configuration to paste into
the project is written beside the tasks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from factsep.model.labels import LABELS
from factsep.model.outputs import COLOURS, AtomicOutput

from .labelled import LabelledDocument, read_labelled

FROM_NAME = "label"  # the <Labels> tag of the labelling configuration
TO_NAME = "text"  # the <Text> tag it labels; also the task's data key for the article text
MODEL_VERSION = "factsep"


def labelling_config() -> str:
    """The Label Studio labelling configuration (XML) the tasks are made for."""
    labels = "\n".join(
        f"    <Label value={quoteattr(label)} background={quoteattr(COLOURS[label])}/>"
        for label in LABELS
    )
    return (
        "<View>\n"
        '  <Header value="$doc_id"/>\n'
        f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInline="true">\n'
        f"{labels}\n"
        "  </Labels>\n"
        f'  <Text name="{TO_NAME}" value="${TO_NAME}"/>\n'
        "</View>\n"
    )


def task_for(document: LabelledDocument) -> dict[str, Any]:
    """One Label Studio task with the article's labels as a prediction."""
    regions = [
        {
            "id": f"s{number}",
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "value": {
                "start": s.start,
                "end": s.end,
                "text": document.text[s.start : s.end],
                "labels": [s.label],
                "score": round(s.score, 4),
            },
        }
        for number, s in enumerate(document.sentences)
    ]
    least_sure = min((s.score for s in document.sentences), default=1.0)
    return {
        "data": {TO_NAME: document.text, "doc_id": document.doc_id},
        "predictions": [
            {"model_version": MODEL_VERSION, "score": round(least_sure, 4), "result": regions}
        ],
    }


def config_path_for(tasks_path: Path) -> Path:
    """Where the labelling configuration goes: `tasks.json` -> `tasks.label-config.xml`."""
    return tasks_path.with_suffix(".label-config.xml")


def export_label_studio(labelled: Path, output: Path, force: bool = False) -> tuple[int, Path]:
    """Write the tasks of every article in `labelled` to `output`, and the labelling config
    beside it; both atomically. Returns the number of tasks and the config's path."""
    tasks = [task_for(document) for document in read_labelled(labelled)]
    config = config_path_for(output)
    sinks: list[AtomicOutput] = []
    try:
        sinks += [AtomicOutput(output, force), AtomicOutput(config, force)]
        json.dump(tasks, sinks[0].stream, ensure_ascii=False, indent=1)
        sinks[0].stream.write("\n")
        sinks[1].stream.write(labelling_config())
    except BaseException:
        for sink in sinks:
            sink.discard()
        raise
    for sink in sinks:
        sink.commit()
    return len(tasks), config
