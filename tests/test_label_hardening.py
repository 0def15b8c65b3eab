"""`factsep label` against hostile and unusual input (issue 15): security, nothing lost."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import signal
import stat

import pytest

from factsep.model import inputs
from factsep.scripts.cli import EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_USAGE

ARTICLE = "Port Strike Ends\n\nDock workers voted to return on Monday. I think it is good news.\n"


def rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- security ---------------------------------------------------------------------------


def test_symlink_output_is_never_replaced(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n")
    link = tmp_path / "out.jsonl"
    link.symlink_to(precious)
    code, _, err = run(str(tmp_path / "a.txt"), "-o", str(link), "--force")
    assert code == EXIT_USAGE and "symbolic link" in err
    assert link.is_symlink() and precious.read_text() == "keep me\n"


def test_device_output_is_never_replaced(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = run(str(tmp_path / "a.txt"), "-o", str(fifo), "--force")
    assert code == EXIT_USAGE and "not a regular file" in err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_csv_cells_that_start_a_formula_are_neutralised(run, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "=HYPERLINK(1)", "text": "=1+2 is a sum.\n@SUM(A1) too.\n"
                                "-5 degrees at dawn.\nPlain words here."}) + "\n")
    code, out, _ = run(str(feed), "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert {r["doc_id"] for r in table} == {"'=HYPERLINK(1)"}
    assert [r["text"] for r in table] == [
        "'=1+2 is a sum.", "'@SUM(A1) too.", "'-5 degrees at dawn.", "Plain words here."
    ]
    code, out, _ = run(str(feed), "--format", "csv", "--csv-formulas")
    assert list(csv.DictReader(io.StringIO(out)))[0]["text"] == "=1+2 is a sum."


@pytest.mark.parametrize("fmt", ["table", "text"])
def test_terminal_escapes_never_reach_the_terminal(run, tmp_path, fmt):
    (tmp_path / "a.txt").write_text("Dock workers \x1b[31mvoted\x1b]0;owned\x07 on Monday.\n")
    code, out, _ = run(str(tmp_path / "a.txt"), "--format", fmt,
                       *(["--keep", "fact,opinion,filler"] if fmt == "text" else []))
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "voted" in out


# --- nothing silently lost or mixed up -----------------------------------------------------


def test_ids_are_paths_relative_to_the_input_and_unique(run, tmp_path):
    for folder in ("2024", "2025"):
        (tmp_path / "news" / folder).mkdir(parents=True)
        (tmp_path / "news" / folder / "story.txt").write_text(ARTICLE)
    (tmp_path / "news" / "story.md").write_text(ARTICLE)
    code, out, _ = run(str(tmp_path / "news"))
    assert code == 0
    assert {r["doc_id"] for r in rows(out)} == {"2024/story.txt", "2025/story.txt", "story.md"}


def test_duplicate_jsonl_ids_are_reported_and_kept_apart(run, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": "x", "text": ARTICLE}) + "\n" for _ in range(2)))
    code, out, err = run(str(feed))
    assert code == 0
    assert f"{feed}:2: duplicate article id 'x' (first at {feed}:1)" in err
    assert [r["doc_id"] for r in rows(out)] == ["x"] * 3 + ["x#2"] * 3


def test_jsonl_with_a_byte_order_mark_keeps_its_first_article(run, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(codecs.BOM_UTF8 + (json.dumps({"id": "first", "text": ARTICLE}) + "\n"
                                        + json.dumps({"id": "second", "text": ARTICLE})).encode())
    code, out, err = run(str(feed))
    assert code == 0 and "error" not in err
    assert {r["doc_id"] for r in rows(out)} == {"first", "second"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_text_and_jsonl_are_read(run, tmp_path, encoding):
    bom = codecs.BOM_UTF16_BE if encoding.endswith("be") else b""
    (tmp_path / "a.txt").write_bytes(bom + ARTICLE.encode(encoding))
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(bom + (json.dumps({"id": "j", "text": ARTICLE}) + "\n").encode(encoding))
    code, out, err = run(str(tmp_path / "a.txt"), str(feed))
    assert code == 0 and "error" not in err
    assert len(rows(out)) == 6 and rows(out)[1]["text"] == "Dock workers voted to return on Monday."


def test_old_mac_and_windows_line_endings(run, tmp_path):
    (tmp_path / "mac.txt").write_bytes(ARTICLE.replace("\n", "\r").encode())
    (tmp_path / "win.txt").write_bytes(ARTICLE.replace("\n", "\r\n").encode())
    code, out, _ = run(str(tmp_path / "mac.txt"), str(tmp_path / "win.txt"))
    texts = [r["text"] for r in rows(out)]
    assert code == 0 and texts[:3] == texts[3:]
    assert texts[0] == "Port Strike Ends"
    code, out, _ = run(str(tmp_path / "win.txt"), "--format", "text", "--keep",
                       "fact,opinion,filler")
    assert "Port Strike Ends\n\nDock workers" in out


def test_unreadable_subfolder_is_reported(run, tmp_path, monkeypatch):
    (tmp_path / "news" / "locked").mkdir(parents=True)
    (tmp_path / "news" / "a.txt").write_text(ARTICLE)
    locked = str(tmp_path / "news" / "locked")
    real_scandir = os.scandir

    def scandir(path):  # chmod 000 does not stop root, so refuse the way the kernel would
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(inputs.os, "scandir", scandir)
    code, out, err = run(str(tmp_path / "news"))
    assert f"{locked}: cannot read this folder (Permission denied)" in err
    assert "1 input(s) skipped" in err
    assert {r["doc_id"] for r in rows(out)} == {"a.txt"}


def test_output_that_is_an_input_is_refused(run, tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text(json.dumps({"id": "x", "text": ARTICLE}) + "\n")
    before = source.read_bytes()
    code, _, err = run(str(source), "-o", str(source), "--force")
    assert code == EXIT_USAGE and "is also an input" in err
    assert source.read_bytes() == before


def test_output_inside_an_input_folder_is_not_read_back(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    target = tmp_path / "labels.jsonl"
    assert run(str(tmp_path), "-o", str(target))[0] == 0
    code, _, err = run(str(tmp_path), "-o", str(target), "--force")
    assert code == 0 and "labels.jsonl" not in err
    assert {r["doc_id"] for r in rows(target.read_text())} == {"a.txt"}


def test_a_run_that_labels_nothing_leaves_no_file(run, tmp_path):
    (tmp_path / "empty.txt").write_text("")
    target = tmp_path / "out.jsonl"
    code, _, err = run(str(tmp_path / "empty.txt"), "-o", str(target))
    assert code == EXIT_INCOMPLETE and "no output file was written" in err
    assert not target.exists() and list(tmp_path.iterdir()) == [tmp_path / "empty.txt"]


def test_sigterm_keeps_what_was_labelled(run, tmp_path, monkeypatch):
    from factsep.model.predict import Labeller

    for name in ("1.txt", "2.txt"):
        (tmp_path / name).write_text(ARTICLE)
    real = Labeller.label_many

    def terminated_after_first(self, articles, chunk_tokens=None):
        for number, labelled in enumerate(real(self, articles, chunk_tokens=1)):
            if number == 1:
                os.kill(os.getpid(), signal.SIGTERM)
            yield labelled

    monkeypatch.setattr(Labeller, "label_many", terminated_after_first)
    target = tmp_path / "out.jsonl"
    code, _, err = run(str(tmp_path / "1.txt"), str(tmp_path / "2.txt"), "-o", str(target))
    assert code == EXIT_INTERRUPTED and "interrupted: keeping" in err
    assert {r["doc_id"] for r in rows(target.read_text())} == {"1.txt"}
    assert not list(tmp_path.glob(".out.jsonl.*"))


def test_full_disk_leaves_no_part_file_and_one_line(run, tmp_path, monkeypatch):
    from factsep.model import outputs

    (tmp_path / "a.txt").write_text(ARTICLE)

    def full(self, article, language=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs.JsonlWriter, "write", full)
    code, out, err = run(str(tmp_path / "a.txt"), "-o", str(tmp_path / "out.jsonl"))
    assert code == EXIT_USAGE
    assert "No space left on device" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_output_permissions_follow_the_umask(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    target = tmp_path / "out.jsonl"
    previous = os.umask(0o022)
    try:
        assert run(str(tmp_path / "a.txt"), "-o", str(target))[0] == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        target.chmod(0o664)
        assert run(str(tmp_path / "a.txt"), "-o", str(target), "--force")[0] == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
    finally:
        os.umask(previous)


# --- clear errors -------------------------------------------------------------------------


def test_broken_pipe_is_one_line(run, tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text(ARTICLE)

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    monkeypatch.setattr("factsep.scripts.cli._silence_stdout", lambda: None)
    code, _, err = run(str(tmp_path / "a.txt"))
    assert code == EXIT_USAGE and err.count("error:") == 1 and "Broken pipe" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threads", "-1"], "--threads must be 0 (all cores) or 1 to"),
        (["--threads", "1000"], "--threads must be 0 (all cores) or 1 to"),
        (["--keep", "opinion"], "--keep applies to --format text only"),
        (["--format", "text", "--keep", ","], "--keep takes labels from"),
        (["--batch-tokens", "0"], "--batch-tokens must be"),
    ],
)
def test_bad_options_are_one_line(run, tmp_path, args, message):
    (tmp_path / "a.txt").write_text(ARTICLE)
    code, out, err = run(str(tmp_path / "a.txt"), *args)
    assert code == EXIT_USAGE and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_threads_zero_means_all_cores(run, tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    assert run(str(tmp_path / "a.txt"), "--threads", "0")[0] == 0


def test_device_input_is_read_with_the_cap(run):
    code, _, err = run("/dev/zero")  # endless: without the cap this never returns
    assert code == EXIT_INCOMPLETE and "/dev/zero: too large to be one article" in err


def test_jsonl_line_over_the_cap_is_skipped_without_reading_it_whole(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "big", "text": "word " * 400}) + "\n"
                    + json.dumps({"id": "ok", "text": ARTICLE}) + "\n")
    items = list(inputs.read_inputs([str(feed)], inputs.InputOptions(max_bytes=1000)))
    assert isinstance(items[0], inputs.InputProblem) and "too large" in items[0].message
    assert items[0].where == f"{feed}:1"
    assert items[1].doc_id == "ok"


# --- scope ----------------------------------------------------------------------------------


def test_language_is_reported_and_non_english_warned(run, tmp_path):
    (tmp_path / "en.txt").write_text(ARTICLE)
    (tmp_path / "de.txt").write_text(
        "Der Stadtrat hat am Dienstag beschlossen, auf drei Linien Nachtbusse fahren zu lassen. "
        "Ich finde, das ist eine gute Nachricht für alle, die nachts arbeiten müssen.\n"
    )
    code, out, err = run(str(tmp_path / "en.txt"), str(tmp_path / "de.txt"))
    languages = {r["doc_id"]: r["language"] for r in rows(out)}
    assert code == 0
    assert languages == {"en.txt": "en", "de.txt": "de"}
    assert "de.txt: the text looks like 'de', not English" in err
    assert "en.txt: the text" not in err


def test_markdown_is_read_as_markdown_with_offsets_into_the_file(run, tmp_path):
    source = (
        "# Night buses return\n\n"
        "> I think **the council** got this [right](https://example.org).\n\n"
        "![a bus](bus.png) The trial starts in January.\n"
    )
    (tmp_path / "a.md").write_text(source)
    code, out, _ = run(str(tmp_path / "a.md"))
    found = rows(out)
    assert code == 0
    assert [r["text"] for r in found] == [
        "Night buses return",
        "I think the council got this right.",
        "The trial starts in January.",
    ]
    assert source[found[1]["start"] : found[1]["end"]].startswith("I think **the council**")
    assert source[found[2]["start"] : found[2]["end"]] == "The trial starts in January."
