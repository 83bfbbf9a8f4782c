#!/usr/bin/env bash
# Regenerate models-sample/speech/ from package registries only (Debian + PyPI); deterministic.
#   PYTHON=/work/venv/bin/python models-sample/speech/fetch.sh [--wheel PATH]
# 1. Debian: the recorded asterisk prompts (8 kHz WAV) in five languages, pinned to 1.6.1-1.
# 2. PyPI: pinned numpy/scipy (resampling), espeakng-loader (bundled libespeak-ng 1.52.0 for the
#    synthetic accents) and onnxruntime (reference numbers only).
# 3. make_samples.py: `pip download --no-deps silero-vad==6.2.3`, unzip the model, cut the windows,
#    write manifest.csv and samples/.  4. evaluate_ort.py: reference_ort.csv, reference_slices_ort.csv.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  asterisk-core-sounds-en-wav=1.6.1-1 asterisk-core-sounds-es-wav=1.6.1-1 \
  asterisk-core-sounds-fr-wav=1.6.1-1 asterisk-core-sounds-it-wav=1.6.1-1 \
  asterisk-core-sounds-ru-wav=1.6.1-1
"$PY" -m pip install -q numpy==2.4.6 scipy==1.17.1 espeakng-loader==0.2.4 onnxruntime==1.31.1
"$PY" "$HERE/make_samples.py" "$@"
"$PY" "$HERE/evaluate_ort.py" --context
