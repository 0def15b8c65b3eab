"""Evaluation reports: metrics.json, report.md and a self-contained report.html with plots."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from factsep.model.labels import LABELS
from factsep.training.evaluation.metrics import (
    by_genre,
    confusion,
    most_confident_mistakes,
    reliability_bins,
)
from factsep.training.evaluation.scoring import ScoredSentence

PRIMARY_METRIC = "macro_f1"
REPORT_FILES = ("metrics.json", "report.md", "report.html")


@dataclass
class SystemResult:
    """One evaluated system: its scored sentences and `summarise` metrics."""

    name: str
    sentences: list[ScoredSentence]
    metrics: dict[str, float]


@dataclass(frozen=True)
class _Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class _Plot:
    png: bytes
    alt: str


_Block = str | _Table | _Plot  # a str is a paragraph of plain (unescaped) text


def slugify(name: str) -> str:
    """Lower-case `name` with each run of non-alphanumerics turned into one `_`."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def flat_metrics(
    primary: SystemResult,
    others: Sequence[SystemResult],
    extra: dict[str, float] | None = None,
) -> dict[str, float | str]:
    """Primary metrics under plain names, others under `<slug>_<key>`, then `extra`."""
    items = list(primary.metrics.items())
    for system in others:
        items += [(f"{slugify(system.name)}_{k}", v) for k, v in system.metrics.items()]
    items += list((extra or {}).items())
    flat: dict[str, float | str] = {"primary_metric": PRIMARY_METRIC}
    for key, value in items:
        if key in flat:
            raise ValueError(f"metric name {key!r} appears twice; rename a system or extra key")
        flat[key] = float(value)
    return flat


def _ci(metrics: dict[str, float]) -> str:
    """The macro-F1 confidence interval as text, or "" when it was not computed."""
    if "macro_f1_ci_low" not in metrics:
        return ""
    return f"[{metrics['macro_f1_ci_low']:.3f}, {metrics['macro_f1_ci_high']:.3f}]"


def per_label_table(results: Sequence[SystemResult], labels: Sequence[str] = LABELS) -> str:
    """Fixed-width per-label precision/recall/F1 table, one block per system, for a terminal."""
    width = max(len(x) for x in [*labels, "macro-F1"]) + 2
    lines = []
    for system in results:
        m = system.metrics
        lines += [
            system.name,
            f"{'label':<{width}}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}",
        ]
        for label in labels:
            lines.append(
                f"{label:<{width}}{m[f'precision_{label}']:>10.3f}{m[f'recall_{label}']:>8.3f}"
                f"{m[f'f1_{label}']:>8.3f}{m[f'support_{label}']:>9.0f}"
            )
        lines.append(f"{'accuracy':<{width}}{m['accuracy']:>26.3f}")
        lines.append(f"{'macro-F1':<{width}}{m['macro_f1']:>26.3f}  {_ci(m)}".rstrip())
        lines.append("")
    return "\n".join(lines)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _plot_text(text: str) -> str:
    """Text safe for matplotlib, which would otherwise parse `$...$` as mathtext."""
    return text.replace("$", r"\$")


def _confusion_plot(matrix: list[list[int]], labels: Sequence[str]) -> bytes:
    fig = Figure(figsize=(4.5, 4))
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    top = max(max(row) for row in matrix)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            colour = "white" if count > top / 2 else "black"
            ax.text(j, i, str(count), ha="center", va="center", color=colour)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    return _png(fig)


def _f1_bars_plot(results: Sequence[SystemResult], labels: Sequence[str]) -> bytes:
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    width = 0.8 / len(results)
    for i, system in enumerate(results):
        xs = [x + (i - (len(results) - 1) / 2) * width for x in range(len(labels))]
        scores = [system.metrics[f"f1_{label}"] for label in labels]
        ax.bar(xs, scores, width, label=_plot_text(system.name))
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.legend(loc="lower right", fontsize="small")
    return _png(fig)


def _reliability_plot(bins: list[dict]) -> bytes:
    fig = Figure(figsize=(4.5, 4))
    ax = fig.subplots()
    ax.bar(
        [b["lo"] for b in bins],
        [b["accuracy"] for b in bins],
        [b["hi"] - b["lo"] for b in bins],
        align="edge",
        edgecolor="black",
        label="accuracy",
    )
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left", fontsize="small")
    return _png(fig)


def _systems_section(systems: Sequence[SystemResult], labels: Sequence[str]) -> list[_Block]:
    header = ["system", "accuracy", "macro-F1", "95% CI", *[f"F1 {label}" for label in labels]]
    rows = [
        [
            s.name,
            f"{s.metrics['accuracy']:.3f}",
            f"{s.metrics['macro_f1']:.3f}",
            _ci(s.metrics),
            *[f"{s.metrics[f'f1_{label}']:.3f}" for label in labels],
        ]
        for s in systems
    ]
    return [_Table(header, rows), _Plot(_f1_bars_plot(systems, labels), "per-label F1")]


def _per_label_section(metrics: dict[str, float], labels: Sequence[str]) -> list[_Block]:
    rows = [
        [
            label,
            *[f"{metrics[f'{key}_{label}']:.3f}" for key in ("precision", "recall", "f1")],
            f"{metrics[f'support_{label}']:.0f}",
        ]
        for label in labels
    ]
    return [_Table(["label", "precision", "recall", "F1", "support"], rows)]


def _confusion_section(primary: SystemResult, labels: Sequence[str]) -> list[_Block]:
    matrix = confusion(
        [s.gold for s in primary.sentences], [s.pred for s in primary.sentences], labels
    )
    rows = [[label, *map(str, row)] for label, row in zip(labels, matrix, strict=True)]
    return [
        _Table(["gold \\ predicted", *labels], rows),
        _Plot(_confusion_plot(matrix, labels), "confusion matrix"),
    ]


def _genre_section(primary: SystemResult, labels: Sequence[str]) -> list[_Block]:
    rows = []
    for genre, group in by_genre(primary.sentences).items():
        rows.append(
            [
                genre,
                str(len(group)),
                str(len({s.doc_id for s in group})),
                f"{primary.metrics[f'genre_{genre}_accuracy']:.3f}",
                f"{primary.metrics[f'genre_{genre}_macro_f1']:.3f}",
            ]
        )
    note = (
        "Per-genre macro-F1 averages the labels present in that genre's gold labels or "
        "predictions."
    )
    return [note, _Table(["genre", "sentences", "articles", "accuracy", "macro-F1"], rows)]


def _calibration_section(primary: SystemResult) -> list[_Block]:
    bins = reliability_bins(
        [s.confidence for s in primary.sentences], [s.correct for s in primary.sentences]
    )
    rows = [
        [
            f"{b['lo']:.1f}-{b['hi']:.1f}",
            str(b["count"]),
            f"{b['confidence']:.3f}",
            f"{b['accuracy']:.3f}",
        ]
        for b in bins
    ]
    return [
        f"Expected calibration error: {primary.metrics['ece']:.3f} (10 equal-width bins).",
        _Table(["bin", "count", "mean confidence", "accuracy"], rows),
        _Plot(_reliability_plot(bins), "reliability diagram"),
    ]


def _mistakes_section(primary: SystemResult) -> list[_Block]:
    header = ["article", "genre", "gold", "predicted", "confidence", "before", "sentence", "after"]
    rows = [
        [s.doc_id, s.genre, s.gold, s.pred, f"{s.confidence:.3f}", s.before, s.text, s.after]
        for s in most_confident_mistakes(primary.sentences)
    ]
    return [_Table(header, rows)]


def _sections(
    primary: SystemResult,
    others: Sequence[SystemResult],
    extra: dict[str, float] | None,
    notes: Sequence[str],
    labels: Sequence[str] = LABELS,
) -> list[tuple[str, list[_Block]]]:
    """The report's content, shared by the Markdown and HTML renderers."""
    m = primary.metrics
    headline = (
        f"{primary.name}: macro-F1 {m['macro_f1']:.3f}, 95% CI {_ci(m) or 'not computed'} "
        f"(bootstrap over articles), on {m['n_sentences']:.0f} sentences from "
        f"{m['n_articles']:.0f} articles."
    )
    sections: list[tuple[str, list[_Block]]] = [
        ("Summary", [*notes, headline]),
        ("Systems", _systems_section([primary, *others], labels)),
    ]
    if extra:
        rows = [[key, f"{value:.3f}"] for key, value in extra.items()]
        sections.append(("End-to-end", [_Table(["metric", "value"], rows)]))
    return sections + [
        (f"Per label: {primary.name}", _per_label_section(m, labels)),
        ("Confusion matrix (rows gold, columns predicted)", _confusion_section(primary, labels)),
        ("Per genre", _genre_section(primary, labels)),
        ("Calibration", _calibration_section(primary)),
        ("Most confident mistakes", _mistakes_section(primary)),
    ]


def _md_text(text: str) -> str:
    """Plain text for a Markdown cell or paragraph: one line, no raw HTML, no stray pipes."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _render_md(title: str, sections: list[tuple[str, list[_Block]]]) -> str:
    lines = [f"# {_md_text(title)}", ""]
    for heading, blocks in sections:
        lines += [f"## {_md_text(heading)}", ""]
        for block in blocks:
            if isinstance(block, str):
                lines += [_md_text(block), ""]
            elif isinstance(block, _Table):
                lines.append("| " + " | ".join(map(_md_text, block.header)) + " |")
                lines.append("|" + "---|" * len(block.header))
                lines += ["| " + " | ".join(map(_md_text, row)) + " |" for row in block.rows]
                lines.append("")
    return "\n".join(lines)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
img { display: block; margin: 1rem 0; }
"""


def _render_html(title: str, sections: list[tuple[str, list[_Block]]]) -> str:
    esc = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # No script may run and nothing may load from outside the file.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    for heading, blocks in sections:
        parts.append(f"<h2>{esc(heading)}</h2>")
        for block in blocks:
            if isinstance(block, str):
                parts.append(f"<p>{esc(block)}</p>")
            elif isinstance(block, _Table):
                parts.append(
                    "<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in block.header) + "</tr>"
                )
                parts += [
                    "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                    for row in block.rows
                ]
                parts.append("</table>")
            else:
                data = base64.b64encode(block.png).decode("ascii")
                parts.append(f'<img src="data:image/png;base64,{data}" alt="{esc(block.alt)}">')
    parts.append("</body></html>")
    return "\n".join(parts)


def _write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same directory and `os.replace`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates files 0600; reports are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(
    out_dir: Path,
    primary: SystemResult,
    others: Sequence[SystemResult] = (),
    extra: dict[str, float] | None = None,
    title: str = "factsep evaluation",
    notes: Sequence[str] = (),
    labels: Sequence[str] = LABELS,
) -> dict[str, Path]:
    """Write metrics.json, report.md and report.html into `out_dir`; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = _sections(primary, others, extra, notes, labels)
    contents = dict(zip(REPORT_FILES, (
        json.dumps(flat_metrics(primary, others, extra), indent=2, sort_keys=True),
        _render_md(title, sections),
        _render_html(title, sections),
    ), strict=True))
    paths = {}
    for name, text in contents.items():
        paths[name] = out_dir / name
        _write_atomic(paths[name], text + "\n")
    return paths
