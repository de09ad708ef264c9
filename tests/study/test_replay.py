"""Replay: lookup tables, analytic tasks, simulated workers, exact curves, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from helpers import CHECKOUT, FIXTURES, copy_of_table, iris_replay_setup, iris_table

from harness.cli import main
from harness.data.analytic import TASKS, get_task
from harness.data.datasets import load_dataset
from harness.errors import ConfigError
from harness.results import efficiency
from harness.results.loading import load_results, write_comparison_leaderboard
from harness.search.space import load_space, parse_space
from harness.study import ledger
from harness.study.comparison import load_comparison
from harness.study.evaluation import FoldResult
from harness.study.loop import StudySpec, run_study
from harness.study.replay import (
    FunctionTask,
    Lookup,
    ReplaySpec,
    TableTask,
    comparison_specs,
    run_replay,
    simulate,
)

ANALYTIC_SPACES = CHECKOUT / "search_spaces" / "analytic"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A real exhaustive grid (the table) and a real random study, both on iris, 3 folds."""
    root = tmp_path_factory.mktemp("replay")
    space, space_file, storage, common = iris_replay_setup(root, "real.db")
    run_study(StudySpec(name="grid", strategy="grid", seed=0, n_trials=6, **common))
    run_study(StudySpec(name="random", strategy="random", seed=3, n_trials=5, **common))
    run_study(StudySpec(name="part", strategy="grid", seed=0, n_trials=4, **common))
    return {"root": root, "space": space, "storage": storage, "space_file": space_file}


def _spec(real: dict, **settings) -> ReplaySpec:
    """A replay on the real grid's space, of its table unless ``task`` is given."""
    task = settings.pop("task") if "task" in settings else iris_table(real)
    return ReplaySpec(space=real["space"], task=task, **settings)


def test_replay_of_a_real_study_proposes_and_scores_the_same(real: dict) -> None:
    stored = optuna.load_study(study_name="random", storage=real["storage"])
    spec = _spec(real, name="r", strategy="random", seed=3, n_trials=5)
    replayed = simulate(spec).study
    assert [t.params for t in replayed.trials] == [t.params for t in stored.trials]
    assert [t.value for t in replayed.trials] == pytest.approx([t.value for t in stored.trials])
    fold = ledger.FOLD_SCORES
    assert [t.user_attrs[fold] for t in replayed.trials] == [
        t.user_attrs[fold] for t in stored.trials
    ]


def test_simulated_clock_charges_stored_seconds_and_workers_overlap(real: dict) -> None:
    table = iris_table(real)
    one = simulate(_spec(real, name="a", strategy="grid", task=table, n_trials=6)).study
    four = simulate(_spec(real, name="b", strategy="grid", task=table, n_trials=6, workers=4)).study
    ends = [t.user_attrs[ledger.SIM_END] for t in one.trials]
    costs = [
        sum(t.user_attrs[ledger.FIT_SECONDS]) + sum(t.user_attrs[ledger.PREDICT_SECONDS])
        for t in one.trials
    ]
    assert ends == pytest.approx(np.cumsum(costs))
    starts = [t.user_attrs[ledger.SIM_START] for t in four.trials]
    assert starts[:4] == [0.0] * 4 and min(starts[4:]) > 0
    for trial in four.trials:  # never more than 4 running at once
        at = trial.user_attrs[ledger.SIM_START]
        start, end = ledger.SIM_START, ledger.SIM_END
        running = [t for t in four.trials if t.user_attrs[start] <= at < t.user_attrs[end]]
        assert len(running) <= 4
    rows = ledger.trial_rows(four)
    ends = [t.user_attrs[ledger.SIM_END] for t in four.trials]
    assert [r["elapsed_seconds"] for r in rows] == ends
    # The tables and figures name the clock they measure: the replay's simulated one.
    frame = pd.DataFrame(rows)
    assert all(frame["simulated"]) and efficiency.clock(frame) == "simulated"


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_same_seed_same_replay_and_exact_budget(real: dict, workers: int) -> None:
    def run() -> optuna.Study:
        spec = _spec(real, name="t", strategy="tpe", seed=1, n_trials=11, workers=workers)
        return simulate(spec).study

    first, second = run(), run()
    assert len(first.trials) == 11
    key = (ledger.SIM_START, ledger.SIM_END)
    assert [(t.params, [t.user_attrs[k] for k in key]) for t in first.trials] == [
        (t.params, [t.user_attrs[k] for k in key]) for t in second.trials
    ]


def test_fold_pruning_replays_stored_folds_in_order(real: dict) -> None:
    spec = _spec(real, name="p", strategy="random", seed=0, n_trials=30, pruner="median")
    study = simulate(spec).study
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "the median pruner should stop some of 30 trials"
    table = iris_table(real)
    for trial in pruned:
        stored = table.rows[tuple(trial.params.items())].folds
        reported = trial.intermediate_values
        assert len(reported) < 3
        assert [reported[i] for i in sorted(reported)] == [f.scores["f1_macro"] for f in stored][
            : len(reported)
        ]


def _synthetic_table(values: list[float]) -> tuple:
    """A table over one categorical parameter whose point k has objective values[k]."""
    space = parse_space(
        {"params": {"k": {"type": "categorical", "choices": list(range(len(values)))}}},
        "synthetic",
        allowed_names=None,
    )

    class Synthetic:
        metric, n_folds, test_size = "f1_macro", 1, 0.2
        direction = optuna.study.StudyDirection.MAXIMIZE
        ref, dataset, optimum = "synthetic", "synthetic", max(values)

        def lookup(self, config, space, rng):
            return Lookup((FoldResult({"f1_macro": values[config["k"]]}, 1.0, 0.0),))

    return space, Synthetic()


def _expected_best(values: np.ndarray, t: int, replacement: bool) -> float:
    """E[max of t draws] from ``values``, by order statistics."""
    v = np.sort(values)
    n = len(v)
    k = np.arange(1, n + 1)
    if replacement:
        below = (k / n) ** t
    else:  # P(max <= v_(k)) = C(k, t) / C(n, t)
        below = np.array([math.comb(int(i), t) / math.comb(n, t) for i in k])
    return float(np.sum(v * np.diff(np.concatenate([[0.0], below]))))


@pytest.mark.parametrize(("strategy", "replacement"), [("random", True), ("grid", False)])
def test_best_so_far_matches_order_statistics(strategy: str, replacement: bool) -> None:
    """Random search draws with replacement (Optuna's sampler), grid without: exact curves."""
    values = np.random.default_rng(7).normal(size=12)
    space, task = _synthetic_table(list(values))
    seeds, budget = 300, 8
    curves = np.array(
        [
            np.maximum.accumulate(
                [
                    t.value
                    for t in simulate(
                        ReplaySpec(
                            name="s",
                            strategy=strategy,
                            space=space,
                            task=task,
                            seed=seed,
                            n_trials=budget,
                        )
                    ).study.trials
                ]
            )
            for seed in range(seeds)
        ]
    )
    for t in range(1, budget + 1):
        expected = _expected_best(values, t, replacement)
        error = curves[:, t - 1].std(ddof=1) / math.sqrt(seeds) + 1e-12
        assert abs(curves[:, t - 1].mean() - expected) < 4 * error, (t, expected)
    # the other formula is told apart: a test that could not fail would prove nothing
    other = [_expected_best(values, t, not replacement) for t in range(2, budget + 1)]
    assert any(
        abs(curves[:, t - 1].mean() - o) > 4 * curves[:, t - 1].std(ddof=1) / math.sqrt(seeds)
        for t, o in zip(range(2, budget + 1), other, strict=True)
    )


@pytest.mark.parametrize("name", sorted(TASKS))
def test_analytic_optimum(name: str) -> None:
    at = {
        "quadratic": {"x": 2.0, "y": -1.0},
        "branin": {"x1": math.pi, "x2": 2.275},
        "hartmann6": dict(
            zip(
                [f"x{i}" for i in range(1, 7)],
                [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573],
                strict=True,
            )
        ),
        "mixed": {"kind": "a", "x": 1.0, "y": -2.0},
    }[name]
    task = get_task(name)
    assert task(at) == pytest.approx(task.optimum, abs=1e-5)
    space = load_space(ANALYTIC_SPACES / f"{task.space}.toml", allowed_names=None)
    rng = np.random.default_rng(0)
    for _ in range(200):  # no point of the space beats the known optimum
        point = {
            n: p.distribution().to_external_repr(rng.uniform(*_bounds(p.distribution())))
            for n, p in space.params.items()
        }
        assert task(point) >= task.optimum - 1e-9


def _bounds(distribution) -> tuple[float, float]:
    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        return 0, len(distribution.choices) - 1e-9
    return distribution.low, distribution.high


def test_analytic_noise_keeps_the_noiseless_value() -> None:
    space = load_space(ANALYTIC_SPACES / "branin.toml", allowed_names=None)
    task = FunctionTask(get_task("branin"), noise=0.5)
    spec = ReplaySpec(name="n", strategy="random", space=space, task=task, n_trials=5)
    study = simulate(spec).study
    for trial in study.trials:
        scores = trial.user_attrs[ledger.FOLD_SCORES]
        assert scores["neg_value_noiseless"][0] == pytest.approx(-get_task("branin")(trial.params))
        assert scores["neg_value"][0] != scores["neg_value_noiseless"][0]
    assert study.user_attrs[ledger.OPTIMUM] == pytest.approx(-0.397887)


def _write(root: Path, name: str, body: str) -> Path:
    path = root / f"{name}.toml"
    head = f'name = "{name}"\nmode = "replay"\nstorage = "sqlite:///{root}/{name}.db"\n'
    path.write_text(head + body)
    return path


def test_compare_replays_and_writes_leaderboards(real: dict, tmp_path: Path) -> None:
    body = (
        f'dataset = "iris"\nspace = "{real["space_file"]}"\nfolds = 3\n'
        f'tables = ["{real["storage"]}#grid"]\nstrategies = ["random", "grid", "tpe"]\n'
        "seeds = [0, 1]\ntrials = 4\nworkers = 2\nprocesses = 1\n"
    )
    path = _write(tmp_path, "rep", body)
    assert main(["compare", str(path), "--quiet", "--leaderboards", str(tmp_path / "lb")]) == 0
    assert (tmp_path / "lb" / "rep.md").is_file()
    study = optuna.load_study(study_name="rep-tpe-s1", storage=f"sqlite:///{tmp_path}/rep.db")
    assert study.user_attrs[ledger.MODE] == "replay" and len(study.trials) == 4
    # a second run finds every study stored and simulates nothing
    summary = run_replay(load_comparison(path))
    assert summary.studies == 0


def test_analytic_comparison(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bra",
        'task = "branin"\nstrategies = ["random", "tpe"]\n'
        "seeds = [0, 1]\ntrials = 6\nprocesses = 1\n",
    )
    comparison = load_comparison(path)
    assert comparison.metric == "neg_value" and comparison.space == "branin"
    assert run_replay(comparison).trials == 24


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"space": "tiny"}, "replay needs a fully discrete space"),
        ({"table": "part"}, "misses 2 of 6 grid points"),
        ({"metric": "accuracy"}, "was made with another task"),
        ({"folds": 5}, "was made with another task"),
        ({"dataset": "wine"}, "was made with another task"),
        ({"table": "nothere"}, "no table study 'nothere'"),
    ],
)
def test_bad_replay_input_exits_2_and_touches_nothing(
    real: dict, tmp_path: Path, capsys: pytest.CaptureFixture, change: dict, message: str
) -> None:
    space = real["space_file"]
    if change.get("space") == "tiny":
        space = FIXTURES / "tiny.toml"
    body = (
        f'dataset = "{change.get("dataset", "iris")}"\nspace = "{space}"\n'
        f'folds = {change.get("folds", 3)}\nmetric = "{change.get("metric", "f1_macro")}"\n'
        f'tables = ["{real["storage"]}#{change.get("table", "grid")}"]\n'
        'strategies = ["random"]\nseeds = [0]\ntrials = 4\nprocesses = 1\n'
    )
    path = _write(tmp_path, "bad", body)
    before = (Path(str(real["storage"]).removeprefix("sqlite:///"))).read_bytes()
    assert main(["compare", str(path), "--quiet", "--leaderboards", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "bad.db").exists()
    assert Path(str(real["storage"]).removeprefix("sqlite:///")).read_bytes() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('task = "branin"\ntables = ["x#y"]\n', "exactly one of 'tables'"),
        ('task = "nope"\n', "unknown analytic task 'nope'"),
        ('task = "branin"\nnoise = nan\n', "noise must be"),
        ('task = "branin"\nexhaustive_grid = true\n', "remove exhaustive_grid"),
        (
            'dataset = "iris"\nspace = "mlp-small"\ntables = ["no-separator"]\n',
            "is not '<storage URL>#<study name>'",
        ),
    ],
)
def test_bad_replay_files(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, "bad", body + 'strategies = ["random"]\nseeds = [0]\ntrials = 4\n')
    with pytest.raises(ConfigError, match=None) as raised:
        comparison_specs(load_comparison(path))
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert not (tmp_path / "bad.db").exists()


def test_replay_keys_need_replay_mode(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'name = "c"\ndataset = "iris"\ntables = ["a#b"]\nstrategies = ["random"]\n'
        "seeds = [0]\ntrials = 4\n"
    )
    with pytest.raises(ConfigError, match='add mode = "replay"'):
        load_comparison(path)


def test_stored_study_with_other_settings_is_refused(real: dict, tmp_path: Path) -> None:
    body = (
        f'dataset = "iris"\nspace = "{real["space_file"]}"\nfolds = 3\n'
        f'tables = ["{real["storage"]}#grid"]\nstrategies = ["random"]\nseeds = [0]\n'
        "processes = 1\n"
    )
    run_replay(load_comparison(_write(tmp_path, "same", body + "trials = 3\nworkers = 1\n")))
    db = tmp_path / "same.db"
    before = db.read_bytes()
    with pytest.raises(ConfigError, match="other settings"):
        run_replay(load_comparison(_write(tmp_path, "same", body + "trials = 3\nworkers = 2\n")))
    assert db.read_bytes() == before


def test_a_repeated_proposal_is_answered_from_the_stored_trial(real: dict) -> None:
    spec = _spec(real, name="d", strategy="random", seed=0, n_trials=20)
    study = simulate(spec).study
    rows = ledger.trial_rows(study)
    duplicates = [t for t in study.trials if ledger.DUPLICATE_OF in t.user_attrs]
    assert len(study.trials) == 20 and len(duplicates) >= 14  # 6 points, 20 draws
    assert sum(r["duplicate"] for r in rows) == len(duplicates)
    for trial in duplicates:
        earlier = study.trials[trial.user_attrs[ledger.DUPLICATE_OF]]
        assert earlier.params == trial.params and trial.value == earlier.value
        assert ledger.DUPLICATE_OF not in earlier.user_attrs
        assert sum(trial.user_attrs[ledger.FIT_SECONDS]) == 0
        assert trial.user_attrs[ledger.SIM_END] == trial.user_attrs[ledger.SIM_START]


def test_charge_proposals_adds_the_measured_proposal_time_to_the_clock(real: dict) -> None:
    spec = _spec(real, name="c", strategy="grid", n_trials=3, charge_proposals=True)
    trials = simulate(spec).study.trials
    end = 0.0
    for trial in trials:
        cost = sum(trial.user_attrs[ledger.FIT_SECONDS]) + sum(
            trial.user_attrs[ledger.PREDICT_SECONDS]
        )
        end += trial.user_attrs[ledger.SUGGEST_SECONDS] + cost
        assert trial.user_attrs[ledger.SIM_END] == pytest.approx(end)
    assert spec.settings()[ledger.CHARGE_PROPOSALS] is True


def test_regret_on_several_tables_is_measured_against_each_tables_own_optimum(
    real: dict, tmp_path: Path
) -> None:
    from harness.results.loading import comparison_tables, load_results

    common = {"storage": real["storage"], "dataset": load_dataset("iris"), "space": real["space"]}
    run_study(
        StudySpec(
            name="grid-t1",
            strategy="grid",
            seed=0,
            n_trials=6,
            n_folds=3,
            task_seed=1,
            test_size=0.2,
            **common,
        )
    )
    optima = [
        max(t.value for t in optuna.load_study(study_name=n, storage=real["storage"]).trials)
        for n in ("grid", "grid-t1")
    ]
    assert optima[0] != optima[1]  # the two task seeds' folds give different optima
    body = (
        f'dataset = "iris"\nspace = "{real["space_file"]}"\nfolds = 3\n'
        f'tables = ["{real["storage"]}#grid", "{real["storage"]}#grid-t1"]\n'
        'strategies = ["random", "grid"]\nseeds = [0, 1]\ntrials = 6\n'
        "processes = 1\n"
    )
    comparison = load_comparison(_write(tmp_path, "two", body))
    run_replay(comparison)
    results = load_results(comparison)
    assert "each replayed table's own optimum" in results.optimum_info().source
    # The label names the best table's optimum once (it was printed twice, "(x) (x)").
    assert results.optimum_info().label.count(f"{max(optima):.4f}") == 2  # range and value
    assert not results.optimum_info().label.endswith(f"({max(optima):.4f}) ({max(optima):.4f})")
    # Grid search visits all six points of either table: zero regret against its own table.
    curves = comparison_tables(results)["curves"]
    last = curves[(curves["strategy"] == "grid") & (curves["trial"] == 6)]
    assert float(last["median"].iloc[0]) == pytest.approx(max(optima), abs=1e-12)
    assert float(last["nr"].iloc[0]) <= 0.0 + 1e-12
    # Without the per-table shift the seed on the worse table would show its gap as regret.
    assert results.regret_frame()["value"].max() == pytest.approx(max(optima))
    assert not results.regret_frame()["value"].equals(results.frame["value"])


def _copy_table(real: dict, name: str, *, version: str | None = None, trainer=None) -> str:
    """A copy of the real table; ``trainer(number)`` may change a trial's recorded trainer."""

    def edit(attrs: list[dict | None]) -> None:
        for number, own in enumerate(attrs):
            if trainer is not None and own is not None:
                own[ledger.TRAINER] = trainer(number)

    study_attrs = {} if version is None else {ledger.HARNESS_VERSION: version}
    return copy_of_table(real, name, study_attrs=study_attrs, edit=edit)


def test_a_table_records_how_it_was_made_and_the_replay_stores_it(real: dict) -> None:
    from harness._version import __version__

    table = iris_table(real)
    trainers = {
        t.user_attrs[ledger.TRAINER]
        for t in optuna.load_study(study_name="grid", storage=real["storage"]).trials
    }
    assert table.provenance == {
        ledger.TABLE_TRAINER: trainers.pop(),
        ledger.TABLE_VERSION: __version__,
    }
    spec = _spec(real, name="p", strategy="random", task=table, n_trials=2)
    assert spec.settings()[ledger.TABLE_TRAINER] == table.provenance[ledger.TABLE_TRAINER]
    assert FunctionTask(get_task("branin")).provenance[ledger.TABLE_TRAINER] == "analytic"


def test_a_replay_refuses_tables_made_differently(real: dict, tmp_path: Path) -> None:
    old = _copy_table(real, "grid-old", version="0.0.9")
    body = (
        f'dataset = "iris"\nspace = "{real["space_file"]}"\nfolds = 3\n'
        f'tables = ["{real["storage"]}#grid", "{old}"]\nstrategies = ["random"]\n'
        "seeds = [0, 1]\ntrials = 3\nprocesses = 1\n"
    )
    with pytest.raises(ConfigError, match="made differently") as raised:
        comparison_specs(load_comparison(_write(tmp_path, "mixed", body)))
    assert "harness 0.0.9" in str(raised.value) and "\n" not in str(raised.value)
    assert not (tmp_path / "mixed.db").exists()


def test_a_table_of_two_trainers_is_refused(real: dict) -> None:
    ref = _copy_table(real, "grid-two", trainer=lambda n: "sequential" if n == 0 else "batched")
    with pytest.raises(ConfigError, match="mixes trials of the batched and sequential trainers"):
        TableTask(ref, real["space"], dataset="iris", metric="f1_macro", n_folds=3)


def test_cmaes_on_an_all_categorical_space_is_refused_as_random_search(real: dict) -> None:
    with pytest.raises(ConfigError, match="is random search"):
        _spec(real, name="c", strategy="cmaes")
    branin = FunctionTask(get_task("branin"))
    space = load_space(
        CHECKOUT / "search_spaces" / "analytic" / "branin.toml",
        allowed_names=None,
    )
    assert ReplaySpec(name="b", strategy="cmaes", space=space, task=branin).strategy == "cmaes"


def _batch_spec(real: dict, **kwargs) -> ReplaySpec:
    batched = {
        "name": "q",
        "strategy": "tpe",
        "seed": 1,
        "n_trials": 7,
        "batch": 3,
        "batch_speedup": 2.0,
    }
    return _spec(real, **(batched | kwargs))


def _by_batch(study: optuna.Study) -> dict[int, list]:
    batches: dict[int, list] = {}
    for trial in study.trials:
        batches.setdefault(trial.user_attrs[ledger.BATCH]["id"], []).append(trial)
    return batches


def test_batches_are_asked_together_and_take_their_seconds_over_the_speedup(real: dict) -> None:
    spec = _batch_spec(real)
    study = simulate(spec).study
    assert len(study.trials) == 7  # exact budget: batches of 3, 3 and 1
    batches = _by_batch(study)
    assert [len(b) for b in batches.values()] == [3, 3, 1]
    previous_end = 0.0
    for first, trials in batches.items():
        assert [t.user_attrs[ledger.BATCH] for t in trials] == [
            {"id": first, "position": k, "size": len(trials)} for k in range(len(trials))
        ]
        # one clock per batch; the sums are of measured seconds, so equal to rounding
        starts = [t.user_attrs[ledger.SIM_START] for t in trials]
        assert starts == pytest.approx([previous_end] * len(trials), rel=1e-12, abs=1e-15)
        trained = [t for t in trials if ledger.DUPLICATE_OF not in t.user_attrs]
        seconds = sum(
            sum(t.user_attrs[ledger.FIT_SECONDS]) + sum(t.user_attrs[ledger.PREDICT_SECONDS])
            for t in trained
        )
        # one clock for the batch: its trained trials' seconds over the speed-up
        ends = [t.user_attrs[ledger.SIM_END] for t in trained]
        assert ends == pytest.approx([previous_end + seconds / 2] * len(trained))
        previous_end += seconds / 2
    settings = simulate(spec).user_attrs
    assert settings[ledger.PROPOSAL_BATCH] == 3 and settings[ledger.BATCH_SPEEDUP] == 2.0
    again = simulate(spec).study
    assert [t.params for t in again.trials] == [t.params for t in study.trials]


def test_a_batch_sees_its_mates_running_and_answers_repeats_once(real: dict) -> None:
    grid = simulate(_batch_spec(real, strategy="grid", n_trials=6, batch=6)).study
    # grid search skips running points: the six asked at once are the six grid points
    assert len({tuple(sorted(t.params.items())) for t in grid.trials}) == 6
    drawn = simulate(_batch_spec(real, strategy="random", seed=0, n_trials=12, batch=6)).study
    mates = [
        t
        for t in drawn.trials
        if ledger.DUPLICATE_OF in t.user_attrs and t.user_attrs[ledger.BATCH]["id"] == 0
    ]
    assert mates, "6 random draws of 6 points repeat one"
    for trial in mates:  # answered from the batch-mate, trained once
        earlier = drawn.trials[trial.user_attrs[ledger.DUPLICATE_OF]]
        assert earlier.user_attrs[ledger.BATCH]["id"] == 0 and earlier.params == trial.params
        assert trial.value == earlier.value and sum(trial.user_attrs[ledger.FIT_SECONDS]) == 0


def test_sequential_replays_store_no_batch_settings(real: dict) -> None:
    spec = _spec(real, name="s", strategy="tpe", n_trials=3)
    assert ledger.PROPOSAL_BATCH not in spec.settings()
    assert all(ledger.BATCH not in t.user_attrs for t in simulate(spec).study.trials)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("batch = 4\nworkers = 2\n", "simulates batches on one worker"),
        ("batch_speedup = 2.0\n", "batch_speedup applies to batches"),
        ("batch = 4\nbatch_speedup = 0\n", "batch_speedup must be a finite number > 0"),
    ],
)
def test_bad_batch_replay_files(tmp_path: Path, body: str, message: str) -> None:
    path = _write(
        tmp_path,
        "bad",
        'task = "branin"\nstrategies = ["random"]\nseeds = [0]\ntrials = 8\n' + body,
    )
    with pytest.raises(ConfigError) as raised:
        load_comparison(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_batch_replay_file_replays_in_batches(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "q",
        'task = "branin"\nstrategies = ["tpe"]\nseeds = [0]\n'
        "trials = 8\nbatch = 4\nbatch_speedup = 2.5\nprocesses = 1\n",
    )
    (spec,) = comparison_specs(load_comparison(path))
    assert (spec.batch, spec.batch_speedup) == (4, 2.5)
    study = simulate(spec).study
    assert [t.user_attrs[ledger.SIM_END] for t in study.trials] == [0.4 * 4] * 4 + [0.8 * 4] * 4


def test_a_batch_replay_s_leaderboard_says_how_it_asked(tmp_path: Path) -> None:
    body = 'task = "branin"\nstrategies = ["random", "tpe"]\nseeds = [0, 1]\ntrials = 8\n'
    path = _write(tmp_path, "qb", body + "batch = 4\nbatch_speedup = 2.5\nprocesses = 1\n")
    comparison = load_comparison(path)
    run_replay(comparison)
    board = write_comparison_leaderboard(load_results(comparison), tmp_path).read_text()
    assert "in synchronous batches of 4 proposals" in board and "/ 2.5, the population" in board
