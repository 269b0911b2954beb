#!/usr/bin/env python3
"""Tests of check_layering.py: it passes clean trees and catches each kind of
violation planted in a small fake node/src in a temporary directory."""

import os
import subprocess
import sys
import tempfile
import unittest

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_layering.py")

# A small tree that follows every rule, including the allowed uses of heavy headers.
CLEAN = {
    "util/result.h": "#pragma once\n#include <string>\n",
    "util/crdt/lww.h": '#pragma once\n#include "util/result.h"\n',
    "db/db.h": '#pragma once\n#include "util/result.h"\n',
    "db/db.cc": '#include "db/db.h"\n#include <rocksdb/db.h>\n',
    "layout/layout.h": '#include "util/crdt/lww.h"\n',
    "table/table.h": '#include "db/db.h"\n',
    "block/block_manager.h": '#include "db/db.h"\n',
    "model/store.h": '#include "table/table.h"\n#include "block/block_manager.h"\n'
                     '#include "layout/layout.h"\n',
    "api/common/exchange.h": '#include <boost/asio/awaitable.hpp>\n#include "util/result.h"\n',
    "api/common/server.cc": '#include <boost/beast/http/parser.hpp>\n#include <boost/asio.hpp>\n',
    # Transitive: api/s3 may include util (below model) and api/common.
    "api/s3/s3_api.h": '#include "api/common/exchange.h"\n#include "model/store.h"\n'
                       '#include "util/result.h"\n#include "layout/layout.h"\n',
    "api/s3/router.h": '#include "router_detail.h"\n',  # quoted include next to the file
    "api/s3/router_detail.h": "#pragma once\n",
    "api/admin/admin_api.h": '#include "api/common/exchange.h"\n#include "model/store.h"\n',
    "garage/main.cc": '#include "api/s3/s3_api.h"\n#include "api/admin/admin_api.h"\n'
                      '#include "db/db.h"\n',
}


def run_checker(root):
    proc = subprocess.run([sys.executable, CHECKER, root], capture_output=True, text=True)
    return proc.returncode, proc.stdout.splitlines()


class LayeringCheckTest(unittest.TestCase):
    def make_tree(self, extra=None, remove=()):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        files = dict(CLEAN)
        files.update(extra or {})
        for path in remove:
            del files[path]
        for path, text in files.items():
            full = os.path.join(tmp.name, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        return tmp.name

    def assert_one_violation(self, extra, file_line, *words):
        code, lines = run_checker(self.make_tree(extra))
        self.assertEqual(code, 1, lines)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(file_line + ":", lines[0])
        for w in words:
            self.assertIn(w, lines[0])

    def test_clean_tree_passes(self):
        code, lines = run_checker(self.make_tree())
        self.assertEqual((code, lines), (0, []))

    def test_upward_include(self):
        self.assert_one_violation(
            {"db/db.h": '#pragma once\n#include "util/result.h"\n#include "model/store.h"\n'},
            "db/db.h:3", "layer model from layer db")

    def test_sibling_layers_are_not_below_each_other(self):
        self.assert_one_violation({"table/table.h": '#include "block/block_manager.h"\n'},
                                  "table/table.h:1", "layer block from layer table")
        self.assert_one_violation({"api/s3/s3_api.h": '#include "api/admin/admin_api.h"\n'},
                                  "api/s3/s3_api.h:1", "layer api/admin from layer api/s3")
        self.assert_one_violation({"layout/layout.h": '#include "db/db.h"\n'},
                                  "layout/layout.h:1", "layer db from layer layout")

    def test_api_common_may_not_use_model(self):
        self.assert_one_violation({"api/common/x.cc": '#include "model/store.h"\n'},
                                  "api/common/x.cc:1", "layer model from layer api/common")

    def test_nothing_may_include_the_binary(self):
        self.assert_one_violation({"garage/cli.h": "#pragma once\n",
                                   "api/admin/x.cc": '#include "garage/cli.h"\n'},
                                  "api/admin/x.cc:1", "layer garage")

    def test_relative_upward_include(self):
        self.assert_one_violation({"util/x.cc": '#include "../db/db.h"\n'},
                                  "util/x.cc:1", "layer db from layer util")

    def test_angle_bracket_project_include(self):
        self.assert_one_violation({"util/x.cc": "#include <table/table.h>\n"},
                                  "util/x.cc:1", "layer table from layer util")

    def test_spaces_after_hash(self):
        self.assert_one_violation({"block/x.cc": '  #  include "model/store.h"\n'},
                                  "block/x.cc:1", "layer model")

    def test_commented_out_includes_are_ignored(self):
        code, lines = run_checker(self.make_tree({
            "util/x.cc": '// #include "model/store.h"\n/*\n#include "db/db.h"\n*/\n'
                         'const char* s = "//"; // #include <rocksdb/db.h>\n'}))
        self.assertEqual((code, lines), (0, []))

    def test_rocksdb_only_in_db_sources(self):
        self.assert_one_violation({"db/db.h": "#pragma once\n#include <rocksdb/options.h>\n"},
                                  "db/db.h:2", "RocksDB", "db/*.cc")
        self.assert_one_violation({"table/t.cc": "#include <rocksdb/db.h>\n"},
                                  "table/t.cc:1", "RocksDB")

    def test_beast_only_in_api_common_sources(self):
        self.assert_one_violation(
            {"api/common/exchange.h": "#include <boost/beast/http/message.hpp>\n"},
            "api/common/exchange.h:1", "Beast", "never in a header")
        self.assert_one_violation({"api/s3/x.cc": "#include <boost/beast.hpp>\n"},
                                  "api/s3/x.cc:1", "Beast")

    def test_asio_only_under_api(self):
        self.assert_one_violation({"model/x.cc": "#include <boost/asio/post.hpp>\n"},
                                  "model/x.cc:1", "Asio", "layer model")
        self.assert_one_violation({"garage/server.cc": "#include <boost/asio.hpp>\n"},
                                  "garage/server.cc:1", "Asio", "layer garage")
        self.assert_one_violation({"util/x.h": "#include <asio/io_context.hpp>\n"},
                                  "util/x.h:1", "Asio")

    def test_asio_allowed_in_api_headers(self):
        code, lines = run_checker(self.make_tree(
            {"api/s3/x.h": "#include <boost/asio/awaitable.hpp>\n"}))
        self.assertEqual((code, lines), (0, []))

    def test_unknown_layer_directory(self):
        self.assert_one_violation({"misc/x.h": "#pragma once\n"}, "misc/x.h:1",
                                  "outside every layer")

    def test_include_of_unknown_layer(self):
        code, lines = run_checker(self.make_tree({"misc/x.h": "#pragma once\n",
                                                  "model/y.cc": '#include "misc/x.h"\n'}))
        self.assertEqual(code, 1)
        self.assertTrue(any("model/y.cc:1:" in l and "no known layer" in l for l in lines),
                        lines)

    def test_every_violation_is_reported(self):
        code, lines = run_checker(self.make_tree({
            "util/a.h": '#include "db/db.h"\n#include "model/store.h"\n#include <rocksdb/db.h>\n'}))
        self.assertEqual(code, 1)
        self.assertEqual(len(lines), 3, lines)

    def test_bad_root_is_a_usage_error(self):
        code, _ = run_checker(os.path.join(self.make_tree(), "no-such-dir"))
        self.assertEqual(code, 2)


# A small operator tree that follows its rules.
OPERATOR_CLEAN = {
    "k8s/client.h": '#pragma once\n#include <nlohmann/json.hpp>\n#include "k8s/api_error.h"\n'
                    '#include "util/result.h"\n',
    "k8s/api_error.h": "#pragma once\n",
    "k8s/rest_transport.cc": '#include "k8s/client.h"\n#include <boost/asio/ssl.hpp>\n'
                             '#include <cpprest/http_client.h>\n',
    "version.h": "#pragma once\n",
    "main.cc": '#include "k8s/client.h"\n#include "version.h"\n#include "layout/layout.h"\n',
}


class OperatorLayeringTest(unittest.TestCase):
    def run_on(self, extra=None):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        trees = {"node": dict(CLEAN), "operator": dict(OPERATOR_CLEAN)}
        trees["operator"].update(extra or {})
        for top, files in trees.items():
            for path, text in files.items():
                full = os.path.join(tmp.name, top, path)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w") as f:
                    f.write(text)
        proc = subprocess.run([sys.executable, CHECKER, "--operator",
                               os.path.join(tmp.name, "operator"), os.path.join(tmp.name, "node")],
                              capture_output=True, text=True)
        return proc.returncode, proc.stdout.splitlines()

    def assert_one_violation(self, extra, file_line, *words):
        code, lines = self.run_on(extra)
        self.assertEqual(code, 1, lines)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(file_line + ":", lines[0])
        for w in words:
            self.assertIn(w, lines[0])

    def test_clean_operator_passes(self):
        self.assertEqual(self.run_on(), (0, []))

    def test_operator_may_not_use_node_layers_above_layout(self):
        for layer, header in [("rpc", "rpc/network.h"), ("model", "model/store.h"),
                              ("api/s3", "api/s3/s3_api.h"), ("db", "db/db.h")]:
            self.assert_one_violation({"k8s/x.cc": f'#include "{header}"\n'}, "k8s/x.cc:1",
                                      f"node layer {layer}")

    def test_cpprest_and_asio_only_in_k8s_sources(self):
        self.assert_one_violation({"k8s/client.h": "#include <cpprest/http_client.h>\n"},
                                  "k8s/client.h:1", "cpprestsdk", "never in a header")
        self.assert_one_violation({"main.cc": "#include <pplx/pplxtasks.h>\n"},
                                  "main.cc:1", "cpprestsdk")
        self.assert_one_violation({"main.cc": "#include <boost/asio.hpp>\n"}, "main.cc:1", "Asio")
        self.assert_one_violation({"k8s/x.cc": "#include <rocksdb/db.h>\n"}, "k8s/x.cc:1",
                                  "RocksDB", "never in the operator")

    def test_garage_admin_client_may_use_cpprest_in_sources_only(self):
        ok = {"garage/admin_client.h": '#pragma once\n#include "util/result.h"\n',
              "garage/admin_client.cc": '#include "garage/admin_client.h"\n'
                                        '#include <cpprest/http_client.h>\n'
                                        '#include "layout/compute.h"\n'}
        self.assertEqual(self.run_on(ok), (0, []))
        self.assert_one_violation({"garage/x.h": "#include <cpprest/http_client.h>\n"},
                                  "garage/x.h:1", "cpprestsdk", "never in a header")
        self.assert_one_violation({"garage/x.cc": "#include <boost/asio.hpp>\n"},
                                  "garage/x.cc:1", "Asio")
        self.assert_one_violation({"garage/x.cc": '#include "k8s/client.h"\n'}, "garage/x.cc:1",
                                  "of operator/k8s from operator/garage")
        self.assert_one_violation({"garage/x.cc": '#include "rpc/network.h"\n'},
                                  "garage/x.cc:1", "node layer rpc")

    def test_k8s_may_not_include_the_binary(self):
        self.assert_one_violation({"k8s/x.cc": '#include "version.h"\n'}, "k8s/x.cc:1",
                                  "of operator/. from operator/k8s")

    def test_unknown_operator_directory(self):
        self.assert_one_violation({"misc/x.h": "#pragma once\n"}, "misc/x.h:1",
                                  "outside every operator directory")

    def test_usage_error(self):
        proc = subprocess.run([sys.executable, CHECKER, "--operator", "/no/such/dir"],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)


if __name__ == "__main__":
    unittest.main()
