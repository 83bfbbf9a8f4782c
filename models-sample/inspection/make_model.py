#!/usr/bin/env python3
"""Train a small CNN surface-defect classifier on real CC0 textures and export it to ONNX by hand.

Run from the repository root (no network, deterministic, about 5-10 minutes on one CPU core):

    /work/venv/bin/python models-sample/inspection/make_model.py

What it does:

1. Cuts 64x64 grayscale patches from three real CC0 textures bundled in scikit-image
   (`skimage.data.brick()`, `grass()`, `gravel()`), draws generated defects (scratch, spot,
   crack) on half of them at random positions (recording each bounding box), and applies
   lighting variants (normal, dim, bright, uneven).  Every 512x512 texture is split into
   three horizontal bands so that training, held-out test and validation patches never
   share texture pixels: rows 0-319 train, rows 320-415 test, rows 416-511 validation.
2. Trains a small CNN in plain numpy (im2col convolutions, manual backprop, Adam):
       conv3x3(8)-relu-maxpool2-conv3x3(16)-relu-maxpool2-conv3x3(32)-relu-maxpool2
       -conv3x3(32)-relu-GlobalMaxPool-dense(2)-softmax
   (Global *max* pooling: a small defect is a local event; averaging over the whole patch
   diluted it and capped held-out accuracy near 0.76 in a trial run.)
3. Exports it with onnx.helper (opset 17, ir_version 8) to `defect_cnn.onnx` and checks that
   onnxruntime agrees with the numpy forward pass within 1e-5.
4. Writes sample PNGs under `samples/` with `samples.json` (defect kind, bounding box) and
   runs an occlusion check on them.
5. Writes a validation set under `validation/` with `manifest.csv` and reports per-slice
   accuracy / TPR / FPR measured with onnxruntime.

Everything is seeded from numpy default_rng(7); BLAS is forced to one thread (set below,
before numpy is imported) so that training is bit-reproducible.
"""

import os

# Single-threaded BLAS => bit-reproducible float32 matmuls.  Must precede `import numpy`.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
           "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import PIL  # noqa: E402
import skimage  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data as skdata  # noqa: E402

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
IR_VERSION = 8
PRODUCER = "explain-models-sample"
F32 = np.float32
SEED = 7
P = 64  # patch size

SURFACES = ["brick", "grass", "gravel"]
SITES = {"brick": "plant-A", "grass": "plant-B", "gravel": "plant-C"}  # label mapping only
LIGHTINGS = ["normal", "dim", "bright", "uneven"]
KINDS = ["scratch", "spot", "crack"]
# Horizontal bands of each 512x512 texture (rows): disjoint train / test / validation pixels.
BANDS = {"train": (0, 320), "test": (320, 416), "val": (416, 512)}

# Training hyper-parameters.
EPOCHS = 22
STEPS_PER_EPOCH = 160
BATCH = 32
LR = 6e-3
LR_FINAL = 1e-4
N_TEST = 1200
N_VAL_PER_CELL = 40  # per (surface, lighting): 20 ok + 20 defect -> 480 images


def path(*parts):
    return os.path.join(OUT_DIR, *parts)


# ============================================================================ data generation

def load_textures():
    tex = {}
    for s in SURFACES:
        a = getattr(skdata, s)()
        assert a.shape == (512, 512) and a.dtype == np.uint8, (s, a.shape, a.dtype)
        tex[s] = a.astype(F32)
    return tex


YY, XX = np.mgrid[0:P, 0:P].astype(F32) + F32(0.5)  # pixel centres


def seg_dist(ax, ay, bx, by):
    """Distance of every pixel centre to the segment (a, b)."""
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = np.clip(((XX - ax) * dx + (YY - ay) * dy) / max(L2, 1e-6), 0.0, 1.0)
    px, py = ax + t * dx, ay + t * dy
    return np.sqrt((XX - px) ** 2 + (YY - py) ** 2)


def line_mask(points, width):
    d = np.full((P, P), np.inf, dtype=F32)
    for (ax, ay), (bx, by) in zip(points[:-1], points[1:]):
        d = np.minimum(d, seg_dist(ax, ay, bx, by))
    return np.clip(width / 2 + 0.5 - d, 0.0, 1.0).astype(F32)


def draw_defect(rng, kind, margin=6, fix=None):
    """Return (mask in [0,1], target grey level, opacity, polarity) for one defect.

    `fix` (used only for the hand-placed sample images) may override "center" (x, y),
    "length" (scratch), "angle" (radians) and "polarity" ("dark"/"bright"); the random draws
    happen in the same order either way."""
    fix = fix or {}
    if kind == "scratch":
        L = rng.uniform(20, 34)
        th = rng.uniform(0, np.pi)
        L, th = fix.get("length", L), fix.get("angle", th)
        hx, hy = 0.5 * L * np.cos(th), 0.5 * L * np.sin(th)
        cx = rng.uniform(margin + abs(hx), P - margin - abs(hx))
        cy = rng.uniform(margin + abs(hy), P - margin - abs(hy))
        cx, cy = fix.get("center", (cx, cy))
        mask = line_mask([(cx - hx, cy - hy), (cx + hx, cy + hy)], rng.uniform(1.5, 2.5))
        bright = rng.random() < 0.5
    elif kind == "spot":
        rx, ry = rng.uniform(3.5, 7.0), rng.uniform(3.5, 7.0)
        th = rng.uniform(0, np.pi)
        r = max(rx, ry)
        cx = rng.uniform(margin + r, P - margin - r)
        cy = rng.uniform(margin + r, P - margin - r)
        cx, cy = fix.get("center", (cx, cy))
        u = (XX - cx) * np.cos(th) + (YY - cy) * np.sin(th)
        v = -(XX - cx) * np.sin(th) + (YY - cy) * np.cos(th)
        rn = np.sqrt((u / rx) ** 2 + (v / ry) ** 2)
        mask = np.clip((1.0 - rn) * min(rx, ry) + 0.5, 0.0, 1.0).astype(F32)
        bright = rng.random() < 0.5
    elif kind == "crack":
        n = int(rng.integers(5, 8))
        seg = rng.uniform(4.5, 7.5, size=n)
        th0 = rng.uniform(0, 2 * np.pi)
        turns = rng.uniform(-0.7, 0.7, size=n)
        # Walk from the origin, then shift the polyline to a random place that fits.
        pts = [(0.0, 0.0)]
        th = th0
        for k in range(n):
            th += turns[k]
            x, y = pts[-1]
            pts.append((x + seg[k] * np.cos(th), y + seg[k] * np.sin(th)))
        xs = np.array([p[0] for p in pts])
        ys = np.array([p[1] for p in pts])
        w, h = xs.max() - xs.min(), ys.max() - ys.min()
        ox = rng.uniform(margin, max(margin, P - margin - w)) - xs.min()
        oy = rng.uniform(margin, max(margin, P - margin - h)) - ys.min()
        if "center" in fix:  # put the centre of the polyline's bounding box there
            ox = fix["center"][0] - (xs.min() + xs.max()) / 2
            oy = fix["center"][1] - (ys.min() + ys.max()) / 2
        pts = [(x + ox, y + oy) for x, y in pts]
        mask = line_mask(pts, rng.uniform(1.3, 2.3))
        bright = False  # cracks are dark
    else:
        raise ValueError(kind)
    if "polarity" in fix:
        bright = fix["polarity"] == "bright"
    target = rng.uniform(235, 255) if bright else rng.uniform(0, 25)
    alpha = rng.uniform(0.85, 1.0)
    return mask, F32(target), F32(alpha), ("bright" if bright else "dark")


def bbox_of(mask, thr=0.05):
    ys, xs = np.nonzero(mask > thr)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def apply_lighting(rng, img, lighting):
    if lighting == "normal":
        out = img * F32(rng.uniform(0.9, 1.1)) + F32(rng.uniform(-8, 8))
    elif lighting == "dim":
        out = img * F32(rng.uniform(0.45, 0.6))
    elif lighting == "bright":
        out = img * F32(rng.uniform(1.3, 1.5)) + F32(rng.uniform(0, 15))
    elif lighting == "uneven":
        th = rng.uniform(0, 2 * np.pi)
        proj = (XX - P / 2) * np.cos(th) + (YY - P / 2) * np.sin(th)
        t = (proj - proj.min()) / (proj.max() - proj.min())
        g0, g1 = rng.uniform(0.35, 0.6), rng.uniform(1.1, 1.4)
        out = img * (F32(g0) + F32(g1 - g0) * t.astype(F32))
    else:
        raise ValueError(lighting)
    out = out + rng.normal(0.0, 2.0, size=out.shape).astype(F32)  # sensor noise
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def make_patch(rng, tex, surface, band, defect_kind, lighting, fix=None):
    """One 64x64 uint8 patch.  defect_kind in {"none"} + KINDS.  Returns (img, info)."""
    r0, r1 = BANDS[band]
    y0 = int(rng.integers(r0, r1 - P + 1))
    x0 = int(rng.integers(0, 512 - P + 1))
    img = tex[surface][y0:y0 + P, x0:x0 + P]
    k = int(rng.integers(0, 4))
    img = np.rot90(img, k)
    if rng.random() < 0.5:
        img = img[:, ::-1]
    img = np.ascontiguousarray(img)
    info = {"surface": surface, "lighting": lighting, "defect_kind": defect_kind,
            "label": 0 if defect_kind == "none" else 1, "bbox": None, "polarity": None,
            "crop": [x0, y0, k]}
    if defect_kind != "none":
        mask, target, alpha, pol = draw_defect(rng, defect_kind, fix=fix)
        m = alpha * mask
        img = img * (1 - m) + target * m
        info["bbox"] = bbox_of(mask)
        info["polarity"] = pol
        info["mask"] = mask
    return apply_lighting(rng, img, lighting), info


def random_batch(rng, tex, band, n):
    imgs, labels = [], []
    for i in range(n):
        surface = SURFACES[int(rng.integers(0, 3))]
        lighting = LIGHTINGS[int(rng.integers(0, 4))]
        kind = "none" if i % 2 == 0 else KINDS[int(rng.integers(0, 3))]
        img, info = make_patch(rng, tex, surface, band, kind, lighting)
        imgs.append(img)
        labels.append(info["label"])
    return np.stack(imgs), np.array(labels, dtype=np.int64)


def to_input(imgs_u8):
    """uint8 [N,64,64] -> float32 [N,64,64,1] (NHWC, pixel/255) for the numpy model."""
    return (imgs_u8.astype(F32) / F32(255.0))[..., None]


# ============================================================================ numpy CNN (NHWC)

def im2col3(x):
    """x [B,H,W,C] -> cols [B,H,W,9*C] for a 3x3 conv with padding 1 (order ky,kx,c)."""
    B, H, W, C = x.shape
    xp = np.zeros((B, H + 2, W + 2, C), dtype=x.dtype)
    xp[:, 1:-1, 1:-1] = x
    return np.concatenate([xp[:, ky:ky + H, kx:kx + W] for ky in range(3) for kx in range(3)],
                          axis=3)


def col2im3(dcols, C):
    B, H, W, _ = dcols.shape
    dxp = np.zeros((B, H + 2, W + 2, C), dtype=dcols.dtype)
    k = 0
    for ky in range(3):
        for kx in range(3):
            dxp[:, ky:ky + H, kx:kx + W] += dcols[..., k * C:(k + 1) * C]
            k += 1
    return dxp[:, 1:-1, 1:-1]


def conv_fwd(x, Wm, b):
    cols = im2col3(x)
    B, H, W, K = cols.shape
    out = (cols.reshape(-1, K) @ Wm).reshape(B, H, W, -1) + b
    return out, cols


def conv_bwd(dout, cols, Wm, C, need_dx=True):
    B, H, W, F = dout.shape
    d2 = dout.reshape(-1, F)
    dW = cols.reshape(-1, cols.shape[3]).T @ d2
    db = d2.sum(axis=0)
    dx = col2im3((d2 @ Wm.T).reshape(B, H, W, -1), C) if need_dx else None
    return dx, dW, db


def pool_fwd(x):
    B, H, W, C = x.shape
    r = x.reshape(B, H // 2, 2, W // 2, 2, C)
    out = r.max(axis=(2, 4))
    # route the gradient to the first maximum in each window (ky, kx order)
    r2 = r.transpose(0, 1, 3, 5, 2, 4).reshape(B, H // 2, W // 2, C, 4)
    arg = r2.argmax(axis=4)
    return out, arg


def pool_bwd(dout, arg):
    B, h, w, C = dout.shape
    d = np.zeros((B, h, w, C, 4), dtype=dout.dtype)
    np.put_along_axis(d, arg[..., None], dout[..., None], axis=4)
    d = d.reshape(B, h, w, C, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(B, 2 * h, 2 * w, C)
    return d


# Conv layers: (in channels, out channels, followed by 2x2 max-pool?).  All 3x3, pad 1, ReLU.
LAYERS = [(1, 8, True), (8, 16, True), (16, 32, True), (32, 32, False)]
NL = len(LAYERS)
FC = NL + 1  # index of the dense layer's parameters


def init_params(rng):
    p = {}
    for i, (cin, cout, _) in enumerate(LAYERS, start=1):
        p[f"W{i}"] = (rng.normal(0, np.sqrt(2.0 / (9 * cin)), size=(9 * cin, cout))).astype(F32)
        # small positive bias on the first layer so that no filter starts dead on [0,1] input
        p[f"b{i}"] = np.full(cout, 0.1 if i == 1 else 0.0, dtype=F32)
    cl = LAYERS[-1][1]
    p[f"W{FC}"] = (rng.normal(0, np.sqrt(1.0 / cl), size=(cl, 2))).astype(F32)
    p[f"b{FC}"] = np.zeros(2, dtype=F32)
    return p


def forward(p, x, keep=False):
    c = {}
    h = x
    for i, (_, _, pool) in enumerate(LAYERS, start=1):
        a, c[f"cols{i}"] = conv_fwd(h, p[f"W{i}"], p[f"b{i}"])
        c[f"a{i}"] = a
        h = np.maximum(a, 0)
        if pool:
            h, c[f"arg{i}"] = pool_fwd(h)
    # GlobalMaxPool
    B, H, W, C = h.shape
    flat = h.reshape(B, H * W, C)
    c["gidx"] = flat.argmax(axis=1)  # [B, C]: first maximum of each channel
    c["gshape"] = h.shape
    g = np.take_along_axis(flat, c["gidx"][:, None, :], axis=1)[:, 0, :]
    logits = g @ p[f"W{FC}"] + p[f"b{FC}"]
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    prob = e / e.sum(axis=1, keepdims=True)
    if keep:
        c["g"] = g
        return prob, c
    return prob


def backward(p, c, prob, y):
    B = prob.shape[0]
    g = {}
    dlog = prob.copy()
    dlog[np.arange(B), y] -= 1
    dlog /= B
    g[f"W{FC}"] = c["g"].T @ dlog
    g[f"b{FC}"] = dlog.sum(axis=0)
    dg = dlog @ p[f"W{FC}"].T
    B_, H, W, C = c["gshape"]
    dflat = np.zeros((B_, H * W, C), dtype=F32)
    np.put_along_axis(dflat, c["gidx"][:, None, :], dg[:, None, :].astype(F32), axis=1)
    dh = dflat.reshape(B_, H, W, C)
    for i in range(NL, 0, -1):
        cin, _, pool = LAYERS[i - 1]
        if pool:
            dh = pool_bwd(dh, c[f"arg{i}"])
        da = dh * (c[f"a{i}"] > 0)
        dh, g[f"W{i}"], g[f"b{i}"] = conv_bwd(da, c[f"cols{i}"], p[f"W{i}"], cin, need_dx=i > 1)
    return {k: v.astype(F32) for k, v in g.items()}


def predict(p, imgs_u8, bs=256):
    out = [forward(p, to_input(imgs_u8[i:i + bs])) for i in range(0, len(imgs_u8), bs)]
    return np.concatenate(out)


def train(rng, tex, test_x, test_y):
    p = init_params(rng)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    total = EPOCHS * STEPS_PER_EPOCH
    t = 0
    for ep in range(EPOCHS):
        losses, accs = [], []
        for _ in range(STEPS_PER_EPOCH):
            xb, yb = random_batch(rng, tex, "train", BATCH)  # fresh patches every step
            prob, c = forward(p, to_input(xb), keep=True)
            losses.append(float(-np.log(prob[np.arange(BATCH), yb] + 1e-9).mean()))
            accs.append(float((prob.argmax(1) == yb).mean()))
            grads = backward(p, c, prob, yb)
            t += 1
            lr = LR_FINAL + 0.5 * (LR - LR_FINAL) * (1 + np.cos(np.pi * (t - 1) / total))
            for k in p:
                m[k] = b1 * m[k] + (1 - b1) * grads[k]
                v[k] = b2 * v[k] + (1 - b2) * grads[k] * grads[k]
                mh = m[k] / (1 - b1 ** t)
                vh = v[k] / (1 - b2 ** t)
                p[k] = (p[k] - F32(lr) * mh / (np.sqrt(vh) + F32(eps))).astype(F32)
        test_acc = float((predict(p, test_x).argmax(1) == test_y).mean())
        print(f"  epoch {ep + 1:2d}/{EPOCHS}  train loss {np.mean(losses):.4f}  "
              f"train acc {np.mean(accs):.4f}  test acc {test_acc:.4f}", flush=True)
    return p


# ============================================================================ ONNX export

def onnx_conv_weight(Wm, cin):
    """[(ky,kx,c), F] -> ONNX OIHW [F, C, 3, 3]."""
    F = Wm.shape[1]
    return np.ascontiguousarray(Wm.reshape(3, 3, cin, F).transpose(3, 2, 0, 1)).astype(F32)


def export_onnx(p, test_acc, fname):
    def init(name, arr):
        return numpy_helper.from_array(np.ascontiguousarray(np.asarray(arr, dtype=F32)), name=name)

    inits, nodes = [], []
    conv = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    pool = dict(kernel_shape=[2, 2], strides=[2, 2])
    h = "image"
    for i, (cin, _, do_pool) in enumerate(LAYERS, start=1):
        inits.append(init(f"conv{i}.weight", onnx_conv_weight(p[f"W{i}"], cin)))
        inits.append(init(f"conv{i}.bias", p[f"b{i}"]))
        nodes.append(helper.make_node("Conv", [h, f"conv{i}.weight", f"conv{i}.bias"],
                                      [f"conv{i}"], **conv))
        nodes.append(helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"]))
        h = f"relu{i}"
        if do_pool:
            nodes.append(helper.make_node("MaxPool", [h], [f"pool{i}"], **pool))
            h = f"pool{i}"
    inits.append(init("fc.weight", p[f"W{FC}"]))
    inits.append(init("fc.bias", p[f"b{FC}"]))
    nodes += [
        helper.make_node("GlobalMaxPool", [h], ["gmp"]),
        helper.make_node("Flatten", ["gmp"], ["features"], axis=1),
        helper.make_node("Gemm", ["features", "fc.weight", "fc.bias"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "defect_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, P, P])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])],
        initializer=inits)
    doc = ("Surface-defect classifier for 64x64 grayscale inspection patches (sample model of "
           "the explain project; trained on generated defects drawn on the CC0 textures "
           "brick/grass/gravel from scikit-image). Input 'image' [N,1,64,64] float32 NCHW, "
           "values = pixel/255. Output 'probabilities' [N,2]: softmax of [ok, defect]. "
           f"Held-out test accuracy {test_acc:.4f}.")
    model = helper.make_model(graph, producer_name=PRODUCER,
                              opset_imports=[helper.make_opsetid("", OPSET)], doc_string=doc)
    model.ir_version = IR_VERSION
    helper.set_model_props(model, {
        "class_names": json.dumps(["ok", "defect"]),
        "input_preprocessing": "grayscale, NCHW [N,1,64,64], value = pixel/255 (mean 0, std 1)",
        "dataset": "64x64 patches of skimage.data brick/grass/gravel (CC0) with generated "
                   "scratch/spot/crack defects and normal/dim/bright/uneven lighting",
        "architecture": "conv3x3(8)-relu-maxpool2-conv3x3(16)-relu-maxpool2-conv3x3(32)-relu-"
                        "maxpool2-conv3x3(32)-relu-globalmaxpool-dense(2)-softmax",
        "training": f"numpy, Adam lr {LR} cosine to {LR_FINAL}, {EPOCHS} epochs x "
                    f"{STEPS_PER_EPOCH} steps x batch {BATCH} fresh patches, seed {SEED}",
        "test_accuracy": f"{test_acc:.4f}",
    })
    onnx.checker.check_model(model, full_check=True)
    onnx.save_model(model, fname)


def ort_session(fname):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(fname, sess_options=so, providers=["CPUExecutionProvider"])


def ort_predict(sess, imgs_u8):
    x = (imgs_u8.astype(F32) / F32(255.0))[:, None, :, :]
    return sess.run(None, {"image": x})[0]


# ============================================================================ occlusion check

def box_blur(img, r=4):
    """Separable box blur (edge padding) of a float image; used as occlusion baseline."""
    k = 2 * r + 1
    a = np.pad(img, r, mode="edge")
    c = np.cumsum(np.pad(a, ((1, 0), (0, 0))), axis=0)
    a = (c[k:] - c[:-k]) / k
    c = np.cumsum(np.pad(a, ((0, 0), (1, 0))), axis=1)
    return (c[:, k:] - c[:, :-k]) / k


def occlusion(sess, img_u8, grid, baseline):
    """Model probabilities for the image (row 0) and for the image with each grid cell
    replaced by the baseline (rows 1.., row-major: index = row * grid + col)."""
    cell = P // grid
    img = img_u8.astype(F32)
    if baseline == "blur":
        base = box_blur(img)
    else:  # "mean": the image's mean grey level
        base = np.full_like(img, img.mean())
    batch = [img]
    for r in range(grid):
        for c in range(grid):
            o = img.copy()
            o[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell] = \
                base[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell]
            batch.append(o)
    x = (np.stack(batch) / F32(255.0))[:, None].astype(F32)
    return sess.run(None, {"image": x})[0]


def cells_of_bbox(bbox, grid):
    cell = P // grid
    x0, y0, x1, y1 = bbox
    return [r * grid + c for r in range(y0 // cell, (y1 - 1) // cell + 1)
            for c in range(x0 // cell, (x1 - 1) // cell + 1)]


def save_png(img_u8, fname):
    os.makedirs(os.path.dirname(fname), exist_ok=True)
    Image.fromarray(img_u8, mode="L").save(fname, format="PNG", optimize=False, compress_level=9)


def read_png(fname):
    with Image.open(fname) as im:
        assert im.mode == "L" and im.size == (P, P)
        return np.asarray(im, dtype=np.uint8)


def rates(y, pred):
    y, pred = np.asarray(y), np.asarray(pred)
    acc = float((y == pred).mean())
    pos, neg = y == 1, y == 0
    tpr = float((pred[pos] == 1).mean()) if pos.any() else float("nan")
    fpr = float((pred[neg] == 1).mean()) if neg.any() else float("nan")
    return acc, tpr, fpr, int(len(y))


# Hand-placed sample defects (test band, normal lighting).  Centres are 4x4-grid cell centres:
# cell (row r, col c) has centre (16c + 8, 16r + 8).
SAMPLE_RECIPES = [
    ("scratch", "brick", "scratch", {"center": (40, 24), "length": 22, "angle": 0.6,
                                     "polarity": "dark"}),
    ("spot", "grass", "spot", {"center": (24, 40), "polarity": "bright"}),
    ("crack", "gravel", "crack", {"center": (40, 40)}),
    ("clean_brick", "brick", "none", None),
    ("clean_grass", "grass", "none", None),
    ("clean_gravel", "gravel", "none", None),
]


def log_odds(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(np.maximum(p[..., 1], 1e-30)) - np.log(np.maximum(p[..., 0], 1e-30))


def write_samples(sess, tex):
    sample_rng = np.random.default_rng([SEED, 2])
    entries = []
    print("samples and occlusion check: each grid cell replaced by the baseline; cells ranked "
          "by the drop in defect log-odds (row-major cell index):")
    for name, surface, kind, fix in SAMPLE_RECIPES:
        img, info = make_patch(sample_rng, tex, surface, "test", kind, "normal", fix=fix)
        fname = f"samples/{name}.png"
        save_png(img, path(fname))
        assert np.array_equal(read_png(path(fname)), img)
        pr = ort_predict(sess, img[None])[0]
        entry = {"input": fname, "label": info["label"], "defect_kind": info["defect_kind"],
                 "surface": info["surface"], "site": SITES[info["surface"]],
                 "lighting": info["lighting"], "bbox": info["bbox"],
                 "polarity": info["polarity"], "defect_probability": round(float(pr[1]), 6)}
        print(f"  {fname:24s} kind={info['defect_kind']:7s} bbox={info['bbox']} "
              f"p(defect)={pr[1]:.4f}")
        if info["bbox"] is not None:
            x0, y0, x1, y1 = info["bbox"]
            entry["center_cell_4x4"] = ((y0 + y1) // 2 // 16) * 4 + (x0 + x1) // 2 // 16
            entry["center_cell_8x8"] = ((y0 + y1) // 2 // 8) * 8 + (x0 + x1) // 2 // 8
            entry["cells_4x4"] = cells_of_bbox(info["bbox"], 4)
            entry["cells_8x8"] = cells_of_bbox(info["bbox"], 8)
            for grid in (4, 8):  # the cell holding most of the defect's (mask-weighted) pixels
                cs = P // grid
                mass = info["mask"].reshape(grid, cs, grid, cs).sum(axis=(1, 3)).ravel()
                entry[f"main_cell_{grid}x{grid}"] = int(np.argmax(mass))
            occ = {}
            for grid in (4, 8):
                for base in ("blur", "mean"):
                    probs = occlusion(sess, img, grid, base)
                    lo = log_odds(probs)
                    drops = lo[0] - lo[1:]
                    order = [int(i) for i in np.argsort(-drops, kind="stable")]
                    cells = entry[f"cells_{grid}x{grid}"]
                    occ[f"{grid}x{grid}_{base}"] = {
                        "top3": order[:3],
                        "rank_of_main_cell": order.index(entry[f"main_cell_{grid}x{grid}"]) + 1,
                        "rank_of_center_cell": order.index(entry[f"center_cell_{grid}x{grid}"]) + 1,
                        "best_rank_of_bbox_cell": min(order.index(c) for c in cells) + 1,
                        "max_logodds_drop": round(float(drops.max()), 3),
                        "max_prob_drop": round(float(probs[0, 1] - probs[1:, 1].min()), 4),
                    }
            entry["occlusion"] = occ
            print(f"      4x4: main cell {entry['main_cell_4x4']}, bbox-centre cell "
                  f"{entry['center_cell_4x4']}, bbox cells {entry['cells_4x4']}")
            print(f"      8x8: main cell {entry['main_cell_8x8']}, bbox-centre cell "
                  f"{entry['center_cell_8x8']}, bbox cells {entry['cells_8x8']}")
            for k, o in occ.items():
                print(f"      {k:9s} top3 {o['top3']}  rank of main cell {o['rank_of_main_cell']}, "
                      f"of centre cell {o['rank_of_center_cell']},"
                      f"  best rank of a bbox cell {o['best_rank_of_bbox_cell']}  max drop: "
                      f"log-odds {o['max_logodds_drop']}, probability {o['max_prob_drop']}")
        entries.append(entry)
    with open(path("samples.json"), "w", encoding="utf-8") as fh:
        json.dump({"image_size": [P, P],
                   "bbox_format": "[x0, y0, x1, y1] in pixels, x1 and y1 exclusive",
                   "grid_cells": "row-major: index = row * grid + col; 4x4 cells are 16x16 px, "
                                 "8x8 cells are 8x8 px",
                   "occlusion": "each cell replaced by a 9x9 box-blurred copy of the image "
                                "('blur') or by the image mean ('mean'); cells ranked by the "
                                "drop in defect log-odds",
                   "samples": entries}, fh, indent=2)
        fh.write("\n")


# ============================================================================ main

def main():
    t_start = time.time()
    rng = np.random.default_rng(SEED)
    tex = load_textures()

    # Held-out test set (band "test"), balanced, generated once up front.
    test_rng = np.random.default_rng([SEED, 1])
    test_x, test_y = random_batch(test_rng, tex, "test", N_TEST)

    print(f"training ({EPOCHS} epochs x {STEPS_PER_EPOCH} steps x batch {BATCH}) ...", flush=True)
    t0 = time.time()
    params = train(rng, tex, test_x, test_y)
    train_s = time.time() - t0
    test_prob = predict(params, test_x)
    test_acc = float((test_prob.argmax(1) == test_y).mean())
    print(f"training wall time {train_s:.1f} s; held-out test accuracy {test_acc:.4f} "
          f"({int((test_prob.argmax(1) == test_y).sum())}/{N_TEST})")

    onnx_path = path("defect_cnn.onnx")
    export_onnx(params, test_acc, onnx_path)
    sess = ort_session(onnx_path)
    ort_test = ort_predict(sess, test_x)
    max_diff = float(np.abs(ort_test - test_prob).max())
    assert max_diff < 1e-5, max_diff
    ort_test_acc = float((ort_test.argmax(1) == test_y).mean())
    print(f"max |onnxruntime - numpy| over {N_TEST} test patches: {max_diff:.2e}; "
          f"onnxruntime test accuracy {ort_test_acc:.4f}")

    write_samples(sess, tex)

    # ------------------------------------------------------------ validation set
    val_rng = np.random.default_rng([SEED, 3])
    rows = []
    val_imgs = []
    for surface in SURFACES:
        for lighting in LIGHTINGS:
            for i in range(N_VAL_PER_CELL):
                kind = "none" if i % 2 == 0 else KINDS[(i // 2) % 3]
                img, info = make_patch(val_rng, tex, surface, "val", kind, lighting)
                rel = f"validation/{surface}-{lighting}-{i:02d}.png"
                save_png(img, path(rel))
                val_imgs.append(img)
                rows.append({"input": rel, "label": info["label"], "surface": surface,
                             "site": SITES[surface], "lighting": lighting,
                             "defect_kind": kind})
    with open(path("manifest.csv"), "w", encoding="utf-8", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=["input", "label", "surface", "site", "lighting",
                                            "defect_kind"], lineterminator="\n")
        wr.writeheader()
        wr.writerows(rows)

    # Evaluate from the PNG files, as the CLI would.
    with open(path("manifest.csv"), encoding="utf-8") as fh:
        man = list(csv.DictReader(fh))
    vx = np.stack([read_png(path(r["input"])) for r in man])
    assert np.array_equal(vx, np.stack(val_imgs))
    vy = np.array([int(r["label"]) for r in man])
    vpred = ort_predict(sess, vx).argmax(1)
    print(f"validation set: {len(man)} images")
    print(f"  {'slice':24s}   acc    TPR    FPR    n")
    acc, tpr, fpr, n = rates(vy, vpred)
    print(f"  {'overall':24s} {acc:.3f}  {tpr:.3f}  {fpr:.3f}  {n}")
    for col, values in [("surface", SURFACES), ("lighting", LIGHTINGS),
                        ("defect_kind", ["none"] + KINDS)]:
        for val in values:
            sel = np.array([r[col] == val for r in man])
            acc, tpr, fpr, n = rates(vy[sel], vpred[sel])
            print(f"  {col + '=' + val:24s} {acc:.3f}  {tpr:.3f}  {fpr:.3f}  {n}")
    print("  surface x lighting accuracy:")
    for surface in SURFACES:
        accs = []
        for lighting in LIGHTINGS:
            sel = np.array([r["surface"] == surface and r["lighting"] == lighting for r in man])
            accs.append(f"{lighting}={rates(vy[sel], vpred[sel])[0]:.3f}")
        print(f"    {surface:7s} " + "  ".join(accs))
    print("  defect kind x surface TPR:")
    for kind in KINDS:
        tp = []
        for surface in SURFACES:
            sel = np.array([r["surface"] == surface and r["defect_kind"] == kind for r in man])
            tp.append(f"{surface}={rates(vy[sel], vpred[sel])[1]:.3f}")
        print(f"    {kind:7s} " + "  ".join(tp))

    print(f"numpy {np.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}, "
          f"scikit-image {skimage.__version__}, pillow {PIL.__version__}")
    print(f"total wall time {time.time() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
