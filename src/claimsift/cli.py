"""The ``claimsift`` command line: a thin layer over the library. ``main(argv) -> int``.

Exit codes: 0 everything succeeded, 1 some inputs failed (the rest were still scored and
written), 2 the call itself was wrong (bad option, missing model, unwritable output).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path

OK, SOME_FAILED, BAD_CALL = 0, 1, 2
FORMATS = ("jsonl", "csv", "html", "table")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 by itself; keep its message, add the usage
        self.print_usage(sys.stderr)
        raise SystemExit(f"claimsift: error: {message}")


def _error(message: str, code: int = BAD_CALL) -> int:
    print(f"claimsift: error: {message}", file=sys.stderr)
    return code


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="files, folders (recursive) or - for stdin")
    p.add_argument("--model", default="default", help="default, accurate, or a model folder")
    p.add_argument("--max-bytes", type=int, default=10_000_000, help="largest input file accepted")
    p.add_argument("--allow-non-english", action="store_true", help="score drafts that do not look English")
    p.add_argument("--batch-size", type=int, default=None,
                   help="sentences per batch (default: 64 on CPU, 512 on GPU); a window model runs an eighth as "
                        "many rows, of several sentences each")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--quantize", action="store_true", help="CPU: int8 weights (faster; see eval/results/speed.md)")
    p.add_argument("--runtime", choices=("auto", "torch", "onnx"), default="auto",
                   help="auto (default): torch on GPU; on CPU ONNX Runtime (graph exported on first use and "
                        "cached; the fastest start), or torch bf16 once the input passes "
                        f"{TORCH_ABOVE_CHARS:,} characters on a CPU with AMX or AVX512-BF16, where it labels "
                        "faster (eval/results/speed_xeon_cli.md)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                   help="torch runtime: auto (default) is bf16 where the hardware has it, else fp32")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="claimsift", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("score", help="label every sentence of drafts")
    _add_input_options(p)
    p.add_argument("--format", choices=FORMATS, default=None, help="default: from --output's suffix, else table")
    p.add_argument("--output", "-o", type=Path, default=None)
    p.add_argument("--resume", action="store_true", help="continue an interrupted --output run (JSONL)")
    p.add_argument("--flush-every", type=int, default=2000, metavar="N",
                   help="JSONL: write and sync finished documents every N sentences (default 2000)")

    p = sub.add_parser("worklist", help="every speaker and expert to verify, grouped by person")
    _add_input_options(p)
    p.add_argument("--output", "-o", type=Path, required=True)
    p.add_argument("--verified", type=Path, default=None, help="CSV of sources already verified (column: speaker)")

    p = sub.add_parser("train", help="fine-tune a model (see training/configs/default.json)")
    p.add_argument("--config", type=Path, default=Path("training/configs/default.json"))

    from claimsift.training.distill import build_parser as distill_parser

    distill_parser(sub.add_parser("distill", help="a teacher model's probabilities for distillation"))

    from claimsift.training.lowrank import build_parser as lowrank_parser

    lowrank_parser(sub.add_parser("lowrank", help="a LoRA adapter extracted from a full fine-tune (SVD)"))

    p = sub.add_parser("data", help="build, validate and count the annotated corpus")
    p.add_argument("action", choices=("build", "validate", "stats"))
    p.add_argument("--src", type=Path, default=None)
    p.add_argument("--wikinews", type=Path, default=None)
    p.add_argument("--write", type=Path, default=None, help="stats: update the tables in this datasheet")

    p = sub.add_parser("download", help="install an optional base encoder (like spacy download)")
    p.add_argument("name", choices=("mpnet",))

    from claimsift.eval.cli import add_parsers

    add_parsers(sub)
    return parser


def _fmt(args) -> str:
    if args.format:
        return args.format
    if args.output is not None:
        suffix = args.output.suffix.lower().lstrip(".")
        if suffix in FORMATS:
            return suffix
    return "table"


def _load_detector(args, runtime: str):
    """The detector, or None after printing why the call is wrong; ``runtime`` from :func:`_pick_runtime`."""
    from claimsift.model.bases import BaseNotFoundError, IntegrityError
    from claimsift.model.detector import ClaimDetector, ModelFolderError

    def load(runtime):
        return ClaimDetector.from_pretrained(args.model, device=args.device, batch_size=args.batch_size,
                                             quantize=args.quantize, runtime=runtime, precision=args.precision)

    wrong_call = (ModelFolderError, BaseNotFoundError, IntegrityError, ValueError)
    try:
        try:
            return load(runtime)
        except Exception as e:  # noqa: BLE001 - ONNX Runtime for the start was our choice, not the user's
            if runtime == args.runtime or isinstance(e, wrong_call):
                raise
            logging.getLogger(__name__).warning("%s: ONNX Runtime path unavailable (%s); running in torch",
                                                args.model, e)
            return load(args.runtime)
    except wrong_call as e:
        print(f"claimsift: error: {e}", file=sys.stderr)
        return None


# On two Xeon cores PyTorch started 10.7 s later than ONNX Runtime (importing transformers'
# modelling code is most of it) and then labelled 2.10x as fast in bf16, which that CPU multiplies
# natively: the later start was repaid after about 281,000 characters of drafts (the break-even
# line of eval/results/speed_xeon_cli.md). Where bf16 is emulated ONNX Runtime is faster at any size.
TORCH_ABOVE_CHARS = 300_000


def _pick_runtime(args, docs, done=frozenset()):
    """``(runtime, documents)``: ``--runtime auto``, given how much there is to score.

    The library's ``auto`` is the runtime that labels fastest here (PyTorch bf16 on a CPU with
    native bf16, ONNX Runtime on other CPUs). On a bf16 CPU ONNX Runtime still starts 10 s sooner,
    so a small batch runs there: this reads documents until more than :data:`TORCH_ABOVE_CHARS`
    characters of them are to be scored (``done`` is a resumed run's finished documents, which are
    not), then keeps ``auto``, or until the inputs end, then asks for ONNX Runtime. The documents
    read are handed back in front of the rest, so none is lost and memory stays bounded.
    """
    import itertools

    from claimsift.model.detector import _device, _kind, pick_runtime
    from claimsift.model.precision import cpu_lists_bf16, requested

    # without --device a GPU is the device where there is one (asking torch only where a driver is)
    if args.runtime != "auto" or _kind(_device(args.device)) != "cpu":
        return args.runtime, docs
    try:
        precision = requested(args.precision)
    except ValueError:  # a bad CLAIMSIFT_PRECISION: loading the model reports it, exit 2
        return args.runtime, docs
    if precision == "bf16" or pick_runtime("auto", "cpu", precision, args.quantize, cpu_lists_bf16()) == "onnx":
        return args.runtime, docs  # the library's auto is already ONNX Runtime, or torch for the bf16 asked for
    head, chars = [], 0
    for doc in docs:
        head.append(doc)
        chars += 0 if doc.id in done else len(doc.text)
        if chars > TORCH_ABOVE_CHARS:
            logging.getLogger(__name__).info(
                "runtime: torch (bf16 CPU, more than %d characters of input; --runtime onnx to override)",
                TORCH_ABOVE_CHARS)
            return args.runtime, itertools.chain(head, docs)
    return "onnx", iter(head)


def _start(args):
    """Open the inputs and load the model: (detector, outcome, inputs, documents, done), or None.

    ``done``: the documents a resumed ``--output`` run finished before (empty without ``--resume``).
    """
    from claimsift.scoring import BatchOutcome, completed_documents, partial_of

    outcome = BatchOutcome()
    inputs, docs = _documents(args, outcome)
    done = set()
    if getattr(args, "resume", False):  # what a resumed run still has to score decides its runtime
        done = completed_documents(partial_of(args.output))
    runtime, docs = _pick_runtime(args, docs, done)
    det = _load_detector(args, runtime)
    if det is None:
        return None
    return det, outcome, inputs, docs, done


def _documents(args, outcome):
    from claimsift.model.readers import expand_paths
    from claimsift.scoring import iter_documents

    inputs = expand_paths(args.paths)
    missing = [p for p in inputs if p != "-" and not Path(p).exists()]
    for p in missing:
        outcome.errors.append(f"{p}: no such file or folder")
    inputs = [p for p in inputs if p not in missing]
    return inputs, iter_documents(inputs, outcome, max_bytes=args.max_bytes,
                                  english_only=not args.allow_non_english)


def _progress(n: int):
    if n <= 1:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=n, unit="file", file=sys.stderr, disable=None)


def _finish(outcome) -> int:
    for err in outcome.errors:
        print(f"claimsift: error: {err}", file=sys.stderr)
    if outcome.errors:
        print(f"claimsift: {outcome.scored} document(s) scored, {len(outcome.errors)} input(s) failed",
              file=sys.stderr)
        return SOME_FAILED
    return OK


def cmd_score(args) -> int:
    from claimsift.model.report import render_html, render_table, to_csv
    from claimsift.scoring import rows_of, score_all, score_to_jsonl

    fmt = _fmt(args)
    if args.resume and (fmt != "jsonl" or args.output is None):
        return _error("--resume needs --output FILE.jsonl")
    if args.output is not None and not args.output.parent.exists():
        return _error(f"{args.output.parent}: output folder does not exist")
    started = _start(args)
    if started is None:
        return BAD_CALL
    det, outcome, inputs, docs, done = started
    bar = _progress(len(inputs))
    try:
        if fmt == "jsonl":
            score_to_jsonl(det, docs, args.output, outcome, resume=args.resume, progress=bar,
                           chunk_sentences=args.flush_every, done=done)
        else:
            scored = score_all(det, docs, outcome, progress=bar)
            if fmt == "html":
                text = render_html([(d.id, d.text, r) for d, r in scored])
            elif fmt == "csv":
                text = to_csv(rows_of(scored))
            else:
                text = render_table(rows_of(scored))
            _write(args.output, text)
    except OSError as e:
        return _error(str(e))
    finally:
        if bar is not None:
            bar.close()
    return _finish(outcome)


def _write(path: Path | None, text: str) -> None:
    """Write atomically (temporary file, then rename), or to stdout."""
    if path is None:
        sys.stdout.write(text)
        return
    from claimsift.scoring import atomic_write, partial_of

    tmp = partial_of(path)
    try:
        atomic_write(path, text, tmp)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OSError(f"{path}: cannot write the output ({e.strerror}); check free space and permissions") from e


def cmd_worklist(args) -> int:
    from claimsift.model.report import to_csv, worklist_rows
    from claimsift.scoring import score_all

    verified: set[str] = set()
    if args.verified is not None:
        try:
            with open(args.verified, encoding="utf-8-sig", newline="") as f:
                reader = csv.DictReader(f)
                if not reader.fieldnames or "speaker" not in reader.fieldnames:
                    return _error(f"{args.verified}: needs a 'speaker' column")
                verified = {row["speaker"] for row in reader if row.get("speaker")}
        except OSError as e:
            return _error(f"{args.verified}: cannot read ({e.strerror})")
    started = _start(args)
    if started is None:
        return BAD_CALL
    det, outcome, inputs, docs, _ = started
    scored = score_all(det, docs, outcome, progress=_progress(len(inputs)))
    try:
        _write(args.output, to_csv(worklist_rows([(d.id, r) for d, r in scored], verified)))
    except OSError as e:
        return _error(str(e))
    return _finish(outcome)


def cmd_train(args, overrides: list[str]) -> int:
    from claimsift.training.config import TrainConfig
    from claimsift.training.train import train

    try:
        cfg = TrainConfig.from_json(args.config).with_overrides(overrides)
    except ValueError as e:
        return _error(str(e))
    _, metrics = train(cfg)
    if "eval" in metrics:  # under torchrun only the main process evaluates and writes the model
        print(json.dumps(metrics["eval"], indent=2))
    return OK


def cmd_data(args) -> int:
    from claimsift.data.validate import build, stats, validate

    if args.action == "build":
        return build(args.src)
    if args.action == "validate":
        return validate(wikinews=args.wikinews)
    return stats(write=args.write)


def cmd_distill(args) -> int:
    from claimsift.model.bases import BaseNotFoundError, IntegrityError
    from claimsift.model.detector import ModelFolderError
    from claimsift.training.distill import run

    try:
        print(json.dumps(run(args)))
    except (FileNotFoundError, ModelFolderError, BaseNotFoundError, IntegrityError, ValueError) as e:
        return _error(str(e))
    return OK


def cmd_lowrank(args) -> int:
    from claimsift.model.bases import BaseNotFoundError, IntegrityError
    from claimsift.model.detector import ModelFolderError
    from claimsift.training.lowrank import run

    try:
        print(f"wrote {run(args)}")
    except (ModelFolderError, BaseNotFoundError, IntegrityError, ValueError, OSError) as e:
        return _error(str(e))
    return OK


def cmd_download(args) -> int:
    from claimsift.model.download import download_mpnet

    try:
        path = download_mpnet()
    except (RuntimeError, OSError) as e:
        print(f"claimsift: error: {e}", file=sys.stderr)
        return SOME_FAILED
    print(f"all-mpnet-base-v2 installed and verified in {path}")
    return OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from claimsift.eval.cli import rewrite_argv

    argv = rewrite_argv(argv)  # "eval agreement A B" -> "eval-agreement A B"
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return BAD_CALL
        return OK if e.code in (0, None) else BAD_CALL
    if extra and args.command != "train":
        parser.print_usage(sys.stderr)
        return _error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "score":
            return cmd_score(args)
        if args.command == "worklist":
            return cmd_worklist(args)
        if args.command == "train":
            return cmd_train(args, extra)
        if args.command == "data":
            return cmd_data(args)
        if args.command == "download":
            return cmd_download(args)
        if args.command == "distill":
            return cmd_distill(args)
        if args.command == "lowrank":
            return cmd_lowrank(args)
        return args.handler(args)
    except KeyboardInterrupt:
        print("claimsift: interrupted; rerun with --resume to continue a JSONL --output", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
