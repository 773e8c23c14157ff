#!/usr/bin/env bash
# The GPU check of docs/gpu.md: the `cuda` tests, scoring throughput per search.eval_batch (hidden covariance, the
# RNN suite, the BERT suite), model build times and RNN training against cuDNN's LSTM, written into one report.
#
#   bash scripts/gpu_check.sh prepare            # here, with network: wheels of what the GPU image lacks, into .whl/
#   bash scripts/gpu_check.sh run OUT [STAGES]   # on the GPU machine: install, then STAGES -> OUT/gpu_report.md
#
# STAGES: a comma list of install,tests,hidden_cov,rnn_suite,bert_suite,build,train (default: all of them). Each
# stage has its own time limit (seconds below) and appends to the report as soon as it ends, so a stage that runs
# out of time loses only itself; all of them together stay under 10 minutes. The report's GPU figures are the ones
# docs/gpu.md lists as not yet measured: compare them with its goals.
set -uo pipefail
cd "$(dirname "$0")/.."

# What tfnas needs beyond the GPU image's packages (KINDS.md of the device tool lists them), at the versions tested here.
WHEELS=(optuna==5.1.0 alembic==1.20.1 SQLAlchemy==2.1.9 colorlog==6.12.0 Mako==1.4.3 hydra-core==1.3.8 omegaconf==2.3.1)
SDISTS=(antlr4-python3-runtime==4.9.3)  # hydra's parser runtime: no wheel on PyPI, built here (pure Python)

prepare() {
  local exclude
  exclude=$(git rev-parse --git-path info/exclude)
  grep -qx '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >> "$exclude"
  mkdir -p .whl
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "${WHEELS[@]}"
  python3 -m pip wheel -q --no-deps -w .whl "${SDISTS[@]}"
  ls .whl
  echo "carry .whl in the device call: run(command='bash scripts/gpu_check.sh run \$OUT', carry=['.whl'])"
}

stage() {  # stage NAME SECONDS COMMAND...: run it with a time limit, its output into the log and the report
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  echo "## $name" >> "$REPORT"
  echo '```' >> "$REPORT"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local status=$?
  tail -n 60 "$OUT/$name.log" >> "$REPORT"
  echo '```' >> "$REPORT"
  if [ $status -eq 124 ]; then
    echo "**$name: stopped at its ${limit} s limit** (the lines above are what it had printed)" >> "$REPORT"
  fi
  echo "$name: exit status $status, $((SECONDS - start)) s" | tee -a "$REPORT"
  echo >> "$REPORT"
}

wanted() { [[ ",$STAGES," == *",$1,"* ]]; }

run() {
  OUT=${1:?usage: gpu_check.sh run OUT [STAGES]}
  STAGES=${2:-install,tests,hidden_cov,rnn_suite,bert_suite,build,train}
  REPORT=$OUT/gpu_report.md
  mkdir -p "$OUT"
  export PYTHONUNBUFFERED=1
  if wanted install; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
      || { echo "no wheels in .whl/: run 'bash scripts/gpu_check.sh prepare' here and carry .whl"; exit 2; }
  fi
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  if wanted install; then
    python3 -m pip install -q --no-deps --no-build-isolation -e . || exit 2
  fi
  {
    echo "# tfnas GPU check, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
    python3 -c "import sys, torch, transformers; print('python', sys.version.split()[0], '| torch', torch.__version__,
'| transformers', transformers.__version__, '| CUDA available:', torch.cuda.is_available())"
    echo
  } > "$REPORT"
  wanted tests && stage cuda_tests 200 python3 -m pytest -q -p no:cacheprovider -n 0 -m cuda -rs tests/e2e/test_cuda.py
  wanted hidden_cov && stage hidden_cov 50 tfnas bench --space rnn --metrics hidden_cov --archs 64 --device cuda \
    --eval-batch 1,8,32 --rounds 2 --out "$OUT/eval_batch_hidden_cov.md"
  wanted rnn_suite && stage rnn_suite 80 tfnas bench --space rnn --metrics paper --archs 32 --device cuda \
    --eval-batch 1,8,32 --rounds 1 --out "$OUT/eval_batch_rnn_suite.md"
  wanted bert_suite && stage bert_suite 60 tfnas bench --space bert --metrics paper --archs 32 --device cuda \
    --eval-batch 1,8,32 --rounds 1 --out "$OUT/eval_batch_bert_suite.md"
  if wanted build; then
    stage build_rnn 20 tfnas bench --space rnn --archs 20 --build-time --device cuda --out "$OUT/build_time_rnn.md"
    stage build_bert 20 tfnas bench --space bert --archs 10 --build-time --device cuda --out "$OUT/build_time_bert.md"
  fi
  wanted train && stage train 90 tfnas bench train --space rnn --device cuda --steps 20 --rounds 2 --warmup 3 \
    --out "$OUT/train_rnn.md"
  echo "report: $REPORT"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) sed -n '2,11p' "$0"; exit 2 ;;
esac
