"""Files served with HTTP Range requests (RFC 9110 §14), so a browser's player can seek.

Litestar's File response always sends the whole file; a video of a three-hour session
must be playable from any point without downloading what comes before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from litestar import Request, Response
from litestar.response import Stream

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def wanted_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte asked for; None for the whole file.

    Only a single range is honoured; a list of ranges gets the whole file, which RFC 9110
    allows. Raises ValueError when the range cannot be satisfied.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if first == "":  # "bytes=-500": the last 500 bytes
        if last == "" or int(last) == 0:
            raise ValueError("empty suffix range")
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError("range outside the file")
    return start, end


def _chunks(path: Path, start: int, end: int) -> Iterator[bytes]:
    with path.open("rb") as source:
        source.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = source.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def disposition(filename: str, attachment: bool) -> str:
    kind = "attachment" if attachment else "inline"
    return f"{kind}; filename*=UTF-8''{quote(filename)}"


def serve_file(
    request: Request, path: Path, media_type: str, filename: str, attachment: bool = False
) -> Response:
    """`path` whole (200) or the one range asked for (206); 416 for a range past its end."""
    size = path.stat().st_size
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": disposition(filename, attachment),
    }
    try:
        asked = wanted_range(request.headers.get("range"), size)
    except ValueError:
        return Response(b"", status_code=416, headers={"Content-Range": f"bytes */{size}"})
    start, end = asked or (0, size - 1)
    headers["Content-Length"] = str(end - start + 1)
    if asked is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if size == 0:
        return Response(b"", headers=headers, media_type=media_type)
    return Stream(
        _chunks(path, start, end),
        status_code=206 if asked else 200,
        media_type=media_type,
        headers=headers,
    )
