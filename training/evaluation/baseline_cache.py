"""The baselines, fitted once per training file and kept in a cache folder.

Reading the training split and fitting the TF-IDF + logistic-regression baseline on it
costs more than the rest of an evaluation's bookkeeping together; the fit depends only on
the training file's bytes, the label order, the fitting code (`baselines.py`) and
scikit-learn's version, so the fitted baselines are pickled under a key made of those.
Unpickling runs code, so an entry is read only when it and its folder belong to the current
user and nobody else can write them; any other entry is refitted and replaced.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from factsep.model.labels import LABELS

from . import baselines
from .baselines import MajorityBaseline, TfidfBaseline

Baselines = tuple[MajorityBaseline, TfidfBaseline]
FITTING_CODE = Path(baselines.__file__)  # a changed feature or classifier refits


def cache_key(train_path: Path) -> str:
    """Hex key: the training file, the label order, the fitting code and sklearn's version."""
    import sklearn

    digest = hashlib.sha256(Path(train_path).read_bytes())
    digest.update(hashlib.sha256(FITTING_CODE.read_bytes()).digest())
    digest.update(f"|labels={','.join(LABELS)}|sklearn{sklearn.__version__}".encode())
    return digest.hexdigest()


def cached_baselines(
    train_path: Path, fit: Callable[[], Baselines], cache_dir: Path | None
) -> Baselines:
    """The baselines for `train_path`: from `cache_dir` if fitted before, else `fit()` and store.

    `cache_dir=None` always fits. An unreadable, stale or untrusted entry is refitted and
    replaced; a cache folder that cannot be written only costs the next run the fit again.
    """
    if cache_dir is None:
        return fit()
    path = Path(cache_dir) / f"baselines-{cache_key(train_path)[:32]}.pkl"
    if _trusted(path):
        try:
            with path.open("rb") as stream:
                cached = pickle.load(stream)
            if _is_baselines(cached):
                return cached
        except Exception:  # noqa: BLE001  (any corrupt entry is refitted, as documented)
            pass
    baselines = fit()
    try:
        _write_atomic(path, pickle.dumps(baselines, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass
    return baselines


def _trusted(path: Path) -> bool:
    """Whether `path` and its folder are the current user's and writable by nobody else."""
    try:
        entries = [os.lstat(path), os.stat(path.parent)]
    except OSError:
        return False
    return stat.S_ISREG(entries[0].st_mode) and all(
        e.st_uid == os.getuid() and not e.st_mode & (stat.S_IWGRP | stat.S_IWOTH) for e in entries
    )


def _is_baselines(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], MajorityBaseline)
        and isinstance(value[1], TfidfBaseline)
    )


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
