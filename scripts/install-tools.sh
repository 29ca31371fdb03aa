#!/usr/bin/env bash
# Installs the external EDA tools nmpu drives (Verilator, Yosys, Icarus Verilog, nextpnr-ice40),
# the osu018 standard-cell library (qflow-tech-osu018) and Fashion-MNIST (dataset-fashion-mnist)
# from Debian packages, and FuseSoC from PyPI, when any is missing.
# Idempotent: does nothing when all are present.
set -euo pipefail

declare -A pkg=([verilator]=verilator [yosys]=yosys [iverilog]=iverilog [nextpnr-ice40]=nextpnr-ice40)
missing=()
for tool in "${!pkg[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg[$tool]}")
done
liberty=/usr/share/qflow/tech/osu018/osu018_stdcells.lib
[ -f "$liberty" ] || missing+=(qflow-tech-osu018)
# Fashion-MNIST (Expat licence) for the network-accuracy runs.
fashion=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[ -f "$fashion" ] || missing+=(dataset-fashion-mnist)

# FuseSoC (PyPI) in its own virtual environment: the check that rtl_out/nmpu.core works.
fusesoc_venv="${NMPU_FUSESOC_VENV:-/opt/nmpu-fusesoc}"
if [ ! -x "$fusesoc_venv/bin/fusesoc" ]; then
    echo "install-tools: FuseSoC missing; installing it from PyPI into $fusesoc_venv" >&2
    python3 -m venv "$fusesoc_venv" && "$fusesoc_venv/bin/pip" install -q fusesoc >/dev/null || {
        echo "install-tools: cannot install FuseSoC (python3 -m venv $fusesoc_venv && $fusesoc_venv/bin/pip install fusesoc)" >&2
        exit 1
    }
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "install-tools: missing ${missing[*]}; installing from Debian packages" >&2
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-tools: apt-get not found; install ${missing[*]} with your package manager" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=sudo; else
        echo "install-tools: not root and no sudo; run: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for tool in "${!pkg[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install-tools: $tool still missing" >&2; exit 1; }
done
[ -f "$liberty" ] || { echo "install-tools: $liberty still missing" >&2; exit 1; }
[ -f "$fashion" ] || { echo "install-tools: $fashion still missing" >&2; exit 1; }
echo "install-tools: $(verilator --version | head -1); $(yosys -V); $(iverilog -V 2>&1 | head -1)" >&2
