"""Inputs of each corpus model's own kind (tests/corpus/manifest.json
`kind`), synthesized deterministically: audio-like signals for the voice
and wake-word nets, mel windows and speech embeddings computed from such
audio by the corpus's own openWakeWord front end (in ONNX Runtime), and
image-like tensors (smooth shapes, edges and noise) in each vision model's
layout and value range.

samples(model, n, seed, corpus_dir) returns n feed dicts {input name:
ndarray} with batch 1, every graph input included (states zero, sample
rate 16000)."""
import os

import numpy as np

import ort_ref

SR = 16000


def audio(rng, n_samples, scale=1.0):
    """Voiced-speech-like audio: a few harmonics of a gliding pitch under a
    syllable envelope, plus noise; peak about `scale`."""
    t = np.arange(n_samples) / SR
    f0 = rng.uniform(100, 220) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase + rng.uniform(0, 6.3)) / k for k in range(1, 8))
    env = np.clip(np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 6.3)), 0, None)
    x = voice * env * rng.uniform(0.2, 1.0) + 0.05 * rng.standard_normal(n_samples)
    return (scale * x / np.abs(x).max()).astype(np.float32)


def image(rng, h, w, c):
    """An image-like [h, w, c] array in [0, 1]: a shaded background, a few
    filled ellipses and rectangles (edges, flat regions), mild noise."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.empty((h, w, c), np.float32)
    base = rng.uniform(0.2, 0.8, c)
    grad = rng.uniform(-0.3, 0.3, (2, c))
    img[:] = base + yy[..., None] * grad[0] + xx[..., None] * grad[1]
    for _ in range(rng.integers(3, 7)):
        cy, cx, ry, rx = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3)
        color = rng.uniform(0, 1, c)
        if rng.random() < 0.5:
            mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
        else:
            mask = (abs(yy - cy) < ry) & (abs(xx - cx) < rx)
        img[mask] = color
    img += 0.02 * rng.standard_normal(img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


def fixed(dims, default):
    return [d if isinstance(d, int) and d > 0 else default for d in dims]


def mel_windows(rng, n, frames, corpus_dir):
    """openWakeWord's embedding input: `frames`-frame windows of the mel
    front end (melspectrogram.onnx in ORT) on speech-like int16-scale
    audio, scaled as openWakeWord does (x / 10 + 2): [n, frames, 32, 1]."""
    model = os.path.join(corpus_dir, "oww_melspectrogram.onnx")
    n_audio = 160 * (frames + 3)
    jobs = [(model, {"input": audio(rng, n_audio, 16000.0)[None]}) for _ in range(n)]
    out = []
    for res in ort_ref.run_many(jobs):
        if isinstance(res, str):
            raise RuntimeError("mel front end: " + res)
        mel = res[1][0].reshape(-1, 32)[:frames]
        out.append((mel / 10 + 2)[None, :, :, None].astype(np.float32))
    return out


def embeddings(rng, n, steps, corpus_dir):
    """openWakeWord's head input: `steps` speech embeddings (embedding_model
    in ORT on mel windows 8 frames apart): [n][1, steps, 96]."""
    model = os.path.join(corpus_dir, "oww_embedding.onnx")
    frames = 76 + 8 * (steps - 1)
    mels = mel_windows(rng, n, frames, corpus_dir)
    jobs = []
    for mel in mels:
        wins = np.concatenate([mel[:, 8 * k:8 * k + 76] for k in range(steps)])
        jobs.append((model, {"input_1": wins}))
    out = []
    for res in ort_ref.run_many(jobs):
        if isinstance(res, str):
            raise RuntimeError("embedding model: " + res)
        out.append(res[1][0].reshape(1, steps, 96).astype(np.float32))
    return out


def samples(model, n, seed, corpus_dir):
    rng = np.random.default_rng(seed)
    kind, ins = model["kind"], model["inputs"]
    feeds = [dict() for _ in range(n)]
    if kind == "vad":
        for f in feeds:
            f["input"] = audio(rng, 512, 0.5)[None]
            f["sr"] = np.array(SR, dtype=np.int64)
            for i in ins:
                if i["name"] not in f:
                    f[i["name"]] = np.zeros(fixed(i["dims"], 1), np.float32)
        return feeds
    name, dims = ins[0]["name"], ins[0]["dims"]
    if kind == "fashion":  # the models made by corpus_generate.py: Fashion-MNIST test images
        import corpus_generate
        return [{name: x} for x in corpus_generate.fashion(n, seed)]
    if kind == "audio":
        return [{name: audio(rng, 1760, 16000.0)[None]} for _ in range(n)]
    if kind == "mel":
        return [{name: m} for m in mel_windows(rng, n, dims[1], corpus_dir)]
    if kind == "embedding":
        return [{name: e} for e in embeddings(rng, n, dims[1], corpus_dir)]
    if kind == "image_nhwc":  # MediaPipe / M-LSD convention: [-1, 1]
        _, h, w, c = dims
        return [{name: (image(rng, h, w, c) * 2 - 1)[None]} for _ in range(n)]
    if kind == "image_nchw":  # PaddleOCR: det ImageNet-normalized, cls (x - 0.5) / 0.5
        h, w = (48, 192) if dims[2] == 48 or model["id"] == "ppocr_cls" else (320, 320)
        mean, std = (0.5, 0.5) if model["id"] == "ppocr_cls" else (np.array([0.485, 0.456, 0.406]),
                                                                  np.array([0.229, 0.224, 0.225]))
        return [{name: ((image(rng, h, w, 3) - mean) / std).astype(np.float32).transpose(2, 0, 1)[None]}
                for _ in range(n)]
    raise ValueError("unknown input kind " + kind)
