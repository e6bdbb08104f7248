"""Locates the built Pharos binaries (PHAROS_BUILD_DIR, default build/ci then build/debug)."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def build_dir() -> pathlib.Path:
    env = os.environ.get("PHAROS_BUILD_DIR")
    if env:
        return pathlib.Path(env).resolve()
    for name in ("ci", "debug", "asan", "release"):
        candidate = ROOT / "build" / name
        if candidate.is_dir():
            return candidate
    raise RuntimeError("no build directory; set PHAROS_BUILD_DIR")


def binary(name: str) -> pathlib.Path:
    for sub in ("agent", "anchor", "cli", "sparkplug", "tools", "."):
        path = build_dir() / sub / name
        if path.exists():
            return path
    raise FileNotFoundError(f"{name} not built under {build_dir()}")


@pytest.fixture(scope="session")
def pharos_bin():
    """pharos_bin('pharos-agent') -> path of the built binary."""
    return binary


@pytest.fixture(scope="session")
def repo_root():
    return ROOT
