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
#
# mxfp4 (ggml type 39) is not in the shared set.  Its files are built here
# (build_mxfp4) with the gguf package from PyPI (gguf-py, gguf.quants.MXFP4:
# the same quantizer and decoder as ggml's quantize_row_mxfp4_ref and
# dequantize_row_mxfp4), in the same format, then reduced like the others:
#  - quantized: the X and Y of the set's iq4_nl.quantized.bin (16 x 1024;
#    the header keeps that file's seed, the seed of the generator that made
#    them), QBLOCKS = gguf quantize(X), DEQUANT = gguf dequantize(QBLOCKS),
#    REFDOTF as in README.md.  No importance vector (ggml's quantize_mxfp4
#    ignores it, so there is no quantized-imatrix case, as for q8_0) and no
#    ggml vec_dot results: flags = 0, so YQ, YQREF, VECDOT, VECDOTG and
#    REFDOTQ are empty, as in the q8_K files.  The vec_dot type is q8_0.
#  - random: 256 x 256 (2048 blocks), every byte uniform (numpy PCG64 seeded
#    with the set's formula, c = 1), then the E8M0 scale byte of every block
#    but the last 8 overwritten with a value uniform in 0..252 (every
#    exponent whose largest level 12 * 2^(e-128) is finite, subnormal
#    scales 2^-128 and 2^-127 included); the last 8 get e = 0, 1, 2, 127,
#    128, 129, 251, 252.  DEQUANT = gguf dequantize.
# With --full DIR the full-size mxfp4 files are also written to DIR.

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


SET_SEED = 0x5EED0001
MXFP4_ID, MXFP4_BE, MXFP4_BB = 39, 32, 17
MXFP4_SPECIAL_E = (0, 1, 2, 127, 128, 129, 251, 252)


def pack_file(kind, name, type_id, be, bb, rows, cols, vdot, flags, seed, sections):
    """A GLLMKTV1 image: vdot = (name, id, elems, bytes) or None."""
    header = bytearray(HEADER)
    header[0:8] = MAGIC
    struct.pack_into("<II", header, 8, 1, kind)
    header[16:16 + len(name)] = name.encode("ascii")
    struct.pack_into("<IIIIII", header, 32, type_id, be, bb, rows, cols, cols // be * bb)
    if vdot:
        header[56:56 + len(vdot[0])] = vdot[0].encode("ascii")
        struct.pack_into("<III", header, 72, vdot[1], vdot[2], vdot[3])
    else:
        struct.pack_into("<I", header, 72, 0xFFFFFFFF)
    struct.pack_into("<I", header, 84, flags)
    struct.pack_into("<Q", header, 88, seed % (1 << 64))
    struct.pack_into("<II", header, 96, len(sections), HEADER)
    out = bytearray(header)
    for tag, payload in sections:
        out += tag.encode("ascii").ljust(8, b"\0")
        out += struct.pack("<Q", len(payload))
        out += payload
        out += b"\0" * (-len(payload) % 8)
    return bytes(out)


def build_mxfp4(src_dir):
    """The two full-size mxfp4 files, {file name: bytes}."""
    import numpy as np
    from gguf import GGMLQuantizationType, quants
    qt = GGMLQuantizationType.MXFP4
    _, _, _, rows, cols, secs = read_file(os.path.join(src_dir, "iq4_nl.quantized.bin"))
    with open(os.path.join(src_dir, "iq4_nl.quantized.bin"), "rb") as f:
        (x_seed,) = struct.unpack_from("<Q", f.read(HEADER), 88)
    sec = dict(secs)
    x = np.frombuffer(sec["X"], dtype="<f4").reshape(rows, cols)
    y = np.frombuffer(sec["Y"], dtype="<f4")
    qb = np.asarray(quants.quantize(x, qt), dtype=np.uint8)
    dq = np.asarray(quants.dequantize(qb, qt), dtype=np.float32).reshape(rows, cols)
    refdotf = np.zeros(rows, dtype="<f8")
    for r in range(rows):
        acc = 0.0
        for k in range(cols):  # double, k ascending, no FMA
            acc += float(dq[r, k]) * float(y[k])
        refdotf[r] = acc
    files = {}
    files["mxfp4.quantized.bin"] = pack_file(
        KIND_QUANTIZED, "mxfp4", MXFP4_ID, MXFP4_BE, MXFP4_BB, rows, cols,
        ("q8_0", 8, 32, 34), 0, x_seed,
        [("X", x.astype("<f4").tobytes()), ("IMATRIX", b""), ("QBLOCKS", qb.tobytes()),
         ("DEQUANT", dq.astype("<f4").tobytes()), ("Y", y.astype("<f4").tobytes()),
         ("YQ", b""), ("YQREF", b""), ("VECDOT", b""), ("VECDOTG", b""),
         ("REFDOTF", refdotf.tobytes()), ("REFDOTQ", b"")])
    rrows = rcols = 256
    nblk = rrows * rcols // MXFP4_BE
    seed = (SET_SEED * 1000003 + MXFP4_ID * 4 + 1) % (1 << 64)
    rng = np.random.Generator(np.random.PCG64(seed))
    blocks = rng.integers(0, 256, size=(nblk, MXFP4_BB), dtype=np.uint8)
    blocks[:nblk - 8, 0] = rng.integers(0, 253, size=nblk - 8, dtype=np.uint8)
    blocks[nblk - 8:, 0] = np.array(MXFP4_SPECIAL_E, dtype=np.uint8)
    rq = blocks.reshape(rrows, rcols // MXFP4_BE * MXFP4_BB)
    rdq = np.asarray(quants.dequantize(rq, qt), dtype=np.float32)
    assert np.isfinite(rdq).all() and np.isfinite(dq).all()
    files["mxfp4.random.bin"] = pack_file(
        KIND_RANDOM, "mxfp4", MXFP4_ID, MXFP4_BE, MXFP4_BB, rrows, rcols, None, 0, seed,
        [("QBLOCKS", rq.tobytes()), ("DEQUANT", rdq.astype("<f4").tobytes())])
    return files


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(here)
    full_dir = None
    if len(argv) > 2 and argv[1] == "--full":
        full_dir = argv[2]
        argv = argv[:1] + argv[3:]
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
    if "mxfp4.quantized.bin" not in names:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in sorted(build_mxfp4(src_dir).items()):
                full = os.path.join(full_dir or tmp, name)
                if full_dir:
                    os.makedirs(full_dir, exist_ok=True)
                with open(full, "wb") as f:
                    f.write(data)
                size, nrows = reduce_file(full, os.path.join(dst_dir, name))
                total += size
                names.append(name)
                print(f"{name:40s} {nrows:3d} rows {size:8d} bytes (gguf-py)")
    print(f"{len(names)} files, {total} bytes in {dst_dir}")


if __name__ == "__main__":
    main(sys.argv)
