"""A model directory as bytes: hashed for manifests, shipped to machines that lack it.

A cluster's workers may not see the directory the command was given, so the driver reads
its files once and sends them through Ray's object store; each worker unpacks them into a
private temporary folder and loads the model from there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .model_config import NotAModelError


@dataclass(frozen=True)
class ModelFiles:
    """Every file of a model directory, by path relative to it, with the directory's hash."""

    directory: Path
    files: dict[str, bytes]
    sha256: str

    @classmethod
    def read(cls, directory: str | Path) -> ModelFiles:
        root = Path(directory)
        if not root.is_dir():
            raise NotAModelError(f"{root}: not a model directory")
        files = {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file()
        }
        return cls(root, files, directory_sha256(files))

    @property
    def size(self) -> int:
        return sum(len(content) for content in self.files.values())

    def unpack(self, folder: Path) -> Path:
        """Write the files under `folder` and return it."""
        for name, content in self.files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        return folder


def directory_sha256(files: dict[str, bytes]) -> str:
    """One hash over the names and contents of the files, independent of their order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()
