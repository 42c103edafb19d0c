"""Image bytes from a request -> a (H, W, 3) uint8 BGR frame, within byte and pixel limits.

Only JPEG and PNG are taken. The size is read from the file's header before anything is decoded, so an image
that would decode to more than ``max_pixels`` (a "decompression bomb": a few kB of PNG that inflate to
gigabytes) is refused without allocating it. A JPEG without its end marker and a PNG without its ``IEND`` chunk
are refused as truncated (OpenCV would fill the missing part with grey and say nothing).

Decoding is ``cv2.imdecode(..., IMREAD_COLOR)``: the same call ``--image`` makes (``io.sources.read_image``),
so a photo gives the same pixels, EXIF rotation included, either way.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .guard import error_body

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass
class ImageRejected(Exception):
    """Why an image was refused: ``code`` (a short stable word for clients), ``status`` (the HTTP status a route
    answers with) and ``message`` (one line: what was expected, what came, what to do)."""

    code: str
    status: int
    message: str

    def __str__(self) -> str:
        return self.message

    def as_json(self) -> dict:
        return error_body(self.code, self.message)


def image_kind(data: bytes) -> str | None:
    """"jpeg", "png" or None, from the first bytes."""
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if data.startswith(PNG_MAGIC):
        return "png"
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first start-of-frame segment, or None when there is none."""
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in _SOF_MARKERS:
            if pos + 9 > end:
                return None
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        if length < 2:
            return None
        pos += 2 + length
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def image_size(data: bytes) -> tuple[str, int, int]:
    """(kind, width, height) read from the header of JPEG or PNG ``data``; ImageRejected otherwise."""
    kind = image_kind(data)
    if kind is None:
        head = data[:8].hex(" ") if data else "no bytes"
        raise ImageRejected("not_an_image", 415, f"image: expected JPEG or PNG bytes, got data starting with {head}; "
                                                 "send a .jpg or .png file")
    size = _jpeg_size(data) if kind == "jpeg" else _png_size(data)
    if size is None or size[0] < 1 or size[1] < 1:
        raise ImageRejected("bad_image", 400, f"image: expected a {kind.upper()} header with the image size, got a "
                                              "damaged or truncated one; send the whole file")
    return (kind, *size)


def check_image(data: bytes, max_bytes: int, max_pixels: int) -> tuple[str, int, int]:
    """The checks that need no decoding: type, byte and pixel limits, an end marker; (kind, width, height)."""
    if len(data) > max_bytes:
        raise ImageRejected("too_large", 413, f"image: expected at most {max_bytes} bytes, got {len(data)}; send a "
                                              "smaller file or raise the server's --max-bytes")
    kind, width, height = image_size(data)
    if width * height > max_pixels:
        raise ImageRejected("too_many_pixels", 413, f"image: expected at most {max_pixels} pixels, got {width}x"
                                                    f"{height}; scale it down or raise the server's --max-pixels")
    ended = data.rfind(b"\xff\xd9") > 2 if kind == "jpeg" else data.rfind(b"IEND") > 24
    if not ended:
        raise ImageRejected("truncated", 400, f"image: expected a complete {kind.upper()} file, got one without "
                                              "its end marker (truncated); send the whole file")
    return kind, width, height


def decode_image(data: bytes, max_bytes: int, max_pixels: int) -> np.ndarray:
    """JPEG/PNG ``data`` -> (H, W, 3) uint8 BGR (grey, 16-bit and alpha images converted, EXIF rotation applied).

    Raises:
        ImageRejected: not JPEG/PNG, over ``max_bytes`` or ``max_pixels``, truncated, or undecodable.
    """
    return decode_checked(data, *check_image(data, max_bytes, max_pixels))


def decode_checked(data: bytes, kind: str, width: int, height: int) -> np.ndarray:
    """``data`` that passed ``check_image`` (which gave ``kind``, ``width``, ``height``) -> (H, W, 3) uint8 BGR;
    ImageRejected when it does not decode."""
    import cv2

    from ...io.sources import to_bgr

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageRejected("bad_image", 400, f"image: expected a decodable {kind.upper()} of {width}x{height}, got "
                                              "damaged data; send an intact file")
    return to_bgr(image)
