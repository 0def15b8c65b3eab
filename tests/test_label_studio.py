"""The Label Studio round trip: labelled JSONL -> tasks -> (corrected) export -> article files."""

import copy
import json
import xml.etree.ElementTree as ET

import pytest

from factsep.model.labels import LABELS
from factsep.scripts.cli import main
from factsep.training.data.authoring import build_dataset, parse_article_file, read_article_files
from factsep.training.data.datacheck import check_splits

ARTICLES = {
    "port": "Port Strike Ends\n\nDock workers voted to return on Monday. I think it is good news.\n"
            "Read More\n\nThe union said pay will rise 4% this year. Stay tuned.\n",
    "fair": "Village Fair Returns\nBy Ann Lee\n\nThe fair opens on Saturday with 40 stalls. "
            "Entry costs £2. Honestly, it is the best day of the year.\n",
}


@pytest.fixture
def labelled(tiny_model_dir, tmp_path, capsys):
    for name, text in ARTICLES.items():
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "labelled.jsonl"
    code = main(["label", "--model", str(tiny_model_dir), "--precision", "fp32",
                 str(tmp_path / "fair.txt"), str(tmp_path / "port.txt"), "-o", str(out)])
    capsys.readouterr()
    assert code == 0
    return out


def rows_by_doc(path):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    grouped = {}
    for row in rows:
        grouped.setdefault(row["doc_id"], []).append(row)
    return grouped


def export_tasks(labelled, tmp_path, capsys):
    tasks_file = tmp_path / "tasks.json"
    code = main(["export", "label-studio", str(labelled), "-o", str(tasks_file)])
    err = capsys.readouterr().err
    assert code == 0, err
    return json.loads(tasks_file.read_text()), tasks_file


def as_submitted(tasks):
    """What Label Studio exports after an annotator accepts every pre-annotation."""
    export = []
    for number, task in enumerate(copy.deepcopy(tasks), start=1):
        result = task["predictions"][0]["result"]
        for region in result:
            region["value"].pop("score")
        task.update(id=number, annotations=[{
            "id": 100 + number, "completed_by": 1, "was_cancelled": False,
            "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
            "result": result,
        }])
        export.append(task)
    return export


def import_export(export, tmp_path, capsys, *extra):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    articles = tmp_path / "articles"
    code = main(["data", "import", "label-studio", str(path), "--articles", str(articles),
                 *extra])
    return code, articles, capsys.readouterr().err


def test_export_writes_one_task_per_article_with_scored_regions(labelled, tmp_path, capsys):
    tasks, tasks_file = export_tasks(labelled, tmp_path, capsys)
    grouped = rows_by_doc(labelled)
    assert [t["data"]["doc_id"] for t in tasks] == ["fair.txt", "port.txt"]
    for task in tasks:
        rows = grouped[task["data"]["doc_id"]]
        assert task["data"]["text"] == ARTICLES[task["data"]["doc_id"].removesuffix(".txt")]
        prediction = task["predictions"][0]
        assert prediction["score"] == min(r["score"] for r in rows)
        assert len(prediction["result"]) == len(rows)
        for region, row in zip(prediction["result"], rows, strict=True):
            assert region["type"] == "labels"
            assert (region["from_name"], region["to_name"]) == ("label", "text")
            assert region["value"] == {"start": row["start"], "end": row["end"],
                                       "text": row["text"], "labels": [row["label"]],
                                       "score": row["score"]}
    config = ET.fromstring((tmp_path / "tasks.label-config.xml").read_text())
    labels = config.find("Labels")
    assert labels.get("name") == "label" and labels.get("toName") == "text"
    assert [label.get("value") for label in labels] == list(LABELS)
    assert config.find("Text").get("value") == "$text"


def test_export_then_import_gives_back_the_same_labels(labelled, tmp_path, capsys):
    tasks, _ = export_tasks(labelled, tmp_path, capsys)
    code, articles, err = import_export(as_submitted(tasks), tmp_path, capsys)
    assert code == 0, err
    assert "imported 2 articles" in err
    grouped = rows_by_doc(labelled)
    for doc_id, rows in grouped.items():
        article_id = doc_id.removesuffix(".txt")  # the import drops the file suffix
        article = parse_article_file(articles / f"{article_id}.txt")
        assert article["id"] == article_id
        assert [s["label"] for s in article["sentences"]] == [r["label"] for r in rows]
        texts = [article["text"][s["start"]:s["end"]] for s in article["sentences"]]
        assert texts == [r["text"] for r in rows]
    port = (articles / "port.txt").read_text()
    assert "\n\n" in port and "\n/\n" in port  # paragraph and line breaks kept


def test_imported_articles_build_and_pass_the_data_check(labelled, tmp_path, capsys):
    tasks, _ = export_tasks(labelled, tmp_path, capsys)
    code, articles, _ = import_export(as_submitted(tasks), tmp_path, capsys, "--genre", "web")
    assert code == 0
    assert {a["genre"] for a in read_article_files(articles)} == {"web"}
    paths = build_dataset(articles, tmp_path / "splits")
    assert check_splits({k: v for k, v in paths.items() if v.read_text().strip()}).ok


def test_a_relabelled_sentence_imports_the_change(labelled, tmp_path, capsys):
    tasks, _ = export_tasks(labelled, tmp_path, capsys)
    export = as_submitted(tasks)
    region = export[1]["annotations"][0]["result"][2]
    old = region["value"]["labels"][0]
    new = next(label for label in LABELS if label != old)
    region["value"]["labels"] = [new]
    code, articles, _ = import_export(export, tmp_path, capsys)
    assert code == 0
    expected = [r["label"] for r in rows_by_doc(labelled)["port.txt"]]
    expected[2] = new
    got = [s["label"] for s in parse_article_file(articles / "port.txt")["sentences"]]
    assert got == expected


def test_latest_submitted_annotation_wins_and_cancelled_ones_are_ignored(
    labelled, tmp_path, capsys
):
    tasks, _ = export_tasks(labelled, tmp_path, capsys)
    export = as_submitted(tasks)[:1]
    first = export[0]["annotations"][0]
    later = copy.deepcopy(first)
    later["updated_at"] = "2026-12-02T09:00:00Z"
    for region in later["result"]:
        region["value"]["labels"] = ["filler"]
    cancelled = copy.deepcopy(first)
    cancelled.update(was_cancelled=True, updated_at="2026-12-03T09:00:00Z")
    for region in cancelled["result"]:
        region["value"]["labels"] = ["opinion"]
    export[0]["annotations"] = [later, first, cancelled]
    code, articles, _ = import_export(export, tmp_path, capsys)
    assert code == 0
    labels = {s["label"] for s in parse_article_file(articles / "fair.txt")["sentences"]}
    assert labels == {"filler"}


def test_utf16_offsets_from_older_label_studio_are_understood(tmp_path, capsys):
    text = "Fans cheered 🎉 loudly. The match ended 2-1."
    second = text.index("The")
    export = [{"id": 7, "data": {"text": text, "doc_id": "emoji"}, "annotations": [{"result": [
        {"id": "a", "type": "labels", "value": {"start": 0, "end": 22, "labels": ["filler"],
                                                "text": text[:second - 1]}},
        {"id": "b", "type": "labels", "value": {"start": second + 1, "end": len(text) + 1,
                                                "labels": ["fact"], "text": text[second:]}},
    ]}]}]
    code, articles, err = import_export(export, tmp_path, capsys)
    assert code == 0, err
    article = parse_article_file(articles / "emoji.txt")
    assert [s["label"] for s in article["sentences"]] == ["filler", "fact"]
    assert article["text"] == text


def broken(labelled, tmp_path, capsys, change):
    tasks, _ = export_tasks(labelled, tmp_path, capsys)
    export = as_submitted(tasks)
    change(export)
    return import_export(export, tmp_path, capsys)


@pytest.mark.parametrize("change, message", [
    (lambda e: e[0].pop("annotations"), "task 1: no 'annotations' list"),
    (lambda e: e[0].update(annotations=[]), "task 1: no submitted annotation"),
    (lambda e: e[0]["annotations"][0]["result"].pop(1), "task 1: text in no region: 'By Ann Lee'"),
    (lambda e: e[0]["annotations"][0]["result"][1]["value"].update(labels=["fact", "filler"]),
     "task 1: region s1: needs exactly one label of fact, opinion, filler"),
    (lambda e: e[0]["annotations"][0]["result"][1]["value"].update(labels=["news"]),
     "got ['news']"),
    (lambda e: e[0]["annotations"][0]["result"][1]["value"].update(start=0),
     "task 1: region s1: offsets 0.."),
    (lambda e: e[0]["annotations"][0]["result"][1]["value"].update(end="9"),
     "'start' and 'end' must be integers"),
    (lambda e: e[0]["annotations"][0]["result"][2]["value"].update(
        start=e[0]["annotations"][0]["result"][1]["value"]["start"], text=None),
     "task 1: regions overlap"),
    (lambda e: e[0]["data"].pop("text"), "task 1: no article text in data.text"),
])
def test_malformed_task_is_reported_and_skipped(labelled, tmp_path, capsys, change, message):
    code, articles, err = broken(labelled, tmp_path, capsys, change)
    assert code == 1
    assert message in err
    assert "export.json: task 1" in err
    assert not (articles / "fair.txt").exists()  # the bad task is skipped ...
    assert (articles / "port.txt").exists()  # ... the good one is imported
    assert not list(articles.glob(".*.part"))


@pytest.mark.parametrize("content, message", [
    ("[{", "export.json: not valid JSON"),
    ('{"tasks": []}', "expected a list of tasks (Label Studio's JSON export), got a JSON dict"),
    ("[]", "the export holds no tasks"),
    ('["text"]', "task 1: expected a task object, got a JSON str"),
])
def test_malformed_export_file_gets_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "export.json"
    path.write_text(content)
    code = main(["data", "import", "label-studio", str(path), "--articles", str(tmp_path / "a")])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert message in err
    assert "Traceback" not in err


def test_existing_article_needs_force(labelled, tmp_path, capsys):
    tasks, _ = export_tasks(labelled, tmp_path, capsys)
    export = as_submitted(tasks)
    assert import_export(export, tmp_path, capsys)[0] == 0
    code, _, err = import_export(export, tmp_path, capsys)
    assert code == 1 and "fair.txt already exists; use --force to replace it" in err
    assert import_export(export, tmp_path, capsys, "--force")[0] == 0


def test_export_needs_the_article_text(tmp_path, capsys):
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({"doc_id": "a", "sentence_id": 0, "start": 0, "end": 3,
                               "text": "Hi.", "label": "fact", "score": 0.9}) + "\n")
    code = main(["export", "label-studio", str(old), "-o", str(tmp_path / "t.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert "old.jsonl:1: article 'a' does not start with a row holding 'article_text'" in err
    assert not (tmp_path / "t.json").exists()


def test_export_refuses_to_overwrite(labelled, tmp_path, capsys):
    export_tasks(labelled, tmp_path, capsys)
    code = main(["export", "label-studio", str(labelled), "-o", str(tmp_path / "tasks.json")])
    assert code == 2
    assert "already exists; use --force" in capsys.readouterr().err
