"""What an MP4 (ISO base media file, also QuickTime .mov) says about itself in its header boxes: duration,
display width and height, and whether it has a video track. No decoder: the boxes are read by offset.

A box is a 32-bit big-endian size and a four-character type (size 1: a 64-bit size follows; size 0: to
the end of the file). The reader walks the top level for ``moov`` (which may sit after ``mdat``: only the
headers are read on the way, so a 1 GB file costs a few small reads plus ``moov`` itself), then reads

- ``moov/mvhd``: the movie's timescale and duration (version 0: 32-bit fields, version 1: 64-bit); a
  fragmented MP4 leaves it 0 and gives the length in ``moov/mvex/mehd``;
- ``moov/trak/tkhd``: each track's width and height (16.16 fixed point) and its matrix (a 90° or 270°
  rotation shows the frame on its side, so width and height swap for display);
- ``moov/trak/mdia/hdlr``: the track's handler (``vide`` for video).

``read_at(offset, length)`` is any random-access reader (an S3 ranged GET, a file).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

ReadAt = Callable[[int, int], bytes]

MAX_MOOV = 64 * 1024 * 1024  # a moov box larger than this is not a file Chorus publishes
# An MP4 opens with ftyp; a QuickTime movie written before ftyp existed opens with any of the others.
FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


class NotMp4(ValueError):
    """The bytes are not an MP4/MOV this reader understands; the message says what was wrong."""


@dataclass(frozen=True)
class Mp4Info:
    duration_s: float | None  # None: a fragmented file that does not say
    width: int | None  # as displayed (rotation applied); None without a video track
    height: int | None
    brand: str  # ftyp's major brand ("isom", "mp42", "qt  "...)
    has_video: bool


@dataclass(frozen=True)
class Box:
    kind: bytes
    start: int  # offset of the box's header
    header: int  # 8, or 16 with a 64-bit size
    size: int

    @property
    def body(self) -> int:
        return self.start + self.header

    @property
    def end(self) -> int:
        return self.start + self.size


def boxes(read_at: ReadAt, start: int, end: int) -> Iterator[Box]:
    """The boxes laid one after another from ``start`` to ``end``."""
    offset = start
    while offset + 8 <= end:
        head = read_at(offset, 16 if offset + 16 <= end else 8)
        if len(head) < 8:
            raise NotMp4(f"the file ends inside a box header at byte {offset}")
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            if len(head) < 16:
                raise NotMp4(f"a 64-bit box size is cut off at byte {offset}")
            size = struct.unpack(">Q", head[8:16])[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise NotMp4(f"box {kind!r} at byte {offset} claims {size} bytes; only {end - offset} remain")
        if not all(32 <= c < 127 for c in kind):
            raise NotMp4(f"no box type at byte {offset}")
        yield Box(kind, offset, header, size)
        offset += size


def _child(data: bytes, base: int, kind: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each ``kind`` box directly inside ``data[base:]`` (held in memory)."""

    def read_at(offset: int, length: int) -> bytes:
        return data[offset : offset + length]

    for box in boxes(read_at, base, len(data)):
        if box.kind == kind:
            yield box.body, box.end


def _full_box(data: bytes, start: int, end: int, need: int, what: str) -> tuple[int, bytes]:
    if end - start < 4 + need:
        raise NotMp4(f"{what} is too short")
    return data[start], data[start + 4 : end]


def _mvhd(data: bytes, start: int, end: int) -> float | None:
    version, rest = _full_box(data, start, end, 20, "mvhd")
    if version == 1:
        if len(rest) < 28:
            raise NotMp4("mvhd (version 1) is too short")
        timescale, duration = struct.unpack(">IQ", rest[16:28])
    else:
        timescale, duration = struct.unpack(">II", rest[8:16])
    if timescale == 0:
        raise NotMp4("mvhd has a timescale of 0")
    if duration in {0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF}:  # not said here (a fragmented or live file)
        return None
    return float(duration) / float(timescale)


def _tkhd(data: bytes, start: int, end: int) -> tuple[float, float]:
    version, rest = _full_box(data, start, end, 80, "tkhd")
    skip = 32 if version == 1 else 20  # times, track id, reserved, duration
    tail = rest[skip + 16 :]  # reserved(8) layer(2) alternate group(2) volume(2) reserved(2)
    if len(tail) < 44:
        raise NotMp4("tkhd is too short")
    a, b, _u, c, d = struct.unpack(">iiiii", tail[:20])
    width, height = struct.unpack(">II", tail[36:44])
    w, h = width / 65536, height / 65536
    if a == 0 and d == 0 and b != 0 and c != 0:  # rotated a quarter turn
        w, h = h, w
    return w, h


def timescale_of(data: bytes) -> int:
    for start, end in _child(data, 0, b"mvhd"):
        version, rest = _full_box(data, start, end, 20, "mvhd")
        return int(struct.unpack(">I", rest[16:20] if version == 1 else rest[8:12])[0])
    return 0


def _fragmented_duration(data: bytes, timescale: int) -> float | None:
    for mvex_start, mvex_end in _child(data, 0, b"mvex"):
        for start, end in _child(data[:mvex_end], mvex_start, b"mehd"):
            version, rest = _full_box(data, start, end, 4, "mehd")
            if version == 1 and len(rest) < 8:
                raise NotMp4("mehd (version 1) is too short")
            value = struct.unpack(">Q", rest[:8])[0] if version == 1 else struct.unpack(">I", rest[:4])[0]
            return float(value) / float(timescale)
    return None  # fragments only: the length is not in the header


def _handler(data: bytes, start: int, end: int) -> bytes:
    for mdia_start, mdia_end in _child(data[:end], start, b"mdia"):
        for h_start, h_end in _child(data[:mdia_end], mdia_start, b"hdlr"):
            _version, rest = _full_box(data, h_start, h_end, 8, "hdlr")
            return rest[4:8]
    return b""


def read(read_at: ReadAt, size: int) -> Mp4Info:
    """The header facts of the MP4 of ``size`` bytes that ``read_at`` reads. Raises NotMp4."""
    if size < 16:
        raise NotMp4("too short to be an MP4")
    brand = ""
    moov: Box | None = None
    for index, box in enumerate(boxes(read_at, 0, size)):
        if index == 0 and box.kind not in FIRST_BOXES:
            raise NotMp4(f"an MP4 starts with an ftyp box, not {box.kind!r}")
        if box.kind == b"ftyp":
            brand = read_at(box.body, 4).decode("latin-1")
        if box.kind == b"moov":
            moov = box
            break
    if moov is None:
        raise NotMp4("no moov box: the file holds no movie header")
    if moov.size > MAX_MOOV:
        raise NotMp4(f"the moov box is {moov.size} bytes; at most {MAX_MOOV} are read")
    data = read_at(moov.body, moov.size - moov.header)
    if len(data) != moov.size - moov.header:
        raise NotMp4("the file ends inside the moov box")
    headers = [_mvhd(data, start, end) for start, end in _child(data, 0, b"mvhd")]
    if not headers:
        raise NotMp4("no mvhd box in moov")
    width = height = None
    duration = headers[0]
    if duration is None:  # a fragmented MP4: the movie's length is in mvex/mehd, if anywhere
        duration = _fragmented_duration(data, timescale_of(data))
    has_video = False
    for start, end in _child(data, 0, b"trak"):
        if _handler(data, start, end) != b"vide":
            continue
        for t_start, t_end in _child(data[:end], start, b"tkhd"):
            w, h = _tkhd(data, t_start, t_end)
            if w and h and not has_video:
                width, height = round(w), round(h)
            has_video = True
    length = round(duration, 3) if duration is not None else None
    return Mp4Info(length, width, height, brand.strip() or brand, has_video)


def read_bytes(data: bytes) -> Mp4Info:
    """``read`` of a file held in memory."""
    return read(lambda offset, length: data[offset : offset + length], len(data))
