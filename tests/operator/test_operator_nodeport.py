"""The operator with `network.exposure.type: NodePort`: two zones in two
emulated sites whose nodes reach each other through per-node NodePort
Services on the sites' node addresses (tests/k8s: 127.<k+10>.0.1), and the
operator reaches the remote node's admin API the same way. One operator
replica, no leader election. Needs $GARAGE_BIN and $GARAGE_OPERATOR_BIN."""
import base64
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_operator_e2e import GARAGE_BIN, OPERATOR_BIN, REPO, Emulator, Kubelet, free_port, wait  # noqa: E402

SITE_A, SITE_B = 42, 43  # 127.52.x.y and 127.53.x.y

CLUSTER = """
apiVersion: objectstore.garage-cpp.dev/v1alpha1
kind: GarageCluster
metadata:
  name: np
  namespace: default
spec:
  replicationFactor: 2
  consistencyMode: consistent
  zones:
  - name: here
  - name: there
    site:
      kubeconfigSecretRef:
        name: far
  network:
    exposure:
      type: NodePort
      nodeAddressType: InternalIP
---
apiVersion: objectstore.garage-cpp.dev/v1alpha1
kind: GarageBucket
metadata:
  name: np-data
  namespace: default
spec:
  clusterRef:
    name: np
  globalAlias: np-data
---
apiVersion: objectstore.garage-cpp.dev/v1alpha1
kind: GarageAccessKey
metadata:
  name: np-app
  namespace: default
spec:
  clusterRef:
    name: np
  permissions:
  - bucket: np-data
    read: true
    write: true
"""


@pytest.fixture(scope='module')
def sites(tmp_path_factory):
    for b in (GARAGE_BIN, OPERATOR_BIN):
        if not os.access(b, os.X_OK):
            pytest.fail('%s not found (set GARAGE_BIN and GARAGE_OPERATOR_BIN)' % b)
    d = str(tmp_path_factory.mktemp('nodeport'))
    started = []
    try:
        a = Emulator(d, name='np-a', site_index=SITE_A, args=['--bookmark-interval', '1'])
        started.append(a)
        b = Emulator(d, name='np-b', site_index=SITE_B, args=['--bookmark-interval', '1'])
        started.append(b)
        kl_args = ['--backoff-base', '0.5', '--backoff-max', '2']
        started.append(Kubelet(a, garage_bin=GARAGE_BIN, args=kl_args))
        started.append(Kubelet(b, garage_bin=GARAGE_BIN, args=kl_args))
        a.kubectl('apply', '-f', os.path.join(REPO, 'crds'))
        a.kubectl('create', 'secret', 'generic', 'far', '--from-file=kubeconfig=' + b.kubeconfig)
        log = open(os.path.join(d, 'operator.log'), 'w')
        op = subprocess.Popen([OPERATOR_BIN, '--kubeconfig', a.kubeconfig,
                               '--health-addr', '127.0.0.1:%d' % free_port()],
                              stdout=log, stderr=subprocess.STDOUT)
        yield a, b, d
    finally:
        if 'op' in locals():
            op.terminate()
            op.wait(30)
        for s in reversed(started):
            s.stop()


def test_two_sites_over_node_ports(sites):
    a, b, d = sites
    a.kubectl('apply', '-f', '-', input=CLUSTER)
    a.kubectl('wait', '--for=condition=Ready', 'gcl/np', '--timeout=240s', timeout=270)
    a.kubectl('wait', '--for=condition=Ready', 'gak/np-app', '--timeout=120s', timeout=150)
    # The remote node's Service is a NodePort one, on site b's node address.
    svc = json.loads(b.kubectl('get', 'service', 'np-there-0', '-o', 'json').stdout)
    assert svc['spec']['type'] == 'NodePort'
    assert {p['name'] for p in svc['spec']['ports']} >= {'rpc', 'admin'}
    g = json.loads(a.kubectl('get', 'gcl', 'np', '-o', 'json').stdout)['status']
    assert g['nodesConnected'] >= 2 and g['health'] == 'Healthy', g
    sec = json.loads(a.kubectl('get', 'secret', 'np-app', '-o', 'json').stdout)['data']
    creds = {k: base64.b64decode(v).decode() for k, v in sec.items()}
    env = dict(os.environ, AWS_ACCESS_KEY_ID=creds['accessKeyId'],
               AWS_SECRET_ACCESS_KEY=creds['secretAccessKey'], AWS_DEFAULT_REGION=creds['region'],
               AWS_EC2_METADATA_DISABLED='true', AWS_CONFIG_FILE='/dev/null',
               AWS_SHARED_CREDENTIALS_FILE='/dev/null')
    src = os.path.join(d, 'src')
    with open(src, 'wb') as f:
        f.write(os.urandom(300000))
    aws = ['aws', '--endpoint-url', creds['endpoint'], 's3']
    subprocess.run(aws + ['cp', src, 's3://np-data/x'], env=env, check=True, capture_output=True, timeout=60)
    dst = os.path.join(d, 'dst')
    subprocess.run(aws + ['cp', 's3://np-data/x', dst], env=env, check=True, capture_output=True, timeout=60)
    assert open(dst, 'rb').read() == open(src, 'rb').read()
