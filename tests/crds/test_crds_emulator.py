"""The CRDs and `garage-operator --check` against the Kubernetes API emulator
(tests/k8s/apiserver.py, HTTPS) driven by the real kubectl: the CRDs install,
the examples apply, the printer columns show, the scale subresource writes
spec.nodesPerZone, and CEL rules refuse bad updates as the API server would.
Skipped when the emulator is not in the tree."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "k8s"))
emulator = pytest.importorskip("emulator")


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = emulator.Emulator(str(tmp_path_factory.mktemp("crds")), name="crds")
    yield e
    e.stop()


@pytest.fixture(scope="module")
def installed(emu):
    emu.kubectl("apply", "-f", os.path.join(ROOT, "crds"))
    emu.kubectl("create", "namespace", "storage")
    emu.kubectl("apply", "-f", os.path.join(ROOT, "crds", "examples"))
    return emu


def test_examples_apply_and_show_columns(installed):
    out = installed.kubectl("get", "gcl", "-n", "storage", "-o", "wide").stdout
    header = out.splitlines()[0].split()
    assert header == ["NAME", "READY", "NODES", "DESIRED", "LAYOUT", "HEALTH", "AGE"]
    assert "geo" in out
    out = installed.kubectl("get", "garage", "-n", "storage").stdout
    assert "garagebucket.objectstore.garage-cpp.dev/photos" in out
    assert "garageaccesskey.objectstore.garage-cpp.dev/photos-app" in out
    gcl = json.loads(installed.kubectl("get", "gcl", "geo", "-n", "storage", "-o", "json").stdout)
    assert gcl["spec"]["replicationFactor"] == 3
    assert gcl["spec"]["zones"][0]["storage"]["data"]["size"] == "10Gi"  # defaulted
    assert gcl["spec"]["network"]["rpcPort"] == 3901


def test_scale_sets_nodes_per_zone(installed):
    installed.kubectl("scale", "gcl/geo", "-n", "storage", "--replicas=4")
    out = installed.kubectl("get", "gcl", "geo", "-n", "storage", "-o",
                            "jsonpath={.spec.nodesPerZone}").stdout
    assert out == "4"


@pytest.mark.parametrize("patch, message", [
    ('{"spec":{"replicationFactor":2}}', "replicationFactor is immutable"),
    ('{"spec":{"consistencyMode":"eventual"}}', "Unsupported value"),
    ('{"spec":{"zoneRedundancy":5}}', "zoneRedundancy cannot exceed"),
    ('{"spec":{"secrets":{"rpcSecretRef":{"name":"mine"}}}}', "rpcSecretRef is immutable"),
])
def test_bad_cluster_updates_are_refused(installed, patch, message):
    r = installed.kubectl("patch", "gcl", "geo", "-n", "storage", "--type", "merge", "-p", patch,
                          check=False)
    assert r.returncode != 0
    assert message in r.stderr


def test_zone_rename_is_refused(installed):
    r = installed.kubectl("patch", "gcl", "geo", "-n", "storage", "--type", "json", "-p",
                          '[{"op":"replace","path":"/spec/zones/0/name","value":"par9"}]',
                          check=False)
    assert r.returncode != 0
    assert "zone names are immutable" in r.stderr


def test_bucket_alias_is_immutable(installed):
    r = installed.kubectl("patch", "gbk", "photos", "-n", "storage", "--type", "merge", "-p",
                          '{"spec":{"globalAlias":"pictures"}}', check=False)
    assert r.returncode != 0
    assert "globalAlias is immutable" in r.stderr


def operator_bin():
    path = os.environ.get("GARAGE_OPERATOR_BIN")
    if not path:
        pytest.skip("GARAGE_OPERATOR_BIN not set")
    return path


def test_operator_check_over_https(installed, tmp_path):
    binary = operator_bin()
    r = subprocess.run([binary, "--check", "--kubeconfig", installed.kubeconfig],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert f"server: {installed.server}" in r.stdout
    assert "crds: installed" in r.stdout

    wrong = tmp_path / "wrong-token.kubeconfig"
    wrong.write_text(open(installed.kubeconfig).read().replace(installed.token, "not-the-token"))
    r = subprocess.run([binary, "--check", "--kubeconfig", str(wrong)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "401" in r.stderr

    no_ca = tmp_path / "no-ca.kubeconfig"
    text = "\n".join(l for l in open(installed.kubeconfig).read().splitlines()
                     if "certificate-authority-data" not in l)
    no_ca.write_text(text)
    r = subprocess.run([binary, "--check", "--kubeconfig", str(no_ca)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1  # the emulator's CA is not a system CA
    assert "cannot reach" in r.stderr


def test_client_against_the_emulator(tmp_path):
    """tests/unit/operator/emulator_test.cc: watch, 410, apply, conflicts, status, over HTTPS."""
    binary = os.environ.get("GARAGE_OPERATOR_TEST_BIN")
    if not binary:
        pytest.skip("GARAGE_OPERATOR_TEST_BIN not set")
    e = emulator.Emulator(str(tmp_path), name="client",
                          args=["--watch-history", "20", "--bookmark-interval", "0.5"])
    try:
        e.kubectl("apply", "-f", os.path.join(ROOT, "crds"))
        env = dict(os.environ, GARAGE_TEST_KUBECONFIG=e.kubeconfig)
        r = subprocess.run([binary, "--gtest_filter=emulator.*"], capture_output=True, text=True,
                           timeout=120, env=env)
        assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
        assert "SKIPPED" not in r.stdout
    finally:
        e.stop()
