#!/usr/bin/env bash
# Checks that a refactor changed no output: builds BASE (a git ref) and the working tree,
# runs both `nmpu` binaries on the same inputs and compares the files byte for byte:
#   - `nmpu generate` for configs/default.toml and the unfused reference configs
#     (verification/reference/{default,narrow,wide}.toml);
#   - `nmpu compare --json` (default config, synthetic tile);
#   - `nmpu tune` (default config): the tuned TOML and its Pareto CSV, JSON and SVG;
#   - `nmpu report --json` with the times and tool versions taken out (jq); on the default
#     config (about 2 minutes each side), or with --quick on verification/reference/default.toml
#     (one lane of 8 columns, seconds).
# Usage: scripts/check-identical.sh BASE [--quick]      e.g. scripts/check-identical.sh HEAD~5
# Needs the EDA tools (make deps) and jq.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="${1:?usage: scripts/check-identical.sh BASE [--quick]}"
quick=0; [ "${2:-}" = "--quick" ] && quick=1
command -v jq >/dev/null || { echo "check-identical: jq not found (apt-get install -y jq)" >&2; exit 1; }
work="$root/build/identical"
rm -rf "$work/out-base" "$work/out-head"; mkdir -p "$work"
if [ ! -d "$work/base" ]; then git -C "$root" worktree add --detach "$work/base" "$base" >/dev/null; fi
git -C "$work/base" checkout -q --detach "$base"
echo "check-identical: building $base ($(git -C "$work/base" rev-parse --short HEAD)) and the working tree" >&2
(cd "$work/base" && cargo build -q --release --locked -p nmpu-cli)
(cd "$root" && cargo build -q --release --locked -p nmpu-cli)

report_cfg="$root/configs/default.toml"
[ "$quick" = 1 ] && report_cfg="$root/verification/reference/default.toml"

snapshot() {  # snapshot BINARY OUTDIR
    local nmpu="$1" out="$2"
    mkdir -p "$out/rtl" "$out/tune"
    for c in configs/default.toml verification/reference/default.toml \
             verification/reference/narrow.toml verification/reference/wide.toml; do
        "$nmpu" generate --config "$root/$c" --out "$out/rtl/${c//\//_}" 2>/dev/null
    done
    "$nmpu" compare --json > "$out/compare.json"
    "$nmpu" tune --confirm 0 --out "$out/tune/tuned.toml" > /dev/null 2>&1
    "$nmpu" report --config "$report_cfg" --json "$out/report.raw.json" > /dev/null 2>&1
    jq -S 'del(.. | .seconds?) | del(.. | .tools?)' "$out/report.raw.json" > "$out/report.json"
    rm "$out/report.raw.json"
}
snapshot "$work/base/target/release/nmpu" "$work/out-base" &
snapshot "$root/target/release/nmpu" "$work/out-head"
wait
if diff -r "$work/out-base" "$work/out-head"; then
    echo "check-identical: identical to $base ($(find "$work/out-head" -type f | wc -l) files)"
else
    echo "check-identical: outputs differ from $base (above)" >&2; exit 1
fi
