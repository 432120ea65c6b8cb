"""One fuzz target under libFuzzer: `python -m tests.fuzz.worker NAME [libFuzzer flags and corpus
folders]`. `tests.fuzz.run` starts one per target; an exception outside the target's documented
types is a crash (libFuzzer writes the input to its artifact folder and stops)."""

from __future__ import annotations

import contextlib
import sys

import atheris

# Coverage feedback comes from ctwatch's own code: instrument it as the targets import it.
with atheris.instrument_imports(include=["ctwatch"]):
    from tests.fuzz.targets import BY_NAME


def main() -> None:
    target = BY_NAME[sys.argv[1]]

    def test_one_input(data: bytes) -> None:
        with contextlib.suppress(*target.allowed):
            target.run(data)

    atheris.Setup([sys.argv[0], *sys.argv[2:]], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
