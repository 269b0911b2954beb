"""The objects operator/src/cluster makes for a GarageCluster really run: a
1-zone, 3-node cluster is applied to the Kubernetes API emulator, read back
with the API server's defaults, rendered by operator_cluster_render (the
library's objects as a List), applied server-side with kubectl, and run by the
kubelet stand-in as real `garage server` processes. Checks: 3 pods Ready,
each node bound its own pod IP and read the shared secrets (the nodes connect
to each other, the admin token works), the Services reach them, and scaling
to 4 adds a pod without restarting the others (the config hash ignores the
pod count). Needs $GARAGE_BIN; the render tool is $OPERATOR_CLUSTER_RENDER or
found in GARAGE_BIN's build tree."""
import json
import os
import subprocess
import sys
import time

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'k8s'))
from emulator import Emulator, Kubelet  # noqa: E402

SITE = 30  # loopback 127.40.x.y, apart from other tests' sites
NS = 'storage'
NAME = 'objs'
TOKEN = 'cluster-objects-admin-token'
RPC_SECRET = '5d1f' * 16
SELECTOR = 'app.kubernetes.io/name=garage,app.kubernetes.io/instance=%s,app.kubernetes.io/component=node' % NAME
GARAGE_BIN = os.environ.get('GARAGE_BIN', '')


def render_bin():
    p = os.environ.get('OPERATOR_CLUSTER_RENDER')
    if not p and GARAGE_BIN:
        build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(GARAGE_BIN))))
        p = os.path.join(build, 'tests', 'unit', 'operator', 'cluster', 'operator_cluster_render')
    return p


def wait(what, fn, timeout=60, interval=0.3):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError('timed out waiting for %s (last: %r)' % (what, last))


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    if not GARAGE_BIN or not os.access(GARAGE_BIN, os.X_OK):
        pytest.fail('garage binary not found (set GARAGE_BIN)')
    if not os.access(render_bin() or '', os.X_OK):
        pytest.fail('operator_cluster_render not found at %r (build it, or set OPERATOR_CLUSTER_RENDER)'
                    % render_bin())
    d = str(tmp_path_factory.mktemp('objects'))
    emu = Emulator(d, name='objs', site_index=SITE, args=['--bookmark-interval', '1'])
    kl = None
    try:
        kl = Kubelet(emu, garage_bin=GARAGE_BIN, args=['--backoff-base', '0.5', '--backoff-max', '2'])
        emu.node = kl
        emu.kubectl('apply', '-f', os.path.join(REPO, 'crds'))
        emu.kubectl('create', 'namespace', NS)
        yield emu
    finally:
        if kl is not None:
            kl.stop()
        emu.stop()


def get(emu, path):
    code, obj, _ = emu.request('GET', path)
    return obj if code == 200 else None


def pods(emu):
    obj = get(emu, '/api/v1/namespaces/%s/pods?labelSelector=%s' % (NS, requests.utils.quote(SELECTOR)))
    return {p['metadata']['name']: p for p in (obj or {}).get('items', [])}


def ready(p):
    return not p['metadata'].get('deletionTimestamp') and any(
        c['type'] == 'Ready' and c['status'] == 'True' for c in (p.get('status') or {}).get('conditions') or [])


def running(p):
    st = p.get('status') or {}
    return not p['metadata'].get('deletionTimestamp') and st.get('phase') == 'Running' and st.get('podIP')


def admin(ip, method, path, token=TOKEN, **kw):
    return requests.request(method, 'http://%s:3903%s' % (ip, path),
                            headers={'Authorization': 'Bearer ' + token}, timeout=10, **kw)


def apply_cluster(emu, nodes):
    """Applies the GarageCluster, reads it back (defaulted by the API server),
    renders its objects and applies them as the operator would."""
    gcl = {'apiVersion': 'objectstore.garage-cpp.dev/v1alpha1', 'kind': 'GarageCluster',
           'metadata': {'name': NAME, 'namespace': NS},
           'spec': {'replicationFactor': 3, 'image': 'example.org/garage-cpp/garage:test',
                    'zones': [{'name': 'z1', 'nodes': nodes,
                               'storage': {'metadata': {'size': '100Mi'}, 'data': {'size': '1Gi'}}}]}}
    emu.kubectl('apply', '--server-side', '-f', '-', input=json.dumps(gcl))
    stored = json.loads(emu.kubectl('get', 'gcl', NAME, '-n', NS, '-o', 'json').stdout)
    assert stored['spec']['s3Api']['port'] == 3900  # the API server's defaults
    path = os.path.join(emu.dir, 'gcl.json')
    with open(path, 'w') as f:
        json.dump(stored, f)
    r = subprocess.run([render_bin(), path, RPC_SECRET, TOKEN], capture_output=True, text=True, check=True)
    objects = json.loads(r.stdout)
    # one document per object (kubectl validates a List against an OpenAPI v2
    # the emulator does not serve)
    docs = '\n---\n'.join(json.dumps(o) for o in objects['items'])
    emu.kubectl('apply', '--server-side', '--field-manager', 'garage-operator', '-f', '-', input=docs)
    return objects


def test_three_nodes_run_and_find_each_other(site):
    objects = apply_cluster(site, 3)
    kinds = sorted('%s/%s' % (o['kind'], o['metadata']['name']) for o in objects['items'])
    assert kinds == ['ConfigMap/objs-z1-config', 'PodDisruptionBudget/objs', 'Secret/objs-secrets',
                     'Service/objs', 'Service/objs-z1', 'StatefulSet/objs-z1']
    # Running, not Ready: the readiness probe (GET /ready) waits for a layout.
    ps = wait('3 pods running', lambda: (p := pods(site)) and len(p) == 3 and all(map(running, p.values()))
              and p, timeout=120)
    assert sorted(ps) == ['objs-z1-0', 'objs-z1-1', 'objs-z1-2']
    assert not any(map(ready, ps.values()))

    def alive(ip):
        try:
            return requests.get('http://%s:3903/health' % ip, timeout=5).status_code == 200
        except requests.RequestException:
            return False
    wait('3 nodes answer /health', lambda: all(alive(p['status']['podIP']) for p in ps.values()))
    for p in ps.values():  # alive, but not ready to serve: no layout yet
        r = requests.get('http://%s:3903/ready' % p['status']['podIP'], timeout=5)
        assert r.status_code == 503 and 'not ready' in r.text, r.text
    ids = {}
    for name, p in ps.items():
        ip = p['status']['podIP']
        assert ip.startswith('127.40.0.')
        assert requests.get('http://%s:3903/health' % ip, timeout=5).status_code == 200
        r = admin(ip, 'GET', '/v2/GetClusterStatus')
        assert r.status_code == 200, r.text  # the token from the Secret's file
        me = r.json()['nodes'][0]
        assert me['addr'] == ip + ':3901'  # bound on its own pod IP
        ids[name] = '%s@%s' % (me['id'], me['addr'])
        assert admin(ip, 'GET', '/v2/GetClusterStatus', token='wrong').status_code == 401
    # the nodes share the RPC secret: node 0 connects to the two others
    ip0 = ps['objs-z1-0']['status']['podIP']
    r = admin(ip0, 'POST', '/v2/ConnectClusterNodes', json=[ids['objs-z1-1'], ids['objs-z1-2']])
    assert r.status_code == 200, r.text
    assert [x['success'] for x in r.json()] == [True, True], r.text
    status = wait('3 nodes up', lambda: (s := admin(ip0, 'GET', '/v2/GetClusterStatus').json())
                  and sum(1 for n in s['nodes'] if n['isUp']) == 3 and s)
    assert len(status['nodes']) == 3
    # A layout with the three nodes, as the operator would apply it: then they are Ready.
    roles = [{'id': n['id'], 'zone': 'z1', 'capacity': 1 << 30, 'tags': []} for n in status['nodes']]
    r = admin(ip0, 'POST', '/v2/UpdateClusterLayout', json={'roles': roles})
    assert r.status_code == 200, r.text
    r = admin(ip0, 'POST', '/v2/ApplyClusterLayout', json={'version': 1})
    assert r.status_code == 200, r.text
    wait('3 pods Ready', lambda: (p := pods(site)) and len(p) == 3 and all(map(ready, p.values())), timeout=120)

    # the StatefulSet is done, the API Service reaches the nodes
    sts = wait('statefulset ready', lambda: (s := get(site, '/apis/apps/v1/namespaces/%s/statefulsets/objs-z1' % NS))
               and s['status'].get('readyReplicas') == 3 and s)
    assert sts['spec']['template']['metadata']['annotations']['objectstore.garage-cpp.dev/config-hash']
    svc = get(site, '/api/v1/namespaces/%s/services/%s' % (NS, NAME))
    vip = svc['spec']['clusterIP']
    assert wait('API service', lambda: admin(vip, 'GET', '/v2/GetClusterHealth').status_code == 200)
    s3 = requests.get('http://%s:3900/' % vip, timeout=5)
    assert s3.status_code == 403 and 'AccessDenied' in s3.text  # an S3 endpoint, anonymous
    pdb = get(site, '/apis/policy/v1/namespaces/%s/poddisruptionbudgets/%s' % (NS, NAME))
    assert pdb['spec']['maxUnavailable'] == 3


def test_scale_up_leaves_running_nodes_alone(site):
    before = {n: p['status']['containerStatuses'][0]['containerID'] for n, p in pods(site).items()}
    assert len(before) == 3
    apply_cluster(site, 4)
    ps = wait('4 pods running', lambda: (p := pods(site)) and len(p) == 4 and all(map(running, p.values()))
              and p, timeout=120)
    # The new node is Ready once connected (it learns the layout from its peers).
    ip0, ip3 = ps['objs-z1-0']['status']['podIP'], ps['objs-z1-3']['status']['podIP']
    def me3_status():
        try:
            r = admin(ip3, 'GET', '/v2/GetClusterStatus')
        except requests.RequestException:
            return None  # not listening yet
        return r.status_code == 200 and r.json()['nodes'][0]
    me3 = wait('node 3 admin API', me3_status)
    r = admin(ip0, 'POST', '/v2/ConnectClusterNodes', json=['%s@%s' % (me3['id'], me3['addr'])])
    assert r.status_code == 200 and r.json()[0]['success'], r.text
    ps = wait('4 pods Ready', lambda: (p := pods(site)) and len(p) == 4 and all(map(ready, p.values())) and p,
              timeout=120)
    after = {n: p['status']['containerStatuses'][0]['containerID'] for n, p in ps.items()}
    for n, cid in before.items():
        assert after[n] == cid, '%s was restarted by a scale-up' % n
    ip3 = ps['objs-z1-3']['status']['podIP']
    assert admin(ip3, 'GET', '/v2/GetClusterStatus').json()['nodes'][0]['addr'] == ip3 + ':3901'
