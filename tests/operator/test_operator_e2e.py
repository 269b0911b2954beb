"""The operator end to end, as a user drives it: two emulated Kubernetes sites
(tests/k8s: API emulator + kubelet stand-in running real `garage server`
pods), two garage-operator replicas with leader election, kubectl, and
awscli through the cluster's S3 Service.

One module, one story, in order: the CRDs and a three-zone cluster over both
sites become Ready with no manual step; a bucket and a key give working
credentials; bad input is refused or reported; a zone scales up and down; the
image is upgraded node by node; a pod is deleted; the leader is killed and
the other replica takes over; a site goes away. Objects written at the start
are read back at every step. Needs $GARAGE_BIN and $GARAGE_OPERATOR_BIN
(ctest passes both)."""
import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'k8s'))
from emulator import Emulator, Kubelet, free_port  # noqa: E402

GARAGE_BIN = os.environ.get('GARAGE_BIN', os.path.join(REPO, 'build', 'node', 'src', 'garage', 'garage'))
OPERATOR_BIN = os.environ.get('GARAGE_OPERATOR_BIN',
                              os.path.join(REPO, 'build', 'operator', 'garage-operator'))
SITE_A, SITE_B = 40, 41  # loopback 127.50.x.y and 127.51.x.y, apart from other tests

CLUSTER = """
apiVersion: objectstore.garage-cpp.dev/v1alpha1
kind: GarageCluster
metadata:
  name: demo
  namespace: default
spec:
  replicationFactor: 3
  nodesPerZone: 1
  zones:
  - name: za
  - name: zb
  - name: zc
    site:
      kubeconfigSecretRef:
        name: site-b
  image: garage:v1
  s3Api:
    region: home
"""

BUCKET = """
apiVersion: objectstore.garage-cpp.dev/v1alpha1
kind: GarageBucket
metadata:
  name: %(name)s
  namespace: default
spec:
  clusterRef:
    name: demo
  globalAlias: %(name)s
  deletionPolicy: Delete
"""

KEY = """
apiVersion: objectstore.garage-cpp.dev/v1alpha1
kind: GarageAccessKey
metadata:
  name: %(name)s
  namespace: default
spec:
  clusterRef:
    name: demo
  permissions:
  - bucket: %(bucket)s
    read: true
    write: true
  secretName: %(name)s-s3
"""


def wait(what, fn, timeout=180, interval=1.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError('timed out waiting for %s (last: %r)' % (what, last))


class Sampler:
    """Calls fn every 0.2 s in a thread while the with-block runs: what the
    operator shows in passing (a condition, a gauge) is seen even while the
    block is busy reading objects."""

    def __init__(self, fn):
        self.fn = fn
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.done.is_set():
            try:
                self.fn()
            except Exception:  # a kubectl call that fails in passing
                pass
            self.done.wait(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


class Operator:
    """One garage-operator replica on the host, with its own health port."""

    def __init__(self, workdir, kubeconfig, name):
        self.name = name
        self.port = free_port()
        self.log_path = os.path.join(workdir, name + '.log')
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(
            [OPERATOR_BIN, '--kubeconfig', kubeconfig, '--leader-elect', '--leader-election-namespace',
             'default', '--id', name, '--health-addr', '127.0.0.1:%d' % self.port],
            stdout=self.log, stderr=subprocess.STDOUT)

    def get(self, path):
        try:
            with urllib.request.urlopen('http://127.0.0.1:%d%s' % (self.port, path), timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return 0, ''

    def metric(self, name, **labels):
        """The value of one sample of /metrics, or None."""
        _, text = self.get('/metrics')
        for line in text.splitlines():
            if not line.startswith(name + '{') and not line.startswith(name + ' '):
                continue
            if all('%s="%s"' % kv in line for kv in labels.items()):
                return float(line.rsplit(' ', 1)[1])
        return None

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class World:
    def __init__(self, d):
        self.dir = d
        self.a = Emulator(d, name='site-a', site_index=SITE_A, args=['--bookmark-interval', '1'])
        self.b = Emulator(d, name='site-b', site_index=SITE_B, args=['--bookmark-interval', '1'])
        kl_args = ['--backoff-base', '0.5', '--backoff-max', '2']
        self.ka = Kubelet(self.a, garage_bin=GARAGE_BIN, args=kl_args)
        self.kb = Kubelet(self.b, garage_bin=GARAGE_BIN, args=kl_args)
        self.a.kubectl('apply', '-f', os.path.join(REPO, 'crds'))
        self.a.kubectl('create', 'secret', 'generic', 'site-b', '--from-file=kubeconfig=' + self.b.kubeconfig)
        self.ops = [Operator(d, self.a.kubeconfig, 'op-1'), Operator(d, self.a.kubeconfig, 'op-2')]
        self.objects = {}  # key → body written at the start, read back at every step
        self.s3 = None  # awscli environment

    def stop(self):
        for o in self.ops:
            o.stop()
        for k in (self.kb, self.ka):
            k.stop()
        for e in (self.b, self.a):
            e.stop()

    def gcl(self, name='demo'):
        return json.loads(self.a.kubectl('get', 'gcl', name, '-o', 'json').stdout)

    def condition(self, obj, type_):
        for c in (obj.get('status') or {}).get('conditions') or []:
            if c['type'] == type_:
                return c
        return {}

    def events(self, name='demo'):
        out = self.a.kubectl('get', 'events', '--field-selector', 'involvedObject.name=' + name, '-o', 'json')
        return json.loads(out.stdout)['items']

    def reasons(self, name='demo'):
        return {e['reason'] for e in self.events(name)}

    def pods(self, emu):
        out = emu.kubectl('get', 'pods', '-l', 'app.kubernetes.io/instance=demo', '-o', 'json')
        return json.loads(out.stdout)['items']

    def aws(self, *args, check=True):
        r = subprocess.run(['aws', '--endpoint-url', self.s3['endpoint'], 's3'] + list(args),
                           env=self.s3['env'], capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, 'aws s3 %s: %s%s' % (' '.join(args), r.stdout, r.stderr)
        return r

    def read_all(self):
        """Every object written at the start reads back intact."""
        for key, body in self.objects.items():
            path = os.path.join(self.dir, 'read-' + key)
            self.aws('cp', 's3://photos/' + key, path)
            with open(path, 'rb') as f:
                assert f.read() == body, key
        return True

    def leading_operator(self):
        name = wait('a leader', self.leader)
        return [o for o in self.ops if o.name == name][0]

    def all_operators_alive(self):
        return all(o.proc.poll() is None for o in self.ops)

    def leader(self):
        r = self.a.kubectl('get', 'lease', 'garage-operator', '-o', 'jsonpath={.spec.holderIdentity}',
                           check=False)
        return r.stdout.strip() if r.returncode == 0 else ''


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    for b in (GARAGE_BIN, OPERATOR_BIN):
        if not os.access(b, os.X_OK):
            pytest.fail('%s not found (set GARAGE_BIN and GARAGE_OPERATOR_BIN)' % b)
    w = World(str(tmp_path_factory.mktemp('operator')))
    try:
        yield w
    finally:
        w.stop()


def wait_ready(w, name='demo', timeout=300):
    w.a.kubectl('wait', '--for=condition=Ready', 'gcl/' + name, '--timeout=%ds' % timeout, timeout=timeout + 30)


def test_cluster_over_two_sites_becomes_ready(world):
    w = world
    w.a.kubectl('apply', '-f', '-', input=CLUSTER)
    wait_ready(w)
    g = w.gcl()
    st = g['status']
    assert st['nodes'] == 3 and st['nodesReady'] == 3, st
    assert st['health'] == 'Healthy' and st['layoutVersion'] >= 1, st
    assert st['observedGeneration'] == g['metadata']['generation']
    assert st['partitions']['healthy'] == st['partitions']['total'] == 256
    # Zone zc runs in site b, the others in site a.
    assert len(w.pods(w.a)) == 2 and len(w.pods(w.b)) == 1
    out = w.a.kubectl('get', 'gcl').stdout
    header, row = out.splitlines()[0].split(), out.splitlines()[1].split()
    assert header == ['NAME', 'READY', 'NODES', 'LAYOUT', 'HEALTH', 'AGE'], out
    assert row[:5] == ['demo', 'True', '3', str(st['layoutVersion']), 'Healthy'], out
    assert {'LayoutApplied', 'Ready'} <= w.reasons()
    # One replica leads; its metrics say so and describe the cluster.
    leader = wait('a leader', w.leader)
    lead = [o for o in w.ops if o.name == leader][0]
    assert lead.metric('garage_operator_leader') == 1
    assert lead.metric('garage_operator_cluster_nodes_ready', cluster='demo') == 3
    assert lead.metric('garage_operator_cluster_partitions_healthy', cluster='demo') == 256
    assert lead.metric('garage_operator_reconcile_total', controller='garagecluster', result='requeue')
    for o in w.ops:
        assert o.get('/healthz')[0] == 200 and o.get('/readyz')[0] == 200


def test_bucket_and_key_give_working_credentials(world):
    w = world
    w.a.kubectl('apply', '-f', '-', input=BUCKET % {'name': 'photos'})
    w.a.kubectl('apply', '-f', '-', input=KEY % {'name': 'photos-app', 'bucket': 'photos'})
    w.a.kubectl('wait', '--for=condition=Ready', 'gbk/photos', 'gak/photos-app', '--timeout=120s', timeout=150)
    sec = json.loads(w.a.kubectl('get', 'secret', 'photos-app-s3', '-o', 'json').stdout)['data']
    creds = {k: base64.b64decode(v).decode() for k, v in sec.items()}
    assert creds['accessKeyId'].startswith('GK') and creds['region'] == 'home'
    env = dict(os.environ, AWS_ACCESS_KEY_ID=creds['accessKeyId'],
               AWS_SECRET_ACCESS_KEY=creds['secretAccessKey'], AWS_DEFAULT_REGION=creds['region'],
               AWS_EC2_METADATA_DISABLED='true', AWS_CONFIG_FILE='/dev/null',
               AWS_SHARED_CREDENTIALS_FILE='/dev/null')
    w.s3 = {'endpoint': creds['endpoint'], 'env': env}
    for i in range(5):
        body = os.urandom(1000 * (i + 1) + (2 << 20) * (i == 4))  # the last one is 2 MiB: blocks
        path = os.path.join(w.dir, 'obj%d' % i)
        with open(path, 'wb') as f:
            f.write(body)
        w.aws('cp', path, 's3://photos/obj%d' % i)
        w.objects['obj%d' % i] = body
    assert w.read_all()
    gbk = json.loads(w.a.kubectl('get', 'gbk', 'photos', '-o', 'json').stdout)
    assert gbk['status']['bucketId']
    # A key without rights on the bucket is refused by the store.
    assert 'photos-app' in w.a.kubectl('get', 'gak').stdout


def test_bad_input_is_refused_or_reported(world):
    w = world
    r = w.a.kubectl('patch', 'gcl', 'demo', '--type', 'merge', '-p', '{"spec":{"replicationFactor":2}}',
                    check=False)
    assert r.returncode != 0 and 'replicationFactor is immutable' in r.stderr, r.stderr
    r = w.a.kubectl('apply', '-f', '-', check=False,
                    input=BUCKET.replace('globalAlias: %(name)s', 'globalAlias: Bad_Name') % {'name': 'bad'})
    assert r.returncode != 0, r.stdout
    # A key naming a bucket resource that does not exist: reported, not crashed on.
    w.a.kubectl('apply', '-f', '-', input=KEY % {'name': 'orphan-key', 'bucket': 'nope'})
    g = wait('BucketNotFound', lambda: w.condition(
        json.loads(w.a.kubectl('get', 'gak', 'orphan-key', '-o', 'json').stdout), 'Ready').get('reason')
        == 'BucketNotFound', timeout=60)
    assert g
    assert 'BucketNotFound' in w.reasons('orphan-key')
    w.a.kubectl('delete', 'gak', 'orphan-key', '--timeout=60s')
    assert all(o.proc.poll() is None for o in w.ops)


def test_scale_a_zone_up_and_down(world):
    w = world
    w.a.kubectl('patch', 'gcl', 'demo', '--type', 'json', '-p',
                '[{"op":"add","path":"/spec/zones/0/nodes","value":2}]')
    wait('4 nodes ready', lambda: w.read_all() and (w.gcl()['status'].get('nodesReady') == 4
                                                     and w.condition(w.gcl(), 'Ready').get('status') == 'True'))
    v_up = w.gcl()['status']['layoutVersion']
    assert len(w.pods(w.a)) == 3
    # Down again: the node leaves the layout, its data moves, then its pod and volumes go.
    w.a.kubectl('patch', 'gcl', 'demo', '--type', 'json', '-p',
                '[{"op":"replace","path":"/spec/zones/0/nodes","value":1}]')
    lead = w.leading_operator()
    seen = set()

    def sample():
        if lead.metric('garage_operator_cluster_operation_in_progress', cluster='demo',
                       operation='scale_down') == 1:
            seen.add('metric')
        if w.condition(w.gcl(), 'Progressing').get('status') == 'True':
            seen.add('progressing')
    with Sampler(sample):
        wait('back to 3 nodes', lambda: w.read_all() and len(w.pods(w.a)) == 2
             and w.condition(w.gcl(), 'Ready').get('status') == 'True', timeout=300)
    assert seen == {'metric', 'progressing'}, seen
    assert lead.metric('garage_operator_cluster_operation_in_progress', cluster='demo',
                       operation='scale_down') == 0
    assert w.gcl()['status']['layoutVersion'] > v_up
    assert 'ScalingDown' in w.reasons()
    wait('the volumes of the node that left deleted',
         lambda: 'demo-za-1' not in w.a.kubectl('get', 'pvc', '-o', 'name').stdout, timeout=60)
    assert 'demo-za-0' in w.a.kubectl('get', 'pvc', '-o', 'name').stdout
    assert 'VolumeDeleted' in w.reasons()


def test_add_and_remove_a_zone(world):
    w = world
    w.a.kubectl('patch', 'gcl', 'demo', '--type', 'json', '-p',
                '[{"op":"add","path":"/spec/zones/-","value":{"name":"zd"}}]')
    wait('zone zd in the layout', lambda: w.read_all() and w.gcl()['status'].get('nodesReady') == 4
         and w.condition(w.gcl(), 'Ready').get('status') == 'True', timeout=300)
    zones = {z['name']: z for z in w.gcl()['status']['zones']}
    assert zones['zd']['site'] == 'local' and zones['zd']['nodesReady'] == 1, zones
    # Removing it: its node leaves the layout first, then its StatefulSet and volumes go.
    w.a.kubectl('patch', 'gcl', 'demo', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/zones/3"}]')
    wait('zone zd gone', lambda: w.read_all() and 'zd' not in {z['name'] for z in w.gcl()['status']['zones']}
         and w.condition(w.gcl(), 'Ready').get('status') == 'True', timeout=300)
    assert w.a.kubectl('get', 'statefulset', 'demo-zd', check=False).returncode != 0
    wait('zone zd volumes deleted', lambda: 'demo-zd' not in w.a.kubectl('get', 'pvc', '-o', 'name').stdout,
         timeout=60)
    assert 'ZoneRemoved' in w.reasons()


def test_manual_layout_policy_and_a_refused_scale_down(world):
    """A second cluster: replication factor 2 in one zone of 2 nodes, layout
    applied by hand (Manual), then switched to Auto; scaling it to 1 node
    cannot keep 2 copies and is refused with a condition that says why."""
    w = world
    tiny = CLUSTER.replace('name: demo', 'name: tiny').replace('replicationFactor: 3', 'replicationFactor: 2')
    tiny = tiny.split('  zones:')[0].replace('nodesPerZone: 1', 'nodesPerZone: 2') + \
        '  layoutPolicy: Manual\n  zones:\n  - name: solo\n'
    w.a.kubectl('apply', '-f', '-', input=tiny)

    def awaiting():
        g = w.gcl('tiny')
        c = w.condition(g, 'LayoutApplied')
        return c.get('reason') == 'AwaitingManualApply' and g['status'].get('layoutPreview')
    wait('a staged layout awaiting a person', awaiting, timeout=180)
    g = w.gcl('tiny')
    assert w.condition(g, 'Ready').get('status') == 'False'
    assert 'LayoutPreview' in w.reasons('tiny')
    w.a.kubectl('patch', 'gcl', 'tiny', '--type', 'merge', '-p', '{"spec":{"layoutPolicy":"Auto"}}')
    wait_ready(w, 'tiny', timeout=180)
    assert not w.gcl('tiny')['status'].get('layoutPreview')
    st = w.gcl('tiny')['status']
    assert st['nodesPerZone'] == 2 and st['selector'], st  # the scale subresource's status
    # Through the scale subresource, as `kubectl scale` (and an autoscaler) do it.
    w.a.kubectl('scale', 'gcl/tiny', '--replicas=1')
    assert w.gcl('tiny')['spec']['nodesPerZone'] == 1
    c = wait('ScaleDownBlocked', lambda: w.condition(w.gcl('tiny'), 'ScaleDownBlocked').get('status') == 'True'
             and w.condition(w.gcl('tiny'), 'ScaleDownBlocked'), timeout=120)
    assert c['reason'] == 'InsufficientNodes' and c['message'], c
    assert 'ScaleDownBlocked' in w.reasons('tiny')
    time.sleep(3)
    pods = [p for p in json.loads(w.a.kubectl('get', 'pods', '-l', 'app.kubernetes.io/instance=tiny', '-o',
                                                'json').stdout)['items']]
    assert len(pods) == 2  # nothing was stopped
    # Deleting it: the finalizer goes, the objects with it (volumes stay).
    w.a.kubectl('delete', 'gcl', 'tiny', '--timeout=120s', timeout=150)
    wait('tiny pods gone', lambda: not json.loads(w.a.kubectl(
        'get', 'pods', '-l', 'app.kubernetes.io/instance=tiny', '-o', 'json').stdout)['items'], timeout=120)
    assert w.read_all()


def test_an_unreachable_node_is_reported(world):
    w = world
    pod = [p for p in w.pods(w.b) if p['metadata']['name'] == 'demo-zc-0'][0]
    pid = int(pod['status']['containerStatuses'][0]['containerID'].split('//')[1])
    pgid = os.getpgid(pid)
    os.killpg(pgid, signal.SIGSTOP)
    try:
        def reported():
            g = w.gcl()
            c = w.condition(g, 'Degraded')
            return c.get('status') == 'True' and 'demo-zc-0' in c.get('message', '') and c
        c = wait('the frozen node reported', reported, timeout=180)
        assert w.all_operators_alive()
        assert w.read_all()  # two copies of three answer
    finally:
        os.killpg(pgid, signal.SIGCONT)
    wait('Ready again', lambda: w.condition(w.gcl(), 'Ready').get('status') == 'True', timeout=180)


def test_bucket_deletion_policy(world):
    w = world
    w.a.kubectl('apply', '-f', '-', input=BUCKET % {'name': 'scratch'})
    w.a.kubectl('wait', '--for=condition=Ready', 'gbk/scratch', '--timeout=120s', timeout=150)
    w.aws('cp', os.path.join(w.dir, 'obj0'), 's3://scratch/x', check=False)  # no rights: refused
    # Policy Delete on an empty bucket: deleted with the resource.
    w.a.kubectl('delete', 'gbk', 'scratch', '--timeout=120s', timeout=150)
    assert 'BucketDeleted' in w.reasons('scratch')
    # On a bucket with objects: the finalizer waits, and says why.
    w.a.kubectl('delete', 'gbk', 'photos', '--wait=false')
    c = wait('DeletionBlocked', lambda: w.condition(json.loads(
        w.a.kubectl('get', 'gbk', 'photos', '-o', 'json').stdout), 'Ready').get('reason') == 'DeletionBlocked'
        and w.condition(json.loads(w.a.kubectl('get', 'gbk', 'photos', '-o', 'json').stdout), 'Ready'),
        timeout=120)
    assert 'not empty' in c['message'] or 'objects' in c['message'], c
    assert 'DeletionBlocked' in w.reasons('photos')
    assert w.read_all()


def test_image_upgrade_rolls_one_node_at_a_time(world):
    w = world
    w.a.kubectl('patch', 'gcl', 'demo', '--type', 'merge', '-p', '{"spec":{"image":"garage:v2"}}')

    def upgraded():
        w.read_all()
        pods = w.pods(w.a) + w.pods(w.b)
        images = [p['spec']['containers'][0]['image'] for p in pods]
        return (images.count('garage:v2') == 3 and
                w.condition(w.gcl(), 'Ready').get('status') == 'True')
    wait('every node on garage:v2', upgraded, timeout=400)
    ups = [e for e in w.events() if e['reason'] == 'UpgradingNode']
    assert len(ups) >= 3, ups


def test_deleted_pod_comes_back(world):
    w = world
    w.a.kubectl('delete', 'pod', 'demo-za-0', '--wait=false')
    time.sleep(2)
    wait('demo-za-0 back and the cluster Ready', lambda: w.read_all() and any(
        p['metadata']['name'] == 'demo-za-0' and 'deletionTimestamp' not in p['metadata']
        for p in w.pods(w.a)) and w.condition(w.gcl(), 'Ready').get('status') == 'True', timeout=180)


def test_leader_failover(world):
    w = world
    first = wait('a leader', w.leader)
    dead = [o for o in w.ops if o.name == first][0]
    other = [o for o in w.ops if o.name != first][0]
    assert other.metric('garage_operator_leader') == 0
    dead.stop(signal.SIGKILL)
    wait('the other replica leads', lambda: w.leader() == other.name, timeout=90)
    wait('its metrics say so', lambda: other.metric('garage_operator_leader') == 1, timeout=30)
    # It acts: a new bucket becomes Ready.
    w.a.kubectl('apply', '-f', '-', input=BUCKET % {'name': 'after-failover'})
    w.a.kubectl('wait', '--for=condition=Ready', 'gbk/after-failover', '--timeout=120s', timeout=150)
    assert w.read_all()


def test_a_site_goes_away(world):
    w = world
    w.kb.stop()  # its garage pods die with it
    w.b.stop()
    wait('SitesReachable False', lambda: w.condition(w.gcl(), 'SitesReachable').get('status') == 'False',
         timeout=120)
    g = w.gcl()
    assert w.condition(g, 'Degraded').get('status') == 'True'
    assert w.condition(g, 'Ready').get('status') == 'False'
    assert 'SiteUnreachable' in w.reasons()
    # Two zones of three still answer: every object reads, and writes go on.
    assert w.read_all()
    path = os.path.join(w.dir, 'during-outage')
    with open(path, 'wb') as f:
        f.write(b'written while site b is away')
    w.aws('cp', path, 's3://photos/during-outage')
    assert all(o.proc.poll() is None for o in w.ops if o.name == w.leader())


def test_deleting_the_cluster_while_a_site_is_away_says_what_blocks(world):
    w = world
    w.a.kubectl('delete', 'gcl', 'demo', '--wait=false')
    c = wait('DeletionBlocked', lambda: w.condition(w.gcl(), 'Ready').get('reason') == 'DeletionBlocked'
             and w.condition(w.gcl(), 'Ready'), timeout=120)
    assert 'site-b' in c['message'], c
    assert 'DeletionBlocked' in w.reasons()
