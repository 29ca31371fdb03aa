#!/usr/bin/env bash
# Lints the generated Verilog: every block of the filelist DIR/nmpu.f that `nmpu generate`
# writes (one top module per file, named as the file), with the three tools, failing on any
# warning that is not waived in constraints/verilator.vlt:
#   Verilator --lint-only -Wall; Icarus -g2005 -Wall; Yosys hierarchy -check, proc,
#   check -assert, and (unless --no-synth) a hierarchical synth with an assertion of no latches
#   (not flattened: a latch is inferred inside the module that describes it, so every module
#   synthesized once is enough, and the 256-column blocks take seconds instead of minutes;
#   a structural block, one without an `always`, is checked but not synthesized: its parts
#   are blocks of their own); then every lint target of the FuseSoC core file nmpu.core.
# Every block is read with all the files of the filelist, so a block that instantiates
# others finds them.
# Usage: scripts/lint-rtl.sh DIR [--no-synth]     (DIR holds what `nmpu generate` writes)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$1"; synth=1
[ "${2:-}" = "--no-synth" ] && synth=0
[ -f "$dir/nmpu.f" ] || { echo "lint-rtl: $dir/nmpu.f not found (run: make rtl)" >&2; exit 1; }
echo "lint-rtl: $(verilator --version | head -1); $(iverilog -V 2>&1 | head -1); $(yosys -V)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

# lint_one "FILES" TOP [SYNTH]: the three tools on one generated block (SYNTH 0: no synthesis).
lint_one() {
    local v="$1" top="$2" synth="${3:-$synth}"
    verilator --lint-only -Wall "$root/constraints/verilator.vlt" --top-module "$top" $v 2>"$tmp/verilator.log" || {
        cat "$tmp/verilator.log" >&2; echo "lint-rtl: $top: verilator failed" >&2; exit 1; }
    if grep -q '%Warning' "$tmp/verilator.log"; then cat "$tmp/verilator.log" >&2; exit 1; fi
    echo "lint-rtl: $top: verilator -Wall clean (waivers: constraints/verilator.vlt)"

    iverilog -g2005 -Wall -s "$top" -o "$tmp/a.out" $v 2>"$tmp/iverilog.log" || { cat "$tmp/iverilog.log" >&2; exit 1; }
    if [ -s "$tmp/iverilog.log" ]; then cat "$tmp/iverilog.log" >&2; echo "lint-rtl: $top: iverilog warnings" >&2; exit 1; fi
    echo "lint-rtl: $top: iverilog -g2005 -Wall clean"

    local script="read_verilog $v; hierarchy -check -top $top; proc; check -assert"
    if [ "$synth" = 1 ]; then
        script="$script; synth -top $top; select -assert-none t:\$dlatch t:\$adlatch t:\$_DLATCH_* t:\$_DLATCHSR_*; tee -o $tmp/stat.txt stat"
    fi
    yosys -q -p "$script" >"$tmp/yosys.log" 2>&1 || { cat "$tmp/yosys.log" >&2; echo "lint-rtl: $top: yosys failed" >&2; exit 1; }
    if [ "$synth" = 1 ]; then
        local cells ffs
        # Totals of the whole hierarchy (the section after "design hierarchy"; a design of
        # one module has no such section).
        sed -n '/design hierarchy/,$p' "$tmp/stat.txt" >"$tmp/total.txt"
        [ -s "$tmp/total.txt" ] || cp "$tmp/stat.txt" "$tmp/total.txt"
        cells=$(grep -m1 "Number of cells" "$tmp/total.txt" | awk '{print $4}')
        ffs=$(grep -E '\$_(S?DFF|DFFE|SDFFE|SDFFCE)[A-Z0-9_]*' "$tmp/total.txt" | awk '{s+=$2} END {print s+0}')
        echo "lint-rtl: $top: yosys check -assert clean; synth: no latches, $cells cells, $ffs flip-flops"
    else
        echo "lint-rtl: $top: yosys hierarchy/proc/check -assert clean"
    fi
}

files=""
while read -r f; do [ -n "$f" ] && files="$files $dir/$f"; done <"$dir/nmpu.f"
while read -r f; do
    [ -n "$f" ] || continue
    if grep -q "always" "$dir/$f"; then lint_one "$files" "${f%.v}"; else lint_one "$files" "${f%.v}" 0; fi
done <"$dir/nmpu.f"

# The FuseSoC core file: every lint target runs through FuseSoC (edalize -> Verilator).
if [ -f "$dir/nmpu.core" ]; then
    fusesoc="${NMPU_FUSESOC_VENV:-/opt/nmpu-fusesoc}/bin/fusesoc"
    [ -x "$fusesoc" ] || { echo "lint-rtl: $fusesoc not found (run: make deps)" >&2; exit 1; }
    core=$(sed -n 's/^name: //p' "$dir/nmpu.core")
    cores="$(cd "$dir" && pwd)"
    for target in $(sed -n 's/^  \(lint_[a-z0-9_]*\):$/\1/p' "$dir/nmpu.core"); do
        (cd "$tmp" && "$fusesoc" --cores-root "$cores" run --build-root "$tmp/fusesoc" \
            --target "$target" "$core") >"$tmp/fusesoc.log" 2>&1 || {
            cat "$tmp/fusesoc.log" >&2; echo "lint-rtl: fusesoc $target failed" >&2; exit 1; }
        echo "lint-rtl: fusesoc run --target $target $core: clean"
    done
fi
