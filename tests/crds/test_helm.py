"""The operator's Helm chart (deploy/helm/garage-operator) and the plain
manifest rendered from it (deploy/install.yaml), with the real helm that
hack/k8s-tools.sh installs:

- the chart's crds/ are byte-for-byte copies of crds/*.yaml;
- `helm lint --strict` passes;
- `helm template` renders, with the default values, exactly the expected
  objects: ServiceAccount, ClusterRole (the verbs the operator needs and no
  more), ClusterRoleBinding, the metrics Service, the Deployment (2 replicas,
  leader election, health and metrics addresses, probes); and the values
  switch what they say (watchNamespace, ServiceMonitor, leader election,
  the Grafana dashboards ConfigMap);
- deploy/install.yaml is what hack/gen-install.sh writes today.
"""

import filecmp
import glob
import json
import os
import subprocess

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(ROOT, "deploy", "helm", "garage-operator")
INSTALL = os.path.join(ROOT, "deploy", "install.yaml")


@pytest.fixture(scope="module")
def helm():
    tools = subprocess.run(["bash", os.path.join(ROOT, "hack", "k8s-tools.sh")], check=True,
                           capture_output=True, text=True).stdout.strip()
    path = os.path.join(tools, "helm")
    assert os.access(path, os.X_OK), path
    return path


def template(helm, *args):
    out = subprocess.run([helm, "template", "garage-operator", CHART, "--namespace", "ops", *args],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def by_kind(docs):
    out = {}
    for d in docs:
        out.setdefault(d["kind"], []).append(d)
    return out


def test_chart_crds_are_copies_of_crds():
    ours = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "crds", "*.yaml")))
    chart = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CHART, "crds", "*.yaml")))
    assert ours == chart, "deploy/helm/garage-operator/crds/ must hold exactly crds/*.yaml"
    for name in ours:
        assert filecmp.cmp(os.path.join(ROOT, "crds", name), os.path.join(CHART, "crds", name),
                           shallow=False), \
            f"{name} differs: cp crds/*.yaml deploy/helm/garage-operator/crds/ && bash hack/gen-install.sh"


def test_lint(helm):
    r = subprocess.run([helm, "lint", "--strict", CHART], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_default_values_render_the_operator(helm):
    docs = template(helm)
    kinds = by_kind(docs)
    assert sorted(kinds) == ["ClusterRole", "ClusterRoleBinding", "Deployment", "Service",
                             "ServiceAccount"]
    assert all(len(v) == 1 for v in kinds.values())
    for d in docs:
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert d["metadata"]["namespace"] == "ops", d["kind"]
        assert d["metadata"]["labels"]["app.kubernetes.io/name"] == "garage-operator"

    dep = kinds["Deployment"][0]
    assert dep["apiVersion"] == "apps/v1"
    assert dep["spec"]["replicas"] == 2
    pod = dep["spec"]["template"]["spec"]
    sa = kinds["ServiceAccount"][0]["metadata"]["name"]
    assert pod["serviceAccountName"] == sa
    sel = dep["spec"]["selector"]["matchLabels"]
    assert all(dep["spec"]["template"]["metadata"]["labels"][k] == v for k, v in sel.items())
    (c,) = pod["containers"]
    assert c["image"] == "ghcr.io/garage-cpp/garage-operator:0.1.0"
    assert c["args"] == ["--leader-elect", "--leader-election-namespace=ops",
                         "--health-addr=:8081", "--metrics-addr=:8080", "--id=$(POD_NAME)"]
    assert c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"health": 8081, "metrics": 8080}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]

    svc = kinds["Service"][0]
    assert svc["spec"]["ports"] == [{"name": "metrics", "port": 8080, "targetPort": "metrics",
                                     "protocol": "TCP"}]
    assert svc["spec"]["selector"] == sel

    binding = kinds["ClusterRoleBinding"][0]
    assert binding["roleRef"]["name"] == kinds["ClusterRole"][0]["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa, "namespace": "ops"}]


def rules(docs):
    """{(group, resource): set(verbs)} of the ClusterRole."""
    (role,) = by_kind(docs)["ClusterRole"]
    out = {}
    for r in role["rules"]:
        for g in r["apiGroups"]:
            for res in r["resources"]:
                key = (g, res)
                assert key not in out, f"{key} in two rules"
                out[key] = set(r["verbs"])
    return out


def test_cluster_role_has_exactly_the_needed_verbs(helm):
    got = rules(template(helm))
    crud = {"get", "list", "watch", "create", "update", "patch", "delete"}
    g = "objectstore.garage-cpp.dev"
    want = {}
    for res in ("garageclusters", "garagebuckets", "garageaccesskeys"):
        want[(g, res)] = {"get", "list", "watch", "update", "patch"}
        want[(g, res + "/status")] = {"get", "update", "patch"}
        want[(g, res + "/finalizers")] = {"update"}
    want[("apps", "statefulsets")] = crud
    for res in ("services", "configmaps", "secrets"):
        want[("", res)] = crud
    want[("policy", "poddisruptionbudgets")] = crud
    want[("", "pods")] = {"get", "list", "watch", "delete"}
    want[("", "persistentvolumeclaims")] = {"get", "list", "watch", "delete"}
    want[("", "nodes")] = {"get", "list", "watch"}
    want[("", "events")] = {"create", "patch"}
    want[("events.k8s.io", "events")] = {"create", "patch"}
    want[("coordination.k8s.io", "leases")] = {"get", "create", "update"}
    assert got == want


def test_values_switch_what_they_say(helm):
    docs = by_kind(template(helm, "--set", "watchNamespace=storage", "--set", "replicas=1",
                           "--set", "leaderElection.enabled=false",
                           "--set", "serviceMonitor.enabled=true", "--set", "healthPort=9441",
                           "--set", "image.tag=dev"))
    (c,) = docs["Deployment"][0]["spec"]["template"]["spec"]["containers"]
    assert c["args"] == ["--namespace=storage", "--health-addr=:9441", "--metrics-addr=:8080",
                         "--id=$(POD_NAME)"]
    assert c["image"].endswith(":dev")
    assert docs["Deployment"][0]["spec"]["replicas"] == 1
    (sm,) = docs["ServiceMonitor"]
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["spec"]["endpoints"][0]["port"] == "metrics"
    # the cluster gauges' own `namespace` label survives the scrape
    assert sm["spec"]["endpoints"][0]["honorLabels"] is True
    svc_labels = docs["Service"][0]["metadata"]["labels"]
    assert all(svc_labels[k] == v for k, v in sm["spec"]["selector"]["matchLabels"].items())
    # two replicas without leader election would fight: refused
    r = subprocess.run([helm, "template", "x", CHART, "--set", "leaderElection.enabled=false"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "leaderElection" in r.stderr


def test_grafana_dashboards_config_map(helm):
    docs = by_kind(template(helm, "--set", "grafanaDashboards.enabled=true"))
    (cm,) = docs["ConfigMap"]
    assert cm["metadata"]["namespace"] == "ops"
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["labels"]["app.kubernetes.io/name"] == "garage-operator"
    assert sorted(cm["data"]) == ["garage-cluster.json", "garage-operator.json"]
    for name, text in cm["data"].items():
        with open(os.path.join(ROOT, "deploy", "grafana", name)) as f:
            assert json.loads(text) == json.load(f), name
    docs = by_kind(template(helm, "--set", "grafanaDashboards.enabled=true",
                            "--set", "grafanaDashboards.namespace=monitoring",
                            "--set", "grafanaDashboards.annotations.grafana_folder=Garage"))
    (cm,) = docs["ConfigMap"]
    assert cm["metadata"]["namespace"] == "monitoring"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "Garage"}


def test_include_crds_renders_the_three_crds(helm):
    crds = by_kind(template(helm, "--include-crds"))["CustomResourceDefinition"]
    assert sorted(c["metadata"]["name"] for c in crds) == [
        "garageaccesskeys.objectstore.garage-cpp.dev", "garagebuckets.objectstore.garage-cpp.dev",
        "garageclusters.objectstore.garage-cpp.dev"]


def test_install_yaml_is_up_to_date(helm):
    fresh = subprocess.run(["bash", os.path.join(ROOT, "hack", "gen-install.sh"), "--stdout"],
                           check=True, capture_output=True, text=True,
                           env=dict(os.environ, HELM=helm)).stdout
    with open(INSTALL) as f:
        assert f.read() == fresh, "deploy/install.yaml is stale: run bash hack/gen-install.sh"
    docs = [d for d in yaml.safe_load_all(fresh) if d]
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(["Namespace", "CustomResourceDefinition", "CustomResourceDefinition",
                            "CustomResourceDefinition", "ServiceAccount", "ClusterRole",
                            "ClusterRoleBinding", "Service", "Deployment"])
    ns = next(d for d in docs if d["kind"] == "Namespace")["metadata"]["name"]
    assert all(d["metadata"].get("namespace", ns) == ns for d in docs
               if d["kind"] in ("ServiceAccount", "Service", "Deployment"))
