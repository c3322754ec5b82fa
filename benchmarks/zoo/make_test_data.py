#!/usr/bin/python3
"""Write Fashion-MNIST evaluation/calibration arrays as .npy files for the shrink CLI.

    /usr/bin/python3 benchmarks/zoo/make_test_data.py --out DIR [--calib N] [--seed S] [--limit N]

Writes into DIR (created if needed; nothing here is meant to be committed):
    test_u8.npy        uint8   [N,28,28]    test images, raw pixels
    test_u8_nchw.npy   uint8   [N,1,28,28]  same, with the channel axis the models take
    test_f32.npy       float32 [N,1,28,28]  same, already normalized: (u8/255 - mean)/std
    test_labels.npy    int64   [N]          test labels
    calib_u8.npy       uint8   [C,28,28]    calibration images drawn from the TRAINING set
    calib_u8_nchw.npy  uint8   [C,1,28,28]  same, with the channel axis
    calib_f32.npy      float32 [C,1,28,28]  same, normalized
    calib_labels.npy   int64   [C]
    meta.json          mean/std, seed, indices of the calibration images

For uint8 data, give shrink the normalization: `--mean 0.2860 --std 0.3530`.
The float32 files need no flags.
"""
import argparse
import json
import os

import numpy as np

from train import MEAN, STD, load_split


def to_f32(x_u8):
    x = x_u8.astype(np.float32) / np.float32(255.0)
    return ((x - np.float32(MEAN)) / np.float32(STD)).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--calib", type=int, default=500, help="calibration images from the training set")
    ap.add_argument("--seed", type=int, default=0, help="seed choosing the calibration images")
    ap.add_argument("--limit", type=int, default=None, help="keep only the first N test images")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    xte, yte = load_split("t10k")
    if args.limit is not None:
        xte, yte = xte[:args.limit], yte[:args.limit]
    xtr, ytr = load_split("train")
    idx = np.sort(np.random.RandomState(args.seed).choice(xtr.shape[0], size=args.calib, replace=False))
    xc, yc = xtr[idx], ytr[idx]

    out = lambda name: os.path.join(args.out, name)  # noqa: E731
    np.save(out("test_u8.npy"), np.ascontiguousarray(xte, dtype=np.uint8))
    np.save(out("test_u8_nchw.npy"), np.ascontiguousarray(xte[:, None], dtype=np.uint8))
    np.save(out("test_f32.npy"), np.ascontiguousarray(to_f32(xte[:, None])))
    np.save(out("test_labels.npy"), yte.astype(np.int64))
    np.save(out("calib_u8.npy"), np.ascontiguousarray(xc, dtype=np.uint8))
    np.save(out("calib_u8_nchw.npy"), np.ascontiguousarray(xc[:, None], dtype=np.uint8))
    np.save(out("calib_f32.npy"), np.ascontiguousarray(to_f32(xc[:, None])))
    np.save(out("calib_labels.npy"), yc.astype(np.int64))
    with open(out("meta.json"), "w") as f:
        json.dump(dict(mean=MEAN, std=STD, scale=1.0 / 255.0, test_samples=int(xte.shape[0]),
                       calib_samples=int(args.calib), calib_seed=args.seed,
                       calib_source="train", calib_indices=idx.tolist()), f)
        f.write("\n")
    print(f"wrote {xte.shape[0]} test and {args.calib} calibration images to {args.out}")


if __name__ == "__main__":
    main()
