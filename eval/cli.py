"""Command-line glue for evaluation: subcommands added to the ``claimsift`` parser.

Four commands, because argparse cannot give ``eval`` both a positional FILE and
sub-subcommands::

    claimsift eval FILE.jsonl [--model NAME|PATH|BASELINE] [--train FILE] [--split NAME]
                              [--output-dir DIR] [--json] [--resamples N] [--seed N]
    claimsift eval-agreement A.jsonl B.jsonl [--json]
    claimsift eval-external NAME PATH [--model ...] [--train FILE] [--limit N] [--no-context] [--seed N] [--json]
    claimsift eval-compare [--models default,accurate] [--wikinews PATH|none]
                           [--baseline-train corpus|corpus+wikinews] [--output-dir eval/results] [--json]

``claimsift eval agreement ...``, ``eval external ...`` and ``eval compare ...`` are accepted
as spellings of the hyphenated commands when the main CLI passes argv through
:func:`rewrite_argv` first (a file really named ``agreement`` still goes to ``eval``).

FILE is an annotated-sample JSONL file; the minimal eight-field form (doc, i, text, label,
speaker, role, cue, named) is enough, and null-label sentences are read as context only.
``--model`` takes a baseline name (majority, lexicon, tfidf-lr), a shipped model name or a
model folder. ``--json`` prints one JSON object with every figure instead of Markdown.

Handlers return exit codes: 0 done, 1 bad input (a missing or malformed file, a model that
cannot be found), 2 bad call (an unknown split, set or model kind). The main CLI wires them
as ``args = parser.parse_args(rewrite_argv(argv)); return args.handler(args)``.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="claimsift")
>>> add_parsers(parser.add_subparsers(dest="command"))
>>> parser.parse_args(rewrite_argv(["eval", "agreement", "a.jsonl", "b.jsonl"])).command
'eval-agreement'
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from claimsift.data.samples import SampleError, read_samples

logger = logging.getLogger(__name__)

ALIASES = ("agreement", "external", "compare")
MODEL_HELP = "baseline names: majority, lexicon, tfidf-lr; otherwise a shipped model name or folder"


class CliError(Exception):
    """A failure the user can fix; ``code`` is the exit status (1 bad input, 2 bad call)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def rewrite_argv(argv: Sequence[str]) -> list[str]:
    """Turn ``eval agreement|external|compare ...`` into ``eval-<name> ...``; leave the rest alone.

    >>> rewrite_argv(["eval", "compare", "--models", "default"])
    ['eval-compare', '--models', 'default']
    >>> rewrite_argv(["eval", "draft.jsonl"])
    ['eval', 'draft.jsonl']
    """
    argv = list(argv)
    if len(argv) >= 2 and argv[0] == "eval" and argv[1] in ALIASES and not Path(argv[1]).exists():
        return [f"eval-{argv[1]}", *argv[2:]]
    return argv


def _handler(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the expected failures into a message on stderr and an exit code."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except CliError as e:
            print(f"claimsift {args.command}: error: {e}", file=sys.stderr)
            return e.code

    run.__name__ = run.__qualname__ = func.__name__
    run.__doc__ = func.__doc__
    return run


def _read(path: str, what: str = "annotated-sample file") -> list[dict]:
    if not Path(path).is_file():
        raise CliError(
            f"{path}: no such file; pass a JSON Lines {what} with one sentence per line "
            "(doc, i, text, label, speaker, role, cue, named)", 1,
        )
    try:
        return read_samples(path, allow_null_label=True)
    except SampleError as e:
        raise CliError(f"{e}. Fix the file, or see claimsift.data.samples for the format", 1) from e


def _predictor(name: str, train: str | None):
    from claimsift.eval.baselines import BASELINES
    from claimsift.eval.predictors import load_predictor

    train_records = _read(train, "training file") if train else None
    if name in BASELINES:
        try:
            return load_predictor(name, train_records)
        except FileNotFoundError as e:  # the corpus is not built
            raise CliError(str(e), 1) from e
    try:
        from claimsift.model.bases import IntegrityError
    except ImportError as e:
        raise CliError(
            f"cannot load model {name!r}: the model code is not available ({e}); "
            "use a baseline (--model lexicon, majority or tfidf-lr)", 2,
        ) from e
    try:
        return load_predictor(name)
    except (OSError, ValueError, IntegrityError) as e:  # missing folder or base, bad weights, hash mismatch
        raise CliError(f"cannot load model {name!r}: {e} ({MODEL_HELP})", 1) from e


def _emit(data: dict, markdown: str, as_json: bool) -> None:
    print(json.dumps(data, ensure_ascii=False) if as_json else markdown, end="\n" if as_json else "")


@_handler
def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate a model or baseline on one annotated-sample file."""
    from claimsift.eval.harness import evaluate, select_split, write_report
    from claimsift.eval.predictors import predict

    records = _read(args.file)
    if args.split is not None:
        try:
            records = select_split(records, args.split, args.file)
        except ValueError as e:
            raise CliError(str(e), 2) from e
    predictor = _predictor(args.model, args.train)
    try:
        report = evaluate(records, predict(predictor, records), n_resamples=args.resamples, seed=args.seed)
    except ValueError as e:  # e.g. every label null: nothing to score
        raise CliError(f"{args.file}: {e}", 1) from e
    title = f"{args.model} on {Path(args.file).name}" + (f" ({args.split})" if args.split else "")
    if args.output_dir:
        paths = write_report(report, args.output_dir, title=title)
        print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)
    _emit(report.to_dict(), report.to_markdown(title), args.json)
    return 0


@_handler
def cmd_agreement(args: argparse.Namespace) -> int:
    """Agreement between two annotations of the same sentences."""
    from claimsift.eval.agreement import agreement

    a, b = _read(args.a), _read(args.b)
    try:
        report = agreement(a, b)
    except ValueError as e:
        raise CliError(f"{args.a} vs {args.b}: {e}", 1) from e
    _emit(report.to_dict(), report.to_markdown(f"Agreement: {Path(args.a).name} vs {Path(args.b).name}"),
          args.json)
    return 0


@_handler
def cmd_external(args: argparse.Namespace) -> int:
    """Evaluate on one converted external set."""
    from claimsift.eval.external import EXTERNAL_SETS, eval_external, resolve_path

    if args.name not in EXTERNAL_SETS:
        raise CliError(f"unknown external set {args.name!r}; expected one of {sorted(EXTERNAL_SETS)}", 2)
    if args.limit is not None and args.limit < 1:
        raise CliError(f"--limit must be a positive number of sentences, got {args.limit}", 2)
    try:
        resolve_path(args.name, args.path)
    except FileNotFoundError as e:
        raise CliError(str(e), 1) from e
    predictor = _predictor(args.model, args.train)
    try:
        report = eval_external(args.name, args.path, predictor, args.limit, seed=args.seed,
                               context=False if args.no_context else None)
    except ValueError as e:
        raise CliError(str(e), 1) from e
    _emit(report.to_dict(), report.to_markdown(), args.json)
    return 0


def _compare_splits(wikinews: str) -> dict[str, list[dict]]:
    from claimsift.data.corpus import CORPUS_FILE, load_records, load_wikinews

    if not CORPUS_FILE.exists():
        raise CliError(f"{CORPUS_FILE}: corpus not built; run `claimsift data build` first", 1)
    splits = {name: load_records(name) for name in ("dev", "test", "hard")}
    if wikinews.lower() != "none":
        if not Path(wikinews).is_file():
            raise CliError(
                f"{wikinews}: Wikinews annotations not found; pass --wikinews PATH to "
                "shared/wikinews/annotated.jsonl, or --wikinews none to leave it out", 1,
            )
        splits["wikinews_dev"] = [r for r in load_wikinews(wikinews) if r["split"] == "wikinews_dev"]
    return splits


@_handler
def cmd_compare(args: argparse.Namespace) -> int:
    """Score the shipped model(s) and every baseline on the corpus and Wikinews dev splits."""
    from claimsift.data.corpus import load_records, load_wikinews
    from claimsift.eval.baselines import BASELINES
    from claimsift.eval.compare import comparison_figures, comparison_table, evaluate_grid, write_comparison
    from claimsift.eval.predictors import load_predictor

    splits = _compare_splits(args.wikinews)
    train = load_records("train")
    note = f"Baselines fitted on the corpus train split ({len(train)} sentences)"
    if args.baseline_train == "corpus+wikinews":
        if "wikinews_dev" not in splits:
            raise CliError("--baseline-train corpus+wikinews needs --wikinews PATH, not none", 2)
        wiki_train = [r for r in load_wikinews(args.wikinews) if r["split"] == "wikinews_train"]
        train = train + wiki_train
        note += f" and wikinews_train ({len(wiki_train)} sentences)"
    models = [m.strip() for m in args.models.split(",") if m.strip() and m.strip().lower() != "none"]
    predictors = {name: _predictor(name, None) for name in models}
    for name in BASELINES:
        predictors[name] = load_predictor(name, train)
    reports = evaluate_grid(predictors, splits, n_resamples=args.resamples, seed=args.seed)
    path = write_comparison(reports, args.output_dir, notes=note + ".")
    print(f"wrote {path} and confusion PNGs in {args.output_dir}", file=sys.stderr)
    _emit(comparison_figures(reports), comparison_table(reports), args.json)
    return 0


def _common(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    if model:
        p.add_argument("--model", default="default",
                       help=f"what to evaluate (default: default); {MODEL_HELP}")
        p.add_argument("--train", metavar="FILE",
                       help="training sentences for the majority and tfidf-lr baselines "
                            "(default: the corpus train split)")
    p.add_argument("--seed", type=int, default=0, help="seed for bootstrap and sampling (default: 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object with every figure")


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add eval, eval-agreement, eval-external and eval-compare; each sets ``handler``."""
    # Only cheap names here: every `claimsift` command builds this parser, so scikit-learn and the
    # external-set readers are imported by the handlers, not for help texts.
    from claimsift.data.corpus import DEFAULT_WIKINEWS
    from claimsift.eval import RESULTS_DIR

    p = subparsers.add_parser("eval", help="score a model or baseline on an annotated-sample file",
                              description=cmd_eval.__doc__)
    p.add_argument("file", metavar="FILE", help="annotated-sample JSONL (the minimal eight-field form works)")
    p.add_argument("--split", help="evaluate only records whose 'split' field is NAME")
    p.add_argument("--output-dir", help="also write report.md, report.json, confusion.png, reliability.png")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    _common(p)
    p.set_defaults(handler=cmd_eval)

    p = subparsers.add_parser("eval-agreement", help="Cohen's kappa between two annotations of the same file",
                              description=cmd_agreement.__doc__)
    p.add_argument("a", metavar="A.jsonl")
    p.add_argument("b", metavar="B.jsonl")
    p.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    p.set_defaults(handler=cmd_agreement)

    p = subparsers.add_parser("eval-external", help="score on a converted public dataset",
                              description=cmd_external.__doc__)
    p.add_argument("name", metavar="NAME", help="a converted set of shared/external (see its README; "
                   "an unknown name lists the known ones)")
    p.add_argument("path", metavar="PATH", help="the converted JSONL file, or the folder holding it")
    p.add_argument("--limit", type=int, help="score a fixed seeded sample of N sentences (of whole "
                   "documents up to N sentences, where the set has documents)")
    p.add_argument("--no-context", action="store_true", help="score each sentence alone even where the set "
                   "gives documents (by default they are scored whole, in order)")
    _common(p)
    p.set_defaults(handler=cmd_external)

    p = subparsers.add_parser("eval-compare", help="models and baselines on dev/test/hard/wikinews_dev",
                              description=cmd_compare.__doc__)
    p.add_argument("--models", default="default,accurate",
                   help="comma-separated model names or folders ('none' for baselines only)")
    p.add_argument("--wikinews", default=str(DEFAULT_WIKINEWS),
                   help=f"Wikinews annotations (default: {DEFAULT_WIKINEWS}), or none")
    p.add_argument("--baseline-train", choices=("corpus", "corpus+wikinews"), default="corpus+wikinews",
                   help="what the majority and tfidf-lr baselines are fitted on (default: corpus+wikinews)")
    p.add_argument("--output-dir", default=str(RESULTS_DIR), help=f"default: {RESULTS_DIR}")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    _common(p, model=False)
    p.set_defaults(handler=cmd_compare)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation commands alone: ``python -m claimsift.eval.cli eval FILE ...``."""
    parser = argparse.ArgumentParser(prog="claimsift", description="claimsift evaluation commands")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(rewrite_argv(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
