"""The CNN family: CNNClassifier's contract, images and shapes, augmentation, its pipeline,
a wrong image shape through the CLI, and every strategy searching a tiny CNN space."""

from __future__ import annotations

import ast
import dataclasses
import json
import warnings

import numpy as np
import pytest
import torch
from helpers import study_spec
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.utils.estimator_checks import check_estimator

from harness import cli
from harness.data.datasets import load_dataset
from harness.data.splits import holdout_split
from harness.errors import ConfigError
from harness.model.cnn import CNNClassifier, _ShiftedBatches, image_shape_for, shift_images
from harness.model.cnn_vocabulary import CNN_DEFAULTS, cnn_blocks
from harness.model.families import FAMILY, get_family
from harness.model.pipeline import build_pipeline
from harness.model.torch_base import TensorBatches, TensorDataset
from harness.report import sections
from harness.report.drawio import pipeline_diagram, topology_diagram, validate_drawio, vertex_labels
from harness.report.notebook import notebook_json
from harness.results.loading import load_results, versus_table
from harness.search.space import parse_space
from harness.search.strategies import STRATEGIES
from harness.study import ledger
from harness.study.comparison import Comparison, load_comparison
from harness.study.holdout import BASELINE, TUNED, refit_best
from harness.study.loop import StudySpec, run_study

TINY = {"n_blocks": 1, "channels": 4, "max_epochs": 2, "dense_units": 8, "random_state": 0}
NOT_SQUARE = "not a square number, so no square image fits"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16.0).astype(np.float32), y[:300]


@pytest.fixture(scope="module")
def small_digits():
    """300 digit images as a Dataset (the same rows everywhere: the baseline CV is cached)."""
    return load_dataset("digits").take(np.arange(300))


def test_the_defaults_are_the_vocabulary_and_every_parameter_is_the_familys():
    params = CNNClassifier().get_params()
    assert {k: params[k] for k in CNN_DEFAULTS} == dict(CNN_DEFAULTS)
    assert set(params) - set(CNN_DEFAULTS) == {"callbacks", "verbose"}
    assert set(CNN_DEFAULTS) < set(get_family("cnn").param_names)


def test_sklearn_checks_pass_except_where_the_columns_are_no_square_image():
    """The checks' data have 2, 3, 5 or 10 columns: no image fits without an image_shape.

    Every check that does not pass must fail with exactly that one-line ValueError, so the
    declared failures cannot hide another problem.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(CNNClassifier(**TINY), on_fail=None, on_skip=None)
    counted = [r for r in results if r["check_name"] != "check_array_api_input"]
    failed = {r["check_name"]: r["exception"] for r in counted if r["status"] != "passed"}
    assert all(isinstance(e, ValueError) and NOT_SQUARE in str(e) for e in failed.values()), {
        name: repr(error) for name, error in failed.items() if NOT_SQUARE not in str(error)
    }
    passed = {r["check_name"] for r in counted if r["status"] == "passed"}
    assert {
        "check_classifiers_one_label",
        "check_classifiers_regression_target",
        "check_fit2d_1sample",
        "check_parameters_default_constructible",
        "check_no_attributes_set_in_init",
        "check_get_params_invariance",
    } <= passed


def test_flat_rows_3d_and_4d_arrays_give_the_same_network(digits):
    X, y = digits
    flat = CNNClassifier(**TINY).fit(X, y)
    images = CNNClassifier(**TINY).fit(X.reshape(-1, 8, 8), y)
    assert flat.image_shape_ == images.image_shape_ == (1, 8, 8)
    np.testing.assert_allclose(flat.predict_proba(X), images.predict_proba(X.reshape(-1, 8, 8)))
    channels = CNNClassifier(**TINY).fit(X.reshape(-1, 4, 4, 4), y)
    assert channels.image_shape_ == (4, 4, 4) and channels.n_features_in_ == 64
    explicit = CNNClassifier(**TINY, image_shape=(4, 4, 4)).fit(X, y)
    np.testing.assert_allclose(explicit.predict_proba(X), channels.predict_proba(X))


def test_rows_that_fit_no_image_are_refused_in_one_line(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"X has 63 columns, not a square number.*image_shape="):
        CNNClassifier(**TINY).fit(X[:, :63], y)
    with pytest.raises(ValueError, match=r"image_shape \(1, 7, 7\) holds 49 pixels but X has 64"):
        CNNClassifier(**TINY, image_shape=(1, 7, 7)).fit(X, y)
    with pytest.raises(ValueError, match="image_shape must be the shape of the images passed"):
        CNNClassifier(**TINY, image_shape=(1, 8, 8)).fit(X.reshape(-1, 4, 4, 4), y)
    with pytest.raises(ValueError, match="kernel_size must be an odd integer"):
        CNNClassifier(**{**TINY, "kernel_size": 4}).fit(X, y)
    with pytest.raises(ValueError, match="image_shape must be None or"):
        CNNClassifier(**TINY, image_shape=(8, 8)).fit(X, y)
    model = CNNClassifier(**TINY).fit(X, y)
    with pytest.raises(ValueError, match=r"the images' shape must be \(1, 8, 8\)"):
        model.predict(X.reshape(-1, 4, 4, 4))
    assert image_shape_for(64) == (1, 8, 8)


def _tiny_images():
    rng = np.random.default_rng(0)
    return rng.normal(size=(60, 16)).astype(np.float32), np.repeat([0, 1, 2], 20)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # conv 1->4 (3x3 + bias) 40; pool to 2x2x4 = 16 -> linear to 3 classes 51
        ({"batch_norm": False}, 40 + 51),
        # batch norm: no conv bias (36) + its scale and shift (8)
        ({"batch_norm": True}, 36 + 8 + 51),
        # residual: a 1x1 projection from 1 to 4 channels (4 + 4 bias)
        ({"batch_norm": True, "residual": True}, 36 + 8 + 8 + 51),
    ],
)
def test_n_parameters_counts_every_trainable_weight(options, expected):
    X, y = _tiny_images()
    params = {**TINY, "dense_units": 0, **options}
    model = CNNClassifier(**params).fit(X, y)
    assert model.image_shape_ == (1, 4, 4)
    assert model.n_parameters_ == expected


def test_the_residual_connection_changes_the_network(digits):
    X, y = digits
    plain = CNNClassifier(**TINY, residual=False).fit(X, y)
    residual = CNNClassifier(**TINY, residual=True).fit(X, y)
    assert plain.net_.module_.blocks[0].skip is None
    assert residual.net_.module_.blocks[0].skip is not None
    assert not np.allclose(plain.predict_proba(X), residual.predict_proba(X))


def test_blocks_double_their_channels_and_pool_while_the_map_is_at_least_2px():
    blocks = cnn_blocks((1, 8, 8), 4, 8)
    channels = [(b.channels_in, b.channels_out) for b in blocks]
    assert channels == [(1, 8), (8, 16), (16, 32), (32, 64)]
    assert [(b.height, b.pooled) for b in blocks] == [(4, True), (2, True), (1, True), (1, False)]
    X = torch.zeros(2, 1, 8, 8)
    model = CNNClassifier(**{**TINY, "n_blocks": 4}).fit(np.zeros((20, 64)), np.repeat([0, 1], 10))
    assert model.net_.module_.blocks(X).shape == (2, 4 * 2**3, 1, 1)


def test_shifts_move_each_image_by_at_most_one_pixel_with_edges_replicated():
    images = torch.arange(2 * 25, dtype=torch.float32).reshape(2, 1, 5, 5)
    images = images.repeat(50, 1, 1, 1)
    shifted = shift_images(images, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(images, (1, 1, 1, 1), mode="replicate")
    seen = set()
    for row in range(len(images)):
        matches = [
            (dy, dx)
            for dy in range(3)
            for dx in range(3)
            if torch.equal(shifted[row], padded[row, :, dy : dy + 5, dx : dx + 5])
        ]
        assert matches
        seen.add(matches[0])
    assert len(seen) == 9  # every shift of -1, 0, +1 on both axes occurs


def test_augmentation_shifts_training_batches_only(digits):
    X, y = digits
    dataset = TensorDataset(torch.as_tensor(X.reshape(-1, 1, 8, 8)), torch.as_tensor(y))
    plain = list(_ShiftedBatches(dataset, 64, shuffle=True, seed=3))
    shifted = list(_ShiftedBatches(dataset, 64, shuffle=True, seed=3, shift=True))
    assert all(torch.equal(a[1], b[1]) for a, b in zip(plain, shifted, strict=True))  # same order
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(plain, shifted, strict=True))
    model = CNNClassifier(**TINY, augment=True, early_stopping=True).fit(X, y)
    net = model.net_
    assert isinstance(net.get_iterator(dataset, training=True), _ShiftedBatches)
    assert net.get_iterator(dataset, training=True).shift
    assert type(net.get_iterator(dataset, training=False)) is TensorBatches
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X))
    assert not np.allclose(
        model.predict_proba(X),
        CNNClassifier(**TINY, augment=False, early_stopping=True).fit(X, y).predict_proba(X),
    )


@pytest.mark.parametrize("augment", [False, True])
def test_random_state_makes_training_deterministic(digits, augment):
    X, y = digits
    model = CNNClassifier(**{**TINY, "random_state": 7}, augment=augment, dropout=0.2)
    first = clone(model).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, clone(model).fit(X, y).predict_proba(X))
    other = clone(model).set_params(random_state=8).fit(X, y).predict_proba(X)
    assert not np.allclose(first, other)


def test_the_pipeline_scales_pixels_in_place_and_refuses_what_does_not_fit(small_digits):
    y = small_digits.y.to_numpy()
    config = {FAMILY: "cnn", **TINY, "imbalance": "class_weight"}
    model = build_pipeline(config, small_digits, y).fit(small_digits.X, y)
    assert isinstance(model[-1], CNNClassifier) and model[-1].class_weight == "balanced"
    constant = small_digits.X.columns[small_digits.X.std().to_numpy() == 0]
    assert len(constant) > 0  # digits has pixels that never light up
    scaled = model[0].transform(small_digits.X)
    assert np.isfinite(scaled).all() and (scaled[:, 0] == 0).all()
    assert np.isfinite(model.predict_proba(small_digits.X)).all()
    with pytest.raises(ConfigError, match=r"digits: image_shape \(2, 4, 4\) holds 32 pixels"):
        build_pipeline({**config, "image_shape": [2, 4, 4]}, small_digits, y)
    with pytest.raises(ConfigError, match="the CNN resamples no images"):
        build_pipeline({**config, "imbalance": "smote"}, small_digits, y)


def test_a_space_whose_image_shape_does_not_fit_exits_2_before_any_trial(tmp_path, capsys):
    space = tmp_path / "bad-cnn.toml"
    space.write_text(
        'family = "cnn"\n[params.lr]\ntype = "categorical"\nchoices = [0.01]\n'
        "[fixed]\nimage_shape = [1, 7, 7]\nmax_epochs = 1\n"
    )
    storage = f"sqlite:///{tmp_path / 'runs.db'}"
    argv = [
        "run",
        "--dataset",
        "digits",
        "--space",
        str(space),
        "--trials",
        "1",
        "--storage",
        storage,
        "--quiet",
    ]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "image_shape (1, 7, 7) holds 49 pixels but X has 64 columns" in err
    assert not (tmp_path / "runs.db").exists() or "Traceback" not in err


TINY_SPACE = {
    "family": "cnn",
    "params": {
        "lr": {"type": "categorical", "choices": [0.003, 0.03]},
        "augment": {"type": "categorical", "choices": [False, True]},
    },
    "fixed": {"n_blocks": 1, "channels": 4, "max_epochs": 2, "dense_units": 8},
}


def tiny_cnn_spec(tmp_path, name: str, strategy: str, dataset) -> StudySpec:
    space = parse_space(TINY_SPACE, "tiny-cnn")
    settings = {"name": name, "strategy": strategy, "dataset": dataset, "space": space}
    return study_spec(tmp_path, **settings, n_folds=2, n_trials=2)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_searches_a_tiny_cnn_space(strategy, small_digits, tmp_path):
    spec = tiny_cnn_spec(tmp_path, f"cnn-{strategy}", strategy, small_digits)
    study = run_study(spec)
    complete = [t for t in study.trials if t.value is not None]
    assert complete, [t.user_attrs.get(ledger.FAILURE) for t in study.trials]
    assert all(ledger.stored_config(t)[FAMILY] == "cnn" for t in complete)
    assert 0.0 < study.best_value <= 1.0


@pytest.mark.slow
def test_a_cnn_study_refits_its_best_and_stores_both_parameter_counts(tmp_path):
    train, test = holdout_split(load_dataset("digits").take(np.arange(400)), 0.25, 0)
    spec = tiny_cnn_spec(tmp_path, "cnn-refit", "grid", train)
    study = run_study(spec)
    refit = refit_best(study, train, test, 0, importance=False)
    assert isinstance(refit.tuned[-1], CNNClassifier)
    assert isinstance(refit.baseline_model[-1], CNNClassifier)
    stored = ledger.stored_holdout(study)
    assert stored[TUNED]["n_parameters"] == refit.tuned[-1].n_parameters_
    # The family baseline: 2 blocks from 16 channels, kernel 3, a 64-unit head.
    assert stored[BASELINE]["n_parameters"] == refit.baseline_model[-1].n_parameters_ == 13754
    assert "n_parameters" not in stored["random forest"]
    majority = stored["majority class"]["scores"]["accuracy"]
    assert stored[TUNED]["scores"]["accuracy"] > majority + 0.2  # 2 epochs of a 4-channel block


CNN_CONFIG = {
    FAMILY: "cnn",
    "n_blocks": 3,
    "channels": 8,
    "kernel_size": 5,
    "residual": True,
    "dropout": 0.25,
    "image_shape": [1, 8, 8],
}


def test_the_topology_diagram_shows_the_cnns_blocks_and_head():
    xml = topology_diagram(64, CNN_CONFIG, list(range(10)))
    assert validate_drawio(xml) == []
    labels = vertex_labels(xml)
    assert list(labels) == ["input", "block-1", "block-2", "block-3", "head", "output"]
    assert "1 x 8 x 8" in labels["input"]
    assert labels["block-1"].splitlines() == [
        "block 1: 8 channels",
        "Conv2d 1 -> 8, 5x5, same padding",
        "BatchNorm2d",
        "relu",
        "+ residual (1x1 conv)",
        "max-pool 2x2 -> 4x4",
    ]
    assert "Conv2d 16 -> 32" in labels["block-3"] and "max-pool 2x2 -> 1x1" in labels["block-3"]
    head = ["dense head: flatten 32", "dropout 0.25 before each Linear", "Linear 32 -> 64", "relu"]
    assert labels["head"].splitlines() == head
    assert labels["output"].startswith("output: 10 units\nLinear 64 -> 10")
    plain = vertex_labels(
        topology_diagram(64, {FAMILY: "cnn", "n_blocks": 1, "batch_norm": False}, [0, 1])
    )
    assert "BatchNorm2d" not in plain["block-1"] and "residual" not in plain["block-1"]
    assert not any("hidden" in label for label in labels.values())


def test_the_pipeline_diagram_and_report_text_describe_a_cnn_not_an_mlp(small_digits):
    xml = pipeline_diagram(small_digits, CNN_CONFIG, metric="f1_macro", folds=3, test_rows=60)
    assert validate_drawio(xml) == []
    labels = vertex_labels(xml)
    assert "mlp" not in labels and labels["cnn"].startswith("CNN 3 blocks from 8 channels, 5x5")
    text = sections._architecture(CNN_CONFIG, 64, 10)
    assert text.startswith("a convolutional network on 1 x 8 x 8 images: 3 block(s) of 5x5")
    assert "8 -> 16 -> 32 channels" in text and "residual connections" in text
    assert "hidden" not in text and "units," not in text.split(";")[0]


def test_the_notebook_rebuilds_a_cnn_from_its_stored_configuration_and_names_it():
    comparison = Comparison(
        name="digits-cnn",
        strategies=("tpe",),
        seeds=(0,),
        trials=2,
        dataset="digits",
        space="cnn-digits",
    )
    text = notebook_json(
        comparison,
        CNN_CONFIG,
        storage="sqlite:///../studies/digits-cnn.db",
        study="digits-cnn-tpe-s0",
        source="a test",
    )
    code = "".join(
        "".join(cell["source"]) + "\n"
        for cell in json.loads(text)["cells"]
        if cell["cell_type"] == "code"
    )
    ast.parse(code)
    assert 'configs = {"baseline CNN": BASELINE, "tuned CNN": BEST}' in code
    assert "MODELS = {\"baseline CNN\": 'baseline MLP', \"tuned CNN\": 'tuned MLP'}" in code
    assert "BASELINE = {'family': 'cnn'" in code and "BASELINE_CONFIG" not in code
    assert "MLP" not in code.replace("'baseline MLP'", "").replace("'tuned MLP'", "")


@pytest.mark.slow
def test_two_tiny_comparisons_of_one_task_put_both_families_side_by_side(tmp_path, monkeypatch):
    """The versus table of a CNN and an MLP comparison on 300 digit images (150 held out, so
    that no bootstrap resample of the held-out rows misses one of the 10 classes)."""
    digits = load_dataset("digits").take(np.arange(300))
    digits.X.assign(digit=digits.y.to_numpy()).to_csv(tmp_path / "digits300.csv", index=False)
    (tmp_path / "tiny-cnn.toml").write_text(
        'family = "cnn"\n[params.lr]\ntype = "categorical"\nchoices = [0.003, 0.03]\n'
        "[fixed]\nn_blocks = 1\nchannels = 4\nmax_epochs = 2\ndense_units = 8\n"
    )
    (tmp_path / "tiny-mlp.toml").write_text(
        '[params.lr]\ntype = "categorical"\nchoices = [0.003, 0.03]\n'
        "[fixed]\nmax_epochs = 2\nhidden_layer_sizes = [16]\n"
    )
    monkeypatch.chdir(tmp_path)
    comparisons = {}
    for family, other in (("cnn", "mlp"), ("mlp", "cnn")):
        (tmp_path / f"d-{family}.toml").write_text(
            f'name = "d-{family}"\ndata = "digits300.csv"\ntarget = "digit"\n'
            f'space = "tiny-{family}.toml"\nfolds = 2\ntest_size = 0.5\nstrategies = ["random"]\n'
            f'seeds = [0, 1]\ntrials = 2\nstorage = "sqlite:///d-{family}.db"\n'
            f'versus = ["d-{other}.toml"]\n'
        )
        comparison = comparisons[family] = load_comparison(tmp_path / f"d-{family}.toml")
        train, test = holdout_split(comparison.load_dataset(), 0.5, 0)
        for seed in comparison.seeds:
            spec = StudySpec(
                name=comparison.study_name("random", seed),
                storage=comparison.storage,
                strategy="random",
                dataset=train,
                space=comparison.load_space(),
                seed=seed,
                n_folds=2,
                n_trials=2,
                test_size=0.5,
                task_seed=0,
            )
            refit_best(run_study(spec), train, test, 0, importance=False)
    versus = versus_table(load_results(comparisons["cnn"]))
    objective = versus[versus["metric"] == "f1_macro"].set_index("model")
    assert list(objective.index) == [
        "tuned CNN (d-cnn)",
        "baseline CNN",
        "tuned MLP (d-mlp)",
        "baseline MLP",
    ]
    assert list(objective["comparison"]) == ["d-cnn", "d-cnn", "d-mlp", "d-mlp"]
    assert objective.loc["baseline CNN", "n_parameters"] == 13754
    assert objective.loc["tuned MLP (d-mlp)", "n_parameters"] == 64 * 16 + 16 + 16 * 10 + 10
    assert objective["ci_low"].notna().all() and (objective["ci_low"] <= objective["score"]).all()
    assert objective["tuned_minus"].iloc[1:].notna().all() and objective["rows"].eq(150).all()
    assert objective.loc["tuned CNN (d-cnn)", "studies"] == 2
    # The same studies read through a comparison with other folds: not the same task.
    other_folds = (tmp_path / "d-mlp.toml").read_text().replace("folds = 2", "folds = 3")
    (tmp_path / "d-far.toml").write_text(other_folds)
    far = dataclasses.replace(comparisons["cnn"], versus=("d-far.toml",))
    with pytest.raises(
        ConfigError, match=r"versus \S*d-far.toml has another task \(folds differ\)"
    ):
        versus_table(load_results(far))
