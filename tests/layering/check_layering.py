#!/usr/bin/env python3
"""Include-direction check for the node's layers (STYLE.md habit 1, DESIGN.md).

Usage: check_layering.py [SRC_ROOT]   (default: node/src next to this repo's tests/)

Scans every C++ file under SRC_ROOT for #include lines and reports, one per
line as `file:line: what (why)`:
  - a project header from a layer the including file's layer may not use
    (a layer may include its own headers and those of the layers below it,
    transitively: see LAYERS);
  - a file or an included project header outside every known layer;
  - a heavy third-party header outside its seam (see HEAVY).
Exit status: 0 if clean, 1 if any violation, 2 on a usage error.

       check_layering.py --operator OPERATOR_SRC NODE_SRC
checks the operator instead (OPERATOR_LAYERS): its directories include only
the operator directories below them and, of the node, only the layers in
NODE_LAYERS_FOR_OPERATOR; cpprestsdk only in its k8s/*.cc and garage/*.cc files, Asio only in k8s/*.cc
(OPERATOR_HEAVY); no RocksDB or Beast at all.
"""

import os
import re
import sys

# Layer (directory under SRC_ROOT) -> the layers directly below it that it may
# include. Keep in step with DESIGN.md and the garage_layer(... DEPS ...) lines.
LAYERS = {
    "util": [],
    "db": ["util"],
    "layout": ["util"],
    "table": ["rpc", "layout", "db", "util"],
    "block": ["rpc", "layout", "db", "util"],
    "model": ["table", "block", "db", "util", "layout"],
    "api/common": ["util"],
    "api/s3": ["api/common", "model"],
    "api/admin": ["api/common", "model"],
    "rpc": ["layout", "db", "util"],
    # Declared in DESIGN.md, not written yet.
    "api/k2v": ["api/common", "model"],
    "web": ["api/common", "model"],
    # The binary: the composition root and the CLI.
    "garage": ["*"],
}

# Heavy dependencies and the seam each stays behind: (name, include-path
# regex, predicate(layer, file name) -> allowed, where it is allowed).
def _is_cc(name):
    return name.endswith((".cc", ".cpp"))


def _is_asio_layer(layer):
    return layer is not None and (layer.startswith("api/") or layer in ("rpc", "web"))


HEAVY = [
    ("RocksDB", re.compile(r"^rocksdb/"),
     lambda layer, name: layer == "db" and _is_cc(name),
     "only in node/src/db/*.cc"),
    ("Beast", re.compile(r"^boost/beast(/|\.hpp$)"),
     lambda layer, name: layer == "api/common" and _is_cc(name),
     "only in node/src/api/common/*.cc, never in a header"),
    ("Asio", re.compile(r"^(boost/asio(/|\.hpp$)|asio/|asio\.hpp$)"),
     lambda layer, name: _is_asio_layer(layer),
     "only under node/src/api/, rpc/ or web/"),
]

SOURCE_EXTS = (".h", ".hh", ".hpp", ".ipp", ".inc", ".cc", ".cpp")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def closure(layers):
    """Layer -> every layer it may include (itself and all below, transitively)."""
    out = {}

    def visit(layer, seen):
        if layer in out:
            return out[layer]
        if layer in seen:
            raise ValueError("layer cycle through " + layer)
        deps = layers[layer]
        allowed = {layer}
        if "*" in deps:
            allowed |= set(layers)
        else:
            for d in deps:
                allowed |= visit(d, seen | {layer})
        out[layer] = allowed
        return allowed

    for layer in layers:
        visit(layer, set())
    return out


def layer_of(rel_path):
    """The layer owning a path relative to SRC_ROOT (longest prefix), or None."""
    best = None
    for layer in LAYERS:
        if rel_path.startswith(layer + "/") and (best is None or len(layer) > len(best)):
            best = layer
    return best


_COMMENT_RE = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                         re.S)


def strip_comments(text):
    """Blank out /* */ and // comments (not inside literals), keeping line numbers."""
    def blank(m):
        s = m.group(0)
        return s if s[0] in "\"'" else re.sub(r"[^\n]", " ", s)
    return _COMMENT_RE.sub(blank, text)


def project_target(root, src_dir, kind, path, top_dirs):
    """Resolve an include to a path relative to root if it names a project header."""
    if kind == '"':
        local = os.path.normpath(os.path.join(src_dir, path))
        if os.path.isfile(local):
            rel = os.path.relpath(local, root)
            if not rel.startswith(".."):
                return rel.replace(os.sep, "/")
    norm = os.path.normpath(path).replace(os.sep, "/")
    if norm.split("/")[0] in top_dirs:
        return norm
    return None


def check(root, shown_root=None):
    """Every violation under root, as `file:line: what (why)` (files named under shown_root)."""
    shown_root = root if shown_root is None else shown_root
    allowed = closure(LAYERS)
    top_dirs = {e for e in os.listdir(root) if os.path.isdir(os.path.join(root, e))}
    top_dirs |= {layer.split("/")[0] for layer in LAYERS}
    violations = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(SOURCE_EXTS):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            shown = os.path.join(shown_root, rel)
            layer = layer_of(rel)
            if layer is None:
                violations.append(f"{shown}:1: file outside every layer "
                                  f"(add its directory to LAYERS in {os.path.basename(__file__)})")
            with open(full, encoding="utf-8", errors="replace") as f:
                text = strip_comments(f.read())
            for lineno, line in enumerate(text.split("\n"), 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                kind, path = m.group(1), m.group(2).strip()
                for what, pattern, ok, where in HEAVY:
                    if pattern.search(path) and not ok(layer, name):
                        violations.append(f"{shown}:{lineno}: includes {what} header <{path}> "
                                          f"in layer {layer or '?'} ({what} {where})")
                target = project_target(root, dirpath, kind, path, top_dirs)
                if target is None or layer is None:
                    continue
                target_layer = layer_of(target)
                if target_layer is None:
                    violations.append(f"{shown}:{lineno}: includes \"{path}\" from no known layer "
                                      f"(add its directory to LAYERS in "
                                      f"{os.path.basename(__file__)})")
                elif target_layer not in allowed[layer]:
                    violations.append(f"{shown}:{lineno}: includes \"{path}\" of layer "
                                      f"{target_layer} from layer {layer} ({layer} may use only "
                                      f"{', '.join(sorted(allowed[layer]))})")
    return violations


# The operator (operator/src): directory -> operator directories it may
# include ("" is the top directory: main.cc, the composition root).
OPERATOR_LAYERS = {
    "k8s": [],
    "runtime": ["k8s"],
    "garage": [],  # the nodes' admin API client and layout planning
    "cluster": [],  # a GarageCluster's Kubernetes objects, pure functions
    "controllers": ["k8s", "runtime", "garage", "cluster"],
    "": ["*"],
}
# The node layers (and what is below them) the operator may include.
NODE_LAYERS_FOR_OPERATOR = ["util", "layout"]

OPERATOR_HEAVY = [
    ("cpprestsdk", re.compile(r"^(cpprest|pplx)/"),
     lambda layer, name: layer in ("k8s", "garage") and _is_cc(name),
     "only in operator/src/k8s/*.cc and garage/*.cc, never in a header"),
    ("Asio", re.compile(r"^(boost/asio(/|\.hpp$)|asio/|asio\.hpp$)"),
     lambda layer, name: layer == "k8s" and _is_cc(name),
     "only in operator/src/k8s/*.cc, next to cpprestsdk"),
    ("RocksDB", re.compile(r"^rocksdb/"), lambda layer, name: False, "never in the operator"),
    ("Beast", re.compile(r"^boost/beast(/|\.hpp$)"), lambda layer, name: False,
     "never in the operator"),
]


def operator_layer_of(rel_path):
    """The operator directory owning a path relative to OPERATOR_SRC, or None."""
    parts = rel_path.split("/")
    if len(parts) == 1:
        return ""
    return parts[0] if parts[0] in OPERATOR_LAYERS else None


def check_operator(op_root, node_root, shown_root=None):
    """Every violation under op_root, as `file:line: what (why)`."""
    shown_root = op_root if shown_root is None else shown_root
    node_allowed = set()
    node_closure = closure(LAYERS)
    for layer in NODE_LAYERS_FOR_OPERATOR:
        node_allowed |= node_closure[layer]
    node_tops = {layer.split("/")[0] for layer in LAYERS}
    if os.path.isdir(node_root):
        node_tops |= {e for e in os.listdir(node_root) if os.path.isdir(os.path.join(node_root, e))}
    violations = []
    for dirpath, dirnames, filenames in os.walk(op_root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(SOURCE_EXTS):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, op_root).replace(os.sep, "/")
            shown = os.path.join(shown_root, rel)
            layer = operator_layer_of(rel)
            if layer is None:
                violations.append(f"{shown}:1: file outside every operator directory "
                                  f"(add it to OPERATOR_LAYERS in {os.path.basename(__file__)})")
                continue
            deps = OPERATOR_LAYERS[layer]
            may = set(OPERATOR_LAYERS) if "*" in deps else {layer, *deps}
            with open(full, encoding="utf-8", errors="replace") as f:
                text = strip_comments(f.read())
            for lineno, line in enumerate(text.split("\n"), 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                kind, path = m.group(1), m.group(2).strip()
                for what, pattern, ok, where in OPERATOR_HEAVY:
                    if pattern.search(path) and not ok(layer, name):
                        violations.append(f"{shown}:{lineno}: includes {what} header <{path}> "
                                          f"in operator/{layer or '.'} ({what} {where})")
                target = project_target(op_root, dirpath, kind, path, set())
                if target is not None:
                    t = operator_layer_of(target)
                    if t not in may:
                        violations.append(f"{shown}:{lineno}: includes \"{path}\" of operator/"
                                          f"{t or '.'} from operator/{layer or '.'}")
                    continue
                norm = os.path.normpath(path).replace(os.sep, "/")
                top = norm.split("/")[0]
                if os.path.isfile(os.path.join(op_root, norm)):
                    t = operator_layer_of(norm)
                    if t not in may:
                        violations.append(f"{shown}:{lineno}: includes \"{path}\" of operator/"
                                          f"{t or '.'} from operator/{layer or '.'}")
                    continue
                if top in node_tops:
                    node_layer = layer_of(norm)
                    if node_layer not in node_allowed:
                        violations.append(f"{shown}:{lineno}: includes \"{path}\" of node layer "
                                          f"{node_layer or top} (the operator may use only "
                                          f"{', '.join(sorted(node_allowed))} of node/src)")
    return violations


def main(argv):
    if len(argv) >= 2 and argv[1] == "--operator":
        if len(argv) != 4 or not all(os.path.isdir(d) for d in argv[2:]):
            print("usage: check_layering.py --operator OPERATOR_SRC NODE_SRC (directories)",
                  file=sys.stderr)
            return 2
        violations = check_operator(os.path.abspath(argv[2]), os.path.abspath(argv[3]),
                                    os.path.normpath(argv[2]))
        for v in violations:
            print(v)
        if violations:
            print(f"check_layering: {len(violations)} violation(s)", file=sys.stderr)
            return 1
        return 0
    if len(argv) > 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    root = argv[1] if len(argv) == 2 else os.path.join(here, "..", "..", "node", "src")
    if not os.path.isdir(root):
        print(f"check_layering: {root}: not a directory", file=sys.stderr)
        return 2
    violations = check(os.path.abspath(root), os.path.normpath(root))
    for v in violations:
        print(v)
    if violations:
        print(f"check_layering: {len(violations)} violation(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
