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
    """A started node shared by the tests of one module; it must survive them all."""
    overrides = getattr(request.module, "NODE_CONFIG", None)
    n = harness.garage_node(config_overrides=overrides)
    yield n
    alive = n.running()
    tail = n.log_tail()
    n.close()
    if not alive:
        pytest.fail(f"garage died during {request.module.__name__}:\n{tail}", pytrace=False)


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
