"""Inputs a hostile tester tried (issue 21.6): each ends with one line naming the problem and
the fix, exit status 2, and nothing written: no storage, no model, no leaderboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_in


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _run(tmp_path: Path, *options: str) -> int:
    return run_in(tmp_path / "out", "--trials", "2", "--folds", "2", *options)


def _refused(tmp_path: Path, capsys, before: set[Path], *options: str) -> str:
    """Run, and check the refusal: exit 2, one line on stderr, no file made. Return the line."""
    code = _run(tmp_path, *options)
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert _files(tmp_path) == before
    return err.strip()


def _csv(path: Path, target: list) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=len(target)), "b": rng.normal(size=len(target))})
    frame.assign(label=target).to_csv(path, index=False)
    return path


def test_a_numeric_parameter_with_text_choices_is_refused_when_the_space_loads(tmp_path, capsys):
    space = tmp_path / "strings.toml"
    space.write_text('[params.lr]\ntype = "categorical"\nchoices = ["fast", "slow"]\n')
    before = _files(tmp_path)
    line = _refused(tmp_path, capsys, before, "--dataset", "iris", "--space", str(space))
    assert "parameter 'lr': choice 'fast' is not a number" in line and "give a number" in line


def test_a_text_target_with_all_distinct_values_gets_a_short_line(tmp_path, capsys):
    data = _csv(tmp_path / "people.csv", [f"person{i}" for i in range(300)])
    before = _files(tmp_path)
    line = _refused(tmp_path, capsys, before, "--data", str(data), "--target", "label")
    assert len(line) < 400  # it once listed all 300 labels: 4,528 characters
    assert "each of the 300 labels of 'label'" in line and "and 297 more" in line
    assert "choose the class label column as the target" in line


def test_a_data_file_name_that_cannot_name_a_study_is_refused_before_any_work(tmp_path, capsys):
    data = _csv(tmp_path / "my data.csv", [0, 1] * 30)
    before = _files(tmp_path)
    line = _refused(tmp_path, capsys, before, "--data", str(data), "--target", "label")
    assert "study name 'my data-mlp-small-tpe-s0' cannot name" in line
    assert "give --study NAME" in line


@pytest.mark.parametrize("name", ["my study", "a/b", "x;y"])
def test_a_study_name_that_cannot_name_files_is_refused(tmp_path, capsys, name):
    before = _files(tmp_path)
    line = _refused(tmp_path, capsys, before, "--dataset", "iris", "--study", name)
    assert f"study name {name!r} cannot name its leaderboard and model files" in line


def test_messages_list_at_most_ten_values():
    from harness.errors import listed

    assert listed(["a", "b", "c"]) == "a, b, c"
    assert listed(range(11)) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"  # "and 1 more" is no shorter
    assert listed(range(4530)) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 4,520 more"


@pytest.mark.parametrize(
    ("look_up", "what", "choices"),
    [
        ("harness.model.families:get_family", "model family", "mlp, cnn"),
        ("harness.search.strategies:get_strategy", "strategy", "grid, random"),
        ("harness.search.pruners:check_pruner", "pruner", "none, median"),
        ("harness.data.datasets:get_spec", "dataset", "teleconnect"),
        ("harness.data.analytic:get_task", "analytic task", "branin"),
        ("harness.study.metrics:get_metric", "metric", "accuracy"),
    ],
)
def test_every_registry_answers_a_wrong_name_with_its_choices(look_up, what, choices):
    import importlib

    from harness.errors import HarnessError

    module, _, function = look_up.partition(":")
    for wrong in ("no-such-name", 3, ["mlp"]):
        with pytest.raises(HarnessError) as caught:
            getattr(importlib.import_module(module), function)(wrong)
        message = str(caught.value)
        assert message.startswith(f"unknown {what} {wrong!r}; choose one of: "), message
        assert choices in message and "\n" not in message
