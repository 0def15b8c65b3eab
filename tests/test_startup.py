"""Start-up: help and argument errors never import the heavy libraries."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "datasets", "onnxruntime", "sklearn", "matplotlib", "onnx",
         "ray", "pyarrow")


@pytest.mark.parametrize(
    "argv", [["--help"], ["label", "--help"], ["label"], ["bench", "--help"], ["nonsense"],
            ["label", "a.txt", "--engine", "ray"]]
)
def test_help_and_usage_errors_import_no_heavy_library(argv):
    script = (
        "import sys\n"
        "from factsep.scripts.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
