"""Choose a model's ``min_role_score`` from role F1 on the development splits at each candidate.

A role the tagger is unsure of is more often a fragment ("Prime", "Health Organisation") or no role
at all than a credential to check. This sweeps the threshold under which decoded roles are left
out, prints role exact and token F1 on every split given (corpus dev, test, hard and Wikinews dev
by default), and picks the value with the best mean of the two on ``--select`` (exact F1 rewards
whole credentials, token F1 partly right ones, and a desk reads both): corpus dev and Wikinews dev
pooled, the two development splits, one written here and one real news. Test and hard are there
to see whether the choice carries over, not to choose it.

``python -m claimsift.eval.role_threshold --model default`` prints the table;
``--write FOLDER`` also records the chosen value in that model folder's ``claimsift.json``.
``claimsift train`` and ``claimsift lowrank`` choose it the same way (``tune``) on their own dev
records, unless told not to (``tune_role_score: false``, ``--no-tune-role-score``).

>>> best_threshold({0.0: 0.79, 0.6: 0.82, 0.7: 0.81})
0.6
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from claimsift.data.corpus import load_records, load_wikinews
from claimsift.eval.metrics import attribution_quality

CANDIDATES = (0.0, 0.4, 0.5, 0.6, 0.7)


def best_threshold(f1_by_threshold: dict[float, float]) -> float:
    """The threshold with the highest F1; ties go to the lowest (it keeps more roles)."""
    return max(sorted(f1_by_threshold), key=lambda t: (f1_by_threshold[t], -t))


def role_score(quality: dict) -> float:
    """The selection score: the mean of role exact and token F1 (a missing F1 counts as 0)."""
    return ((quality["exact"]["f1"] or 0.0) + (quality["token"]["f1"] or 0.0)) / 2


def choose(detector, records: list[dict], candidates=CANDIDATES) -> tuple[float, dict[float, dict]]:
    """The candidate with the best ``role_score`` on ``records``, and each candidate's role quality.

    Records without gold roles give every candidate 0, so the lowest (keep every role) is chosen.
    """
    results = {t: by["dev"] for t, by in sweep(detector, {"dev": records}, candidates).items()}
    return best_threshold({t: role_score(q) for t, q in results.items()}), results


def tune(detector, records: list[dict]) -> dict:
    """Set ``detector``'s ``min_role_score`` to the value ``choose`` picks on ``records``.

    Returns the choice (``chosen``, and ``dev_role_score`` by threshold) for metrics and model cards.
    """
    chosen, by = choose(detector, records)
    detector.config = replace(detector.config, min_role_score=chosen)
    return {"chosen": chosen, "dev_role_score": {f"{t:g}": role_score(q) for t, q in by.items()}}


def describe(choice: dict) -> str:
    """One line for a model card: the chosen threshold and the dev score at each candidate."""
    scores = ", ".join(f"{t}: {v:.3f}" for t, v in choice["dev_role_score"].items())
    return (f"roles scored under {choice['chosen']:g} are left out, chosen on dev role F1 (mean of exact and "
            f"token) by threshold: {scores}")


def sweep(detector, splits: dict[str, list[dict]], candidates=CANDIDATES) -> dict[float, dict[str, dict]]:
    """Role quality (``attribution_quality(...)["role"]``) per threshold and split.

    The network's outputs do not depend on the threshold, but decoding is part of scoring, so each
    candidate scores the splits again: simple, and a few seconds a split for the default model.
    """
    config = detector.config
    out: dict[float, dict[str, dict]] = {}
    try:
        for t in candidates:
            detector.config = replace(config, min_role_score=t)
            out[t] = {name: attribution_quality(records, detector.predict_records(records))["role"]
                      for name, records in splits.items()}
    finally:
        detector.config = config
    return out


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"  # no role predicted or none in the gold


def table(results: dict[float, dict[str, dict]], chosen: float) -> str:
    names = list(next(iter(results.values())))
    lines = ["| min_role_score | " + " | ".join(f"{n} exact / token F1" for n in names) + " |",
             "|---:|" + "---:|" * len(names)]
    for t, by in results.items():
        mark = " (chosen)" if t == chosen else ""
        cells = " | ".join(f"{_f(by[n]['exact']['f1'])} / {_f(by[n]['token']['f1'])}" for n in names)
        lines.append(f"| {t:g}{mark} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default", help="default, accurate, or a model folder")
    p.add_argument("--wikinews", default="../shared/wikinews/annotated.jsonl")
    p.add_argument("--select", default="dev+wikinews_dev",
                   help="the split, or splits joined by +, whose pooled role F1 chooses")
    p.add_argument("--write", type=Path, default=None, help="model folder whose claimsift.json gets the value")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    from claimsift.model.detector import ClaimDetector

    splits = {name: load_records(name) for name in ("dev", "test", "hard")}
    if Path(args.wikinews).exists():
        splits["wikinews_dev"] = [r for r in load_wikinews(args.wikinews) if r["split"] == "wikinews_dev"]
    chosen_from = args.select.split("+")
    if not chosen_from or any(name not in splits for name in chosen_from):
        p.error(f"--select {args.select!r}: choose from {sorted(splits)}, joined by +")
    if len(chosen_from) > 1:
        splits[args.select] = [r for name in chosen_from for r in splits[name]]
    results = sweep(ClaimDetector.from_pretrained(args.model), splits)
    pooled = {t: by[args.select] for t, by in results.items()}
    chosen = best_threshold({t: role_score(q) for t, q in pooled.items()})
    print(f"Role exact / token F1 of `{args.model}` by min_role_score; chosen on {args.select}: {chosen:g}\n")
    print(table(results, chosen))
    if args.write is not None:
        path = args.write / "claimsift.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            print(f"error: {path}: cannot read the model config ({e}); pass a model folder", file=sys.stderr)
            return 2
        raw["min_role_score"] = chosen
        path.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote min_role_score={chosen:g} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
