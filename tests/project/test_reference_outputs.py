"""The committed reference outputs are exactly what their committed storage rebuilds."""

from __future__ import annotations

import lzma
import shutil
import tomllib

import pytest
from helpers import CHECKOUT

from harness.cli import main

# End to end: trains or rebuilds whole comparisons (the fast tier, -m 'not slow', skips it).
pytestmark = pytest.mark.slow

REFERENCES = (
    "teleconnect",
    "teleconnect-small",
    "digits-cnn",
    "digits-mlp",
    "wine-red",
    "wine-white",
)
"""The classification references: nothing in their outputs is retrained, so every machine
rebuilds the same bytes (the notebooks' retraining part is not run; see test_notebook)."""


@pytest.fixture
def copy_of_reference(tmp_path, monkeypatch):
    """A working folder with the comparison files and copies of their storage."""
    # The spaces the stored studies searched, as they were then (the comparison files name them).
    shutil.copytree(CHECKOUT / "studies" / "spaces", tmp_path / "studies" / "spaces")
    for name in REFERENCES:
        for suffix in (".toml", ".db"):
            shutil.copy(CHECKOUT / "studies" / f"{name}{suffix}", tmp_path / "studies")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", REFERENCES)
def test_leaderboards_rebuild_byte_identical_from_storage(copy_of_reference, name):
    assert main(["leaderboard", f"studies/{name}.toml", "--leaderboards", "out"]) == 0
    rebuilt = sorted((copy_of_reference / "out").iterdir())
    assert f"{name}.md" in [p.name for p in rebuilt]
    for path in rebuilt:
        assert path.read_bytes() == (CHECKOUT / "leaderboards" / path.name).read_bytes(), path.name


@pytest.mark.slow
@pytest.mark.parametrize("name", REFERENCES)
def test_report_rebuilds_byte_identical_from_storage(
    copy_of_reference, data_dir, monkeypatch, name
):
    # Through the environment, as the committed files were made: a --data-dir path would be
    # written into the notebook.
    monkeypatch.setenv("HARNESS_DATA_DIR", str(data_dir))
    assert main(["report", f"studies/{name}.toml"]) == 0
    rebuilt = [
        copy_of_reference / "reports" / f"{name}.md",
        copy_of_reference / "reports" / f"{name}.ipynb",
        *(copy_of_reference / "reports" / "figures").glob(f"{name}-*.png"),
        *(copy_of_reference / "drawio").glob(f"{name}-*.drawio"),
        *(copy_of_reference / "drawio").glob(f"{name}-*.svg"),
    ]
    longer = [other for other in REFERENCES if other != name and other.startswith(f"{name}-")]
    committed = {
        path
        for path in (
            CHECKOUT / "reports" / f"{name}.md",
            CHECKOUT / "reports" / f"{name}.ipynb",
            *(CHECKOUT / "reports" / "figures").glob(f"{name}-*.png"),
            *(CHECKOUT / "drawio").glob(f"{name}-*.drawio"),
            *(CHECKOUT / "drawio").glob(f"{name}-*.svg"),
        )
        if not any(path.name.startswith(f"{other}-") for other in longer)
    }
    # Every committed file is rebuilt, and nothing else: report, notebook, figures, diagrams,
    # their SVGs.
    assert {CHECKOUT / path.relative_to(copy_of_reference) for path in rebuilt} == committed
    assert len(rebuilt) >= 2 + 7 + 3 + 3
    for path in rebuilt:
        assert path.read_bytes() == (CHECKOUT / path.relative_to(copy_of_reference)).read_bytes(), (
            path.name
        )


SERIES = "sunspots-lstm"
"""The time series reference: a report without notebook or diagrams (a classifier's)."""


@pytest.mark.slow
def test_the_time_series_reference_rebuilds_byte_identical(tmp_path, monkeypatch):
    shutil.copytree(CHECKOUT / "studies" / "spaces", tmp_path / "studies" / "spaces")
    for suffix in (".toml", ".db"):
        shutil.copy(CHECKOUT / "studies" / f"{SERIES}{suffix}", tmp_path / "studies")
    monkeypatch.chdir(tmp_path)
    assert main(["leaderboard", f"studies/{SERIES}.toml", "--leaderboards", "leaderboards"]) == 0
    assert main(["report", f"studies/{SERIES}.toml"]) == 0
    rebuilt = [
        *(tmp_path / "leaderboards").iterdir(),
        tmp_path / "reports" / f"{SERIES}.md",
        *(tmp_path / "reports" / "figures").glob(f"{SERIES}-*.png"),
    ]
    assert len(rebuilt) == 18 + 1 + 8
    for path in rebuilt:
        committed = CHECKOUT / path.relative_to(tmp_path)
        assert path.read_bytes() == committed.read_bytes(), path.name


REPLAYS = tuple(sorted(path.stem for path in (CHECKOUT / "studies").glob("replay-*.toml")))
"""The replay comparisons, their storage committed packed (``studies/NAME.db.xz``,
``scripts/storage_archive.py``): hundreds of MB as SQLite, 30 MB packed."""


@pytest.mark.slow
@pytest.mark.parametrize("name", REPLAYS)
def test_replay_leaderboards_rebuild_byte_identical_from_their_packed_storage(
    tmp_path, monkeypatch, name
):
    studies = tmp_path / "studies"
    shutil.copytree(CHECKOUT / "studies" / "spaces", studies / "spaces")
    shutil.copy(CHECKOUT / "studies" / f"{name}.toml", studies)
    with lzma.open(CHECKOUT / "studies" / f"{name}.db.xz") as packed:
        (studies / f"{name}.db").write_bytes(packed.read())
    monkeypatch.chdir(tmp_path)
    assert main(["leaderboard", f"studies/{name}.toml", "--leaderboards", "out"]) == 0
    rebuilt = sorted(path.name for path in (tmp_path / "out").iterdir())
    # Every committed file of the replay is rebuilt, and nothing else.
    assert rebuilt == sorted(path.name for path in (CHECKOUT / "leaderboards").glob(f"{name}[-.]*"))
    assert f"{name}.md" in rebuilt
    for file in rebuilt:
        assert (tmp_path / "out" / file).read_bytes() == (
            CHECKOUT / "leaderboards" / file
        ).read_bytes(), file


def test_every_committed_comparison_is_checked():
    """Every comparison file has its storage committed, plain or packed, and its outputs
    checked by one of the tests above."""
    comparisons = {path.stem: path for path in (CHECKOUT / "studies").glob("*.toml")}
    replays = {
        name
        for name, path in comparisons.items()
        if tomllib.loads(path.read_text(encoding="utf-8")).get("mode") == "replay"
    }
    assert replays == set(REPLAYS)
    assert all((CHECKOUT / "studies" / f"{name}.db.xz").is_file() for name in replays)
    stored = {name for name in comparisons if (CHECKOUT / "studies" / f"{name}.db").is_file()}
    assert stored - replays == {*REFERENCES, SERIES}
