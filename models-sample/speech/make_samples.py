#!/usr/bin/env python3
"""Regenerate everything in models-sample/speech/ except README.md, fetch.sh and the scripts.

Deterministic: a second run writes byte-identical files (checked with sha256sum).
Needs (see fetch.sh, which installs them):
  * Debian packages asterisk-core-sounds-{en,es,fr,it,ru}-wav 1.6.1-1 (recorded prompts, 8 kHz),
  * PyPI numpy 2.4.6, scipy 1.17.1, espeakng-loader 0.2.4 (bundles libespeak-ng 1.52.0),
  * the PyPI wheel silero-vad==6.2.3 (downloaded with `pip download --no-deps`, never installed).
No other network access.

Usage (from the repository root):
  python models-sample/speech/make_samples.py [--wheel PATH/silero_vad-6.2.3-py3-none-any.whl]

Window protocol (see README.md): every manifest item is one 576-sample window at 16 kHz, 16-bit PCM.
The 8 kHz recordings are upsampled with scipy.signal.resample_poly(x, 2, 1) and rounded to int16.
The window is the one with the largest energy (sum of squared int16 samples, exact integer
arithmetic, first maximum on ties) over all 576-sample offsets of the clip ("maxE").  "Pause"
negatives take the window with the smallest energy instead ("minE").
"""
import argparse
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import wave
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOUNDS = "/usr/share/asterisk/sounds"
WIN = 576            # 64 context samples + 512 new samples at 16 kHz
SR = 16000

WHEEL_NAME = "silero_vad-6.2.3-py3-none-any.whl"
WHEEL_SHA256 = "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8"
MODEL_MEMBER = "silero_vad/data/silero_vad_openvino_16k.onnx"
MODEL_SHA256 = "7776b81ad1b0350c15d7f1555943b9232eb53e9ca5d989c6d0cea9ebc8664d87"
LICENSE_MEMBER = "silero_vad-6.2.3.dist-info/licenses/LICENSE"

# asterisk folder -> (language, locale, speaker, gender)
RECORDED = [
    ("en_US_f_Allison", "en", "en-US", "Allison", "female"),
    ("es_MX_f_Allison", "es", "es-MX", "Allison", "female"),
    ("fr_CA_f_June", "fr", "fr-CA", "June", "female"),
    ("it_IT_m_Carlo", "it", "it-IT", "Carlo", "male"),
    ("ru_RU_f_IvrvoiceRU", "ru", "ru-RU", "IvrvoiceRU", "female"),
]
# Files in the asterisk sets that are not speech (checked by ear-free means: streaming VAD
# never exceeds 0.5 on the tones/chimes; tt-monkeys is a recording of monkeys).
NON_SPEECH = {
    "beep.wav": "tone", "beeperr.wav": "tone", "ascending-2tone.wav": "tone",
    "descending-2tone.wav": "tone", "confbridge-join.wav": "chime",
    "confbridge-leave.wav": "chime", "tt-monkeys.wav": "animal",
}
PROMPT_STRIDE = 9     # every 9th prompt of the 478 speech prompts common to all five sets -> 54
PAUSE_STRIDE = 3      # a "pause" negative from every 3rd selected prompt ...
PAUSE_MIN_DB = 30.0   # ... if its quietest window is at least 30 dB below its loudest

# espeak-ng voices: (espeak voice id, language, locale, accent)
ESPEAK_EN = [
    ("en-us", "en-US"), ("en-us-nyc", "en-US-nyc"), ("en", "en-GB"), ("en-gb-x-rp", "en-GB-x-rp"),
    ("en-gb-scotland", "en-GB-scotland"), ("en-gb-x-gbclan", "en-GB-x-gbclan"),
    ("en-gb-x-gbcwmd", "en-GB-x-gbcwmd"), ("en-029", "en-029"),
]
ESPEAK_VARIANTS = [("", "espeak-ng-default", "male"), ("+f3", "espeak-ng-f3", "female")]
ESPEAK_OTHER = [("es-419", "es", "es-419"), ("fr", "fr", "fr-FR"), ("it", "it", "it-IT"),
                ("ru", "ru", "ru-RU")]
PHRASES = {
    "en": ["Turn on the kitchen lights.", "What is the weather like tomorrow?",
           "Set a timer for ten minutes.", "Call my sister on her mobile phone.",
           "Play some relaxing music in the living room.", "Remind me to buy milk this evening."],
    "es": ["Enciende las luces de la cocina.", "¿Qué tiempo hará mañana?",
           "Pon un temporizador de diez minutos.", "Llama a mi hermana a su celular.",
           "Pon música relajante en la sala.", "Recuérdame comprar leche esta noche."],
    "fr": ["Allume les lumières de la cuisine.", "Quel temps fera-t-il demain ?",
           "Mets un minuteur de dix minutes.", "Appelle ma sœur sur son portable.",
           "Mets de la musique relaxante dans le salon.", "Rappelle-moi d'acheter du lait ce soir."],
    "it": ["Accendi le luci della cucina.", "Che tempo farà domani?",
           "Imposta un timer di dieci minuti.", "Chiama mia sorella sul cellulare.",
           "Metti della musica rilassante in soggiorno.", "Ricordami di comprare il latte stasera."],
    "ru": ["Включи свет на кухне.", "Какая погода будет завтра?",
           "Поставь таймер на десять минут.", "Позвони сестре на мобильный.",
           "Включи спокойную музыку в гостиной.", "Напомни мне купить молоко вечером."],
}
PHRASE_IDS = ["lights", "weather", "timer", "call", "music", "remind"]

# Demo prompt: "messages" (about 1 s in every language).  Chosen after measuring, as the common
# prompt whose maxE window gets the highest minimum output over the five languages (0.71-0.78):
# clear positives for explanation demos, NOT a representative sample (the manifest is that).
DEMO_PROMPT = "vm-messages.wav"
# plus one speech window the model misses at cold start (output 0.11), same speaker as above
HARD_PROMPT = ("en_US_f_Allison", "hello-world.wav", "speech_en-US_Allison_hello-world.wav")


# ---------------------------------------------------------------- audio helpers
def read_wav(path, rate):
    with wave.open(path, "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, rate), path
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.int16)


def write_wav(path, x, rate):
    x = np.asarray(x)
    assert x.dtype == np.int16
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())


def resample(x, up, down):
    from scipy.signal import resample_poly
    y = resample_poly(x.astype(np.float64), up, down)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def window_energy(x):
    """Energy of every 576-sample window, exact (int64)."""
    sq = x.astype(np.int64) ** 2
    c = np.concatenate([[0], np.cumsum(sq)])
    return c[WIN:] - c[:-WIN]


def rel(path):
    return os.path.relpath(path, HERE)


# ---------------------------------------------------------------- model
def fetch_model(wheel):
    tmp = None
    if wheel is None:
        tmp = tempfile.mkdtemp(prefix="silero-wheel-")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "-q", "-d", tmp, "silero-vad==6.2.3"], check=True)
        wheel = os.path.join(tmp, WHEEL_NAME)
    h = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
    assert h == WHEEL_SHA256, f"unexpected wheel sha256 {h}"
    with zipfile.ZipFile(wheel) as z:
        model = z.read(MODEL_MEMBER)
        lic = z.read(LICENSE_MEMBER)
    assert hashlib.sha256(model).hexdigest() == MODEL_SHA256
    with open(os.path.join(HERE, "silero_vad_openvino_16k.onnx"), "wb") as f:
        f.write(model)
    with open(os.path.join(HERE, "LICENSE.silero-vad"), "wb") as f:
        f.write(lic)
    if tmp:
        shutil.rmtree(tmp)


# ---------------------------------------------------------------- espeak-ng (one process per utterance)
def espeak_worker(voice, text):
    """Runs in a fresh process: espeak-ng keeps state between utterances in one process
    (the same text comes out slightly different the second time), so each utterance gets
    its own process and is then reproducible."""
    import ctypes
    import espeakng_loader
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    # AUDIO_OUTPUT_SYNCHRONOUS = 2, espeakINITIALIZE_DONT_EXIT = 0x8000
    rate = lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0x8000)
    assert rate == 22050, rate
    # The female variants add breath noise drawn from espeak-ng's random generator, which is
    # seeded from the clock unless it is seeded here.
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_ng_SetRandSeed(1)
    chunks = []
    cbtype = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                              ctypes.c_void_p)

    def cb(wav, n, _events):
        if n > 0:
            chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        return 0
    cb_c = cbtype(cb)
    lib.espeak_SetSynthCallback(cb_c)
    assert lib.espeak_SetVoiceByName(voice.encode()) == 0, voice
    t = text.encode("utf-8")
    lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    # position 0, POS_CHARACTER = 1, end 0, espeakCHARS_UTF8 = 1
    assert lib.espeak_Synth(t, len(t) + 1, 0, 1, 0, 1, None, None) == 0
    lib.espeak_Synchronize()
    sys.stdout.buffer.write(np.concatenate(chunks).astype("<i2").tobytes())


def espeak(voice, text):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--espeak-worker", voice, text],
                         check=True, stdout=subprocess.PIPE).stdout
    return np.frombuffer(out, "<i2").astype(np.int16)


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", help="path to an already downloaded " + WHEEL_NAME)
    ap.add_argument("--espeak-worker", nargs=2, metavar=("VOICE", "TEXT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.espeak_worker:
        espeak_worker(*a.espeak_worker)
        return

    fetch_model(a.wheel)
    for d in ("data", "samples"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)

    rows = []

    def add(path16, x16, start, label, lang, locale, speaker, gender, source, accent, kind, clip,
            orig_rate):
        w = x16[start:start + WIN]
        assert len(w) == WIN
        write_wav(path16, w, SR)
        rows.append(dict(input=rel(path16), label=label, language=lang, locale=locale,
                         speaker=speaker, gender=gender, source=source, accent=accent, kind=kind,
                         orig_rate=orig_rate, clip=clip, offset=start))

    # ---- recorded prompts: the same prompt names in all five languages
    names = None
    for folder, *_ in RECORDED:
        root = os.path.join(SOUNDS, folder)
        found = set()
        for dp, _dn, fn in os.walk(root):
            for f in fn:
                p = os.path.join(dp, f)
                r = os.path.relpath(p, root)
                if f.endswith(".wav") and os.path.getsize(p) > 44 and not r.startswith("silence/"):
                    found.add(r)
        names = found if names is None else names & found
    speech_names = sorted(n for n in names if n not in NON_SPEECH)[::PROMPT_STRIDE]

    for folder, lang, locale, speaker, gender in RECORDED:
        root = os.path.join(SOUNDS, folder)
        odir = os.path.join(HERE, "data", "recorded", locale)
        for i, n in enumerate(speech_names):
            x16 = resample(read_wav(os.path.join(root, n), 8000), 2, 1)
            e = window_energy(x16)
            stem = n[:-4].replace("/", "-")
            add(os.path.join(odir, stem + ".wav"), x16, int(np.argmax(e)), 1, lang, locale,
                speaker, gender, "recorded", locale, "speech", f"{folder}/{n}", 8000)
            if i % PAUSE_STRIDE == 0:
                lo, hi = int(np.argmin(e)), int(np.argmax(e))
                if 10 * np.log10(max(int(e[hi]), 1) / max(int(e[lo]), 1)) >= PAUSE_MIN_DB:
                    add(os.path.join(odir, "pause_" + stem + ".wav"), x16, lo, 0, lang, locale,
                        speaker, gender, "recorded", locale, "pause", f"{folder}/{n}", 8000)
        for n in sorted(NON_SPEECH) + ["silence/1.wav"]:
            kind = NON_SPEECH.get(n, "silence")
            x16 = resample(read_wav(os.path.join(root, n), 8000), 2, 1)
            stem = n[:-4].replace("/", "-")
            spk, gen, acc = (speaker, gender, locale) if kind == "silence" else ("none", "none", "none")
            add(os.path.join(odir, stem + ".wav"), x16, int(np.argmax(window_energy(x16))), 0,
                lang, locale, spk, gen, "recorded", acc, kind, f"{folder}/{n}", 8000)

    # ---- espeak-ng synthetic speech (22050 Hz -> 16 kHz)
    synth = [(v + var, "en", accent.split("-")[0] + "-" + accent.split("-")[1], spk, gen, accent)
             for v, accent in ESPEAK_EN for var, spk, gen in ESPEAK_VARIANTS]
    synth += [(v, lang, locale, "espeak-ng-default", "male", locale) for v, lang, locale in ESPEAK_OTHER]
    for voice, lang, locale, spk, gen, accent in synth:
        for pid, text in zip(PHRASE_IDS, PHRASES[lang]):
            x16 = resample(espeak(voice, text), 320, 441)
            add(os.path.join(HERE, "data", "synthetic", accent, f"{pid}_{spk}.wav"), x16,
                int(np.argmax(window_energy(x16))), 1, lang, locale, spk, gen, "synthetic", accent,
                "speech", f"espeak-ng:{voice}:{text}", 22050)

    cols = ["input", "label", "language", "locale", "speaker", "gender", "source", "accent", "kind",
            "orig_rate", "clip", "offset"]
    with open(os.path.join(HERE, "manifest.csv"), "w", newline="", encoding="utf-8") as f:
        wr = csv.DictWriter(f, cols, lineterminator="\n")
        wr.writeheader()
        wr.writerows(rows)

    # ---- demo inputs for the CLI (same prompt in every language + one tone + silence)
    sdir = os.path.join(HERE, "samples")
    demo = []
    for folder, lang, locale, speaker, gender in RECORDED:
        x16 = resample(read_wav(os.path.join(SOUNDS, folder, DEMO_PROMPT), 8000), 2, 1)
        s = int(np.argmax(window_energy(x16)))
        p = os.path.join(sdir, f"speech_{locale}_{speaker}_{DEMO_PROMPT[3:-4]}.wav")
        write_wav(p, x16[s:s + WIN], SR)
        demo.append((rel(p), f"{folder}/{DEMO_PROMPT}", s))
    for folder, n, name in [HARD_PROMPT, ("en_US_f_Allison", "beep.wav", "tone_en-US_beep.wav"),
                            ("en_US_f_Allison", "silence/1.wav", "silence_en-US.wav")]:
        x16 = resample(read_wav(os.path.join(SOUNDS, folder, n), 8000), 2, 1)
        s = int(np.argmax(window_energy(x16)))
        p = os.path.join(sdir, name)
        write_wav(p, x16[s:s + WIN], SR)
        demo.append((rel(p), f"{folder}/{n}", s))
    # one second of the en-US prompt at its original 8 kHz (for --resample) and the same second
    # upsampled to 16 kHz (for plots); the second starts 50 ms before the speech onset
    x8 = read_wav(os.path.join(SOUNDS, "en_US_f_Allison", DEMO_PROMPT), 8000)
    frames = x8[: len(x8) // 80 * 80].astype(np.float64).reshape(-1, 80)
    rms = np.sqrt((frames ** 2).mean(1))
    onset = int(np.argmax(rms > rms.max() * 10 ** (-30 / 20))) * 80
    s8 = max(0, min(onset - 400, len(x8) - 8000))
    c8 = x8[s8:s8 + 8000]
    assert len(c8) == 8000
    write_wav(os.path.join(sdir, f"clip_en-US_Allison_{DEMO_PROMPT[3:-4]}_8k_1s.wav"), c8, 8000)
    c16 = resample(c8, 2, 1)
    write_wav(os.path.join(sdir, f"clip_en-US_Allison_{DEMO_PROMPT[3:-4]}_16k_1s.wav"), c16, SR)
    demo.append((f"samples/clip_en-US_Allison_{DEMO_PROMPT[3:-4]}_8k_1s.wav",
                 f"en_US_f_Allison/{DEMO_PROMPT}", s8))
    demo.append((f"samples/clip_en-US_Allison_{DEMO_PROMPT[3:-4]}_16k_1s.wav",
                 f"en_US_f_Allison/{DEMO_PROMPT} (8 kHz offset {s8}, resample_poly 2/1)", 2 * s8))
    with open(os.path.join(sdir, "samples.csv"), "w", newline="", encoding="utf-8") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["input", "clip", "offset"])
        wr.writerows(demo)

    n1 = sum(r["label"] == 1 for r in rows)
    print(f"manifest.csv: {len(rows)} items ({n1} speech, {len(rows) - n1} non-speech)")


if __name__ == "__main__":
    main()
