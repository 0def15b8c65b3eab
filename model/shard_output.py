"""An output folder of JSONL shards and a `manifest.json` written last.

Each shard is written to a temporary file and renamed when full, and the manifest is
written (atomically) only when the whole run has finished, so a folder with a manifest is
a finished run and a folder without one is not.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from .outputs import OutputError, jsonl_line

MANIFEST_FILE = "manifest.json"
SHARD_PREFIX = "part-"
SHARD_SUFFIX = ".jsonl"
ROWS_PER_SHARD = 100_000


class ShardedOutput:
    """Rows go to `part-00000.jsonl`, `part-00001.jsonl`, ...; `commit` writes the manifest."""

    def __init__(self, folder: Path, force: bool = False, rows_per_shard: int = ROWS_PER_SHARD):
        self.folder = Path(folder)
        self.rows_per_shard = rows_per_shard
        self.shards: list[dict] = []
        self._stream: TextIO | None = None
        self._temporary: Path | None = None
        self._rows = 0
        _prepare_folder(self.folder, force)

    def write(self, rows: Iterable[dict]) -> None:
        for row in rows:
            if self._stream is None:
                self._open_shard()
            self._stream.write(jsonl_line(row))
            self._rows += 1
            if self._rows >= self.rows_per_shard:
                self._close_shard()

    def commit(self, manifest: dict) -> Path:
        """Close the last shard and write the manifest, which lists every shard."""
        self._close_shard()
        content = {**manifest, "shards": self.shards}
        target = self.folder / MANIFEST_FILE
        handle, name = tempfile.mkstemp(prefix=".manifest.", suffix=".part", dir=self.folder)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(content, stream, indent=2, ensure_ascii=False)
            stream.write("\n")
        os.replace(name, target)
        return target

    def abandon(self) -> None:
        """Drop the shard being written; finished shards stay, and no manifest is written."""
        if self._stream is not None:
            self._stream.close()
            self._temporary.unlink(missing_ok=True)
            self._stream = self._temporary = None

    def _open_shard(self) -> None:
        handle, name = tempfile.mkstemp(prefix=f".{SHARD_PREFIX}", suffix=".part", dir=self.folder)
        self._stream = os.fdopen(handle, "w", encoding="utf-8", newline="")
        self._temporary = Path(name)
        self._rows = 0

    def _close_shard(self) -> None:
        if self._stream is None:
            return
        self._stream.close()
        name = f"{SHARD_PREFIX}{len(self.shards):05d}{SHARD_SUFFIX}"
        os.replace(self._temporary, self.folder / name)
        self.shards.append({"file": name, "rows": self._rows})
        self._stream = self._temporary = None


def _prepare_folder(folder: Path, force: bool) -> None:
    """Create the folder; a non-empty one needs `force`, which removes an earlier run's files."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: is a file; --engine ray writes a folder of shards")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise OutputError(
                f"{folder}: folder is not empty; use --force to replace an earlier run's "
                "shards and manifest"
            )
        # The manifest goes first: if the clean-up stops half-way, nothing claims success.
        (folder / MANIFEST_FILE).unlink(missing_ok=True)
        for path in folder.iterdir():
            if _is_run_file(path.name):
                path.unlink()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{folder}: cannot create the folder ({error.strerror})") from None


def _is_run_file(name: str) -> bool:
    shard = name.startswith(SHARD_PREFIX) and name.endswith(SHARD_SUFFIX)
    leftover = name.startswith((f".{SHARD_PREFIX}", ".manifest.")) and name.endswith(".part")
    return shard or leftover
