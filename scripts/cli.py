"""`factsep`: label articles, train and evaluate the classifier, check the data, benchmark."""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from factsep.model.labels import LABELS
from factsep.training.paths import ARTICLES_DIR, DATA_DIR, default_model_dir, split_path

if TYPE_CHECKING:
    from factsep.model.inputs import InputOptions
    from factsep.model.job import LabelSummary

# Exit statuses (README, "Exit status"): each kind of outcome has its own.
EXIT_OK = 0
EXIT_INCOMPLETE = 1  # ran, but some input was bad (--strict) or nothing could be labelled
EXIT_USAGE = 2  # a wrong option or an input, model or output that cannot be used
EXIT_GATE = 3  # evaluate: macro-F1 below --min-macro-f1
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM; what was labelled is kept
SETTING_TYPES = {"str": str, "int": int, "float": float, "bool": bool}
EXAMPLES = """examples:
  factsep label article.txt                      # JSONL rows on standard output
  factsep label news/ -o labels.csv --format csv
  factsep label feed.jsonl --text-key body --id-key url -o out.jsonl
  factsep label archive/ -o labels/ --engine ray --address 10.0.0.1:6379
  factsep label pages/ -o labels.jsonl          # .html/.htm pages: title + main text
  factsep suggest pages/ -n 200                  # least sure sentences, to annotate first
  factsep export label-studio labels.jsonl -o tasks.json
  factsep data import label-studio export.json   # corrected export -> data/articles/
  cat article.txt | factsep label - --format text --keep fact
  factsep train                                  # retrain the default model
  factsep evaluate data/test.jsonl -o reports/test
  factsep data check
"""


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def _model_dir(argument: str | None) -> Path:
    """The model to use: the one given, else the default model (trained first if missing)."""
    if argument:
        return Path(argument)
    from factsep.training.default_model import ensure_default_model

    return ensure_default_model(_log)


def _keep_labels(keep: str | None, fmt: str) -> tuple[str, ...]:
    """The labels --keep names; only with --format text, at least one, all known."""
    if keep is None:
        return ("fact",)
    if fmt != "text":
        raise ValueError(f"--keep applies to --format text only (not {fmt})")
    labels = tuple(label.strip() for label in keep.split(",") if label.strip())
    unknown = [label for label in labels if label not in LABELS]
    if unknown or not labels:
        raise ValueError(f"--keep takes labels from {', '.join(LABELS)}; not {keep!r}")
    return labels


def _threads(threads: int | None) -> int | None:
    """--threads: 0 or absent means all cores; at most the cores this process may use."""
    if threads is None or threads == 0:
        return None
    from factsep.model.cores import available_cores

    cores = available_cores()
    if not 1 <= threads <= cores:
        raise ValueError(f"--threads must be 0 (all cores) or 1 to {cores} (this machine's cores)")
    return threads


def cmd_label(args: argparse.Namespace) -> int:
    if args.batch_tokens < 1:
        raise ValueError("--batch-tokens must be a positive number of tokens")
    if args.engine == "ray":
        return _label_on_ray(args)
    if args.address or args.workers:
        raise ValueError("--address and --workers go with --engine ray")
    from factsep.model.job import label_inputs
    from factsep.model.predict import Labeller

    keep = _keep_labels(args.keep, args.format)
    threads = _threads(args.threads)
    labeller = Labeller.from_directory(
        _model_dir(args.model), args.precision, threads, args.batch_tokens
    )
    summary = label_inputs(
        labeller,
        args.inputs,
        Path(args.output) if args.output else None,
        fmt=args.format,
        keep=keep,
        force=args.force,
        strict=args.strict,
        options=_input_options(args),
        log=_log,
        formula_guard=not args.csv_formulas,
    )
    _log(summary.line() + f" [{labeller.precision}]")
    return _label_exit_status(summary, args.strict, "no output file was written")


def _label_exit_status(summary: LabelSummary, strict: bool, nothing_written: str) -> int:
    """The exit status of a labelling run from its summary."""
    if summary.interrupted:
        return EXIT_INTERRUPTED
    if summary.articles == 0:
        _log(f"error: no article could be labelled ({nothing_written})")
        return EXIT_INCOMPLETE
    return EXIT_INCOMPLETE if summary.stopped_early or (strict and summary.problems) else 0


def _input_options(args: argparse.Namespace) -> InputOptions:
    from factsep.model.inputs import InputOptions

    return InputOptions(text_key=args.text_key, id_key=args.id_key, html_key=args.html_key)


def cmd_suggest(args: argparse.Namespace) -> int:
    from factsep.model.outputs import AtomicOutput
    from factsep.model.predict import Labeller
    from factsep.training.data.suggest import label_sources, suggest, write_suggestions

    if args.n < 1:
        raise ValueError(f"-n must be at least 1, not {args.n}")
    labeller = Labeller.from_directory(
        _model_dir(args.model), args.precision, _threads(args.threads), args.batch_tokens
    )
    sink = AtomicOutput(Path(args.output) if args.output else None, args.force)
    problems: list = []
    try:
        labelled = label_sources(labeller, args.inputs, _input_options(args), problems, _log)
        suggestions = suggest(labelled, args.n)
        write_suggestions(suggestions, sink.stream, args.format)
    except BaseException:
        sink.discard()
        raise
    sink.commit()
    articles = len({item.doc_id for item in suggestions})
    _log(f"suggested {len(suggestions)} sentences from {articles} articles, least sure first"
         + (f"; {len(problems)} input(s) skipped" if problems else ""))
    if not suggestions:
        _log("error: no article could be labelled")
        return 1
    return 0


def cmd_export_label_studio(args: argparse.Namespace) -> int:
    from factsep.training.data.label_studio import export_label_studio

    count, config = export_label_studio(Path(args.labelled), Path(args.output), args.force)
    _log(f"wrote {count} tasks to {args.output} and the labelling config to {config}")
    return 0


def cmd_data_import_label_studio(args: argparse.Namespace) -> int:
    from factsep.training.data.label_studio_import import import_label_studio

    summary = import_label_studio(Path(args.export), Path(args.articles), args.genre, args.force)
    for problem in summary.problems:
        _log(f"error: {problem}")
    _log(f"imported {len(summary.written)} articles into {args.articles}"
         + (f"; {len(summary.problems)} task(s) skipped" if summary.problems else ""))
    if summary.written:
        _log("next: factsep data build && factsep data check, then factsep train")
    return 1 if summary.problems or not summary.written else 0


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-key", default="text", help="JSONL field holding the text")
    parser.add_argument("--id-key", default="id", help="JSONL field holding the article id")
    parser.add_argument("--html-key",
                        help="JSONL field holding a web page's HTML (read instead of --text-key)")


def _label_on_ray(args: argparse.Namespace) -> int:
    """`factsep label --engine ray`: shards and a manifest in the folder given by -o."""
    if importlib.util.find_spec("ray") is None:
        raise ValueError("--engine ray needs the ray extra: pip install 'factsep[ray]'")
    if not args.output:
        raise ValueError("--engine ray writes a folder of shards: give it with -o OUT_DIR")
    if args.format != "jsonl":
        raise ValueError("--engine ray writes JSONL shards; --format is not supported with it")
    if "-" in args.inputs:
        raise ValueError("--engine ray reads files and folders, not standard input")
    from factsep.model.ray_job import label_on_ray

    summary = label_on_ray(
        _model_dir(args.model),
        args.inputs,
        Path(args.output),
        address=args.address,
        workers=args.workers,
        threads=args.threads or 1,
        precision=args.precision,
        batch_tokens=args.batch_tokens,
        force=args.force,
        strict=args.strict,
        options=_input_options(args),
        log=_log,
    )
    _log(summary.line() + f" on Ray; shards and manifest in {args.output}")
    return _label_exit_status(summary, args.strict, "no manifest was written")


def cmd_train(args: argparse.Namespace) -> int:
    from factsep.training.config import TrainingSettings
    from factsep.training.default_model import train_model

    overrides = {
        f.name: getattr(args, f.name)
        for f in fields(TrainingSettings)
        if getattr(args, f.name) is not None
    }
    settings = (
        TrainingSettings.from_file(args.config, **overrides)
        if args.config
        else TrainingSettings(**overrides)
    )
    output = Path(args.output) if args.output else default_model_dir()
    if output.exists() and not args.force:
        raise ValueError(f"{output} already exists; use --force to replace it")
    _check_base(settings.base)
    data = {name: Path(getattr(args, f"{name}_file")) for name in ("train", "dev", "test")}
    for name, path in data.items():
        if not path.is_file():
            raise ValueError(f"--{name}-file {path}: no such file")
    train_model(settings, output, _log, compare_context=args.compare_context, data=data)
    return 0


def _check_base(base: str) -> None:
    """A --base that names a local path must be a folder (else transformers tries the hub)."""
    path = Path(base).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"--base {base}: is a file; give a model folder or a Hugging Face id")
    elif base.startswith((".", "/", "~")) or base.count("/") > 1:
        raise ValueError(f"--base {base}: no such folder")


def _gate(value: str) -> float:
    """--min-macro-f1: a number in [0, 1]."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1, not {value}")
    return number


def cmd_evaluate(args: argparse.Namespace) -> int:
    from factsep.training.evaluation.evaluate import run_evaluation

    metrics = run_evaluation(
        data=Path(args.data),
        model_dir=_model_dir(args.model),
        out_dir=Path(args.output),
        data_format=args.format,
        mode=args.mode,
        compare=[Path(p) for p in args.compare],
        precision=args.precision,
        force=args.force,
        log=_log,
        checkthat_subj=args.checkthat_subj,
        cache_baselines=not args.no_baseline_cache,
    )
    if args.min_macro_f1 is not None and metrics["macro_f1"] < args.min_macro_f1:
        _log(f"gate failed: macro-F1 {metrics['macro_f1']:.4f} < {args.min_macro_f1}")
        return EXIT_GATE
    return EXIT_OK


def cmd_data_check(args: argparse.Namespace) -> int:
    from factsep.training.data.datacheck import check_splits

    report = check_splits({name: Path(args.data_dir) / f"{name}.jsonl" for name in args.splits})
    print(report.render())
    return 0 if report.ok else 1


def cmd_data_build(args: argparse.Namespace) -> int:
    from factsep.training.data.authoring import build_dataset

    paths = build_dataset(Path(args.articles), Path(args.out), args.seed, args.reshuffle)
    for path in paths.values():
        _log(f"wrote {path}")
    return 0


def cmd_data_agreement(args: argparse.Namespace) -> int:
    from factsep.training.data.agreement import compare

    agreement = compare(Path(args.first), Path(args.second))
    print(agreement.render())
    if args.list:
        for d in agreement.disagreements:
            print(f"{d.doc_id}#{d.number}\t{d.first}\t{d.second}\t{d.sentence}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.serve:
        from factsep.model.precisions import PRECISIONS
        from factsep.training.benchmarks.serve_load import run_serve_load

        run_serve_load(_model_dir(args.model), split_path("test"), args.precisions.split(",")[0]
                       if args.precisions != ",".join(PRECISIONS) else "auto",
                       args.clients, args.seconds)
        return 0
    from factsep.training.benchmarks.bench import run_benchmark

    run_benchmark(
        _model_dir(args.model),
        split_path("test"),
        min_sentences=args.sentences,
        precisions=args.precisions.split(","),
        corpora=args.corpora.split(","),
        print_line=print,
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from factsep.scripts.serve import ServiceOptions, serve
    except ImportError as error:
        raise ValueError(
            f"factsep serve needs the service's packages ({error.name} is missing): "
            "pip install 'factsep[serve]'"
        ) from None
    from factsep.model.predict import Labeller

    api_key = args.api_key if args.api_key is not None else os.environ.get("FACTSEP_API_KEY")
    if api_key is not None and not api_key.strip():
        raise ValueError("--api-key (or FACTSEP_API_KEY) must not be empty")
    if args.max_body_mb <= 0 or args.queue < 1:
        raise ValueError("--max-body-mb must be positive and --queue at least 1")
    model_dir = _model_dir(args.model)
    labeller = Labeller.from_directory(
        model_dir, args.precision, _threads(args.threads), args.batch_tokens
    )
    options = ServiceOptions(
        api_key=api_key, max_body_bytes=int(args.max_body_mb * 2**20), max_queue=args.queue
    )
    _log(
        f"serving {model_dir} [{labeller.precision}] at http://{args.host}:{args.port}/ "
        f"(API docs at /docs{'; API key required' if api_key else ''})"
    )
    serve(labeller, model_dir, options, args.host, args.port)
    return 0


def _add_settings_options(parser: argparse.ArgumentParser) -> None:
    from factsep.training.config import TrainingSettings

    group = parser.add_argument_group("training settings (override --config)")
    for f in fields(TrainingSettings):
        flag = "--" + f.name.replace("_", "-")
        kind = SETTING_TYPES[f.type]
        if kind is bool:
            group.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                help=f"{f.metadata['help']} (default: {f.default})",
            )
        else:
            group.add_argument(
                flag, dest=f.name, type=kind, default=None,
                help=f"{f.metadata['help']} (default: {f.default})",
            )


def build_parser() -> argparse.ArgumentParser:
    from factsep.model.outputs import FORMATS
    from factsep.model.precisions import PRECISIONS

    parser = argparse.ArgumentParser(
        prog="factsep",
        description="Label each sentence of a news article as fact, opinion or filler.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    label = commands.add_parser(
        "label", help="label articles sentence by sentence",
        description="Label articles. Without --model, the default model is used "
        "(trained first if it is missing). Rows go to standard output unless -o is given.",
    )
    label.add_argument("inputs", nargs="+", metavar="INPUT",
                       help=".txt/.md/.html/.htm files, directories (recursive), .jsonl files, "
                       "or - for stdin")
    label.add_argument("-o", "--output", help="output file (default: standard output)")
    label.add_argument("--format", choices=FORMATS, default="jsonl", help="output format")
    label.add_argument("--keep",
                       help="with --format text: labels to keep, comma-separated (default: fact)")
    label.add_argument("--model", help=f"model directory (default: {default_model_dir()})")
    label.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto",
                       help="inference path; auto: the fastest one that keeps accuracy")
    label.add_argument("--batch-tokens", type=int, default=4096,
                       help="batch size, in padded tokens (default: 4096)")
    label.add_argument("--threads", type=int,
                       help="CPU threads, 1 to the number of cores (default, or 0: all cores; "
                       "with --engine ray: per worker, default 1)")
    _add_input_options(label)
    label.add_argument("--strict", action="store_true",
                       help="stop at the first bad input (what was labelled is kept)")
    label.add_argument("--force", action="store_true",
                       help="overwrite an existing output file (with --engine ray: replace an "
                       "earlier run's shards and manifest in OUT_DIR)")
    label.add_argument("--csv-formulas", action="store_true",
                       help="with --format csv: write cells starting with = + - @ as they are "
                       "(default: a leading apostrophe stops spreadsheets running them)")
    label.add_argument("--engine", choices=("local", "ray"), default="local",
                       help="local: this process; ray: a Ray cluster, writing JSONL shards and "
                       "a manifest.json into the folder given by -o (needs factsep[ray])")
    label.add_argument("--address",
                       help="with --engine ray: the cluster to join (host:port); default: start "
                       "a local Ray instance")
    label.add_argument("--workers", type=int,
                       help="with --engine ray: labelling workers, each loading the model once "
                       "and using --threads CPU threads (default: the cluster's CPUs / threads)")
    label.set_defaults(handler=cmd_label)

    suggest = commands.add_parser(
        "suggest", help="list the sentences the model is least sure of, to annotate first",
        description="Label the inputs and list the sentences with the smallest margin between "
        "the two most probable labels, spread across articles, least sure first.",
    )
    suggest.add_argument("inputs", nargs="+", metavar="INPUT", help="as for factsep label")
    suggest.add_argument("-n", type=int, default=200, help="how many sentences (default: 200)")
    suggest.add_argument("-o", "--output", help="output file (default: standard output)")
    suggest.add_argument("--format", choices=("table", "jsonl"), default="table")
    suggest.add_argument("--model", help="model directory (default: the default model)")
    suggest.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto")
    suggest.add_argument("--batch-tokens", type=int, default=4096)
    suggest.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    _add_input_options(suggest)
    suggest.add_argument("--force", action="store_true", help="overwrite an existing output file")
    suggest.set_defaults(handler=cmd_suggest)

    export = commands.add_parser("export", help="export labels for an annotation tool")
    export_tools = export.add_subparsers(dest="export_tool", required=True, metavar="TOOL")
    export_ls = export_tools.add_parser(
        "label-studio", help="Label Studio tasks with the model's labels as pre-annotations",
        description="Write one Label Studio task per article of a `factsep label` JSONL file, "
        "one pre-annotated region per sentence with its score, and the labelling config "
        "(TASKS.label-config.xml) to paste into the project.",
    )
    export_ls.add_argument("labelled", metavar="LABELLED.jsonl", help="output of factsep label")
    export_ls.add_argument("-o", "--output", required=True, help="tasks file, e.g. tasks.json")
    export_ls.add_argument("--force", action="store_true", help="overwrite existing files")
    export_ls.set_defaults(handler=cmd_export_label_studio)

    train = commands.add_parser(
        "train", help="fine-tune the classifier",
        description="Fine-tune on data/train.jsonl, select on data/dev.jsonl, score on "
        "data/test.jsonl and save one model directory (default: the default model).",
    )
    train.add_argument("-o", "--output", help=f"model directory (default: {default_model_dir()})")
    train.add_argument("--config", help="JSON file of training settings")
    for name, role in (("train", "training"), ("dev", "model selection"), ("test", "the card")):
        train.add_argument(f"--{name}-file", default=str(split_path(name)),
                           help=f"labelled JSONL for {role} (default: data/{name}.jsonl)")
    train.add_argument("--compare-context", action="store_true",
                       help="also train the other context variant; keep the better on dev")
    train.add_argument("--force", action="store_true", help="replace an existing model directory")
    _add_settings_options(train)
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser(
        "evaluate", help="score a model on a labelled set and write reports",
        description="Score a model against gold labels, with baselines, and write "
        "metrics.json, report.md and report.html.",
    )
    evaluate.add_argument("data", nargs="?", default=str(split_path("test")),
                          help="labelled file (default: data/test.jsonl)")
    evaluate.add_argument("-o", "--output", default="reports/evaluation",
                          help="report folder (default: reports/evaluation)")
    evaluate.add_argument("--model", help="model directory (default: the default model)")
    evaluate.add_argument("--format", choices=("articles", "checkthat"), default="articles",
                          help="articles: the dataset's JSONL; checkthat: CheckThat! TSV")
    evaluate.add_argument("--mode", choices=("gold", "end-to-end"), default="gold",
                          help="gold: classify the gold spans; end-to-end: our segmentation")
    evaluate.add_argument("--compare", action="append", default=[], metavar="MODEL_DIR",
                          help="another model to score side by side (repeatable)")
    evaluate.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto")
    evaluate.add_argument("--checkthat-subj", choices=("opinion", "opinion+filler"),
                          default="opinion",
                          help="with --format checkthat: the labels that make a sentence SUBJ "
                          "(default: opinion; fact and filler are OBJ)")
    evaluate.add_argument("--min-macro-f1", type=_gate, metavar="F1",
                          help=f"exit with status {EXIT_GATE} when macro-F1 is below this "
                          "value (0 to 1)")
    evaluate.add_argument("--no-baseline-cache", action="store_true",
                          help="fit the baselines afresh and keep nothing (default: fitted "
                          "once per training file, kept beside the default model)")
    evaluate.add_argument("--force", action="store_true", help="overwrite existing reports")
    evaluate.set_defaults(handler=cmd_evaluate)

    data = commands.add_parser("data", help="build and check the labelled dataset")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    check = data_commands.add_parser(
        "check", help="validate the splits and print counts",
        description="Check schema, offsets, coverage, labels, unique ids and cross-split "
        "leaks (same article or near-duplicate sentence); print counts.",
    )
    check.add_argument("--data-dir", default=str(DATA_DIR))
    check.add_argument("--splits", nargs="+", default=["train", "dev", "test"])
    check.set_defaults(handler=cmd_data_check)
    build = data_commands.add_parser(
        "build", help="compile data/articles/*.txt into the train/dev/test JSONL splits"
    )
    build.add_argument("--articles", default=str(ARTICLES_DIR))
    build.add_argument("--out", default=str(DATA_DIR))
    build.add_argument("--seed", type=int, default=13)
    build.add_argument("--reshuffle", action="store_true",
                       help="re-split every article (default: existing articles keep their split)")
    build.set_defaults(handler=cmd_data_build)
    data_import = data_commands.add_parser("import", help="import corrected annotations")
    import_tools = data_import.add_subparsers(dest="import_tool", required=True, metavar="TOOL")
    import_ls = import_tools.add_parser(
        "label-studio", help="a corrected Label Studio JSON export -> data/articles/*.txt",
        description="Turn each task's latest submitted annotation into an article file, "
        "checked against the dataset contract. Tasks that cannot be imported are reported "
        "and skipped.",
    )
    import_ls.add_argument("export", metavar="EXPORT.json", help="Label Studio JSON export")
    import_ls.add_argument("--articles", default=str(ARTICLES_DIR),
                           help="folder of article files (default: data/articles)")
    import_ls.add_argument("--genre", default="corrected",
                           help="genre header of the imported articles (default: corrected)")
    import_ls.add_argument("--force", action="store_true",
                           help="replace article files that already exist")
    import_ls.set_defaults(handler=cmd_data_import_label_studio)
    agreement = data_commands.add_parser(
        "agreement", help="Cohen's kappa between two annotators of the same sentences"
    )
    agreement.add_argument("--first", default=str(DATA_DIR / "annotation" / "first"))
    agreement.add_argument("--second", default=str(DATA_DIR / "annotation" / "second"))
    agreement.add_argument("--list", action="store_true", help="print every disagreement")
    agreement.set_defaults(handler=cmd_data_agreement)

    bench = commands.add_parser(
        "bench", help="measure speed, memory and accuracy of each inference path",
    )
    bench.add_argument("--model", help="model directory (default: the default model)")
    bench.add_argument("--sentences", type=int, default=5000,
                       help="sentences per corpus (at least)")
    bench.add_argument("--precisions", default=",".join(PRECISIONS),
                       help="comma-separated paths to measure")
    bench.add_argument("--corpora", default="test,real,short",
                       help="comma-separated corpora: test (the test split repeated), real "
                       "(generated real-length articles), short (one-sentence records)")
    bench.add_argument("--serve", action="store_true",
                       help="load `factsep serve` instead: concurrent clients, good, malformed "
                       "and oversized requests; compare with `factsep label` on the same articles "
                       "(inference path: the first of --precisions when given, else auto)")
    bench.add_argument("--clients", type=int, default=32, help="with --serve (default: 32)")
    bench.add_argument("--seconds", type=float, default=60.0, help="with --serve (default: 60)")
    bench.set_defaults(handler=cmd_bench)

    serve = commands.add_parser(
        "serve", help="run the labelling service (HTTP API and a page to try it)",
        description="Serve POST /v1/label, GET /v1/model, GET /healthz, the API docs at /docs "
        "and a page at /. Needs the serve extra: pip install 'factsep[serve]'.",
    )
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--model", help="model directory (default: the default model)")
    serve.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto",
                       help="inference path; auto: the fastest one that keeps accuracy")
    serve.add_argument("--api-key", help="require this key in the X-API-Key header of /v1/ "
                       "requests (default: $FACTSEP_API_KEY if set, else no key)")
    serve.add_argument("--max-body-mb", type=float, default=5.0,
                       help="largest request body, in MB (default: 5)")
    serve.add_argument("--queue", type=int, default=64,
                       help="requests that may wait for the model before 503 (default: 64)")
    serve.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    serve.add_argument("--batch-tokens", type=int, default=4096,
                       help="batch size, in padded tokens (default: 4096)")
    serve.set_defaults(handler=cmd_serve)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the exit flush cannot fail again."""
    try:
        sys.stdout.flush()
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; errors in the user's input exit with a message, not a trace.

    SIGTERM is treated like Ctrl-C: the run stops and what was labelled is kept.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        return _run(argv)
    except KeyboardInterrupt:
        _log("interrupted")
        return EXIT_INTERRUPTED
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _run(argv: Sequence[str] | None) -> int:
    from factsep.model.model_config import NotAModelError
    from factsep.model.outputs import OutputError
    from factsep.training.data.dataset import DataError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (DataError, NotAModelError, OutputError, ValueError) as error:
        _silence_stdout()
        _log(f"error: {error}")
        return EXIT_USAGE
    except OSError as error:  # stdout closed (broken pipe) or full, an unreadable file
        _silence_stdout()
        name = f"{error.filename}: " if error.filename else ""
        _log(f"error: {name}{error.strerror or error}")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
