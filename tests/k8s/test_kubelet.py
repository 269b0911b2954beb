"""The kubelet stand-in (kubelet.py) driven by the real kubectl against an
emulated site: a StatefulSet of real `garage server` processes, each on its
own loopback address, reached through Services; pod deletion, scaling, a
rolling update and a crash loop. Needs $GARAGE_BIN (ctest passes it)."""
import json
import os
import signal
import subprocess
import time

import boto3
import pytest
import requests
from botocore.config import Config

from emulator import REPO, TESTDATA, Emulator, Kubelet

SITE = 20  # addresses 127.30.x.y: apart from other tests' sites
MANIFEST = os.path.join(TESTDATA, 'garage-sts.yaml')
ADMIN_TOKEN = 'k8s-test-admin-token'
GARAGE_BIN = os.environ.get('GARAGE_BIN', os.path.join(REPO, 'build', 'node', 'src', 'garage', 'garage'))
PIDS = set()  # every container process seen, checked to be gone at the end


def wait(what, fn, timeout=60, interval=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError('timed out waiting for %s (last: %r)' % (what, last))


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    if not os.access(GARAGE_BIN, os.X_OK):
        pytest.fail('garage binary not found at %s (set GARAGE_BIN)' % GARAGE_BIN)
    d = str(tmp_path_factory.mktemp('kubelet'))
    emu = Emulator(d, name='kl', site_index=SITE, args=['--bookmark-interval', '1'])
    kl = None
    try:
        kl = Kubelet(emu, garage_bin=GARAGE_BIN, args=['--backoff-base', '0.5', '--backoff-max', '2'])
        emu.node = kl
        yield emu
    finally:
        if kl is not None:
            kl.stop()
        emu.stop()
        left = [p for p in PIDS if alive(p)]
        for p in left:
            os.kill(p, signal.SIGKILL)
        assert not left, 'container processes left running: %s' % left


def get(emu, path):
    code, obj, _ = emu.request('GET', path)
    return obj if code == 200 else None


def pod(emu, name):
    p = get(emu, '/api/v1/namespaces/default/pods/' + name)
    for c in ((p or {}).get('status') or {}).get('containerStatuses') or []:
        if c.get('containerID', '').startswith('standin://'):
            PIDS.add(int(c['containerID'].split('//')[1]))
    return p


def ready(p):
    return p is not None and not p['metadata'].get('deletionTimestamp') and any(
        c['type'] == 'Ready' and c['status'] == 'True' for c in (p.get('status') or {}).get('conditions') or [])


def pid_of(p):
    return int(p['status']['containerStatuses'][0]['containerID'].split('//')[1])


def sts(emu):
    return get(emu, '/apis/apps/v1/namespaces/default/statefulsets/garage')


def admin(ip, method, path, **kw):
    r = requests.request(method, 'http://%s:3903%s' % (ip, path),
                         headers={'Authorization': 'Bearer ' + ADMIN_TOKEN}, timeout=10, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def s3(endpoint, key):
    return boto3.client('s3', endpoint_url=endpoint, aws_access_key_id=key['accessKeyId'],
                        aws_secret_access_key=key['secretAccessKey'], region_name='garage',
                        config=Config(signature_version='s3v4', s3={'addressing_style': 'path'},
                                      retries={'total_max_attempts': 1}, connect_timeout=5, read_timeout=30))


def test_statefulset_pod_runs_garage_on_its_own_address(site):
    site.kubectl('apply', '-f', MANIFEST)
    wait('garage-0 created', lambda: pod(site, 'garage-0'), timeout=20)
    site.kubectl('wait', '--for=condition=Ready', 'pod/garage-0', '--timeout=60s')
    p = pod(site, 'garage-0')
    ip = p['status']['podIP']
    assert ip.startswith('127.30.0.') and p['status']['hostIP'] == '127.30.0.1'
    assert p['spec']['nodeName'] == 'kl-node'
    labels = p['metadata']['labels']
    assert labels['statefulset.kubernetes.io/pod-name'] == 'garage-0' and labels['app'] == 'garage'
    assert labels['controller-revision-hash'].startswith('garage-')
    owner = p['metadata']['ownerReferences'][0]
    assert owner['kind'] == 'StatefulSet' and owner['name'] == 'garage' and owner['controller'] is True
    assert {'name': 'data', 'persistentVolumeClaim': {'claimName': 'data-garage-0'}} in p['spec']['volumes']
    cs = p['status']['containerStatuses'][0]
    assert cs['ready'] and cs['restartCount'] == 0 and 'running' in cs['state']
    # the node bound the pod's address, from $(POD_IP) in the environment overrides
    status = admin(ip, 'GET', '/v2/GetClusterStatus')
    assert status['nodes'][0]['addr'] == ip + ':3901'
    assert requests.get('http://%s:3903/health' % ip, timeout=5).status_code == 200
    pvc = json.loads(site.kubectl('get', 'pvc', 'data-garage-0', '-o', 'json').stdout)
    assert pvc['status']['phase'] == 'Bound' and pvc['spec']['volumeName'] == 'pvc-' + pvc['metadata']['uid']
    # in its mount namespace the process sees the ConfigMap and its own /etc/hosts; the host does not
    root = '/proc/%d/root' % pid_of(p)
    with open(root + '/etc/garage/garage.yaml') as f:
        assert 'replication_factor: 1' in f.read()
    wait('hosts entries', lambda: 'garage-s3.default.svc.cluster.local' in open(root + '/etc/hosts').read())
    assert '%s\tgarage-0.garage.default.svc.cluster.local garage-0' % ip in open(root + '/etc/hosts').read()
    with open('/etc/hosts') as f:
        assert 'svc.cluster.local' not in f.read()
    # the PVC directory is what the container sees at its mountPath
    vol = os.path.join(site.node.state_dir, 'volumes', pvc['spec']['volumeName'])
    assert os.path.isdir(os.path.join(vol, 'meta')) and os.path.isdir(os.path.join(vol, 'data'))
    st = wait('statefulset status', lambda: (s := sts(site))['status'].get('readyReplicas') == 1 and s)
    assert st['status']['replicas'] == 1 and st['status']['updatedReplicas'] == 1
    assert st['status']['currentRevision'] == st['status']['updateRevision'] == labels['controller-revision-hash']
    assert st['status']['observedGeneration'] == st['metadata']['generation']
    out = site.kubectl('get', 'pods', '-o', 'wide').stdout
    assert 'garage-0' in out and '1/1' in out and 'Running' in out and ip in out
    # kubectl logs: the API server proxies to the kubelet
    logs = site.kubectl('logs', 'garage-0').stdout
    assert 'S3 API listening on http://%s:3900' % ip in logs


def test_s3_through_the_service_and_admin_through_the_load_balancer(site):
    ip = pod(site, 'garage-0')['status']['podIP']
    key = admin(ip, 'POST', '/v2/CreateKey', json={'name': 'k8s'})
    bucket = admin(ip, 'POST', '/v2/CreateBucket', json={'globalAlias': 'k8s-bucket'})
    admin(ip, 'POST', '/v2/AllowBucketKey', json={'bucketId': bucket['id'], 'accessKeyId': key['accessKeyId'],
                                                   'permissions': {'read': True, 'write': True, 'owner': True}})
    site.key = key
    svc = json.loads(site.kubectl('get', 'svc', 'garage-s3', '-o', 'json').stdout)
    cluster_ip = svc['spec']['clusterIP']
    assert cluster_ip.startswith('127.30.') and cluster_ip != ip
    site.s3_endpoint = 'http://%s:3900' % cluster_ip
    c = s3(site.s3_endpoint, key)
    c.put_object(Bucket='k8s-bucket', Key='hello.txt', Body=b'hello from a pod')
    assert c.get_object(Bucket='k8s-bucket', Key='hello.txt')['Body'].read() == b'hello from a pod'
    # awscli too, through the same Service
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key['accessKeyId'], AWS_SECRET_ACCESS_KEY=key['secretAccessKey'],
               AWS_DEFAULT_REGION='garage', AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED='true', AWS_PAGER='')
    r = subprocess.run(['aws', '--endpoint-url', site.s3_endpoint, 's3', 'ls', 's3://k8s-bucket/'], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and 'hello.txt' in r.stdout, r.stderr
    # the LoadBalancer Service: an ingress IP and a node port, both forwarded to the pod
    lb = wait('load balancer ingress', lambda: json.loads(site.kubectl('get', 'svc', 'garage-admin', '-o', 'json')
                                                           .stdout)['status'].get('loadBalancer', {}).get('ingress'))
    svc = json.loads(site.kubectl('get', 'svc', 'garage-admin', '-o', 'json').stdout)
    node_port = svc['spec']['ports'][0]['nodePort']
    for url in ('http://%s:3903/health' % lb[0]['ip'], 'http://127.30.0.1:%d/health' % node_port):
        assert requests.get(url, timeout=5).text.strip() == 'ok', url
    assert lb[0]['ip'] in site.kubectl('get', 'svc', 'garage-admin').stdout
    ep = json.loads(site.kubectl('get', 'endpoints', 'garage-s3', '-o', 'json').stdout)
    assert ep['subsets'][0]['addresses'][0]['ip'] == ip and ep['subsets'][0]['ports'][0]['port'] == 3900


def test_deleted_pod_comes_back_with_its_address_and_data(site):
    old = pod(site, 'garage-0')
    old_pid = pid_of(old)
    # kubectl returns at once; the old object (by uid) must go: the stand-in
    # SIGTERMs the container, then deletes the object. Polled through the API
    # rather than kubectl's --wait watch, which once missed the deletion under
    # CI load while the StatefulSet recreated a pod of the same name.
    site.kubectl('delete', 'pod', 'garage-0', '--wait=false')
    wait('the old garage-0 gone', lambda: (p := pod(site, 'garage-0')) is None
         or p['metadata']['uid'] != old['metadata']['uid'], timeout=120)
    wait('its process gone', lambda: not alive(old_pid), timeout=30)
    new = wait('garage-0 back', lambda: (p := pod(site, 'garage-0')) and
               p['metadata']['uid'] != old['metadata']['uid'] and ready(p) and p)
    assert new['status']['podIP'] == old['status']['podIP']
    assert pid_of(new) != old_pid
    c = s3(site.s3_endpoint, site.key)
    assert c.get_object(Bucket='k8s-bucket', Key='hello.txt')['Body'].read() == b'hello from a pod'


def test_scale_up_in_order_and_down_keeping_claims(site):
    node_id0 = admin(pod(site, 'garage-0')['status']['podIP'], 'GET', '/v2/GetClusterStatus')['nodes'][0]['id']
    site.kubectl('scale', 'sts', 'garage', '--replicas=3')
    wait('3 ready replicas', lambda: sts(site)['status'].get('readyReplicas') == 3, timeout=60)
    pods = [pod(site, 'garage-%d' % i) for i in range(3)]
    ips = [p['status']['podIP'] for p in pods]
    assert len(set(ips)) == 3
    # OrderedReady: garage-2 was created only once garage-1 was ready
    ready1 = next(c['lastTransitionTime'] for c in pods[1]['status']['conditions'] if c['type'] == 'Ready')
    assert pods[2]['metadata']['creationTimestamp'] >= ready1
    ids = [admin(ip, 'GET', '/v2/GetClusterStatus')['nodes'][0]['id'] for ip in ips]
    assert ids[0] == node_id0 and len(set(ids)) == 3
    site.node_ids = ids
    site.kubectl('scale', 'sts', 'garage', '--replicas=1')
    wait('scaled down', lambda: pod(site, 'garage-1') is None and pod(site, 'garage-2') is None, timeout=60)
    assert ready(pod(site, 'garage-0'))
    claims = json.loads(site.kubectl('get', 'pvc', '-o', 'json').stdout)['items']
    assert sorted(c['metadata']['name'] for c in claims) == ['data-garage-0', 'data-garage-1', 'data-garage-2']
    # back up: garage-1 gets its claim, so the same node identity, and its address again
    site.kubectl('scale', 'sts', 'garage', '--replicas=2')
    wait('2 ready replicas', lambda: sts(site)['status'].get('readyReplicas') == 2, timeout=60)
    p1 = pod(site, 'garage-1')
    assert p1['status']['podIP'] == ips[1]
    assert admin(ips[1], 'GET', '/v2/GetClusterStatus')['nodes'][0]['id'] == ids[1]


def test_template_change_rolls_one_pod_at_a_time(site):
    before = {n: pod(site, n) for n in ('garage-0', 'garage-1')}
    old_rev = sts(site)['status']['updateRevision']
    # a partition holds garage-0 back
    site.kubectl('patch', 'sts', 'garage', '-p',
                 '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":1}}}}')
    site.kubectl('set', 'env', 'sts/garage', 'ROLLOUT=2')
    replaced = {}
    deadline = time.time() + 60
    while time.time() < deadline:
        now = {n: pod(site, n) for n in before}
        unready = [n for n, p in now.items() if not ready(p)]
        assert len(unready) <= 1, 'more than one pod down at once: %s' % unready
        for n, p in now.items():
            if p and p['metadata']['uid'] != before[n]['metadata']['uid'] and n not in replaced:
                replaced[n] = time.time()
        st = sts(site)['status']
        if 'garage-1' in replaced and st.get('updatedReplicas') == 1 and st.get('readyReplicas') == 2:
            break
        time.sleep(0.1)
    assert list(replaced) == ['garage-1']
    new_rev = sts(site)['status']['updateRevision']
    assert new_rev != old_rev and sts(site)['status']['currentRevision'] == old_rev
    assert pod(site, 'garage-0')['metadata']['labels']['controller-revision-hash'] == old_rev
    # partition 0: garage-0 follows
    site.kubectl('patch', 'sts', 'garage', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}')
    site.kubectl('rollout', 'status', 'sts/garage', '--timeout=60s')
    events = site.kubectl('get', 'events', '--field-selector', 'involvedObject.kind=StatefulSet').stdout
    assert 'delete Pod garage-0 in StatefulSet garage successful' in events
    assert 'create Pod garage-0 in StatefulSet garage successful' in events
    st = sts(site)['status']
    assert st['currentRevision'] == st['updateRevision'] == new_rev and st['updatedReplicas'] == 2
    for n in before:
        p = pod(site, n)
        assert p['metadata']['labels']['controller-revision-hash'] == new_rev
        assert p['status']['podIP'] == before[n]['status']['podIP']
        with open('/proc/%d/environ' % pid_of(p), 'rb') as f:
            env = f.read().split(b'\0')
        assert b'ROLLOUT=2' in env and ('GARAGE_S3_API_BIND_ADDR=%s:3900' % p['status']['podIP']).encode() in env
    c = s3('http://%s:3900' % pod(site, 'garage-0')['status']['podIP'], site.key)
    assert c.get_object(Bucket='k8s-bucket', Key='hello.txt')['Body'].read() == b'hello from a pod'


CRASHER = """
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo boom $(MESSAGE); exit 3"]
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - {name: MESSAGE, value: "from $(POD_NAME) $(UNDEFINED) $$(POD_NAME)"}
"""


def test_a_crashing_container_loops_with_back_off(site):
    site.kubectl('apply', '-f', '-', input=CRASHER)

    def looping():
        p = pod(site, 'crasher')
        cs = ((p or {}).get('status') or {}).get('containerStatuses') or [{}]
        w = cs[0].get('state', {}).get('waiting') or {}
        return w.get('reason') == 'CrashLoopBackOff' and cs[0]['restartCount'] >= 2 and cs[0]
    cs = wait('CrashLoopBackOff', looping, timeout=30)
    assert cs['lastState']['terminated']['exitCode'] == 3 and not cs['ready']
    assert 'back-off' in cs['state']['waiting']['message']
    assert 'CrashLoopBackOff' in site.kubectl('get', 'pod', 'crasher').stdout
    events = site.kubectl('get', 'events', '--field-selector', 'involvedObject.name=crasher').stdout
    assert 'BackOff' in events and 'Started' in events
    # $(VAR) expansion: defined variables replaced, undefined ones kept, $$ escapes
    # (the shell then sees $(UNDEFINED) and $(POD_NAME) as command substitutions: empty)
    logs = site.kubectl('logs', 'crasher', '--previous').stdout
    assert logs.splitlines()[-1].split() == ['boom', 'from', 'crasher']
    site.kubectl('delete', 'pod', 'crasher', '--timeout=120s', timeout=150)


PROBED = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: probed}
spec:
  replicas: 3
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: probed}}
  template:
    metadata: {labels: {app: probed}}
    spec:
      terminationGracePeriodSeconds: 1
      initContainers:
      - name: init
        image: busybox
        command: ["sh", "-c", "echo init >> /data/log"]
        volumeMounts: [{name: scratch, mountPath: /data}]
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo started >> /data/log; exec sleep 600"]
        volumeMounts: [{name: scratch, mountPath: /data}]
        readinessProbe:
          exec: {command: ["test", "-f", "/data/ready"]}
          periodSeconds: 1
          failureThreshold: 1
        livenessProbe:
          exec: {command: ["sh", "-c", "test ! -f /data/die"]}
          periodSeconds: 1
          failureThreshold: 1
      volumes:
      - {name: scratch, emptyDir: {}}
"""


def test_parallel_pods_init_containers_and_exec_probes(site):
    site.kubectl('apply', '-f', '-', input=PROBED)
    # Parallel: all three start although none is ready
    pods = wait('3 running pods', lambda: all(
        ((p := pod(site, 'probed-%d' % i)) or {}).get('status', {}).get('phase') == 'Running'
        for i in range(3)) and [pod(site, 'probed-%d' % i) for i in range(3)], timeout=30)
    assert not any(ready(p) for p in pods) and sts_of(site, 'probed')['status'].get('readyReplicas', 0) == 0
    assert all(p['status']['initContainerStatuses'][0]['state']['terminated']['exitCode'] == 0 for p in pods)

    def scratch(p):  # the pod's emptyDir, seen from the host
        return os.path.join(site.node.state_dir, 'pods', 'default_%s_%s' % (
            p['metadata']['name'], p['metadata']['uid']), 'volumes', 'scratch')
    # the exec probe runs in the container's mount namespace, where the emptyDir is /data
    open(os.path.join(scratch(pods[1]), 'ready'), 'w').close()
    wait('probed-1 ready', lambda: ready(pod(site, 'probed-1')), timeout=15)
    assert not ready(pod(site, 'probed-0')) and not ready(pod(site, 'probed-2'))
    wait('readyReplicas 1', lambda: sts_of(site, 'probed')['status'].get('readyReplicas') == 1, timeout=10)
    # a failing liveness probe restarts the container; the emptyDir outlives it
    open(os.path.join(scratch(pods[1]), 'die'), 'w').close()
    cs = wait('a restart', lambda: (c := pod(site, 'probed-1')['status']['containerStatuses'][0])['restartCount'] == 1
              and c, timeout=15)
    assert 'terminated' in cs['lastState']
    os.unlink(os.path.join(scratch(pods[1]), 'die'))
    wait('probed-1 ready again', lambda: ready(pod(site, 'probed-1')), timeout=15)
    with open(os.path.join(scratch(pods[1]), 'log')) as f:
        assert f.read().split() == ['init', 'started', 'started']
    site.kubectl('delete', 'sts', 'probed', '--timeout=120s', timeout=150)
    wait('probed pods gone', lambda: not any(pod(site, 'probed-%d' % i) for i in range(3)), timeout=30)
    assert not os.path.exists(scratch(pods[1]))


def sts_of(emu, name):
    return get(emu, '/apis/apps/v1/namespaces/default/statefulsets/' + name)


def test_deleting_the_statefulset_stops_its_processes_and_keeps_claims(site):
    pids = [pid_of(pod(site, n)) for n in ('garage-0', 'garage-1')]
    site.kubectl('delete', 'sts', 'garage', '--timeout=120s', timeout=150)
    wait('pods gone', lambda: pod(site, 'garage-0') is None and pod(site, 'garage-1') is None, timeout=30)
    wait('processes gone', lambda: not any(alive(p) for p in pids), timeout=10)
    claims = json.loads(site.kubectl('get', 'pvc', '-o', 'json').stdout)['items']
    assert len(claims) == 3
    # deleting a claim nobody uses removes its volume directory
    vol = os.path.join(site.node.state_dir, 'volumes', 'pvc-' + next(
        c['metadata']['uid'] for c in claims if c['metadata']['name'] == 'data-garage-2'))
    assert os.path.isdir(vol)
    site.kubectl('delete', 'pvc', 'data-garage-2', '--timeout=120s', timeout=150)
    wait('volume removed', lambda: not os.path.exists(vol), timeout=10)


def test_a_second_site_runs_beside_the_first(site, tmp_path):
    """Two emulated sites side by side: own API server, node, address range and volumes."""
    other = Emulator(str(tmp_path), name='kl2', site_index=SITE + 1, token='other-token')
    node = None
    try:
        node = Kubelet(other, garage_bin=GARAGE_BIN)
        other.kubectl('apply', '-f', MANIFEST)
        wait('garage-0 created', lambda: pod(other, 'garage-0'), timeout=20)
        other.kubectl('wait', '--for=condition=Ready', 'pod/garage-0', '--timeout=60s')
        p = pod(other, 'garage-0')
        assert p['status']['podIP'].startswith('127.31.0.') and p['spec']['nodeName'] == 'kl2-node'
        assert admin(p['status']['podIP'], 'GET', '/v2/GetClusterStatus')['nodes'][0]['addr'] == \
            p['status']['podIP'] + ':3901'
        assert pod(site, 'garage-0') is None  # the first site knows nothing of it
        lb = wait('ingress', lambda: (get(other, '/api/v1/namespaces/default/services/garage-admin')['status']
                                      .get('loadBalancer', {}).get('ingress')))
        assert lb[0]['ip'].startswith('127.31.192.')
        assert requests.get('http://%s:3903/health' % lb[0]['ip'], timeout=5).status_code == 200
    finally:
        if node is not None:
            node.stop()
        other.stop()
