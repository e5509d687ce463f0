#!/usr/bin/env python3
# gen-testdata.py -- write reduced copies of the quantization test vectors
# SPDX-License-Identifier: MIT
#
# Usage: tools/gen-testdata.py [SRC_DIR [DST_DIR]]
#   SRC_DIR  the full set (default: ../shared/testvectors next to the checkout)
#   DST_DIR  where the copies go (default: tests/data in the checkout)
#
# Every SRC_DIR/<type>.<case>.bin (format GLLMKTV1, see the README.md there)
# becomes DST_DIR/<type>.<case>.bin in the same format, with fewer rows:
#  - quantized and quantized-imatrix cases: the first 2 rows of every per-row
#    section (X, QBLOCKS, DEQUANT, VECDOT, VECDOTG, REFDOTF, REFDOTQ);
#    IMATRIX, Y, YQ and YQREF are per column and stay whole;
#  - random case: the first 2 rows, plus the last rows that hold the file's
#    last 8 blocks (the special scale values: +-0, subnormals, 65504, ...):
#    the last row for 32-value blocks (8 blocks per row of 256), the last 8
#    rows for 256-value blocks.
# Only the header's row count changes (the seed stays, so a copy names the
# file it came from); the sections keep their tags, order and padding rules.
# The output is deterministic: running it again gives the same bytes.

import os
import struct
import sys

MAGIC = b"GLLMKTV1"
HEADER = 128
KIND_QUANTIZED, KIND_RANDOM, KIND_QUANTIZED_IMATRIX = 1, 2, 3
PER_ROW = {"X", "QBLOCKS", "DEQUANT", "VECDOT", "VECDOTG", "REFDOTF", "REFDOTQ"}
QUANTIZED_ROWS = 2
RANDOM_HEAD_ROWS = 2
SPECIAL_BLOCKS = 8


def read_file(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < HEADER or data[:8] != MAGIC:
        raise ValueError(f"{path}: not a GLLMKTV1 file")
    version, kind = struct.unpack_from("<II", data, 8)
    be, bb, rows, cols, row_bytes = struct.unpack_from("<IIIII", data, 36)
    nsec, hsize = struct.unpack_from("<II", data, 96)
    if version != 1 or hsize != HEADER:
        raise ValueError(f"{path}: unsupported version {version} / header size {hsize}")
    sections = []
    off = HEADER
    for _ in range(nsec):
        tag = data[off:off + 8].rstrip(b"\0").decode("ascii")
        (n,) = struct.unpack_from("<Q", data, off + 8)
        off += 16
        payload = data[off:off + n]
        if len(payload) != n:
            raise ValueError(f"{path}: section {tag} truncated")
        sections.append((tag, payload))
        off += (n + 7) & ~7
    if off != len(data):
        raise ValueError(f"{path}: {len(data) - off} trailing bytes")
    return bytearray(data[:HEADER]), kind, be, rows, cols, sections


def keep_rows(kind, be, rows, cols):
    if kind == KIND_RANDOM:
        per_row = cols // be
        tail = -(-SPECIAL_BLOCKS // per_row)  # rows holding the last 8 blocks
        head = min(RANDOM_HEAD_ROWS, rows - tail)
        return list(range(head)) + list(range(rows - tail, rows))
    return list(range(min(QUANTIZED_ROWS, rows)))


def reduce_file(src, dst):
    header, kind, be, rows, cols, sections = read_file(src)
    keep = keep_rows(kind, be, rows, cols)
    struct.pack_into("<I", header, 44, len(keep))
    out = bytearray(header)
    for tag, payload in sections:
        if tag in PER_ROW and payload:
            if len(payload) % rows:
                raise ValueError(f"{src}: section {tag} is not {rows} equal rows")
            rb = len(payload) // rows
            payload = b"".join(payload[r * rb:(r + 1) * rb] for r in keep)
        out += tag.encode("ascii").ljust(8, b"\0")
        out += struct.pack("<Q", len(payload))
        out += payload
        out += b"\0" * (-len(payload) % 8)
    with open(dst, "wb") as f:
        f.write(out)
    return len(out), len(keep)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(here)
    src_dir = argv[1] if len(argv) > 1 else os.path.join(top, "..", "shared", "testvectors")
    dst_dir = argv[2] if len(argv) > 2 else os.path.join(top, "tests", "data")
    names = sorted(n for n in os.listdir(src_dir) if n.endswith(".bin"))
    if not names:
        sys.exit(f"gen-testdata.py: no .bin files in {src_dir}")
    os.makedirs(dst_dir, exist_ok=True)
    total = 0
    for name in names:
        size, nrows = reduce_file(os.path.join(src_dir, name), os.path.join(dst_dir, name))
        total += size
        print(f"{name:40s} {nrows:3d} rows {size:8d} bytes")
    print(f"{len(names)} files, {total} bytes in {dst_dir}")


if __name__ == "__main__":
    main(sys.argv)
