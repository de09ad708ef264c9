"""Hostile storage inputs: one line naming the problem and the fix, exit 2, nothing written."""

from __future__ import annotations

import lzma
import random
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from helpers import FIXTURES

from harness.cli import main

TINY = str(FIXTURES / "tiny.toml")


def _sound_database(path: Path) -> None:
    """An SQLite study storage of several pages (a study with 40 trials and user attributes)."""
    study = optuna.create_study(storage=f"sqlite:///{path}", study_name="s")
    for _ in range(40):
        trial = study.ask()
        trial.set_user_attr("note", "x" * 500)
        study.tell(trial, 1.0)


def parent_is_a_file(tmp: Path) -> str:
    (tmp / "afile").write_text("not a folder\n")
    return f"sqlite:///{tmp / 'afile' / 'h.db'}"


def garbage_pages(tmp: Path, seed: int = 0) -> str:
    path = tmp / "h.db"
    _sound_database(path)
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)  # seeded: the same garbage on every run
    for offset in range(8192, len(data) - 4096, 4096):  # keep the header page, spoil the others
        data[offset + 100 : offset + 3000] = rng.randbytes(2900)
    path.write_bytes(bytes(data))
    return f"sqlite:///{path}"


def garbage_quoted_as_text(tmp: Path) -> str:
    # With this seed, quick_check quotes bytes that are not UTF-8 in its answer: reading the
    # answer as text raised UnicodeDecodeError (a traceback) in about 3% of random garbage.
    return garbage_pages(tmp, seed=135)


def not_a_journal(tmp: Path) -> str:
    (tmp / "h.journal").write_text("hello\nworld\n")
    return str(tmp / "h.journal")


def unwritable(tmp: Path) -> str:
    # /proc takes no files, even for root (who may write wherever permissions say no).
    return "sqlite:////proc/harness-hostile-test.db"


def truncated(tmp: Path) -> str:
    path = tmp / "h.db"
    _sound_database(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    return f"sqlite:///{path}"


def text_file(tmp: Path) -> str:
    (tmp / "h.db").write_text("name,value\na,1\n")
    return f"sqlite:///{tmp / 'h.db'}"


def a_folder(tmp: Path) -> str:
    (tmp / "studies.db").mkdir()
    return f"sqlite:///{tmp / 'studies.db'}"


#: case -> (how it is made, what the line says in ``run``, in ``report``)
CASES: dict[str, tuple[Callable[[Path], str], str, str]] = {
    "parent is a file": (parent_is_a_file, "is a file, not a folder", "is a file, not a folder"),
    "garbage pages": (garbage_pages, "not a sound SQLite database", "not a sound SQLite database"),
    "garbage quoted as text": (
        garbage_quoted_as_text,
        "not a sound SQLite database",
        "not a sound SQLite database",
    ),
    "not a journal": (not_a_journal, "not an Optuna journal file", "not an Optuna journal file"),
    "unwritable": (unwritable, "cannot open storage", "no storage file"),
    "truncated": (truncated, "not a sound SQLite database", "not a sound SQLite database"),
    "text file": (text_file, "(file is not a database)", "(file is not a database)"),
    "a folder": (a_folder, "is a folder: give a file in it", "is a folder: give a file in it"),
}


def files(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a folder)."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def run_argv(storage: str, out: Path) -> list[str]:
    return [
        "run",
        "--dataset",
        "iris",
        "--space",
        TINY,
        "--folds",
        "3",
        "--trials",
        "1",
        "--storage",
        storage,
        "--quiet",
        "--leaderboards",
        str(out / "boards"),
        "--models",
        str(out / "models"),
    ]


def report_argv(storage: str, out: Path) -> list[str]:
    return [
        "report",
        "--study",
        "s",
        "--storage",
        storage,
        "--out",
        str(out / "report"),
        "--drawio",
        str(out / "drawio"),
    ]


def assert_refused(argv: list[str], root: Path, capsys) -> str:
    before = files(root)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert files(root) == before  # nothing written, nothing lost
    return err


def leaderboard_refused(storage: str, root: Path, capsys) -> str:
    """``harness leaderboard`` on a comparison ``c`` of ``storage`` that holds no study."""
    comparison = root / "c.toml"
    comparison.write_text(
        f'name = "c"\ndataset = "iris"\nspace = "{TINY}"\nstrategies = ["random"]\nseeds = [0]\n'
        f'trials = 2\nfolds = 3\nstorage = "{storage}"\n'
    )
    return assert_refused(
        ["leaderboard", str(comparison), "--leaderboards", str(root / "b")], root, capsys
    )


@pytest.mark.parametrize("command", ["run", "report"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_storage_gets_one_line_and_exit_2(tmp_path, monkeypatch, capsys, command, case):
    monkeypatch.chdir(tmp_path)
    make, in_run, in_report = CASES[case]
    storage = make(tmp_path)
    argv = run_argv if command == "run" else report_argv
    err = assert_refused(argv(storage, tmp_path), tmp_path, capsys)
    assert (in_run if command == "run" else in_report) in err
    assert "sqlalche.me" not in err and "SELECT" not in err  # no SQL, no help link


def test_a_mistyped_storage_is_not_created_by_commands_that_only_read(tmp_path, capsys):
    missing = tmp_path / "typo" / "h.db"
    err = assert_refused(
        ["worker", "--storage", f"sqlite:///{missing}", "--study", "s", "--quiet"], tmp_path, capsys
    )
    assert "no storage file" in err
    err = leaderboard_refused(f"sqlite:///{missing}", tmp_path, capsys)
    assert "run `python -m harness compare" in err
    replay = tmp_path / "r.toml"
    replay.write_text(
        'name = "r"\nmode = "replay"\ndataset = "iris"\nspace = "mlp-small"\nstrategies = '
        f'["random"]\nseeds = [0]\ntrials = 2\nstorage = "sqlite:///{tmp_path / "r.db"}"\n'
        f'tables = ["sqlite:///{missing}#grid"]\n'
    )
    err = assert_refused(
        ["compare", str(replay), "--quiet", "--leaderboards", str(tmp_path / "b")], tmp_path, capsys
    )
    assert "no storage file" in err


def test_a_packed_storage_is_named_with_how_to_unpack_it_and_left_packed(tmp_path, capsys):
    packed = tmp_path / "c.db.xz"
    packed.write_bytes(lzma.compress(b"not read: the hint needs only the file's name"))
    err = leaderboard_refused(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, capsys)
    assert f"committed packed as {packed}" in err
    assert "storage_archive.py unpack c`" in err and f"xz -dk {packed}" in err
    assert not (tmp_path / "c.db").exists()


def test_no_study_is_stored_before_the_class_count_check(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rows = ["a,b,label"] + [f"{i},{i % 7},big" for i in range(40)]
    rows += [f"{i},{i},small" for i in range(3)]  # 3 rows: 2 train rows < 3 folds
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    argv = run_argv(f"sqlite:///{tmp_path / 'h.db'}", tmp_path)
    argv[1:3] = ["--data", str(tmp_path / "d.csv"), "--target", "label"]
    err = assert_refused(argv, tmp_path, capsys)
    assert "fold" in err
