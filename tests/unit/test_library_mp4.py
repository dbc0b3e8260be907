"""The MP4 header box reader: duration, display size (rotation), moov before or after mdat, 64-bit boxes
and fields, and refusals naming what is wrong."""

from __future__ import annotations

import struct

import pytest

from chorus.library.mp4 import NotMp4, read, read_bytes
from tests.mp4_sample import box, make_mp4


def test_duration_and_dimensions_of_a_fast_start_file() -> None:
    info = read_bytes(make_mp4(1280, 720, 7.3))
    assert (info.duration_s, info.width, info.height, info.has_video, info.brand) == (
        7.3,
        1280,
        720,
        True,
        "isom",
    )


def test_moov_after_mdat_is_found_with_few_small_reads() -> None:
    data = make_mp4(720, 1280, 30.0, moov_last=True) + b""
    reads: list[tuple[int, int]] = []

    def read_at(offset: int, length: int) -> bytes:
        reads.append((offset, length))
        return data[offset : offset + length]

    info = read(read_at, len(data))
    assert (info.width, info.height, info.duration_s) == (720, 1280, 30.0)
    # three box headers and the brand, then moov in one read: never the media data
    assert len(reads) == 5
    assert all(length <= 16 for _, length in reads[:-1])
    assert reads[-1][1] < 2000 < len(data) - reads[-1][1]


def test_version_1_boxes_with_64_bit_fields() -> None:
    info = read_bytes(make_mp4(1920, 1080, 61.25, version=1))
    assert (info.duration_s, info.width, info.height) == (61.25, 1920, 1080)


def test_a_quarter_turn_swaps_width_and_height() -> None:
    info = read_bytes(make_mp4(1920, 1080, 3.0, rotate=True))
    assert (info.width, info.height) == (1080, 1920)


def test_a_64_bit_box_size_is_followed() -> None:
    plain = make_mp4(320, 240, 1.0)
    ftyp_size = struct.unpack(">I", plain[:4])[0]
    ftyp = plain[:ftyp_size]
    large = struct.pack(">I4sQ", 1, b"free", 16 + 8) + b"\x00" * 8  # a 'free' box with a 64-bit size
    info = read_bytes(ftyp + large + plain[ftyp_size:])
    assert (info.width, info.height, info.duration_s) == (320, 240, 1.0)


@pytest.mark.parametrize("version", [0, 1])
def test_a_fragmented_mp4_s_length_comes_from_mehd(version: int) -> None:
    info = read_bytes(make_mp4(640, 640, 9.5, fragmented=True, version=version))
    assert (info.duration_s, info.width, info.height) == (9.5, 640, 640)


def test_a_fragmented_mp4_that_does_not_say_its_length_has_none() -> None:
    data = make_mp4(640, 640, 9.5, fragmented=True)
    without = data.replace(b"mehd", b"free")  # the mehd box becomes padding
    assert read_bytes(without).duration_s is None


def test_an_old_quicktime_movie_without_ftyp_is_read() -> None:
    info = read_bytes(make_mp4(720, 480, 5.0, quicktime=True))
    assert (info.duration_s, info.width, info.height, info.brand) == (5.0, 720, 480, "")


def test_audio_only_has_no_video_and_no_dimensions() -> None:
    info = read_bytes(make_mp4(seconds=4.0, video=False))
    assert (info.has_video, info.width, info.height, info.duration_s) == (False, None, None, 4.0)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "claims"),  # a PNG: its signature read as a size
        (b"\x00\x00\x00\x10\x00\x01\x02\x03" + b"\x00" * 40, "no box type"),
        (box(b"uuid") + b"\x00" * 16, "starts with an ftyp box"),
        (box(b"ftyp", b"isom\x00\x00\x02\x00") + box(b"mdat", b"\x00" * 64), "no moov box"),
        (make_mp4(moov_last=True)[:-40], "claims"),  # cut short: moov claims more than there is
        (b"\x00\x00", "too short"),
    ],
)
def test_what_is_not_an_mp4_is_refused_saying_why(data: bytes, says: str) -> None:
    with pytest.raises(NotMp4, match=says):
        read_bytes(data)


def test_a_moov_without_mvhd_is_refused() -> None:
    data = box(b"ftyp", b"isom\x00\x00\x02\x00") + box(b"moov", box(b"trak"))
    with pytest.raises(NotMp4, match="no mvhd"):
        read_bytes(data)
