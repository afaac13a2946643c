"""Content-addressed files under the data dir: blobs/ab/abcdef….pdf, named by sha256 only."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str, suffix: str = ".pdf") -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def put(self, data: bytes, suffix: str = ".pdf") -> str:
        """Stores `data` (once; the same bytes are not written twice) and returns its sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256, suffix)
        if target.exists():
            return sha256
        write_atomically(target, data)
        return sha256

    def get(self, sha256: str, suffix: str = ".pdf") -> bytes:
        return self.path(sha256, suffix).read_bytes()


def write_atomically(target: Path, data: bytes, durable: bool = True) -> None:
    """Writes `data` to `target` so readers see the whole file or none, even after a crash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
