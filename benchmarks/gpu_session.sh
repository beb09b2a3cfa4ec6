#!/usr/bin/env bash
# One device-machine session: the gpu-marked tests, then the CUDA speed benchmark.
# Run from the repository root on a machine with CUDA, CuPy and torch already installed:
#     OUT=/some/folder bash benchmarks/gpu_session.sh
# Writes $OUT/gpu_tests.txt, $OUT/gpu_speed.txt and $OUT/gpu_profile.txt.
set -u
OUT=${OUT:-/tmp/minicnn-gpu}
mkdir -p "$OUT"
export PYTHONPATH=. NUMBA_CACHE_DIR=/tmp/numba-cache
{
  date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c "import sys, cupy, numpy, torch; print(sys.version.split()[0], 'cupy', cupy.__version__, 'numpy', numpy.__version__, 'torch', torch.__version__)"
  timeout 330 python3 -m pytest -m gpu -q -rs --tb=short -p no:cacheprovider
  echo "pytest exit code $?"
} >"$OUT/gpu_tests.txt" 2>&1
timeout 200 python3 benchmarks/speed.py --device cuda --batches 32 128 --processes 2 --repeats 20 \
  >"$OUT/gpu_speed.txt" 2>&1
echo "speed exit code $?" >>"$OUT/gpu_speed.txt"
(cd benchmarks && timeout 60 python3 profile_step.py --device cuda --top 30) >"$OUT/gpu_profile.txt" 2>&1
tail -5 "$OUT/gpu_tests.txt"; cat "$OUT/gpu_speed.txt"; head -45 "$OUT/gpu_profile.txt"
