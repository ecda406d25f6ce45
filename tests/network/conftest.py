"""The network lab needs root (CI has it): namespaces, veths and nftables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.network.deployment import Deployment, deploy
from tests.network.lab import Lab


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """A fresh lab per test; removed when the test ends, also when it fails."""
    if os.geteuid() != 0:
        pytest.fail("the network lab needs root (ip netns, nftables): run the tests as root")
    with Lab(tmp_path) as built:
        yield built


@pytest.fixture
def deployment(lab: Lab) -> Deployment:
    """The app, its Redis and coturn on the lab's internet."""
    return deploy(lab)
