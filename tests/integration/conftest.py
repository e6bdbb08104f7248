"""pytest configuration for the integration suites.

Fixtures live in tests/integration/harness/ (one module per real component: the broker,
the Docker Engine, the built Pharos binaries); this file only loads them.
Run through ctest (tests/integration/CMakeLists.txt) or directly:
  PHAROS_BUILD_DIR=build/ci python3 -m pytest -q tests/integration
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

pytest_plugins = [
    "harness.binaries",
    "harness.broker",
    "harness.docker_engine",
    "harness.private_engine",
]
