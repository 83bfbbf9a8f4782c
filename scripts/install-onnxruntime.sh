#!/usr/bin/env bash
# Installs ONNX Runtime 1.31.1, the release explain's `ort` backend is built for (ort
# 2.0.0-rc.15, API 31), from PyPI's `onnxruntime` wheel into a Python virtual environment,
# and prints the absolute path of its shared library. Everything else goes to stderr, so:
#
#   export ORT_DYLIB_PATH="$(scripts/install-onnxruntime.sh)"
#   cargo run --release -p explain-cli --features ort -- shap --backend ort ...
#
# Usage: scripts/install-onnxruntime.sh [VENV_DIR]
#   VENV_DIR  where to create the environment (default: .venv-ort in the repository root,
#             ignored by git). Re-running is cheap: an installed library is reused.
# Needs python3 with the venv module (Debian: apt-get install python3-venv) and access to
# PyPI (or a pip mirror configured as usual, e.g. PIP_INDEX_URL). Only the onnxruntime wheel
# itself is installed (--no-deps): its library needs nothing but libc and libstdc++.
set -euo pipefail

version=1.31.1
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/.venv-ort}"
python="${PYTHON:-python3}"

find_lib() {
    # Linux: libonnxruntime.so.1.31.1; macOS: libonnxruntime.1.31.1.dylib.
    find "$venv" -path '*/site-packages/onnxruntime/capi/*' \
        \( -name "libonnxruntime.so.$version" -o -name "libonnxruntime.$version.dylib" \) \
        -print -quit 2>/dev/null || true
}

lib="$(find_lib)"
if [ -z "$lib" ]; then
    if [ ! -x "$venv/bin/python" ]; then
        echo "creating a virtual environment in $venv" >&2
        "$python" -m venv "$venv" >&2 || {
            echo "error: '$python -m venv' failed; install Python's venv module (Debian: python3-venv)" >&2
            exit 1
        }
    fi
    echo "installing onnxruntime==$version from PyPI into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        "onnxruntime==$version" >&2
    lib="$(find_lib)"
fi
if [ -z "$lib" ]; then
    echo "error: onnxruntime $version is installed in $venv, but no libonnxruntime $version library was found in it" >&2
    exit 1
fi
# An absolute path, without symbolic links.
cd "$(dirname "$lib")"
echo "$(pwd -P)/$(basename "$lib")"
