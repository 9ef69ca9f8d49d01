#!/usr/bin/env bash
# What an extra training source changes (issue: --extra-train), measured on every split and external set.
#
# Trains the fast default recipe (training/configs/distilled_fast.json) twice, without and with a
# seeded sample of PolNeAR's *train*-split articles (silver labels, research use only; never shipped),
# then scores both with the harness. Usage, from the repository root:
#   bash eval/extra_train.sh ../shared/external [fraction of PolNeAR train articles, default 0.25]
# Writes runs/extra/ (data, models) and eval/results/extra_train/ (comparison and external sets).
# Set BASELINE=runs/distilled_fast/model to reuse a baseline trained already.
set -euo pipefail
EXTERNAL=${1:?usage: bash eval/extra_train.sh PATH/TO/shared/external [FRACTION]}
FRACTION=${2:-0.25}
PYTHON=${PYTHON:-python}
mkdir -p runs/extra
"$PYTHON" - "$EXTERNAL/polnear_attribution.jsonl" runs/extra/polnear_train.jsonl "$FRACTION" <<'PY'
import json, random, sys
src, out, fraction = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = [json.loads(line) for line in open(src, encoding="utf-8")]
docs = sorted({r["doc"] for r in rows if r["doc"].startswith("polnear-train-")})
keep = set(random.Random(0).sample(docs, round(len(docs) * fraction)))
with open(out, "w", encoding="utf-8") as f:
    for r in rows:
        if r["doc"] in keep:  # whole articles: unlabelled (null) sentences serve as context only
            f.write(json.dumps({k: r.get(k) for k in ("doc", "i", "text")} | {"label": r["mapped_label"]}) + "\n")
print(f"{len(keep)} of {len(docs)} PolNeAR train articles -> {out}")
# PolNeAR's own dev and test articles, never trained on: the fair PolNeAR figure for both models
with open(out.replace("_train", "_heldout"), "w", encoding="utf-8") as f:
    for r in rows:
        if not r["doc"].startswith("polnear-train-"):
            f.write(json.dumps(r) + "\n")
PY
BASELINE=${BASELINE:-}
if [ -z "$BASELINE" ]; then
  "$PYTHON" -m claimsift.cli train --config training/configs/distilled_fast.json
  BASELINE=runs/distilled_fast/model
fi
"$PYTHON" -m claimsift.cli train --config training/configs/distilled_fast.json \
  --extra-train runs/distill/unlabelled.jsonl:1.0,runs/extra/polnear_train.jsonl:0.5 \
  --output-dir runs/extra/polnear --model-dir runs/extra/polnear/model
"$PYTHON" -m claimsift.eval.make_results --models "$BASELINE,runs/extra/polnear/model" \
  --external "$EXTERNAL" --external-limit 1000 --output-dir eval/results/extra_train
# external.md samples PolNeAR from all its splits, train included; this file scores held-out articles only
for model in "$BASELINE" runs/extra/polnear/model; do
  printf '# %s on PolNeAR dev+test articles\n\n' "$model"
  "$PYTHON" -m claimsift.cli eval-external polnear runs/extra/polnear_heldout.jsonl --model "$model" --limit 1000
  printf '\n'
done > eval/results/extra_train/polnear_heldout.md
