"""Reading a post's media for a chunked upload, through the guarded fetcher (``chorus.net.fetch``).

Each byte range an upload sends is read by a ``Range`` request, so a resumed upload reads only what it
still sends and a file is never held whole per part; a media server that ignores ``Range`` sends it all,
and the range is cut from it.
"""

from __future__ import annotations

from chorus.net.fetch import fetch
from chorus.platforms.base import MediaItem
from chorus.platforms.budget import Timeout, timeout_seconds

MB = 1024 * 1024


def media_range(item: MediaItem, first: int, last: int, platform: str, timeout: Timeout) -> tuple[bytes, int]:
    """Bytes ``first..last`` (inclusive) of the media and its total size."""
    got = fetch(item.url, field_name="media", platform=platform, headers={"Range": f"bytes={first}-{last}"},
                deadline_s=timeout_seconds(timeout))  # fmt: skip
    total = got.headers.get("Content-Range", "").rpartition("/")[2]
    if got.status == 206 and total.isdigit():
        return got.content, int(total)
    return got.content[first : last + 1], len(got.content)


def media_whole(item: MediaItem, platform: str, timeout: Timeout) -> bytes:
    """The whole media, for an upload that sends it in one request (or an image read beside it)."""
    return fetch(item.url, field_name="media", platform=platform, deadline_s=timeout_seconds(timeout)).content


def media_size(item: MediaItem, platform: str, timeout: Timeout) -> int:
    """The media's size in bytes: the size the post gives, else from a one-byte ``Range`` read."""
    if item.size:
        return item.size
    return media_range(item, 0, 0, platform, timeout)[1]


def byte_spans(size: int, part_bytes: int) -> list[tuple[int, int]]:
    """The inclusive byte ranges of a ``size``-byte file cut in ``part_bytes`` parts, in order (the last
    one shorter): what a chunked upload sends part by part."""
    if part_bytes < 1:
        raise ValueError("a part is at least one byte")
    return [(start, min(start + part_bytes, size) - 1) for start in range(0, size, part_bytes)]
