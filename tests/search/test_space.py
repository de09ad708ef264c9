"""Search spaces: loading, validation, conditional suggestion and grids."""

from __future__ import annotations

import itertools
import shutil

import optuna
import pytest
from helpers import FIXTURES

from harness.cli import main as cli
from harness.errors import SpaceError
from harness.model.vocabulary import IMBALANCE_STRATEGIES, SEARCHABLE_PARAMS
from harness.search.space import (
    BUILTIN_SPACES,
    SearchSpace,
    available_spaces,
    load_space,
    parse_space,
)

SPACES = FIXTURES / "spaces"


def _brute_force_grid(space: SearchSpace) -> set[tuple]:
    """Every grid point, found by filtering the full product (inactive values dropped)."""
    params = list(space.params.values())
    points = set()
    for values in itertools.product(*(p.grid for p in params)):
        point = space.active(dict(zip(space.params, values, strict=True)))
        points.add(tuple(sorted(point.items())))
    return points


def _key(point: dict) -> tuple:
    return tuple(sorted(point.items()))


def test_project_spaces_are_found_and_valid():
    spaces = available_spaces()
    assert {"mlp", "mlp-small"} <= spaces.keys()
    for name in ("mlp", "mlp-small"):
        space = load_space(name)
        assert space.name == name
        assert set(space.params) | set(space.fixed) <= {*SEARCHABLE_PARAMS, "imbalance"}
        assert space.has_grid


def test_mlp_reference_space_matches_the_brief():
    space = load_space("mlp")
    assert space.params["optimizer"].choices == ("sgd", "adam", "rmsprop", "adamw")
    lr = space.params["lr"]
    assert (lr.low, lr.high, lr.log) == (1e-4, 1e-1, True)
    assert lr.grid == pytest.approx((1e-4, 1e-3, 1e-2, 1e-1))
    assert space.params["dropout"].high < 0.5
    assert space.params["momentum"].when == {"optimizer": ("sgd",)}
    assert set(space.params["imbalance"].choices) == set(IMBALANCE_STRATEGIES)
    # Training length is searched (issue 20.2): epochs, and early stopping on or off.
    assert space.params["early_stopping"].choices == (False, True)
    assert 100 in space.params["max_epochs"].grid
    # 0 (the baseline's) is a weight-decay value, so the space holds the baseline.
    assert space.params["weight_decay"].choices[0] == 0.0
    # Conditional parameters are not multiplied in: momentum (2 values) only for sgd,
    # focal_gamma (2 values) only for focal.
    unconditional = 1
    for param in space.params.values():
        if not param.when and param.name not in ("optimizer", "imbalance"):
            unconditional *= len(param.grid)
    assert space.grid_size == unconditional * (2 + 3) * (6 + 2)


def test_small_space_is_fully_griddable():
    space = load_space("mlp-small")
    # (sgd: lr 3 x momentum 2 x neuron_pct 3 x dropout 3 x imbalance 2; adam: no momentum)
    # x max_epochs 2 (30, or the baseline's 100)
    assert space.grid_size == (108 + 54) * 2
    assert len(space.grid()) == space.grid_size


def test_grid_resolves_nested_conditions_without_duplicates():
    space = load_space(SPACES / "conditional.toml")
    grid = space.grid()
    # sgd: (nesterov off 3 momenta + nesterov on 1 schedule x 3 momenta) x 5 x 4 = 120,
    # adam: 20, rmsprop: 3 momenta x 20 = 60
    assert space.grid_size == len(grid) == 200
    assert len({_key(p) for p in grid}) == len(grid)
    assert {_key(p) for p in grid} == _brute_force_grid(space)
    assert [space.grid_point(i) for i in range(len(grid))] == grid
    for point in grid:
        assert ("momentum" in point) == (point["optimizer"] in ("sgd", "rmsprop"))
        assert ("lr_schedule" in point) == (point.get("nesterov") is True)
    with pytest.raises(IndexError):
        space.grid_point(200)


def test_grid_counts_generate_spaced_values():
    space = load_space(SPACES / "conditional.toml")
    assert space.params["batch_size"].grid == (16, 32, 64, 128, 256)
    assert space.params["lr"].grid == pytest.approx((1e-4, 1e-3, 1e-2, 1e-1))
    ints = parse_space(
        {"params": {"max_epochs": {"type": "int", "low": 10, "high": 20, "step": 5, "grid": 7}}},
        "steps",
    )
    assert ints.params["max_epochs"].grid == (10, 15, 20)


def test_suggest_honours_conditions_and_adds_fixed_values():
    space = load_space(SPACES / "conditional.toml")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    configs = []
    for _ in range(60):
        trial = study.ask()
        configs.append(space.suggest(trial))
        study.tell(trial, 0.0)
    for config, trial in zip(configs, study.trials, strict=True):
        assert config["max_epochs"] == 5 and config["hidden_layer_sizes"] == [8, 4]
        assert ("momentum" in config) == (config["optimizer"] in ("sgd", "rmsprop"))
        assert ("nesterov" in config) == (config["optimizer"] == "sgd")
        assert ("lr_schedule" in config) == (config.get("nesterov") is True)
        assert set(trial.params) == set(config) - set(space.fixed)
        assert 16 <= config["batch_size"] <= 256
    assert {c["optimizer"] for c in configs} == {"sgd", "adam", "rmsprop"}
    assert any("lr_schedule" in c for c in configs)


def test_configuration_keeps_active_values_only():
    space = load_space("mlp-small")
    flat = {name: p.grid[0] for name, p in space.params.items()}
    adam = space.configuration({**flat, "optimizer": "adam"})
    assert "momentum" not in adam
    assert adam["max_epochs"] == 30
    assert space.configuration({**flat, "optimizer": "sgd"})["momentum"] == 0.0


def test_describe_lists_every_parameter_and_fixed_value():
    space = load_space("mlp")
    rows = {row["parameter"]: row for row in space.describe()}
    assert set(rows) == set(space.params) | set(space.fixed)
    assert rows["momentum"]["when"] == "optimizer = sgd"
    assert rows["lr"]["log"] == "yes"
    assert rows["batch_norm"]["grid"] == "false, true"
    assert rows["max_neurons"]["type"] == "fixed"


@pytest.mark.parametrize(
    ("fixture", "parameter", "problem"),
    [
        ("bad-type", "lr", "unknown type 'double'"),
        ("bad-range", "dropout", "low (0.4) > high (0.1)"),
        ("bad-log", "weight_decay", "log = true needs low > 0"),
        ("bad-when", "momentum", "when names unknown parameter 'solver'"),
        ("bad-grid", "lr", "grid value 0.5 is not in [0.001, 0.1]"),
        ("bad-key", "batch_size", "unknown key 'scale'"),
        ("bad-name", "learning_rate", "unknown name"),
    ],
)
def test_malformed_files_name_file_parameter_and_problem(fixture, parameter, problem):
    path = SPACES / f"{fixture}.toml"
    with pytest.raises(SpaceError) as error:
        load_space(path)
    message = str(error.value)
    assert str(path) in message
    assert f"parameter '{parameter}'" in message
    assert problem in message


def test_bad_toml_syntax_names_the_file():
    path = SPACES / "bad-syntax.toml"
    with pytest.raises(SpaceError, match="invalid TOML") as error:
        load_space(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        (
            {"lr": {"type": "float", "low": 0.1, "high": 1, "when": {"optimizer": "sgd"}}},
            "when names unknown parameter 'optimizer'",
        ),
        (
            {
                "lr": {"type": "float", "low": 0.1, "high": 1},
                "momentum": {"type": "float", "low": 0, "high": 1, "when": {"lr": 0.5}},
            },
            "conditions may only test categorical parameters",
        ),
        (
            {
                "optimizer": {"type": "categorical", "choices": ["sgd"]},
                "momentum": {"type": "float", "low": 0, "high": 1, "when": {"optimizer": "adam"}},
            },
            "not one of its choices",
        ),
        (
            {
                "optimizer": {"type": "categorical", "choices": ["sgd"], "when": {"loss": "focal"}},
                "loss": {"type": "categorical", "choices": ["focal"], "when": {"optimizer": "sgd"}},
            },
            "form a cycle",
        ),
        (
            {"imbalance": {"type": "categorical", "choices": ["none", "oversample"]}},
            "must be categorical with choices from",
        ),
        ({"batch_size": {"type": "int", "low": 16.5, "high": 128}}, "low must be an integer"),
        (
            {"batch_size": {"type": "int", "low": 16, "high": 128, "step": 16, "log": True}},
            "log = true needs step = 1",
        ),
        (
            {"max_epochs": {"type": "int", "low": 10, "high": 25, "step": 10}},
            "is not a multiple of step",
        ),
        (
            {"max_epochs": {"type": "int", "low": 10, "high": 30, "step": 10, "grid": [15]}},
            "grid value 15 is not in",
        ),
        ({"lr": {"type": "float", "low": 0.1, "high": 1, "grid": 1}}, "give at least 2 points"),
        ({"activation": {"type": "categorical", "choices": ["relu", "relu"]}}, "repeat a value"),
        (
            {"activation": {"type": "categorical", "choices": ["relu"], "grid": ["tanh"]}},
            "grid value 'tanh' is not in",
        ),
    ],
)
def test_invalid_definitions_are_rejected(params, problem):
    with pytest.raises(SpaceError, match=problem):
        parse_space({"params": params}, "inline")


def test_space_level_mistakes_are_rejected():
    lr = {"type": "float", "low": 0.1, "high": 1}
    with pytest.raises(SpaceError, match="unknown key 'parameters'"):
        parse_space({"parameters": {"lr": lr}}, "inline")
    with pytest.raises(SpaceError, match="both searched and fixed"):
        parse_space({"params": {"lr": lr}, "fixed": {"lr": 0.1}}, "inline")
    with pytest.raises(SpaceError, match="parameter 'epochs': unknown name"):
        parse_space({"params": {"lr": lr}, "fixed": {"epochs": 3}}, "inline")
    with pytest.raises(SpaceError, match=r"no \[params.NAME\] tables"):
        parse_space({"fixed": {"lr": 0.1}}, "inline")


def test_other_names_are_accepted_when_asked():
    space = parse_space(
        {"params": {"x": {"type": "float", "low": 0, "high": 1}}}, "toy", allowed_names=None
    )
    assert list(space.params) == ["x"]


def test_grid_needs_values_for_every_numeric_parameter():
    space = parse_space({"params": {"lr": {"type": "float", "low": 0.1, "high": 1}}}, "inline")
    assert not space.has_grid
    with pytest.raises(SpaceError, match="grid search needs grid values for lr"):
        _ = space.grid_size


def test_unknown_space_lists_the_available_ones():
    with pytest.raises(SpaceError, match=r"unknown search space 'nope'; available: .*mlp-small"):
        load_space("nope")


def test_working_directory_spaces_come_first(tmp_path, monkeypatch):
    folder = tmp_path / "search_spaces"
    folder.mkdir()
    shutil.copy(SPACES / "conditional.toml", folder / "mlp.toml")
    monkeypatch.chdir(tmp_path)
    assert available_spaces()["mlp"] == (folder / "mlp.toml").resolve()
    assert available_spaces()["mlp-small"] == (BUILTIN_SPACES / "mlp-small.toml").resolve()
    assert load_space("mlp").grid_size == 200


def test_cli_lists_and_shows_spaces(capsys):
    assert cli(["spaces"]) == 0
    listing = capsys.readouterr().out
    assert "mlp-small" in listing and "324" in listing
    assert cli(["spaces", "mlp"]) == 0
    shown = capsys.readouterr().out
    assert "optimizer = sgd" in shown and "imbalance = focal" in shown
    assert cli(["spaces", str(SPACES / "bad-range.toml")]) == 2
    assert "low (0.4) > high (0.1)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("space", "problem"),
    [
        (
            {"params": {"lr": {"type": "categorical", "choices": ["fast", "slow"]}}},
            "parameter 'lr': choice 'fast' is not a number, and lr of the 'mlp' model family "
            "takes a number",
        ),
        (
            {"params": {"batch_size": {"type": "categorical", "choices": [32, 64.5]}}},
            "choice 64.5 is not an integer",
        ),
        (
            {"params": {"batch_norm": {"type": "categorical", "choices": [0, 1]}}},
            "choice 0 is not true or false",
        ),
        (
            {"params": {"optimizer": {"type": "categorical", "choices": ["adam", 1]}}},
            "choice 1 is not text",
        ),
        (
            {"params": {"batch_size": {"type": "float", "low": 16, "high": 128}}},
            'takes an integer; use type = "int"',
        ),
        (
            {"params": {"activation": {"type": "int", "low": 0, "high": 3}}},
            'takes text; use type = "categorical" with its choices',
        ),
        (
            {
                "params": {"lr": {"type": "float", "low": 1e-3, "high": 1}},
                "fixed": {"max_epochs": "ten"},
            },
            "parameter 'max_epochs': fixed value 'ten' is not an integer",
        ),
        (
            {
                "family": "ensemble",
                "params": {"network__lr": {"type": "categorical", "choices": ["1e-3"]}},
            },
            "parameter 'network__lr': choice '1e-3' is not a number",
        ),
    ],
)
def test_values_of_the_wrong_kind_are_refused_when_the_space_loads(space, problem):
    # A categorical lr of strings once loaded, trained and failed every trial.
    with pytest.raises(SpaceError, match=problem):
        parse_space(space, "inline")


def test_numbers_may_be_written_as_integers_and_other_objectives_are_not_checked():
    space = parse_space(
        {"params": {"lr": {"type": "categorical", "choices": [1, 0.1]}}, "fixed": {"dropout": 0}},
        "inline",
    )
    assert space.params["lr"].choices == (1, 0.1)
    toy = {"params": {"lr": {"type": "categorical", "choices": ["a", "b"]}}}
    assert list(parse_space(toy, "toy", allowed_names=None).params) == ["lr"]
