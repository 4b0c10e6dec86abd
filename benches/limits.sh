#!/bin/bash
# Memory and stopping at scale (docs/performance.md): the peak memory of runs of 10^4 to 10^7
# precincts beside recount's estimate (the timing block's `peak_memory_mib` and
# `memory_estimate_mib`; Linux), and how long Ctrl-C (SIGINT) takes to stop a run of about a
# million precincts with each sampler, after STOP_AT seconds (default 5). The large countries
# are odihr-43 and inverse-odihr with every region's precincts and voters times 100, and
# odihr-43's regions copied ten times over on top (9.7 million precincts).
# Usage: benches/limits.sh [BINARY]   (default: target/release/recount, built first)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin=target/release/recount
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" show odihr-43 --json > "$work/odihr.json"
"$bin" show inverse-odihr --json > "$work/inverse.json"
python3 - "$work" <<'EOF'
import copy, json, sys
work = sys.argv[1]
def scaled(name, factor, copies):
    v = json.load(open(f"{work}/{name}.json"))
    regions = []
    for r in v["regions"]:
        for key in ("precincts", "registered", "evoting_precincts"):
            r[key] *= factor
        for i in range(copies):
            c = copy.deepcopy(r)
            c["name"] = r["name"] + ("" if copies == 1 else f" {i + 1}")
            regions.append(c)
    v["regions"] = regions
    for key in ("precincts", "registered"):
        c = v["country"][key]
        if isinstance(c, dict):
            c["value"] *= factor * copies
        else:
            v["country"][key] = c * factor * copies
    return v
for name, out, factor, copies in [("odihr", "odihr-x100", 100, 1),
                                  ("odihr", "odihr-x1000", 100, 10),
                                  ("inverse", "inverse-x100", 100, 1)]:
    json.dump(scaled(name, factor, copies), open(f"{work}/{out}.json", "w"))
EOF
echo "scenario | precincts | sampler | threads | trials | peak MiB | estimate MiB | estimate / peak"
while read -r scenario sampler threads trials; do
  rm -rf "$work/out"
  [ -f "$work/$scenario.json" ] && path="$work/$scenario.json" || path=$scenario
  "$bin" run "$path" --trials "$trials" --sampler "$sampler" --threads "$threads" --quiet \
    --out "$work/out" > /dev/null
  python3 - "$work/out" "$scenario" "$sampler" "$threads" "$trials" <<'EOF'
import glob, json, sys
out, scenario, sampler, threads, trials = sys.argv[1:]
v = json.load(open(glob.glob(f"{out}/*/run-*.json")[0]))
t = v["timing"]
peak, est = t["peak_memory_mib"], t["memory_estimate_mib"]
print(f"{scenario} | {v['precincts']:,} | {sampler} | {threads} | {trials} | {peak:.1f} | {est:.1f} | {est / peak:.2f}")
EOF
done <<'RUNS'
odihr-43 exact 2 128
inverse-odihr pooled 2 640
odihr-x100 exact 1 4
odihr-x100 pooled 2 128
odihr-x100 pooled 8 512
inverse-x100 exact 1 4
inverse-x100 pooled 2 128
inverse-x100 pooled 8 512
odihr-x1000 pooled 2 128
RUNS
echo
echo "sampler | seconds from SIGINT to exit | trials kept"
for sampler in exact fast pooled; do
  rm -rf "$work/out"
  "$bin" run "$work/odihr-x100.json" --trials 1000000 --sampler "$sampler" --quiet \
    --out "$work/out" > /dev/null 2>&1 &
  pid=$!
  sleep "${STOP_AT:-5}"
  start=$(date +%s.%N)
  kill -INT "$pid"
  wait "$pid" || true
  end=$(date +%s.%N)
  kept=$(python3 -c "import glob, json; print(json.load(open(glob.glob('$work/out/*/*.partial.json')[0]))['partial']['trials_done'])")
  echo "$sampler | $(python3 -c "print(f'{$end - $start:.2f}')") | $kept"
done
