"""Fixture: one emulated cluster for the tests in this directory."""
import pytest

from emulator import Emulator


@pytest.fixture(scope='module')
def emu(tmp_path_factory):
    e = Emulator(str(tmp_path_factory.mktemp('k8s')), args=['--watch-history', '40', '--bookmark-interval', '0.5'])
    yield e
    e.stop()
