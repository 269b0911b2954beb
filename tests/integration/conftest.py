"""Pytest fixtures over harness.py: one node per test module, a fresh bucket per test."""

from __future__ import annotations

import itertools
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

_bucket_counter = itertools.count()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture(scope="session")
def garage_binary():
    b = harness.garage_bin()
    if not b.exists():
        pytest.fail(f"garage binary not found at {b}: build target `garage` or set GARAGE_BIN",
                    pytrace=False)
    return b


@pytest.fixture(scope="module")
def node(garage_binary, request):
    """A started node shared by the tests of one module (module NODE_CONFIG overrides)."""
    overrides = getattr(request.module, "NODE_CONFIG", None)
    n = harness.garage_node(config_overrides=overrides)
    yield n
    n.close()


@pytest.fixture(autouse=True)
def _node_survives(request):
    """Fails the test (at teardown) if the module's node died during it, then
    restarts the node on the same directory so that the next tests still run."""
    yield
    if "node" not in request.fixturenames:
        return
    n = request.getfixturevalue("node")
    if n.proc is not None and not n.running():
        tail = n.log_tail()
        try:
            n.start()
        except harness.node_error as e:
            tail += f"\n(restart failed too: {e})"
        pytest.fail(f"garage died during {request.node.name}:\n{tail}", pytrace=False)


@pytest.fixture(scope="module")
def cred(node):
    """A key allowed to create buckets, owner of the buckets made by `bucket`."""
    return node.create_key("it-main")


@pytest.fixture
def bucket(node, cred):
    """A fresh bucket (created through the admin API) on which `cred` has read/write/owner."""
    name = f"it-{next(_bucket_counter)}-{uuid.uuid4().hex[:8]}"
    node.allow(node.create_bucket(name), cred)
    return name


@pytest.fixture
def s3(cred):
    """A boto3 client for `cred`."""
    return cred.boto3_client()
