"""A small real MP4 made byte by byte for tests (no encoder on the machine): ftyp, a moov with the movie
header and one video track (tkhd, mdia with mdhd/hdlr, minf with an avc1 sample description and the
sample tables of its frames) and optionally an audio track, and the mdat the sample tables point into.
``moov_last`` lays mdat before moov, as a camera writes a file that was not made "fast start"."""

from __future__ import annotations

import struct


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full(kind: bytes, version: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", version << 24), *parts)


IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
ROTATE_90 = (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)


def tkhd(
    track_id: int, duration: int, width: int, height: int, matrix: tuple[int, ...], version: int
) -> bytes:
    times = (
        struct.pack(">QQIIQ", 0, 0, track_id, 0, duration)
        if version
        else struct.pack(">IIIII", 0, 0, track_id, 0, duration)
    )
    return full(
        b"tkhd",
        version,
        times,
        b"\x00" * 8,
        struct.pack(">hhhH", 0, 0, 0 if width else 0x0100, 0),
        struct.pack(">9i", *matrix),
        struct.pack(">II", width << 16, height << 16),
    )


def track(track_id: int, handler: bytes, timescale: int, frames: int, frame_size: int, width: int, height: int,
          matrix: tuple[int, ...], version: int, offset_at: int) -> bytes:  # fmt: skip
    duration = frames * (timescale // 10)
    if handler == b"vide":
        entry = box(b"avc1", b"\x00" * 6, struct.pack(">H", 1), b"\x00" * 16, struct.pack(">HH", width, height),
                    struct.pack(">II", 0x480000, 0x480000), b"\x00" * 4, struct.pack(">H", 1), b"\x00" * 32,
                    struct.pack(">Hh", 0x18, -1))  # fmt: skip
        media_header = full(b"vmhd", 0, b"\x00" * 8)
    else:
        entry = box(
            b"mp4a",
            b"\x00" * 6,
            struct.pack(">H", 1),
            b"\x00" * 8,
            struct.pack(">HHHHI", 2, 16, 0, 0, 44100 << 16),
        )
        media_header = full(b"smhd", 0, b"\x00" * 4)
    stbl = box(
        b"stbl",
        full(b"stsd", 0, struct.pack(">I", 1), entry),
        full(b"stts", 0, struct.pack(">III", 1, frames, timescale // 10)),
        full(b"stsc", 0, struct.pack(">IIII", 1, 1, frames, 1)),
        full(b"stsz", 0, struct.pack(">II", frame_size, frames)),
        full(b"stco", 0, struct.pack(">II", 1, offset_at)),
    )
    minf = box(
        b"minf", media_header, box(b"dinf", full(b"dref", 0, struct.pack(">I", 1), full(b"url ", 1))), stbl
    )
    mdia = box(
        b"mdia",
        full(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0)),
        full(b"hdlr", 0, struct.pack(">I4s", 0, handler), b"\x00" * 12, b"chorus\x00"),
        minf,
    )
    return box(b"trak", tkhd(track_id, duration * 1000 // timescale, width, height, matrix, version), mdia)


def make_mp4(
    width: int = 640,
    height: int = 360,
    seconds: float = 2.0,
    *,
    rotate: bool = False,
    moov_last: bool = False,
    version: int = 0,
    audio: bool = True,
    video: bool = True,
    fragmented: bool = False,
    quicktime: bool = False,
) -> bytes:
    """``fragmented``: the movie header's duration is 0 and the length is in mvex/mehd (a fragmented
    MP4); ``quicktime``: an old QuickTime movie (no ftyp: a 'wide' box, then mdat, then moov)."""
    frames = max(1, round(seconds * 10))  # 10 frames a second
    frame_size = 64
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    mdat = box(b"mdat", bytes(range(256)) * (frames * frame_size // 256 + 1))
    matrix = ROTATE_90 if rotate else IDENTITY

    def moov(data_at: int) -> bytes:
        scale, duration = 1000, round(seconds * 1000)
        stated = 0 if fragmented else duration
        header = (
            struct.pack(">QQIQ", 0, 0, scale, stated)
            if version
            else struct.pack(">IIII", 0, 0, scale, stated)
        )
        mvhd = full(b"mvhd", version, header, struct.pack(">iH", 0x10000, 0x0100), b"\x00" * 10,
                    struct.pack(">9i", *IDENTITY), b"\x00" * 24, struct.pack(">I", 3))  # fmt: skip
        tracks = []
        if video:
            tracks.append(
                track(1, b"vide", 12800, frames, frame_size, width, height, matrix, version, data_at)
            )
        if audio:
            tracks.append(track(2, b"soun", 44100, frames, 16, 0, 0, IDENTITY, version, data_at))
        if fragmented:
            mehd = full(b"mehd", version, struct.pack(">Q" if version else ">I", duration))
            tracks.append(box(b"mvex", mehd, full(b"trex", 0, struct.pack(">IIIII", 1, 1, 0, 0, 0))))
        return box(b"moov", mvhd, *tracks)

    if quicktime:
        wide = box(b"wide")
        return wide + mdat + moov(len(wide) + 8)
    if moov_last:
        return ftyp + mdat + moov(len(ftyp) + 8)
    size = len(moov(0))
    return ftyp + moov(len(ftyp) + size + 8) + mdat
