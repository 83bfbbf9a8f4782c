#!/usr/bin/env bash
# The numerics study (benches/NUMERICS.md): the sample models' outputs under each of tract's
# x86-64 kernel families, taken on this machine by editing tract's view of the CPU
# (TRACT_CPU_ISA removes features, as on a CPU without them), plus the portable mode; then
# how far each family's outputs are from the first one's, and which kernels each picked.
#
#   benches/numerics.sh [OUT_DIR]      (default: target/numerics)
#
# Removing a feature this CPU lacks changes nothing, so run it on the most capable machine
# at hand (the table names the cohorts actually reached).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/numerics}"
mkdir -p "$out"
cargo build --release -p explain-benches --bin numerics >/dev/null
bin=target/release/numerics
x512="-avx512f,-avx512vnni,-avx512fp16"
declare -a names=(native avx2-fma avx-fma-no-avx2 avx-only no-avx)
declare -A isa=(
    [native]=""
    [avx2-fma]="$x512"
    [avx-fma-no-avx2]="-avx2,-avxvnni,$x512"
    [avx-only]="-avx2,-fma,-f16c,-avxvnni,$x512"
    [no-avx]="-avx,-avx2,-fma,-f16c,-avxvnni,$x512"
)
for n in "${names[@]}"; do
    TRACT_CPU_ISA="${isa[$n]}" "$bin" dump "$out/$n.json"
done
"$bin" dump "$out/portable.json" --portable
TRACT_CPU_ISA="-avx2,$x512" "$bin" dump "$out/portable-on-avx-fma.json" --portable
files=()
for n in "${names[@]:1}" portable portable-on-avx-fma; do files+=("$out/$n.json"); done
"$bin" compare "$out/native.json" "${files[@]}" > "$out/compare-native.md"
"$bin" compare "$out/portable.json" "$out/portable-on-avx-fma.json" "$out/no-avx.json" > "$out/compare-portable.md"
for n in "${names[@]}" portable; do
    python3 - "$out/$n.json" "$n" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["platform"]
k = p["kernels"]
mm = sorted({m for v in d["models"].values() for m in (v["matmul"] or "").split(", ") if m})
print(f"| {sys.argv[2]} | {', '.join(p['cpu_features']) or '-'} | {', '.join(mm)} | {k.get('sigmoid')} | {k.get('tanh')} | {k.get('exp')} |")
PY
done > "$out/kernels.md"
cat "$out/kernels.md" "$out/compare-native.md" "$out/compare-portable.md"
