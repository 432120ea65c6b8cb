"""The README's shell blocks, by the heading they stand under: tests run the command lines it shows."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"


def shell_lines(heading: str) -> list[str]:
    """The command lines of the ```sh blocks under `## heading` (comments and blank lines dropped)."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def clone_like(folder: Path, *names: str) -> Path:
    """`folder` laid out like a clone for the README's relative paths (.venv, include, ...)."""
    for name in names:
        (folder / name).symlink_to(REPO_ROOT / name)
    return folder


@contextmanager
def simulator_serving(line: str, folder: Path) -> Iterator[dict[str, Any]]:
    """A README `ctwatch sim serve` line run in `folder` (a trailing `&` dropped); yields what it
    prints first (its URLs and the config file it wrote) and stops it at the end."""
    process = subprocess.Popen(
        shlex.split(line.removesuffix("&").strip()),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)
