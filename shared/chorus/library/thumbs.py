"""Thumbnails of media library items (JPEG, at most ``SIZE`` pixels on the longer side).

An image is decoded with Pillow (its EXIF orientation applied, transparency laid on white) and scaled
down keeping its aspect ratio. A video is not decoded (no codec ships with Chorus): its thumbnail is a
poster of the video's own aspect ratio showing a play mark and its length, drawn from the MP4 header
facts (``chorus.library.mp4``)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

SIZE = 320
MAX_PIXELS = 100_000_000  # a larger image is refused before decoding (a decompression bomb)
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}


class NotAnImage(ValueError):
    """The bytes are not an image of the declared type; the message says why."""


@dataclass(frozen=True)
class Thumbnail:
    data: bytes  # JPEG
    width: int  # of the thumbnail
    height: int
    source_width: int  # of the original, as displayed
    source_height: int


def fit(width: int, height: int, size: int = SIZE) -> tuple[int, int]:
    """``width`` x ``height`` scaled to fit ``size`` x ``size`` (never enlarged), at least 1 x 1."""
    scale = min(1.0, size / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def of_image(data: bytes, mime_type: str) -> Thumbnail:
    """The thumbnail of an image file of type ``mime_type``. Raises NotAnImage."""
    expected = FORMATS.get(mime_type.lower())
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if expected and probe.format != expected:
                raise NotAnImage(f"the file is {probe.format or 'not an image'}, not {mime_type}")
            if probe.width * probe.height > MAX_PIXELS:
                raise NotAnImage(f"{probe.width}x{probe.height} is over {MAX_PIXELS} pixels")
            probe.seek(0)
            image = ImageOps.exif_transpose(probe.convert("RGBA") if probe.mode in ("P", "LA") else probe)
            source = image.size
            if image.mode in ("RGBA", "LA", "P"):
                rgba = image.convert("RGBA")
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
                image = flat
            image = image.convert("RGB")
            image.thumbnail((SIZE, SIZE))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise NotAnImage(f"the file is not a readable {mime_type} ({exc})") from None
    return Thumbnail(_jpeg(image), image.width, image.height, source[0], source[1])


def poster(width: int | None, height: int | None, duration_s: float | None) -> Thumbnail:
    """A video's poster: its aspect ratio (square when unknown), a play mark and its length (if known)."""
    w, h = fit(width or SIZE, height or SIZE)
    image = Image.new("RGB", (w, h), (24, 28, 36))
    draw = ImageDraw.Draw(image)
    side = max(6, min(w, h) // 4)
    cx, cy = w // 2, h // 2
    draw.polygon([(cx - side // 2, cy - side // 2), (cx - side // 2, cy + side // 2), (cx + side // 2, cy)],
                 fill=(240, 240, 240))  # fmt: skip
    if duration_s is not None:
        minutes, seconds = divmod(round(duration_s), 60)
        draw.text((4, h - 14), f"{minutes}:{seconds:02d}", fill=(240, 240, 240))
    return Thumbnail(_jpeg(image), w, h, width or 0, height or 0)
