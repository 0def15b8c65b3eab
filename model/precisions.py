"""The inference paths' names, importable without numpy or torch (the CLI lists them)."""

from __future__ import annotations

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "int8")
