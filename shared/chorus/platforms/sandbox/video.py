"""A tiny MP4 the sandbox serves for the demo's video posts, written here box by box (no encoder, no file
downloaded): ``ftyp``, then ``moov`` holding ``mvhd`` (the movie's timescale and duration) and one video
``trak`` (``tkhd`` with the frame's width and height, ``mdia`` with ``mdhd`` and a ``vide`` ``hdlr``),
then an empty ``mdat``. It holds no frames: what the media library's header reader
(:mod:`chorus.library.mp4`) and the platforms' upload flows need is its container, and the sandbox
accepts the bytes and reports the video processed (it does not transcode)."""

from __future__ import annotations

import struct

TIMESCALE = 1000
UNITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)  # the identity matrix (16.16 and 2.30 fixed point)


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full(kind: bytes, version_flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version_flags), *parts)


def mp4(duration_s: float, width: int, height: int) -> bytes:
    """A valid MP4 container of one video track ``width`` by ``height``, ``duration_s`` long."""
    length = round(duration_s * TIMESCALE)
    matrix = struct.pack(">9I", *UNITY)
    mvhd = _full(b"mvhd", 0, struct.pack(">IIII", 0, 0, TIMESCALE, length), struct.pack(">IH", 0x10000, 0x100),
                 bytes(10), matrix, bytes(24), struct.pack(">I", 2))  # fmt: skip
    tkhd = _full(b"tkhd", 0x000003, struct.pack(">IIIII", 0, 0, 1, 0, length), bytes(8),
                 struct.pack(">hhhH", 0, 0, 0, 0), matrix, struct.pack(">II", width << 16, height << 16))  # fmt: skip
    mdhd = _full(b"mdhd", 0, struct.pack(">IIII", 0, 0, TIMESCALE, length), struct.pack(">HH", 0x55C4, 0))
    hdlr = _full(b"hdlr", 0, struct.pack(">I4s", 0, b"vide"), bytes(12), b"Chorus sandbox video\x00")
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr))
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2mp41")
    return ftyp + _box(b"moov", mvhd, trak) + _box(b"mdat")


VIDEO_PATH = "/media/acme-pour.mp4"  # where the sandbox serves it (Range reads answered)
VIDEO = mp4(6.0, 720, 1280)  # six seconds, 9:16: what every video platform takes
