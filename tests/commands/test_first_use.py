"""What a new user hit first (issue 24.4): listings, a quick space, quoted commands, defaults in
--help, progress lines in files, a quiet report kernel, and where compare writes."""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex

import optuna
import pytest
from helpers import FIXTURES, run_in

from harness.cli import build_parser, main
from harness.commands._progress import Progress, StatusLine
from harness.model.families import get_family
from harness.search.space import analytic_spaces, load_space

TINY = str(FIXTURES / "tiny.toml")


def test_spaces_lists_the_analytic_spaces_and_shows_one(capsys):
    assert main(["spaces"]) == 0
    listing = capsys.readouterr().out
    for name in ("analytic/branin", "analytic/hartmann6", "analytic/mixed", "analytic/quadratic"):
        assert name in listing
    assert "mlp-small" in listing and "quick" in listing
    assert set(analytic_spaces()) >= {"analytic/branin", "analytic/quadratic"}
    assert main(["spaces", "analytic/branin"]) == 0
    shown = capsys.readouterr().out
    assert "x1" in shown and "x2" in shown and "grid size: 100" in shown


def test_the_quick_space_is_small_and_holds_the_baselines_searched_values():
    space = load_space("quick")
    assert space.grid_size <= 16
    assert min(space.params["max_epochs"].choices) <= 10  # short trials ...
    assert min(space.params["neuron_pct"].choices) * space.fixed["max_neurons"] <= 16  # small
    baseline = get_family(space.family).baseline
    searched = [name for name in space.params if name in baseline]
    assert searched  # the baseline's optimizer and learning rate
    for name in searched:
        assert space.params[name].contains(baseline[name]), name


@pytest.mark.slow
def test_a_five_trial_quick_run_finishes(tmp_path):
    storage = f"sqlite:///{tmp_path / 'q.db'}"
    code = main(
        [
            "run",
            "--space",
            "quick",
            "--trials",
            "5",
            "--quiet",
            "--storage",
            storage,
            "--leaderboards",
            str(tmp_path / "b"),
            "--models",
            str(tmp_path / "m"),
        ]
    )
    assert code == 0
    study = optuna.load_study(study_name="teleconnect-quick-tpe-s0", storage=storage)
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) >= 5


@pytest.mark.slow
def test_the_commands_run_suggests_quote_paths_with_spaces(tmp_path, capsys):
    folder = tmp_path / "my models"
    code = run_in(
        tmp_path,
        *("--dataset", "iris", "--space", TINY, "--trials", "2", "--folds", "3"),
        storage=f"sqlite:///{tmp_path / 'a b.db'}",
        models=folder,
    )
    assert code == 0
    out = capsys.readouterr().out
    [predict] = [line for line in out.splitlines() if line.startswith("score new rows:")]
    command = shlex.split(predict.removeprefix("score new rows: ").split(";")[0])
    assert command[command.index("--model") + 1] == str(folder / "iris-tiny-tpe-s0.joblib")
    [dashboard] = [line for line in out.splitlines() if line.startswith("dashboard:")]
    assert shlex.split(dashboard)[-1] == f"sqlite:///{tmp_path / 'a b.db'}"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_option_with_a_default_shows_it_in_help():
    for name, sub in _subparsers(build_parser()).items():
        text = " ".join(sub.format_help().split())  # help lines wrap anywhere
        for action in sub._actions:
            if action.default is None or action.default is False or not action.option_strings:
                continue
            if action.default is argparse.SUPPRESS:
                continue
            assert f"(default: {action.default})" in text, (name, action.dest)
    run_help = " ".join(_subparsers(build_parser())["run"].format_help().split())
    assert "(default: 0)" in run_help.split("--seed SEED")[-1].split("--metric")[0]


def test_every_command_taking_data_dir_describes_it_the_same_way():
    # One definition (_data_options.add_data_dir_argument): registered datasets' files, the
    # environment variable, then ./data; once a command said "the dataset's CSV file" instead.
    options = {
        name: action
        for name, sub in _subparsers(build_parser()).items()
        for action in sub._actions
        if "--data-dir" in action.option_strings
    }
    assert set(options) == {"compare", "datasets", "report", "run", "worker"}
    assert len({(a.help, a.metavar, a.default) for a in options.values()}) == 1
    assert "registered dataset files" in options["compare"].help


def test_the_status_line_rewrites_on_a_terminal_and_prints_lines_elsewhere():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    to_file, terminal = io.StringIO(), Terminal()
    for stream in (to_file, terminal):
        line = StatusLine(stream)
        line.show("replayed 1/2 studies")
        line.show("replayed 2/2 studies")
        line.close()
    assert to_file.getvalue() == "replayed 1/2 studies\nreplayed 2/2 studies\n"
    assert terminal.getvalue().count("\r") == 2 and terminal.getvalue().endswith("studies\n")


def test_the_trial_progress_prints_one_line_per_trial_into_a_file():
    study = optuna.create_study(direction="maximize")
    stream = io.StringIO()
    progress = Progress(3, "f1_macro", stream=stream)
    for value in (0.2, 0.5, 0.4):
        study.optimize(lambda trial, v=value: v, n_trials=1, callbacks=[progress])
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in stream.getvalue()
    assert lines[-1].startswith("[3/3] best f1_macro 0.5000")


def test_the_report_notebook_kernel_prints_no_tcp_warning(tmp_path, capfd):
    import nbformat

    from harness.report.notebook import execute_notebook

    document = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    executed = execute_notebook(nbformat.writes(document), tmp_path, timeout=120)
    if executed is None:
        pytest.skip("nbclient or a Jupyter kernel is not installed")
    assert "42" in executed
    assert "without encryption" not in capfd.readouterr().err


@pytest.mark.slow
def test_compare_says_where_its_leaderboard_and_storage_are(tmp_path, capsys):
    (tmp_path / "studies").mkdir()
    (tmp_path / "tiny-replay.toml").write_text(
        'name = "tiny-replay"\nmode = "replay"\ntask = "quadratic"\n'
        'strategies = ["random"]\nseeds = [0, 1]\ntrials = 4\n'
    )
    with contextlib.chdir(tmp_path):
        assert main(["compare", "tiny-replay.toml", "--quiet"]) == 0
    out = capsys.readouterr().out
    board = tmp_path / "leaderboards" / "tiny-replay.md"
    assert board.is_file()
    assert f"leaderboard: {board} (CSV tables and figures beside it)" in out
    assert f"storage: sqlite:///studies/tiny-replay.db (from {tmp_path})" in out
