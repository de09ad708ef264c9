"""What every benchmark script shares: its section of BENCHMARKS.md and the machine note."""

from __future__ import annotations

import os
import platform
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def markers(name: str) -> tuple[str, str]:
    """Return the comments that delimit benchmark ``name``'s section."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def write_section(name: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace benchmark ``name``'s section of ``path`` with ``body``, or append it."""
    begin, end = markers(name)
    text = f"{begin}\n{body.strip()}\n{end}"
    old = path.read_text() if path.is_file() else "# Benchmarks\n"
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + text + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new)


def cpu_name() -> str:
    """Return the CPU model name."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def machine_note(load_before: float, load_after: float) -> str:
    """Describe the machine and how busy it was, for a benchmark's section."""
    return (
        f"Machine: {cpu_name()}, {os.cpu_count()} cores shared with other processes that may "
        f"have been running (1-minute load average {load_before:.1f} before and "
        f"{load_after:.1f} after the run), so treat differences under about 10% as noise. "
        f"Python {platform.python_version()}."
    )
