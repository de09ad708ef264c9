"""The public face: every name in ``harness.__all__`` resolves, lazily, and outputs use only it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from helpers import CHECKOUT

import harness


def test_every_public_name_resolves():
    for name in harness.__all__:
        assert getattr(harness, name) is not None, name


def test_an_unknown_name_is_an_attribute_error():
    try:
        harness.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_harness_imports_neither_torch_nor_optuna():
    code = "import sys, harness; print('torch' in sys.modules, 'optuna' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_committed_notebooks_import_only_public_names():
    for path in sorted((CHECKOUT / "reports").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert "from harness import" in code, path
        assert not re.search(r"(from|import) harness\.", code), path
        imported = re.findall(r"from harness import \(?([^)]*?)\)?\n\n", code, re.S)
        for block in imported:
            for name in re.findall(r"\w+", block):
                assert name in harness.__all__, (path, name)


def test_committed_reports_name_only_public_harness_objects():
    for path in sorted((CHECKOUT / "reports").glob("*.md")):
        for name in re.findall(r"`harness\.(\w+(?:\.\w+)*)`", path.read_text()):
            assert name in harness.__all__, (path, name)
