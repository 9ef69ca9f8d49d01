#!/usr/bin/env bash
# GPU measurements, run from the repository root on a machine with a CUDA GPU:
#   speed:    claimsift (bf16; its own worker count, then 0 and 6 host-side workers) vs its forward pass
#             alone vs its host path alone vs transformers.pipeline                -> $RESULTS/speed_gpu.md
#   trace:    where the process feeding the GPU waits or works, per worker count     -> $RESULTS/trace_gpu.jsonl
#   training: with TRAIN=1, the default model's training command, timed           -> $RESULTS/gpu_train/
# Each step has its own time limit so one failure still leaves the other's results.
set -uo pipefail
RESULTS=${RESULTS:-eval/results}
PY=${PYTHON:-python}
WORK=${WORK:-/tmp/claimsift-gpu}
mkdir -p "$RESULTS" "$WORK"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
timeout "${BENCH_TIMEOUT:-420}" "$PY" -m claimsift.eval.bench --model default --sentences "${SENTENCES:-30000}" \
    --device cuda --workers "${WORKERS:-0,6}" --repeats "${REPEATS:-2}" --warm-all --output "$RESULTS/speed_gpu.md"
echo "bench exit $?"
# where the process feeding the GPU spends its time, first (cold) and second (warm) run per worker count
timeout "${TRACE_TIMEOUT:-150}" "$PY" -m claimsift.eval.trace --model default --sentences "${SENTENCES:-30000}" \
    --device cuda --workers "${TRACE_WORKERS:-0,6,12}" --output "$RESULTS/trace_gpu.jsonl"
echo "trace exit $?"
[ "${TRAIN:-0}" = 1 ] || exit 0
mkdir -p "$RESULTS/gpu_train"
start=$(date +%s)
timeout "${TRAIN_TIMEOUT:-420}" "$PY" -m claimsift.cli train --config training/configs/window.json \
    --output_dir "$WORK/run" --model_dir "$WORK/model" ${TRAIN_ARGS:-} 2>&1 | grep -v "it/s\]$" | tail -40
echo "train exit ${PIPESTATUS[0]} after $(( $(date +%s) - start )) s"
cp "$WORK/model/metrics.json" "$WORK/model/README.md" "$RESULTS/gpu_train/" 2>/dev/null || echo "no trained model to copy"
