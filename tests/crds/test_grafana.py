"""The Grafana dashboards of deploy/grafana (the node/cluster one and the
operator's), checked against the sources:

- both are dashboard JSON models (schemaVersion 36+, uid, title) with unique
  panel ids and a `datasource` template variable of type datasource;
- every panel (rows aside) and every query of a panel or of a template
  variable uses that variable, and every `$var` a query uses is defined;
- every panel has a unit; rate windows are `$__rate_interval`;
- every garage_* metric a query names is registered by the C++ sources
  (prometheus-cpp families in node/src and operator/src); the _bucket, _sum
  and _count series only of the families registered as histograms;
- the Helm chart's dashboards/ holds byte-for-byte copies of them.

Standard library and pytest only.
"""

import filecmp
import glob
import json
import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
GRAFANA = os.path.join(ROOT, "deploy", "grafana")
CHART_DASHBOARDS = os.path.join(ROOT, "deploy", "helm", "garage-operator", "dashboards")
DASHBOARDS = ["garage-cluster.json", "garage-operator.json"]
DS_UID = "${datasource}"

METRIC = re.compile(r"\bgarage_[a-z0-9_]+")
# A family registered with prometheus-cpp: BuildX().Name("garage_...") or
# through the local helpers gauge(r, "garage_...") / counter / histogram /
# single (node/src/garage/*.cc, operator/src/runtime/metrics.cc).
REGISTERED = re.compile(
    r'(?:\.Name\(|\b(?:gauge|counter|histogram|single)\(\s*\w+\s*,\s*)"(garage_[a-z0-9_]+)"')
HISTOGRAM = re.compile(
    r'(?:BuildHistogram\(\)\s*\.Name\(|\bhistogram\(\s*\w+\s*,\s*)"(garage_[a-z0-9_]+)"')
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def load(name):
    with open(os.path.join(GRAFANA, name)) as f:
        return json.load(f)


def families():
    """(all registered family names, those registered as histograms)."""
    names, histograms = set(), set()
    for top in ("node/src", "operator/src"):
        for path in glob.glob(os.path.join(ROOT, top, "**", "*.cc"), recursive=True):
            with open(path) as f:
                text = f.read()
            if "prometheus" not in text:
                continue
            names.update(REGISTERED.findall(text))
            histograms.update(HISTOGRAM.findall(text))
    return names, histograms


FAMILIES, HISTOGRAMS = families()


def unknown_metrics(expr):
    """The garage_* names of expr that no source registers."""
    bad = []
    for name in METRIC.findall(expr):
        if name in FAMILIES:
            continue
        base = next((name[:-len(s)] for s in HISTOGRAM_SERIES if name.endswith(s)), None)
        if base is not None and base in HISTOGRAMS:
            continue
        bad.append(name)
    return bad


def panels(dash):
    """Every panel, those nested in collapsed rows too."""
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", [])


def queries(dash):
    """(where, expr) of every Prometheus query: panel targets, query variables."""
    for p in panels(dash):
        for t in p.get("targets", []):
            yield f"panel {p['id']} ({p['title']})", t["expr"]
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            yield f"variable {v['name']}", q


@pytest.fixture(params=DASHBOARDS)
def dash(request):
    return load(request.param)


def test_registered_families_are_found():
    # Guards the regexes above: families of each source file are seen.
    for name in ("garage_http_requests_total", "garage_local_disk_avail",
                 "garage_rpc_peer_latency_seconds_sum", "garage_cluster_partitions_quorum",
                 "garage_block_resync_queue_length", "garage_operator_reconcile_total",
                 "garage_operator_cluster_nodes_ready"):
        assert name in FAMILIES, name
    assert HISTOGRAMS == {"garage_http_request_duration_seconds",
                          "garage_operator_reconcile_duration_seconds",
                          "garage_operator_workqueue_queue_duration_seconds",
                          "garage_operator_workqueue_work_duration_seconds",
                          "garage_operator_api_request_duration_seconds"}


def test_metric_check_rejects_unknown_names():
    # The check below can fail: a misspelled family, a histogram suffix on a
    # gauge, a made-up suffix.
    assert unknown_metrics("rate(garage_http_request_total[5m])") == ["garage_http_request_total"]
    assert unknown_metrics("garage_table_gets_count") == ["garage_table_gets_count"]
    assert unknown_metrics("garage_http_request_duration_seconds_avg") == [
        "garage_http_request_duration_seconds_avg"]
    assert unknown_metrics("garage_http_request_duration_seconds_bucket / "
                           "garage_operator_leader") == []


def test_dashboard_model(dash):
    assert dash["schemaVersion"] >= 36
    assert dash["uid"] and dash["title"]
    assert dash.get("id") is None, "exported for sharing: no database id"
    ids = [p["id"] for p in panels(dash)]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    for p in panels(dash):
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]


def test_uids_differ():
    assert len({load(n)["uid"] for n in DASHBOARDS}) == len(DASHBOARDS)


def test_every_panel_uses_the_datasource_variable(dash):
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    ds = variables["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    for v in variables.values():
        if v["type"] == "query":
            assert v["datasource"] == {"type": "prometheus", "uid": DS_UID}, v["name"]
    n = 0
    for p in panels(dash):
        if p["type"] == "row":
            continue
        n += 1
        assert p["datasource"] == {"type": "prometheus", "uid": DS_UID}, p["title"]
        assert p["targets"], p["title"]
        ref_ids = [t["refId"] for t in p["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), p["title"]
        for t in p["targets"]:
            assert t["datasource"] == {"type": "prometheus", "uid": DS_UID}, p["title"]
            assert t["expr"].strip(), p["title"]
        assert p["fieldConfig"]["defaults"].get("unit"), f"{p['title']}: no unit"
    assert n >= 10


def test_queries_use_defined_variables_and_rate_interval(dash):
    defined = {v["name"] for v in dash["templating"]["list"]}
    builtin = {"__rate_interval", "__interval", "__range"}
    for where, expr in queries(dash):
        for var in re.findall(r"\$\{?(\w+)", expr):
            assert var in defined | builtin, f"{where}: ${var} undefined"
        unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label matchers' values
        for window in re.findall(r"\[([^\]]*)\]", unquoted):
            assert window == "$__rate_interval", f"{where}: window [{window}]"
        assert expr.count("(") == expr.count(")"), where
        assert expr.count("{") == expr.count("}"), where


def test_every_metric_is_exported_by_the_sources(dash):
    seen = set()
    for where, expr in queries(dash):
        names = METRIC.findall(expr)
        assert names, f"{where}: no garage_* metric in {expr!r}"
        seen.update(names)
        assert unknown_metrics(expr) == [], f"{where}: not registered in node/src or operator/src"
    assert len(seen) >= 10


def test_deploy_grafana_holds_the_dashboards():
    assert sorted(os.listdir(GRAFANA)) == sorted(DASHBOARDS)


def test_chart_holds_copies_of_the_dashboards():
    chart = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CHART_DASHBOARDS, "*")))
    assert chart == sorted(DASHBOARDS), \
        "deploy/helm/garage-operator/dashboards/ must hold exactly deploy/grafana/*.json"
    for name in DASHBOARDS:
        assert filecmp.cmp(os.path.join(GRAFANA, name), os.path.join(CHART_DASHBOARDS, name),
                           shallow=False), \
            f"{name} differs: cp deploy/grafana/*.json deploy/helm/garage-operator/dashboards/"
