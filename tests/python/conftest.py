"""Shared fixtures for the telltale Python suite.

The suite runs against the extension built by CMake (PYTHONPATH points at
<build>/python) or an installed package. TELLTALE_CLI names the C++ CLI used
by the parity tests.
"""

import os
import shutil

import numpy as np
import pytest

import telltale


@pytest.fixture
def key():
    return telltale.Key.from_bytes(bytes(range(32)))


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


@pytest.fixture(scope="session")
def cli_path():
    path = os.environ.get("TELLTALE_CLI") or shutil.which("telltale")
    if not path or not os.path.exists(path):
        pytest.fail("the telltale CLI is needed for parity tests: set TELLTALE_CLI (ctest does)")
    return path
