"""The fuzz corpora replayed in the regular suite (no atheris needed): every seed and regression
input of tests/fuzz/corpus/ through its target, where only the documented error types may come out,
each input within a time bound."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fuzz.targets import CORPUS, TARGETS, Target

INPUT_BOUND_S = 5.0


class InputTooSlow(BaseException):
    """Raised in the input's code when its time is up: not an Exception, so that no parser's
    `except Exception` turns it into a result."""


@contextmanager
def _time_bound(seconds: float, what: str) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise InputTooSlow(f"{what}: still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def replay(target: Target, path: Path, bound_s: float = INPUT_BOUND_S) -> None:
    """Run one input; AssertionError naming it when an undocumented exception comes out or it is slow."""
    try:
        with _time_bound(bound_s, f"{target.name}/{path.name}"):
            target.run(path.read_bytes())
    except target.allowed:
        pass
    except InputTooSlow as exc:
        raise AssertionError(str(exc)) from None
    except Exception as exc:
        raise AssertionError(f"{target.name}/{path.name}: {type(exc).__name__}: {exc}") from exc


def _inputs(target: Target) -> list[Path]:
    return sorted(path for path in target.corpus.iterdir() if path.is_file())


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.name)
def test_corpus_gives_only_documented_errors(target: Target) -> None:
    inputs = _inputs(target)
    assert inputs, f"{target.corpus} holds no seed"
    for path in inputs:
        replay(target, path)


def test_every_corpus_folder_belongs_to_a_target() -> None:
    folders = {path.name for path in CORPUS.iterdir() if path.is_dir()}
    assert folders == {target.name for target in TARGETS}


def _raising(data: bytes) -> object:
    raise KeyError("not documented")


def _slow(data: bytes) -> object:
    while True:
        pass


@pytest.mark.parametrize(
    ("run", "message"),
    [(_raising, "KeyError: 'not documented'"), (_slow, "probe/seed: still running after 0.2 s")],
    ids=["raises", "hangs"],
)
def test_replay_fails_on_an_undocumented_exception_or_a_hang(
    run: object, message: str, tmp_path: Path
) -> None:
    seed = tmp_path / "seed"
    seed.write_bytes(b"x")
    probe = Target("probe", run, (ValueError,), "a target that misbehaves")  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match=message):
        replay(probe, seed, bound_s=0.2)
