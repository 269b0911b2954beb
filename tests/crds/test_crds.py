"""Static checks of crds/*.yaml and crds/examples/*.yaml (no API server).

- every CRD is a well-formed apiextensions.k8s.io/v1 object of our group;
- its schema is structural (a type on every node, items on arrays, properties
  or additionalProperties on objects, list-map keys required or defaulted,
  metadata left alone) and every default, enum value and list key fits it;
- every CEL rule stays in the subset the emulator implements (tests/k8s/cel.py),
  and transition rules (oldSelf) sit only on correlatable nodes;
- the scale subresource and printer columns point at fields that exist;
- the examples validate against their CRD (types, enums, bounds, patterns,
  required, unknown fields) after defaulting, and so does a broken copy not;
- with tests/k8s/cel.py present: every rule holds on the examples, and chosen
  bad updates (zone rename, replicationFactor change, ...) break a rule.
"""

import copy
import glob
import os
import re
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CRD_DIR = os.path.join(ROOT, "crds")
GROUP = "objectstore.garage-cpp.dev"
VERSION = "v1alpha1"
TYPES = {"object", "array", "string", "integer", "number", "boolean"}
CEL_FUNCTIONS = {"has", "size", "all", "exists", "exists_one", "matches"}


def load(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    assert len(docs) == 1, f"{path}: one document per file"
    return docs[0]


CRDS = {os.path.basename(p): load(p) for p in sorted(glob.glob(os.path.join(CRD_DIR, "*.yaml")))}
EXAMPLES = {os.path.basename(p): load(p)
            for p in sorted(glob.glob(os.path.join(CRD_DIR, "examples", "*.yaml")))}
BY_KIND = {c["spec"]["names"]["kind"]: c for c in CRDS.values()}


def schema_of(crd):
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def walk(schema, path="", in_atomic_list=False):
    """(path, node, correlatable) for every schema node."""
    yield path, schema, not in_atomic_list
    for name, sub in schema.get("properties", {}).items():
        yield from walk(sub, f"{path}.{name}", in_atomic_list)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}.*", True)
    if "items" in schema:
        is_map = schema.get("x-kubernetes-list-type") == "map"
        yield from walk(schema["items"], f"{path}[]", in_atomic_list or not is_map)


# ---- a small OpenAPI v3 validator, enough for our schemas ----

def type_ok(schema, v):
    if schema.get("x-kubernetes-int-or-string"):
        return (isinstance(v, int) and not isinstance(v, bool)) or isinstance(v, str)
    t = schema.get("type")
    return {
        "object": lambda: isinstance(v, dict),
        "array": lambda: isinstance(v, list),
        "string": lambda: isinstance(v, str),
        "integer": lambda: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda: isinstance(v, bool),
    }.get(t, lambda: True)()


def validate(schema, v, path="", errors=None):
    """Errors of v against schema, as 'path: what' strings."""
    errors = [] if errors is None else errors
    if not type_ok(schema, v):
        errors.append(f"{path}: {v!r} is not of type {schema.get('type')}")
        return errors
    if "enum" in schema and v not in schema["enum"]:
        errors.append(f"{path}: {v!r} not in {schema['enum']}")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in schema and v < schema["minimum"]:
            errors.append(f"{path}: {v} < {schema['minimum']}")
        if "maximum" in schema and v > schema["maximum"]:
            errors.append(f"{path}: {v} > {schema['maximum']}")
    if isinstance(v, str):
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errors.append(f"{path}: {v!r} does not match {schema['pattern']}")
        if len(v) < schema.get("minLength", 0) or len(v) > schema.get("maxLength", 1 << 30):
            errors.append(f"{path}: length {len(v)} out of bounds")
    if isinstance(v, list):
        if len(v) < schema.get("minItems", 0) or len(v) > schema.get("maxItems", 1 << 30):
            errors.append(f"{path}: {len(v)} items out of bounds")
        keys = schema.get("x-kubernetes-list-map-keys")
        if keys:
            seen = [tuple(i.get(k) for k in keys) for i in v]
            if len(seen) != len(set(seen)):
                errors.append(f"{path}: duplicate list-map keys")
        for i, item in enumerate(v):
            validate(schema["items"], item, f"{path}[{i}]", errors)
    if isinstance(v, dict) and schema.get("type") == "object":
        for r in schema.get("required", []):
            if r not in v:
                errors.append(f"{path}.{r}: required")
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for k, item in v.items():
            if props is not None and k in props:
                validate(props[k], item, f"{path}.{k}", errors)
            elif isinstance(extra, dict):
                validate(extra, item, f"{path}.{k}", errors)
            elif not schema.get("x-kubernetes-preserve-unknown-fields") and path != ".metadata":
                errors.append(f"{path}.{k}: unknown field")
    return errors


def with_defaults(schema, v):
    """v with the schema's defaults filled in, as the API server does."""
    if isinstance(v, dict) and schema.get("type") == "object":
        out = dict(v)
        for k, sub in schema.get("properties", {}).items():
            if k not in out and "default" in sub:
                out[k] = copy.deepcopy(sub["default"])
            if k in out:
                out[k] = with_defaults(sub, out[k])
        return out
    if isinstance(v, list) and "items" in schema:
        return [with_defaults(schema["items"], i) for i in v]
    return v


# ---- the CRDs themselves ----

@pytest.mark.parametrize("name", sorted(CRDS))
def test_crd_shape(name):
    crd = CRDS[name]
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    spec = crd["spec"]
    names = spec["names"]
    assert spec["group"] == GROUP
    assert crd["metadata"]["name"] == f"{names['plural']}.{GROUP}"
    assert name == f"{names['singular']}.yaml"
    assert names["listKind"] == names["kind"] + "List"
    assert names["plural"] == names["kind"].lower() + "s"
    assert names["categories"] == ["garage"]
    assert spec["scope"] == "Namespaced"
    [version] = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == (VERSION, True, True)
    assert "status" in version["subresources"]
    status = schema_of(crd)["properties"]["status"]["properties"]
    assert status["observedGeneration"]["type"] == "integer"
    cond = status["conditions"]
    assert cond["x-kubernetes-list-type"] == "map" and cond["x-kubernetes-list-map-keys"] == ["type"]
    assert set(cond["items"]["required"]) == {"type", "status", "lastTransitionTime", "reason",
                                              "message"}
    assert cond["items"]["properties"]["status"]["enum"] == ["True", "False", "Unknown"]
    cols = {c["name"]: c for c in version["additionalPrinterColumns"]}
    assert cols["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
    assert cols["Age"]["type"] == "date"


def test_short_names_do_not_clash():
    short = [s for c in CRDS.values() for s in c["spec"]["names"]["shortNames"]]
    assert sorted(short) == ["gak", "gbk", "gcl"]
    # Short names of built-in kinds (kubectl api-resources on Kubernetes 1.30) and of
    # common add-ons; ours must be none of them.
    builtin = {"cs", "cm", "ep", "ev", "limits", "ns", "no", "pvc", "pv", "po", "rc", "quota", "sa",
               "svc", "crd", "crds", "ds", "deploy", "rs", "sts", "hpa", "cj", "csr", "ing",
               "netpol", "pdb", "pc", "sc", "gc", "gw", "gtw", "cert", "certs", "vs", "dr", "se"}
    assert not set(short) & builtin


@pytest.mark.parametrize("name", sorted(CRDS))
def test_schema_is_structural(name):
    root = schema_of(CRDS[name])
    assert root["properties"]["metadata"] == {"type": "object"}, "metadata is left to the API server"
    for path, node, _ in walk(root):
        where = f"{name}:{path or '.'}"
        if node.get("x-kubernetes-int-or-string"):
            assert "type" not in node, where
        else:
            assert node.get("type") in TYPES, f"{where}: type"
        if node.get("type") == "array":
            assert "items" in node, f"{where}: items"
            assert node.get("x-kubernetes-list-type") in (None, "atomic", "set", "map"), where
        if node.get("type") == "object":
            assert not ("properties" in node and "additionalProperties" in node), where
            for r in node.get("required", []):
                assert r in node.get("properties", {}), f"{where}: required {r} undeclared"
        if node.get("x-kubernetes-list-type") == "map":
            items = node["items"]
            for k in node["x-kubernetes-list-map-keys"]:
                assert k in items.get("required", []) or "default" in items["properties"][k], \
                    f"{where}: list-map key {k} must be required or defaulted"
        if "default" in node:
            assert not validate(node, node["default"], where), f"{where}: default does not fit"
            assert path.split(".")[1] == "spec", f"{where}: defaults belong in spec"
        for e in node.get("enum", []):
            assert type_ok(node, e), f"{where}: enum value {e!r}"
        if "pattern" in node:
            re.compile(node["pattern"])


def cel_identifiers(rule):
    """Function and macro names called in a CEL rule, and the free identifiers."""
    code = re.sub(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"", "''", rule)
    calls = set(re.findall(r"([A-Za-z_]\w*)\s*\(", code))
    macro_vars = set(re.findall(r"\.(?:all|exists|exists_one)\(\s*([A-Za-z_]\w*)\s*,", code))
    free = set(re.findall(r"(?<![.\w])([A-Za-z_]\w*)\b(?!\s*\()", code))
    return calls, free - macro_vars - {"true", "false", "null", "in"}


@pytest.mark.parametrize("name", sorted(CRDS))
def test_cel_rules_stay_in_the_subset(name):
    n = 0
    for path, node, correlatable in walk(schema_of(CRDS[name])):
        for v in node.get("x-kubernetes-validations", []):
            rule = v["rule"]
            assert v.get("message"), f"{name}:{path}: a rule needs a message"
            calls, free = cel_identifiers(rule)
            assert calls <= CEL_FUNCTIONS, f"{name}:{path}: {rule}: {calls - CEL_FUNCTIONS}"
            assert free <= {"self", "oldSelf"}, f"{name}:{path}: {rule}: {free}"
            if "oldSelf" in free:
                assert correlatable, f"{name}:{path}: transition rule under a non-map list"
            n += 1
    assert n >= 3


def resolve(schema, json_path):
    """The schema node a simple JSONPath (.a.b, filters dropped) points at."""
    node = schema
    for part in re.sub(r"\[\?\(.*?\)\]", "[]", json_path).strip(".").split("."):
        name, is_list = part.rstrip("[]"), part.endswith("[]")
        if name == "metadata" and node is schema:
            return {"type": "object"}
        node = node["properties"][name]
        if is_list:
            node = node["items"]
    return node


@pytest.mark.parametrize("name", sorted(CRDS))
def test_printer_columns_and_scale_point_at_fields(name):
    crd = CRDS[name]
    version = crd["spec"]["versions"][0]
    root = schema_of(crd)
    for col in version["additionalPrinterColumns"]:
        if col["jsonPath"] == ".metadata.creationTimestamp":
            continue
        node = resolve(root, col["jsonPath"])
        assert node.get("type") == col["type"], f"{name}: column {col['name']}"
    scale = version["subresources"].get("scale")
    if crd["spec"]["names"]["kind"] == "GarageCluster":
        assert scale is not None
    if scale:
        assert resolve(root, scale["specReplicasPath"])["type"] == "integer"
        assert resolve(root, scale["statusReplicasPath"])["type"] == "integer"
        assert resolve(root, scale["labelSelectorPath"])["type"] == "string"


# ---- examples ----

@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_validates(name):
    obj = EXAMPLES[name]
    assert obj["apiVersion"] == f"{GROUP}/{VERSION}"
    schema = schema_of(BY_KIND[obj["kind"]])
    assert validate(schema, with_defaults(schema, obj)) == []


def test_example_cluster_spans_two_sites_and_three_zones():
    spec = EXAMPLES["cluster-two-sites.yaml"]["spec"]
    assert len(spec["zones"]) == 3
    sites = {z.get("site", {}).get("kubeconfigSecretRef", {}).get("name", "local")
             for z in spec["zones"]}
    assert len(sites) == 2


def test_validator_refuses_bad_resources():
    schema = schema_of(BY_KIND["GarageCluster"])
    good = with_defaults(schema, EXAMPLES["cluster-two-sites.yaml"])
    for change, expect in [
        (lambda s: s["zones"][0].update(nodes=0), "nodes: 0 < 1"),
        (lambda s: s.update(consistencyMode="eventual"), "not in"),
        (lambda s: s.update(replicationFactor=8), "8 > 7"),
        (lambda s: s["zones"][0].update(name="Bad_Zone"), "does not match"),
        (lambda s: s["zones"].append(dict(s["zones"][0])), "duplicate list-map keys"),
        (lambda s: s.update(replicas=3), "unknown field"),
        (lambda s: s["network"]["exposure"].update(type="Ingress"), "not in"),
        (lambda s: s["zones"][2]["storage"]["data"].update(size="lots"), "does not match"),
    ]:
        bad = copy.deepcopy(good)
        change(bad["spec"])
        errors = validate(schema, bad)
        assert any(expect in e for e in errors), (expect, errors)


def test_defaults_fill_a_minimal_cluster():
    schema = schema_of(BY_KIND["GarageCluster"])
    obj = with_defaults(schema, {"apiVersion": f"{GROUP}/{VERSION}", "kind": "GarageCluster",
                                 "metadata": {"name": "c"}, "spec": {"zones": [{"name": "z"}]}})
    spec = obj["spec"]
    assert (spec["replicationFactor"], spec["consistencyMode"], spec["layoutPolicy"]) == \
        (3, "consistent", "Auto")
    assert spec["nodesPerZone"] == 1
    assert spec["zones"][0]["storage"]["data"]["size"] == "10Gi"
    assert spec["zones"][0]["site"] == {}
    assert (spec["s3Api"]["port"], spec["network"]["rpcPort"], spec["adminApi"]["port"]) == \
        (3900, 3901, 3903)
    assert spec["network"]["exposure"]["type"] == "LoadBalancer"
    assert validate(schema, obj) == []


# ---- CEL rules, evaluated with the emulator's interpreter ----

def cel_module():
    sys.path.insert(0, os.path.join(ROOT, "tests", "k8s"))
    try:
        import cel  # noqa: PLC0415
    except ImportError:
        pytest.skip("tests/k8s/cel.py not available")
    finally:
        sys.path.pop(0)
    return cel


def broken_rules(cel, schema, new, old=None, path=""):
    """Messages of the rules that fail for new (against old for transition rules)."""
    out = []
    for v in schema.get("x-kubernetes-validations", []):
        prog = cel.Program(v["rule"])
        if prog.uses_old_self and old is None:
            continue
        env = {"self": new} if old is None else {"self": new, "oldSelf": old}
        try:
            ok = prog.eval(env)
        except cel.CelError as e:
            ok = False
            v = dict(v, message=f"{v['message']} (error {e})")
        if ok is not True:
            out.append(f"{path}: {v['message']}")
    if isinstance(new, dict):
        for k, sub in schema.get("properties", {}).items():
            if k in new:
                o = old.get(k) if isinstance(old, dict) else None
                out += broken_rules(cel, sub, new[k], o, f"{path}.{k}")
    if isinstance(new, list) and "items" in schema:
        keys = schema.get("x-kubernetes-list-map-keys")
        olds = {}
        if keys and isinstance(old, list):
            olds = {tuple(i.get(k) for k in keys): i for i in old}
        for i, item in enumerate(new):
            o = olds.get(tuple(item.get(k) for k in keys)) if keys else None
            out += broken_rules(cel, schema["items"], item, o, f"{path}[{i}]")
    return out


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_keep_every_rule(name):
    cel = cel_module()
    obj = EXAMPLES[name]
    schema = schema_of(BY_KIND[obj["kind"]])
    obj = with_defaults(schema, obj)
    assert broken_rules(cel, schema, obj) == []
    assert broken_rules(cel, schema, obj, copy.deepcopy(obj)) == []


def cluster_update(change):
    schema = schema_of(BY_KIND["GarageCluster"])
    old = with_defaults(schema, EXAMPLES["cluster-two-sites.yaml"])
    new = copy.deepcopy(old)
    change(new)
    return broken_rules(cel_module(), schema, with_defaults(schema, new), old)


@pytest.mark.parametrize("change, message", [
    (lambda o: o["spec"].update(replicationFactor=2), "replicationFactor is immutable"),
    (lambda o: o["spec"]["zones"][0].update(name="par9"), "zone names are immutable"),
    (lambda o: o["spec"]["zones"][1].update(site={"kubeconfigSecretRef": {"name": "x"}}),
     "cannot move to another site"),
    (lambda o: o["spec"]["zones"][2]["storage"]["data"].update(storageClassName="slow"),
     "storageClassName is immutable"),
    (lambda o: o["spec"]["secrets"].update(rpcSecretRef={"name": "mine"}),
     "rpcSecretRef is immutable"),
    (lambda o: o["spec"].update(zoneRedundancy=4), "zoneRedundancy cannot exceed"),
    (lambda o: o["spec"]["webApi"].pop("rootDomain"), "rootDomain is required"),
    (lambda o: o["spec"]["zones"].append(dict(o["spec"]["zones"][0])), "unique"),
    (lambda o: o["metadata"].update(name="x" * 31), "at most 30 characters"),
])
def test_cluster_rules_refuse_bad_updates(change, message):
    broken = cluster_update(change)
    assert any(message in b for b in broken), broken


def test_cluster_rules_allow_scaling_and_adding_or_removing_a_zone():
    assert cluster_update(lambda o: o["spec"].update(nodesPerZone=5)) == []
    assert cluster_update(lambda o: o["spec"]["zones"].append({"name": "par3"})) == []
    assert cluster_update(lambda o: o["spec"]["zones"].pop(0)) == []
    assert cluster_update(lambda o: o["spec"].update(image="garage:0.2")) == []


def test_bucket_and_key_rules():
    cel = cel_module()
    bucket_schema = schema_of(BY_KIND["GarageBucket"])
    bucket = with_defaults(bucket_schema, EXAMPLES["bucket.yaml"])
    renamed = copy.deepcopy(bucket)
    renamed["spec"]["globalAlias"] = "pictures"
    assert any("globalAlias is immutable" in b
               for b in broken_rules(cel, bucket_schema, renamed, bucket))
    ip = copy.deepcopy(bucket)
    ip["spec"]["globalAlias"] = "10.0.0.1"
    assert any("IP address" in b for b in broken_rules(cel, bucket_schema, ip))
    key_schema = schema_of(BY_KIND["GarageAccessKey"])
    key = with_defaults(key_schema, EXAMPLES["accesskey.yaml"])
    nothing = copy.deepcopy(key)
    nothing["spec"]["permissions"][0].update(read=False, write=False)
    assert any("at least one" in b for b in broken_rules(cel, key_schema, nothing))
    moved = copy.deepcopy(key)
    moved["spec"]["secretName"] = "other"
    assert any("secretName is immutable" in b for b in broken_rules(cel, key_schema, moved, key))
    twice = copy.deepcopy(key)
    twice["spec"]["permissions"].append(dict(twice["spec"]["permissions"][0], owner=True))
    assert any("a bucket appears once" in b for b in broken_rules(cel, key_schema, twice))
    dropped = copy.deepcopy(key)
    del dropped["spec"]["secretName"]
    assert any("secretName is immutable" in b for b in broken_rules(cel, key_schema, dropped, key))
