#!/usr/bin/env python3
"""Reference codecs for latent's compression figures: JPEG (libjpeg through Pillow,
optimize=True) and WebP (Pillow) on the images of an IDX file, and the PSNR of images latent
decoded. Prints one JSON object (`latent benchmark-compress` runs it and reads it): per
quality, bits per pixel, mean PSNR and compression / decompression speed (MB/s of raw 8-bit
pixels, one thread, one image at a time). With --decoded-dir, each quality's decoded pixels
are written there so that latent computes MS-SSIM for JPEG and WebP with its own code (the
same code as for its models).

  python bench/compress_reference.py --images t10k-images-idx3-ubyte.gz \
      [--decoded-dir DIR] [--decoded latent-decoded-idx3-ubyte --lat-bytes N --lat-header H]

For JPEG, `bpp` counts every byte of one file per image; `bpp_scan` only the entropy-coded
scan (the bytes from the SOS marker to EOI, as if the tables were shared by the whole set:
JPEG's abbreviated format). For latent, `bpp` is the whole set in one .lat file and
`bpp_per_file` one .lat file per image (the same blocks, each with its own header).
Needs Pillow and numpy (bench/run_compress.sh makes a venv with them).
"""
import argparse
import gzip
import io
import json
import math
import os
import time

import numpy as np
from PIL import Image


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    n, h, w = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, h, w)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 100.0 if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def scan_bytes(jpeg):
    """Bytes from the (first) SOS marker to the end (EOI included)."""
    i = 2
    while i + 4 <= len(jpeg):
        if jpeg[i] != 0xFF:
            raise ValueError("not a marker")
        marker = jpeg[i + 1]
        if marker == 0xDA:
            return len(jpeg) - i
        i += 2 + int.from_bytes(jpeg[i + 2:i + 4], "big")
    raise ValueError("no SOS")


def codec_curve(images, fmt, qualities, decoded_dir=None):
    pixels = images.shape[1] * images.shape[2]
    out = []
    for q in qualities:
        total = scan = 0
        psnrs = []
        enc_s = dec_s = 0.0
        backs = []
        for img in images:
            buf = io.BytesIO()
            t0 = time.perf_counter()
            if fmt == "JPEG":
                Image.fromarray(img).save(buf, "JPEG", quality=q, optimize=True)
            else:
                Image.fromarray(img).save(buf, "WEBP", quality=q, method=6)
            data = buf.getvalue()
            t1 = time.perf_counter()
            back = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
            t2 = time.perf_counter()
            enc_s += t1 - t0
            dec_s += t2 - t1
            total += len(data)
            if fmt == "JPEG":
                scan += scan_bytes(data)
            psnrs.append(psnr(img, back))
            if decoded_dir:
                backs.append(back)
        mb = images.size / 1e6
        row = {"quality": q, "bpp": 8 * total / (len(images) * pixels),
               "psnr": float(np.mean(psnrs)),
               "compress_mb_s": mb / max(enc_s, 1e-9),
               "decompress_mb_s": mb / max(dec_s, 1e-9)}
        if fmt == "JPEG":
            row["bpp_scan"] = 8 * scan / (len(images) * pixels)
        if decoded_dir:
            # The decoded 8-bit pixels, raw (n x h x w), for latent's own MS-SSIM.
            path = os.path.join(decoded_dir, f"{fmt.lower()}-q{q:02d}.u8")
            np.stack(backs).astype(np.uint8).tofile(path)
            row["decoded"] = path
        out.append(row)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--decoded", action="append", default=[])
    ap.add_argument("--lat-bytes", type=int, action="append", default=[])
    ap.add_argument("--lat-header", type=int, default=0,
                    help="header bytes of the one-file .lat (one per-image file repeats it)")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--decoded-dir",
                    help="write each quality's decoded pixels here (raw uint8, n x h x w) and "
                         "name the file in its row as `decoded`")
    args = ap.parse_args()
    images = read_idx(args.images)
    if args.limit:
        images = images[:args.limit]
    n, pixels = len(images), images.shape[1] * images.shape[2]
    result = {"images": n}
    if not args.no_reference:
        qualities = list(range(5, 100, 5))
        result["jpeg"] = codec_curve(images, "JPEG", qualities, args.decoded_dir)
        result["webp"] = codec_curve(images, "WEBP", qualities, args.decoded_dir)
    result["latent"] = []
    for path, size in zip(args.decoded, args.lat_bytes):
        decoded = read_idx(path)[:n]
        per_file = size - args.lat_header + n * max(args.lat_header - 1, 0)
        result["latent"].append({
            "decoded": path,
            "bpp": 8 * size / (n * pixels),
            "bpp_per_file": 8 * per_file / (n * pixels),
            "psnr": float(np.mean([psnr(a, b) for a, b in zip(images, decoded)])),
        })
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
