"""The presented page as the program's still picture for points on weak lines ("slides").

The server renders the page the chair presents through its page cache (the tablets' WebP, in
the render pool) at the width that fills the slide, and hands the image to the meeting's
conference, here or in a `phonghop bridge`; the bridge fits it into 1280x720 here, on the
conference page's grey, the page's shape kept.
"""

from __future__ import annotations

import io

import numpy as np
from av.video.frame import VideoFrame
from PIL import Image

from agenda.render import width_bucket

WIDTH, HEIGHT = 1280, 720
BACKGROUND = (232, 236, 240)  # the grey behind the presented page on the conference page
MAX_PIXELS = 24_000_000  # as the page renderer's own limit: no bigger image is made


def render_width(page_size: tuple[float, float] | None) -> int:
    """The page cache's width to render a page of `page_size` (points) at, so that the
    fitted slide is a downscale of it: never blurred by being blown up."""
    if page_size is None or min(page_size) <= 0:
        return WIDTH
    page_width, page_height = page_size
    fitted = min(WIDTH, HEIGHT * page_width / page_height)
    return width_bucket(int(fitted + 0.999))


def slide_picture(image: bytes) -> VideoFrame:
    """The page image (WebP, PNG or JPEG) fitted inside 1280x720, centred, as yuv420p."""
    with Image.open(io.BytesIO(image)) as page:
        if page.width * page.height > MAX_PIXELS:
            raise ValueError(f"a {page.width}x{page.height} page is larger than a slide needs")
        scale = min(WIDTH / page.width, HEIGHT / page.height)
        size = (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
        fitted = page.convert("RGB").resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    sheet = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    sheet.paste(fitted, ((WIDTH - size[0]) // 2, (HEIGHT - size[1]) // 2))
    frame = VideoFrame.from_ndarray(np.asarray(sheet), format="rgb24")
    return frame.reformat(format="yuv420p")
