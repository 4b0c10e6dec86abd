#!/bin/bash
# Interleaved wall-clock comparison of two recount binaries (docs/performance.md): the scenarios
# in $SCENARIOS (default odihr-43, forward), the samplers in $SAMPLERS (default exact fast; e.g.
# SAMPLERS="exact fast pooled" SCENARIOS="odihr-43 inverse-odihr"), 1 and 2 threads, REPS
# repetitions; prints the precinct-trials/s each run reports and the load average.
# Usage: benches/compare.sh OLD_BINARY NEW_BINARY [TRIALS] [REPS]
set -euo pipefail
old=$1 new=$2 trials=${3:-512} reps=${4:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for rep in $(seq "$reps"); do
  for threads in 1 2; do
    for bin in "$old" "$new"; do
      for scenario in ${SCENARIOS:-odihr-43}; do
        for sampler in ${SAMPLERS:-exact fast}; do
          rate=$("$bin" run "$scenario" --trials "$trials" --threads "$threads" --quiet \
            --sampler "$sampler" --force --out "$out" | grep -o '[0-9.e+]* precinct-trials/s')
          echo "rep $rep, $threads thread(s), $bin, $scenario, $sampler: $rate (load $(cut -d' ' -f1 /proc/loadavg))"
        done
      done
    done
  done
done
