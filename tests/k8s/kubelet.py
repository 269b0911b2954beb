"""A stand-in for the node side of one emulated Kubernetes site (apiserver.py):
the kubelet of a single node, the StatefulSet controller, a scheduler that puts
every pod on that node, a volume provisioner and kube-proxy. It runs each
pod's containers as real processes of this machine. It talks to its site's
emulator only through the HTTP API (list + watch, the token and CA of the
kubeconfig), as the real components do. See README.md ("The kubelet
stand-in") for what it does and does not.

  python3 kubelet.py --kubeconfig site-a.kubeconfig --state-dir DIR --site-index 0 \\
      --garage-bin build/node/src/garage/garage

Addresses of site k (all on loopback; nothing is configured on the host):
  127.<k+10>.0.1            the node (NodePorts, this process's log server)
  127.<k+10>.0.2 ..         pods, one address per pod name, kept while the process lives
  127.<k+10>.128.0/17       Service cluster IPs (the emulator's --service-cidr)
  127.<k+10>.192.1 ..       LoadBalancer ingress IPs
Each container runs in a private mount namespace (`unshare --mount`, see
nsexec.py) where the pod's volumes are bind-mounted at their mount paths;
its processes share the host network and must bind the pod IP ($(POD_IP)
from the downward API), not 0.0.0.0.
"""
import argparse
import base64
import datetime
import glob
import http.server
import json
import os
import queue
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kubeclient import Api, ApiError, Informer, resource_path  # noqa: E402
from kubeproxy import Proxy, service_backends, target_port  # noqa: E402
from statefulset import APPS, CORE, StatefulSetController  # noqa: E402

PVC_PROTECTION = 'kubernetes.io/pvc-protection'
BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


def now_str():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_time(s):
    try:
        return datetime.datetime.strptime(s.rstrip('Z').split('.')[0], '%Y-%m-%dT%H:%M:%S').replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (ValueError, AttributeError):
        return None


def expand(s, env):
    """Kubernetes' $(VAR) expansion: defined variables are replaced, $$ escapes, the rest stays."""
    out, i = [], 0
    while i < len(s):
        if s.startswith('$$', i):
            out.append('$')
            i += 2
        elif s.startswith('$(', i):
            j = s.find(')', i + 2)
            name = s[i + 2:j] if j >= 0 else None
            if name is not None and name in env:
                out.append(env[name])
                i = j + 1
            else:
                out.append('$(' if j < 0 else s[i:j + 1])
                i = i + 2 if j < 0 else j + 1
        else:
            out.append(s[i])
            i += 1
    return ''.join(out)


class ConfigError(Exception):
    """A container cannot be configured yet (CreateContainerConfigError, a volume that cannot mount)."""


# --- the process spawner ------------------------------------------------------------------

class Spawner(threading.Thread):
    """All container processes are started from this one long-lived thread, so
    that their PR_SET_PDEATHSIG (which fires when the *thread* that forked
    them ends) kills them only when the kubelet itself dies."""

    def __init__(self):
        super().__init__(daemon=True, name='spawner')
        self.q = queue.Queue()

    def run(self):
        while True:
            args, kw, box, done = self.q.get()
            try:
                box.append(subprocess.Popen(args, **kw))
            except Exception as e:
                box.append(e)
            done.set()

    def popen(self, args, **kw):
        box, done = [], threading.Event()
        self.q.put((args, kw, box, done))
        done.wait()
        if isinstance(box[0], Exception):
            raise box[0]
        return box[0]


# --- one container's runtime state --------------------------------------------------------

class Container:
    def __init__(self, spec, init=False):
        self.spec = spec
        self.name = spec['name']
        self.init = init
        self.proc = None
        self.started_at = None      # wall-clock start of the current/last run
        self.started_mono = None
        self.restart_count = 0
        self.runs = 0
        self.crashes = 0            # consecutive, for the back-off
        self.backoff_until = 0
        self.last_terminated = None  # {'exitCode', 'reason', 'startedAt', 'finishedAt'}
        self.waiting = ('ContainerCreating', '')
        self.done = False           # an init container that succeeded, or a container that will not restart
        self.ready = False
        self.started = False        # startup probe passed (or none)
        self.probe_state = {}       # kind -> [successes, failures, next due]
        self.killing = False


# --- one pod ------------------------------------------------------------------------------

class PodWorker(threading.Thread):
    def __init__(self, kl, pod):
        md = pod['metadata']
        super().__init__(daemon=True, name='pod-%s/%s' % (md['namespace'], md['name']))
        self.kl = kl
        self.ns, self.name, self.uid = md['namespace'], md['name'], md['uid']
        self.dir = os.path.join(kl.state_dir, 'pods', '%s_%s_%s' % (self.ns, self.name, self.uid))
        self.ip = None
        self.start_time = None
        self.pushed = None
        self.conds = {}
        self.volumes = None
        self.volume_error = None
        self.containers = [Container(c, True) for c in pod['spec'].get('initContainers') or []] + \
                          [Container(c) for c in pod['spec'].get('containers') or []]
        self.volume_specs = list(pod['spec'].get('volumes') or [])
        self.wake = threading.Event()
        self.finished = threading.Event()
        self.last_refresh = 0

    def log(self, msg):
        self.kl.log('pod %s/%s: %s' % (self.ns, self.name, msg))

    def event(self, pod, type_, reason, message):
        self.kl.event(pod, type_, reason, message, 'kubelet')

    def pod(self):
        p = self.kl.pods.get(self.ns, self.name)
        return p if p is not None and p['metadata'].get('uid') == self.uid else None

    # --- main loop ------------------------------------------------------------------------

    def run(self):
        try:
            self.loop()
        except Exception:
            traceback.print_exc()
            self.kill_all(2)
        finally:
            self.cleanup()
            self.finished.set()

    def loop(self):
        # one pod of a name at a time: the previous one (same IP, same volumes) must be gone
        while True:
            other = [w for w in self.kl.workers_of(self.ns, self.name) if w is not self and not w.finished.is_set()]
            if not other:
                break
            if self.pod() is None or self.kl.stopping:
                return
            other[0].finished.wait(0.5)
        self.ip = self.kl.pod_ip(self.ns, self.name)
        self.start_time = now_str()
        os.makedirs(self.dir, exist_ok=True)
        while not self.kl.stopping:
            pod = self.pod()
            if pod is None:  # force-deleted, or gone with its namespace
                self.kill_all(2)
                return
            if pod['metadata'].get('deletionTimestamp'):
                self.terminate(pod)
                return
            self.step(pod)
            self.push_status(pod)
            self.wake.wait(0.3)
            self.wake.clear()
        self.kill_all(2)

    def terminate(self, pod):
        md = pod['metadata']
        deadline = parse_time(md['deletionTimestamp']) or time.time()
        grace = md.get('deletionGracePeriodSeconds')
        if grace is not None:
            deadline = min(deadline, time.time() + int(grace))
        self.log('terminating (grace %.0fs)' % max(0, deadline - time.time()))
        for c in self.containers:
            if c.proc is not None and c.proc.poll() is None:
                self.event(pod, 'Normal', 'Killing', 'Stopping container %s' % c.name)
        self.kill_all(max(0, deadline - time.time()))
        try:
            self.kl.api.delete(resource_path(CORE, 'pods', self.ns, self.name), grace=0, uid=self.uid)
        except ApiError as e:
            if e.code not in (404, 409):
                self.log('final delete: %s' % e)
        self.kl.pods.remove(pod)

    def kill_all(self, grace):
        running = [c for c in self.containers if c.proc is not None and c.proc.poll() is None]
        for c in running:
            self.signal(c, signal.SIGTERM)
        deadline = time.time() + grace
        for c in running:
            try:
                c.proc.wait(max(0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
        for c in running:
            if c.proc.poll() is None:
                self.signal(c, signal.SIGKILL, group=True)
                c.proc.wait()
        for c in self.containers:
            if c.proc is not None:
                c.proc.wait()

    def signal(self, c, sig, group=False):
        try:
            if group:
                os.killpg(c.proc.pid, sig)
            else:
                os.kill(c.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def cleanup(self):
        # volumes of the pod go with it (emptyDir, configMap, secret); PVC directories stay
        shutil.rmtree(os.path.join(self.dir, 'volumes'), ignore_errors=True)
        for f in glob.glob(os.path.join(self.dir, '*.json')):
            os.unlink(f)

    # --- one round ------------------------------------------------------------------------

    def step(self, pod):
        if self.volumes is None or time.time() - self.last_refresh > 2:
            try:
                self.volumes = self.kl.prepare_volumes(self, pod)
                self.volume_error = None
            except ConfigError as e:
                if self.volumes is None:
                    if str(e) != self.volume_error:
                        self.log('volumes not ready: %s' % e)
                    self.volume_error = str(e)
                    return
            self.kl.hosts_file(self, pod)
            self.last_refresh = time.time()
        policy = pod['spec'].get('restartPolicy', 'Always')
        inits = [c for c in self.containers if c.init]
        for c in inits:
            if c.done:
                continue
            self.step_container(pod, c, 'OnFailure' if policy == 'Always' else policy)
            if not c.done:
                return  # the next init container waits for this one
        for c in self.containers:
            if not c.init:
                self.step_container(pod, c, policy)

    def step_container(self, pod, c, policy):
        t = time.time()
        if c.proc is not None and c.proc.poll() is not None:
            code = c.proc.returncode
            if code < 0:
                code = 128 - code  # killed by a signal, as container runtimes report it
            c.last_terminated = {'exitCode': code, 'reason': 'Completed' if code == 0 else 'Error',
                                 'startedAt': c.started_at, 'finishedAt': now_str(),
                                 'containerID': 'standin://%d' % c.proc.pid}
            if c.killing:
                c.last_terminated['reason'] = 'Error' if code else 'Completed'
            ran = time.monotonic() - c.started_mono
            c.proc = None
            c.ready = c.started = False
            c.probe_state = {}
            c.killing = False
            if c.init and code == 0:
                c.done = True
                return
            restart = policy == 'Always' or (policy == 'OnFailure' and code != 0)
            if not restart:
                c.done = True
                return
            if ran > 2 * self.kl.backoff_max:
                c.crashes = 0
            c.crashes += 1
            delay = 0 if c.crashes == 1 else min(self.kl.backoff_base * 2 ** (c.crashes - 2), self.kl.backoff_max)
            c.backoff_until = t + delay
            c.waiting = ('CrashLoopBackOff', 'back-off %ds restarting failed container=%s pod=%s_%s(%s)' % (
                delay, c.name, self.name, self.ns, self.uid)) if delay else ('ContainerCreating', '')
            self.log('container %s exited with %d; restart in %.1fs' % (c.name, code, delay))
            if delay:
                self.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container %s in pod %s_%s(%s)' % (
                    c.name, self.name, self.ns, self.uid))
        if c.done:
            return
        if c.proc is None:
            if t < c.backoff_until:
                return
            try:
                self.start_container(pod, c)
            except ConfigError as e:
                c.waiting = ('CreateContainerConfigError', str(e))
                return
            except OSError as e:
                c.waiting = ('RunContainerError', str(e))
                c.crashes += 1
                c.backoff_until = t + min(self.kl.backoff_base * 2 ** max(0, c.crashes - 2), self.kl.backoff_max)
                return
        if not c.init:
            self.probe(pod, c)

    def start_container(self, pod, c):
        env = self.kl.container_env(pod, c.spec, self.ip)
        argv = self.kl.container_argv(c.spec, env)
        mounts = []
        for vm in c.spec.get('volumeMounts') or []:
            src = self.volumes.get(vm.get('name'))
            if src is None:
                raise ConfigError('volume "%s" is not defined' % vm.get('name'))
            if vm.get('subPath'):
                src = os.path.join(src, vm['subPath'])
                if not os.path.exists(src):
                    os.makedirs(src, exist_ok=True)
            mounts.append({'source': src, 'target': vm['mountPath'], 'readOnly': bool(vm.get('readOnly')),
                           'file': os.path.isfile(src)})
        hosts = self.kl.hosts_file(self, pod)
        if not any(m['target'] == '/etc/hosts' for m in mounts):
            mounts.append({'source': hosts, 'target': '/etc/hosts', 'readOnly': False, 'file': True})
        spec = {'argv': argv, 'env': env, 'workingDir': c.spec.get('workingDir') or '/', 'mounts': mounts}
        spec_path = os.path.join(self.dir, c.name + '.json')
        with open(spec_path, 'w') as f:
            json.dump(spec, f)
        log_dir = os.path.join(self.kl.log_dir(self.ns, self.name, self.uid), c.name)
        os.makedirs(log_dir, exist_ok=True)
        out = open(os.path.join(log_dir, '%d.log' % c.runs), 'ab')
        try:
            c.proc = self.kl.spawner.popen(
                ['unshare', '--mount', '--propagation', 'private', '--', sys.executable, '-S',
                 os.path.join(HERE, 'nsexec.py'), spec_path],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                close_fds=True)
        finally:
            out.close()
        if c.runs > 0:
            c.restart_count += 1
        c.runs += 1
        c.started_at = now_str()
        c.started_mono = time.monotonic()
        c.waiting = None
        c.started = not c.spec.get('startupProbe')
        c.ready = False
        self.log('container %s started (pid %d): %s' % (c.name, c.proc.pid, ' '.join(argv)))
        self.event(pod, 'Normal', 'Started', 'Started container %s' % c.name)

    # --- probes ---------------------------------------------------------------------------

    def probe(self, pod, c):
        """Startup, liveness and readiness probes of a running container."""
        t = time.monotonic()
        kinds = ['startupProbe'] if not c.started else ['livenessProbe', 'readinessProbe']
        if c.started and not c.spec.get('readinessProbe'):
            c.ready = True
        for kind in kinds:
            pr = c.spec.get(kind)
            if not pr:
                continue
            st = c.probe_state.setdefault(kind, [0, 0, c.started_mono + int(pr.get('initialDelaySeconds', 0))])
            if t < st[2]:
                continue
            st[2] = t + max(0.2, float(pr.get('periodSeconds', 10)))
            ok = self.run_probe(pod, c, pr)
            if ok:
                st[0] += 1
                st[1] = 0
            else:
                st[1] += 1
                st[0] = 0
            succ, fail = int(pr.get('successThreshold', 1)), int(pr.get('failureThreshold', 3))
            if kind == 'startupProbe':
                if st[0] >= succ:
                    c.started = True
                    c.probe_state = {}
                elif st[1] >= fail:
                    self.restart_unhealthy(pod, c, 'startup')
                    return
            elif kind == 'livenessProbe' and st[1] >= fail:
                self.restart_unhealthy(pod, c, 'liveness')
                return
            elif kind == 'readinessProbe':
                if st[0] >= succ:
                    c.ready = True
                elif st[1] >= fail or (not c.ready and not ok):
                    c.ready = False

    def restart_unhealthy(self, pod, c, what):
        self.log('container %s failed its %s probe; killing it' % (c.name, what))
        self.event(pod, 'Warning', 'Unhealthy', '%s probe failed' % what.capitalize())
        self.event(pod, 'Normal', 'Killing', 'Container %s failed %s probe, will be restarted' % (c.name, what))
        c.killing = True
        self.signal(c, signal.SIGTERM)
        try:
            c.proc.wait(int(pod['spec'].get('terminationGracePeriodSeconds', 30)))
        except subprocess.TimeoutExpired:
            self.signal(c, signal.SIGKILL, group=True)
            c.proc.wait()

    def run_probe(self, pod, c, pr):
        timeout = max(0.2, float(pr.get('timeoutSeconds', 1)))

        def port_of(p):
            if isinstance(p, int) or (isinstance(p, str) and p.isdigit()):
                return int(p)
            for cp in c.spec.get('ports') or []:
                if cp.get('name') == p:
                    return int(cp['containerPort'])
            return None
        try:
            if 'httpGet' in pr:
                h = pr['httpGet']
                port = port_of(h.get('port'))
                if port is None:
                    return False
                scheme = h.get('scheme', 'HTTP').lower()
                host = h.get('host') or self.ip
                url = '%s://%s:%d%s' % (scheme, host, port, h.get('path') or '/')
                req = urllib.request.Request(url)
                for hh in h.get('httpHeaders') or []:
                    req.add_header(hh['name'], hh['value'])
                try:
                    ctx = ssl._create_unverified_context() if scheme == 'https' else None
                    with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
                        return 200 <= r.status < 400
                except urllib.error.HTTPError as e:
                    return 200 <= e.code < 400
            if 'tcpSocket' in pr:
                port = port_of(pr['tcpSocket'].get('port'))
                if port is None:
                    return False
                with socket.create_connection((pr['tcpSocket'].get('host') or self.ip, port), timeout=timeout):
                    return True
            if 'exec' in pr:
                env = self.kl.container_env(pod, c.spec, self.ip)
                r = subprocess.run(['nsenter', '--target', str(c.proc.pid), '--mount', '--'] +
                                   list(pr['exec'].get('command') or []), env=env, timeout=timeout,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return r.returncode == 0
        except (OSError, subprocess.TimeoutExpired, ConfigError, ValueError):
            return False
        return False  # grpc probes are not supported

    # --- status ---------------------------------------------------------------------------

    def container_status(self, c):
        st = {'name': c.name, 'image': c.spec.get('image', ''), 'imageID': c.spec.get('image', ''),
              'ready': bool(c.proc is not None and c.ready and not c.init) or (c.init and c.done),
              'restartCount': c.restart_count, 'started': c.proc is not None and c.started}
        if c.proc is not None:
            st['containerID'] = 'standin://%d' % c.proc.pid
            st['state'] = {'running': {'startedAt': c.started_at}}
        elif c.done and c.last_terminated:
            st['state'] = {'terminated': dict(c.last_terminated)}
            st['containerID'] = c.last_terminated['containerID']
        else:
            reason, msg = c.waiting or ('ContainerCreating', '')
            w = {'reason': reason}
            if msg:
                w['message'] = msg
            st['state'] = {'waiting': w}
        if c.last_terminated and not (c.done and st['state'].get('terminated')):
            st['lastState'] = {'terminated': dict(c.last_terminated)}
        else:
            st['lastState'] = {}
        return st

    def push_status(self, pod):
        inits = [c for c in self.containers if c.init]
        mains = [c for c in self.containers if not c.init]
        initialized = all(c.done for c in inits)
        ever_started = initialized and any(c.runs for c in mains)
        if all(c.done for c in mains):
            codes = [(c.last_terminated or {}).get('exitCode', 1) for c in mains]
            phase = 'Succeeded' if all(x == 0 for x in codes) else 'Failed'
        elif ever_started:
            phase = 'Running'
        else:
            phase = 'Pending'
        ready = phase == 'Running' and all(c.proc is not None and c.ready for c in mains)
        cond_values = [('PodReadyToStartContainers', self.volumes is not None),
                       ('Initialized', initialized), ('Ready', ready), ('ContainersReady', ready),
                       ('PodScheduled', True)]
        conditions = []
        for typ, val in cond_values:
            s = 'True' if val else 'False'
            prev = self.conds.get(typ)
            if prev is None or prev[0] != s:
                self.conds[typ] = (s, now_str())
            c = {'type': typ, 'status': s, 'lastTransitionTime': self.conds[typ][1], 'lastProbeTime': None}
            if not val and typ in ('Ready', 'ContainersReady'):
                c['reason'] = 'ContainersNotReady'
                c['message'] = 'containers with unready status: [%s]' % ' '.join(
                    x.name for x in mains if not (x.proc is not None and x.ready))
            conditions.append(c)
        status = {'phase': phase, 'conditions': conditions, 'hostIP': self.kl.node_ip,
                  'hostIPs': [{'ip': self.kl.node_ip}], 'podIP': self.ip, 'podIPs': [{'ip': self.ip}],
                  'startTime': self.start_time, 'qosClass': 'BestEffort',
                  'containerStatuses': [self.container_status(c) for c in mains]}
        if inits:
            status['initContainerStatuses'] = [self.container_status(c) for c in inits]
        if self.volumes is None and self.volume_error:
            status['message'] = self.volume_error
            status['reason'] = 'ContainerCreating'
        if status == self.pushed:
            return
        patch = dict(status)
        for k in (self.pushed or pod.get('status') or {}):
            if k not in patch:
                patch[k] = None
        try:
            new = self.kl.api.patch(resource_path(CORE, 'pods', self.ns, self.name, 'status'), {'status': patch})
            if new['metadata'].get('uid') == self.uid:
                self.kl.pods.upsert(new)
            self.pushed = status
        except ApiError as e:
            if e.code != 404:
                self.log('status update: %s' % e)
        except OSError as e:
            self.log('status update: %s' % e)


# --- the node -----------------------------------------------------------------------------

class Kubelet:
    def __init__(self, a):
        self.api = Api(a.kubeconfig)
        self.state_dir = os.path.abspath(a.state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        self.site = a.site_index
        self.prefix = '127.%d' % (a.site_index + 10)
        self.node_ip = self.prefix + '.0.1'
        self.node_name = a.node_name
        self.node_labels = dict(kv.split('=', 1) for kv in a.node_label)
        self.images = sorted(((k, v) for k, v in (kv.split('=', 1) for kv in a.image)), key=lambda kv: -len(kv[0]))
        if a.garage_bin:
            self.images.append(('garage', os.path.abspath(a.garage_bin)))
        self.backoff_base, self.backoff_max = a.backoff_base, a.backoff_max
        self.stopping = False
        self.lock = threading.RLock()
        self.wake = threading.Event()
        self.workers = {}  # uid -> PodWorker
        self.ips = self.load_json('pod-ips.json', {})
        self.lb_ips = self.load_json('lb-ips.json', {})
        self.spawner = Spawner()
        self.spawner.start()
        self.server_address = None
        self.endpoints_written = {}

        def changed(kind, old, new):
            self.wake.set()
        self.informers = {
            'statefulsets': Informer(self.api, APPS, 'statefulsets', changed),
            'pods': Informer(self.api, CORE, 'pods', self.pod_changed),
            'persistentvolumeclaims': Informer(self.api, CORE, 'persistentvolumeclaims', self.pvc_changed),
            'services': Informer(self.api, CORE, 'services', changed),
            'configmaps': Informer(self.api, CORE, 'configmaps', changed),
            'secrets': Informer(self.api, CORE, 'secrets', changed),
        }
        self.pods = self.informers['pods']
        self.pvcs = self.informers['persistentvolumeclaims']
        self.services = self.informers['services']
        self.sts_controller = StatefulSetController(self.api, self.informers['statefulsets'], self.pods, self.pvcs,
                                                    self.log, self.event)
        self.proxy = Proxy(self.node_ip, self.services, self.pods, self.log)

    def log(self, msg):
        sys.stderr.write('%s kubelet[%s] %s\n' % (time.strftime('%H:%M:%S'), self.node_name, msg))
        sys.stderr.flush()

    def event(self, obj, type_, reason, message, component):
        """A core/v1 Event about `obj` (not aggregated; failures are only logged)."""
        md = obj['metadata']
        t = now_str()
        ev = {'apiVersion': 'v1', 'kind': 'Event',
              'metadata': {'name': '%s.%016x' % (md['name'], int(time.time() * 1e9)), 'namespace': md['namespace']},
              'involvedObject': {'apiVersion': 'apps/v1' if component == 'statefulset-controller' else 'v1',
                                 'kind': 'StatefulSet' if component == 'statefulset-controller' else 'Pod',
                                 'namespace': md['namespace'], 'name': md['name'], 'uid': md['uid']},
              'type': type_, 'reason': reason, 'message': message, 'count': 1,
              'firstTimestamp': t, 'lastTimestamp': t,
              'source': {'component': component, 'host': self.node_name},
              'reportingComponent': component, 'reportingInstance': self.node_name}
        try:
            self.api.create(resource_path(CORE, 'events', md['namespace']), ev)
        except (ApiError, OSError) as e:
            self.log('event %s: %s' % (reason, e))

    def load_json(self, name, default):
        try:
            with open(os.path.join(self.state_dir, name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return default

    def save_json(self, name, obj):
        p = os.path.join(self.state_dir, name)
        with open(p + '.tmp', 'w') as f:
            json.dump(obj, f)
        os.replace(p + '.tmp', p)

    # --- addresses ------------------------------------------------------------------------

    def pod_ip(self, ns, name):
        with self.lock:
            key = ns + '/' + name
            if key not in self.ips:
                used = set(self.ips.values())
                n = 0
                while True:
                    ip = '%s.%d.%d' % (self.prefix, n // 250, n % 250 + 2)
                    if ip not in used:
                        break
                    n += 1
                if n // 250 >= 128:
                    raise RuntimeError('out of pod addresses')
                self.ips[key] = ip
                self.save_json('pod-ips.json', self.ips)
            return self.ips[key]

    def lb_ip(self, uid):
        with self.lock:
            if uid not in self.lb_ips:
                n = len(self.lb_ips)
                self.lb_ips[uid] = '%s.%d.%d' % (self.prefix, 192 + n // 250, n % 250 + 1)
                self.save_json('lb-ips.json', self.lb_ips)
            return self.lb_ips[uid]

    def log_dir(self, ns, name, uid):
        return os.path.join(self.state_dir, 'logs', '%s_%s_%s' % (ns, name, uid))

    def pv_dir(self, pvc_uid):
        return os.path.join(self.state_dir, 'volumes', 'pvc-' + pvc_uid)

    # --- informer callbacks ---------------------------------------------------------------

    def pod_changed(self, kind, old, new):
        o = new or old
        w = self.workers.get(o['metadata'].get('uid'))
        if w is not None:
            w.wake.set()
        self.wake.set()

    def pvc_changed(self, kind, old, new):
        if kind == 'DELETED' and old is not None:
            d = self.pv_dir(old['metadata']['uid'])
            if os.path.isdir(d):
                self.log('claim %s/%s deleted: removing its volume %s' % (
                    old['metadata']['namespace'], old['metadata']['name'], d))
                shutil.rmtree(d, ignore_errors=True)
        self.wake.set()

    def workers_of(self, ns, name):
        with self.lock:
            return [w for w in self.workers.values() if w.ns == ns and w.name == name]

    # --- configuration of containers ------------------------------------------------------

    def object_data(self, kind, ns, name, optional):
        """data of a ConfigMap or Secret (decoded), or None when optional and absent."""
        o = self.informers[kind].get(ns, name)
        if o is None:
            if optional:
                return None
            raise ConfigError('%s "%s" not found' % ('configmap' if kind == 'configmaps' else 'secret', name))
        if kind == 'secrets':
            return {k: base64.b64decode(v or '') for k, v in (o.get('data') or {}).items()}
        out = {k: v.encode() for k, v in (o.get('data') or {}).items()}
        out.update({k: base64.b64decode(v) for k, v in (o.get('binaryData') or {}).items()})
        return out

    def field_ref(self, pod, path, ip):
        md = pod['metadata']
        simple = {'metadata.name': md['name'], 'metadata.namespace': md['namespace'], 'metadata.uid': md['uid'],
                  'spec.nodeName': pod['spec'].get('nodeName', self.node_name),
                  'spec.serviceAccountName': pod['spec'].get('serviceAccountName', 'default'),
                  'status.podIP': ip, 'status.podIPs': ip, 'status.hostIP': self.node_ip,
                  'status.hostIPs': self.node_ip}
        if path in simple:
            return simple[path]
        for what in ('labels', 'annotations'):
            pre = 'metadata.%s[' % what
            if path.startswith(pre) and path.endswith(']'):
                return (md.get(what) or {}).get(path[len(pre):-1].strip('\'"'), '')
            if path == 'metadata.' + what:
                return '\n'.join('%s="%s"' % kv for kv in sorted((md.get(what) or {}).items()))
        raise ConfigError('unsupported fieldRef %s' % path)

    def container_env(self, pod, cspec, ip):
        ns = pod['metadata']['namespace']
        env = {'PATH': BASE_PATH, 'HOSTNAME': pod['spec'].get('hostname') or pod['metadata']['name'],
               'HOME': '/root', 'KUBERNETES_SERVICE_HOST': self.api.host,
               'KUBERNETES_SERVICE_PORT': str(self.api.port), 'KUBERNETES_SERVICE_PORT_HTTPS': str(self.api.port)}
        for ef in cspec.get('envFrom') or []:
            prefix = ef.get('prefix', '')
            for kind, key in (('configmaps', 'configMapRef'), ('secrets', 'secretRef')):
                ref = ef.get(key)
                if ref:
                    data = self.object_data(kind, ns, ref['name'], ref.get('optional'))
                    for k, v in (data or {}).items():
                        env[prefix + k] = v.decode(errors='replace')
        for e in cspec.get('env') or []:
            name = e['name']
            if 'valueFrom' not in e:
                env[name] = expand(str(e.get('value', '')), env)
                continue
            vf = e['valueFrom']
            if 'fieldRef' in vf:
                env[name] = self.field_ref(pod, vf['fieldRef']['fieldPath'], ip)
            elif 'resourceFieldRef' in vf:
                env[name] = '0'
            else:
                for kind, key in (('configmaps', 'configMapKeyRef'), ('secrets', 'secretKeyRef')):
                    ref = vf.get(key)
                    if not ref:
                        continue
                    data = self.object_data(kind, ns, ref['name'], ref.get('optional'))
                    if data is None:
                        break
                    if ref['key'] not in data:
                        if ref.get('optional'):
                            break
                        raise ConfigError("couldn't find key %s in %s %s/%s" % (
                            ref['key'], 'ConfigMap' if kind == 'configmaps' else 'Secret', ns, ref['name']))
                    env[name] = data[ref['key']].decode(errors='replace')
        return env

    def container_argv(self, cspec, env):
        image = cspec.get('image', '')
        binary = next((b for pat, b in self.images if pat in image.rsplit('/', 1)[-1].split('@')[0]), None)
        cmd = [expand(str(x), env) for x in cspec.get('command') or []]
        args = [expand(str(x), env) for x in cspec.get('args') or []]
        if cmd:
            argv = cmd + args
            if binary and os.path.basename(argv[0]) in ('garage', os.path.basename(binary),
                                                         image.rsplit('/', 1)[-1].split(':')[0]):
                argv[0] = binary
        elif not binary:
            # an image with no entrypoint (busybox...): the args are the command, run from the host
            if not args:
                raise ConfigError('image "%s" is not mapped to a local binary and the container has no command'
                                  % image)
            argv = args
        else:
            if args and os.path.basename(args[0]) in ('garage', os.path.basename(binary)):
                args = args[1:]  # args that spell the image's whole command line
            argv = [binary] + (args if cspec.get('args') is not None else self.default_args(binary))
        return argv

    def default_args(self, binary):
        return ['server'] if os.path.basename(binary) == 'garage' else []

    # --- volumes --------------------------------------------------------------------------

    def write_files(self, d, files, mode):
        """Makes directory `d` hold exactly `files` ({relative path: bytes}); unchanged files stay."""
        os.makedirs(d, exist_ok=True)
        for rel, data in files.items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            try:
                with open(p, 'rb') as f:
                    if f.read() == data:
                        continue
            except OSError:
                pass
            with open(p + '.tmp', 'wb') as f:
                f.write(data)
            os.chmod(p + '.tmp', mode)
            os.replace(p + '.tmp', p)
        for root, _, names in os.walk(d):
            for n in names:
                rel = os.path.relpath(os.path.join(root, n), d)
                if rel not in files:
                    os.unlink(os.path.join(root, n))

    def projected_files(self, pod, ns, kind, src, ip):
        ref = src
        data = self.object_data(kind, ns, ref['name'], ref.get('optional'))
        if data is None:
            return {}
        items = ref.get('items')
        if items is None:
            return dict(data)
        out = {}
        for it in items:
            if it['key'] not in data:
                if ref.get('optional'):
                    continue
                raise ConfigError("couldn't find key %s in %s %s/%s" % (it['key'], kind[:-1], ns, ref['name']))
            out[it['path']] = data[it['key']]
        return out

    def downward_files(self, pod, src, ip):
        out = {}
        for it in src.get('items') or []:
            if 'fieldRef' in it:
                out[it['path']] = self.field_ref(pod, it['fieldRef']['fieldPath'], ip).encode()
        return out

    def prepare_volumes(self, w, pod):
        """{volume name: host directory} for the pod; ConfigError while one cannot be made yet."""
        ns = pod['metadata']['namespace']
        vols = {}
        for v in pod['spec'].get('volumes') or []:
            name = v['name']
            d = os.path.join(w.dir, 'volumes', name)
            if 'configMap' in v or 'secret' in v:
                kind = 'configmaps' if 'configMap' in v else 'secrets'
                src = dict(v['configMap'] if 'configMap' in v else v['secret'])
                if kind == 'secrets':
                    src['name'] = src.get('secretName')
                mode = int(src.get('defaultMode', 0o644 if kind == 'configmaps' else 0o644))
                self.write_files(d, self.projected_files(pod, ns, kind, src, w.ip), mode)
            elif 'emptyDir' in v:
                os.makedirs(d, exist_ok=True)
            elif 'downwardAPI' in v:
                self.write_files(d, self.downward_files(pod, v['downwardAPI'], w.ip), 0o644)
            elif 'projected' in v:
                files = {}
                for s in v['projected'].get('sources') or []:
                    if 'configMap' in s:
                        files.update(self.projected_files(pod, ns, 'configmaps', s['configMap'], w.ip))
                    elif 'secret' in s:
                        files.update(self.projected_files(pod, ns, 'secrets', s['secret'], w.ip))
                    elif 'downwardAPI' in s:
                        files.update(self.downward_files(pod, s['downwardAPI'], w.ip))
                    elif 'serviceAccountToken' in s:
                        files[s['serviceAccountToken'].get('path', 'token')] = self.api.token.encode()
                self.write_files(d, files, int(v['projected'].get('defaultMode', 0o644)))
            elif 'persistentVolumeClaim' in v:
                cname = v['persistentVolumeClaim']['claimName']
                pvc = self.pvcs.get(ns, cname)
                if pvc is None:
                    raise ConfigError('persistentvolumeclaim "%s" not found' % cname)
                if (pvc.get('status') or {}).get('phase') != 'Bound' or pvc['metadata'].get('deletionTimestamp'):
                    raise ConfigError('persistentvolumeclaim "%s" is not bound' % cname)
                d = self.pv_dir(pvc['metadata']['uid'])
                os.makedirs(d, exist_ok=True)
            elif 'hostPath' in v:
                d = v['hostPath']['path']
                if v['hostPath'].get('type') == 'DirectoryOrCreate':
                    os.makedirs(d, exist_ok=True)
            else:
                raise ConfigError('volume "%s": unsupported volume type' % name)
            vols[name] = d
        return vols

    def hosts_file(self, w, pod):
        """/etc/hosts of the pod: itself, the site's pods with a subdomain (StatefulSet
        pods of a headless service) and the services (no DNS server is emulated)."""
        lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback']
        hn = pod['spec'].get('hostname') or pod['metadata']['name']
        sub = pod['spec'].get('subdomain')
        ns = pod['metadata']['namespace']
        own = [hn]
        if sub:
            own.insert(0, '%s.%s.%s.svc.cluster.local' % (hn, sub, ns))
        lines.append('%s\t%s' % (w.ip, ' '.join(own)))
        for p in self.pods.list():
            sp, md = p.get('spec') or {}, p['metadata']
            ip = (p.get('status') or {}).get('podIP')
            if ip and sp.get('subdomain') and md['uid'] != w.uid:
                h = sp.get('hostname') or md['name']
                lines.append('%s\t%s.%s.%s.svc.cluster.local %s.%s.%s' % (
                    ip, h, sp['subdomain'], md['namespace'], h, sp['subdomain'], md['namespace']))
        for s in self.services.list():
            ip = (s.get('spec') or {}).get('clusterIP')
            if ip and ip != 'None':
                n, sns = s['metadata']['name'], s['metadata']['namespace']
                names = ['%s.%s.svc.cluster.local' % (n, sns), '%s.%s.svc' % (n, sns), '%s.%s' % (n, sns)]
                if sns == ns:
                    names.append(n)
                lines.append('%s\t%s' % (ip, ' '.join(names)))
        p = os.path.join(w.dir, 'hosts')
        text = '\n'.join(lines) + '\n'
        try:
            with open(p) as f:
                if f.read() == text:
                    return p
        except OSError:
            pass
        with open(p, 'w') as f:  # in place: a running container's bind mount sees the new text
            f.write(text)
        return p

    # --- the control loop -----------------------------------------------------------------

    def start(self):
        self.start_log_server()
        for inf in self.informers.values():
            inf.start()
        for inf in self.informers.values():
            if not inf.synced.wait(30):
                raise RuntimeError('the API server did not answer the list of ' + inf.plural)
        self.register_node()
        threading.Thread(target=self.loop, daemon=True, name='control-loop').start()

    def loop(self):
        last_beat = 0
        while not self.stopping:
            self.wake.wait(0.5)
            self.wake.clear()
            if self.stopping:
                break
            try:
                self.sts_controller.sync_all()
                self.schedule()
                self.provision_claims()
                self.sync_workers()
                self.sync_services()
                if time.time() - last_beat > 10:
                    self.heartbeat('True')
                    last_beat = time.time()
            except Exception:
                traceback.print_exc()

    def schedule(self):
        """Every pod without a node goes to this one (scheduling constraints are not looked at)."""
        for p in self.pods.list():
            md = p['metadata']
            if p['spec'].get('nodeName') or md.get('deletionTimestamp'):
                continue
            try:
                self.pods.upsert(self.api.patch(resource_path(CORE, 'pods', md['namespace'], md['name']),
                                                {'spec': {'nodeName': self.node_name}}))
            except ApiError as e:
                if e.code != 404:
                    self.log('scheduling %s/%s: %s' % (md['namespace'], md['name'], e))

    def provision_claims(self):
        """Binds new claims to a directory of the state dir; releases deleted ones once no pod uses them."""
        in_use = set()
        for p in self.pods.list():
            for v in p['spec'].get('volumes') or []:
                if 'persistentVolumeClaim' in v:
                    in_use.add((p['metadata']['namespace'], v['persistentVolumeClaim']['claimName']))
        with self.lock:
            for w in self.workers.values():
                if not w.finished.is_set():
                    in_use.update((w.ns, v['persistentVolumeClaim']['claimName'])
                                  for v in w.volume_specs if 'persistentVolumeClaim' in v)
        for pvc in self.pvcs.list():
            md = pvc['metadata']
            path = resource_path(CORE, 'persistentvolumeclaims', md['namespace'], md['name'])
            try:
                if md.get('deletionTimestamp'):
                    fins = md.get('finalizers') or []
                    if PVC_PROTECTION in fins and (md['namespace'], md['name']) not in in_use:
                        self.pvcs.upsert(self.api.patch(path, {'metadata': {
                            'finalizers': [f for f in fins if f != PVC_PROTECTION],
                            'resourceVersion': md['resourceVersion']}}))
                    continue
                if (pvc.get('status') or {}).get('phase') == 'Bound':
                    continue
                os.makedirs(self.pv_dir(md['uid']), exist_ok=True)
                fins = md.get('finalizers') or []
                patch = {'spec': {'volumeName': 'pvc-' + md['uid']},
                         'metadata': {'resourceVersion': md['resourceVersion']}}
                if PVC_PROTECTION not in fins:
                    patch['metadata']['finalizers'] = fins + [PVC_PROTECTION]
                if (pvc.get('spec') or {}).get('volumeName') != 'pvc-' + md['uid'] or PVC_PROTECTION not in fins:
                    pvc = self.api.patch(path, patch)
                    self.pvcs.upsert(pvc)
                req = ((pvc['spec'].get('resources') or {}).get('requests') or {}).get('storage', '1Gi')
                self.pvcs.upsert(self.api.patch(path + '/status', {'status': {
                    'phase': 'Bound', 'accessModes': pvc['spec'].get('accessModes') or ['ReadWriteOnce'],
                    'capacity': {'storage': req}}}))
                self.log('claim %s/%s bound to %s' % (md['namespace'], md['name'], self.pv_dir(md['uid'])))
            except ApiError as e:
                if e.code not in (404, 409):
                    self.log('claim %s/%s: %s' % (md['namespace'], md['name'], e))

    def sync_workers(self):
        with self.lock:
            for p in self.pods.list():
                md = p['metadata']
                if p['spec'].get('nodeName') != self.node_name or md['uid'] in self.workers:
                    continue
                if (p.get('status') or {}).get('phase') in ('Succeeded', 'Failed') and \
                        not md.get('deletionTimestamp'):
                    continue
                w = PodWorker(self, p)
                self.workers[md['uid']] = w
                w.start()
            for uid, w in list(self.workers.items()):
                if w.finished.is_set():
                    del self.workers[uid]

    def sync_services(self):
        for svc in self.services.list():
            spec, md = svc.get('spec') or {}, svc['metadata']
            if spec.get('type') == 'LoadBalancer':
                ip = self.lb_ip(md['uid'])
                ing = ((svc.get('status') or {}).get('loadBalancer') or {}).get('ingress') or []
                if [i.get('ip') for i in ing] != [ip]:
                    try:
                        self.services.upsert(self.api.patch(
                            resource_path(CORE, 'services', md['namespace'], md['name'], 'status'),
                            {'status': {'loadBalancer': {'ingress': [{'ip': ip, 'ipMode': 'VIP'}]}}}))
                    except ApiError as e:
                        self.log('service %s/%s: %s' % (md['namespace'], md['name'], e))
            self.sync_endpoints(svc)
        self.proxy.sync()

    def sync_endpoints(self, svc):
        spec, md = svc.get('spec') or {}, svc['metadata']
        if not spec.get('selector') or spec.get('type') == 'ExternalName':
            return
        ready = service_backends(dict(svc, spec=dict(spec, publishNotReadyAddresses=False)), self.pods.list())
        every = [p for p in self.pods.list(md['namespace']) if p['metadata']['name'] not in
                 {r['metadata']['name'] for r in ready} and (p.get('status') or {}).get('podIP') and
                 not p['metadata'].get('deletionTimestamp') and
                 all((p['metadata'].get('labels') or {}).get(k) == v for k, v in spec['selector'].items())]

        def addr(p):
            return {'ip': p['status']['podIP'], 'nodeName': self.node_name,
                    'targetRef': {'kind': 'Pod', 'namespace': p['metadata']['namespace'],
                                  'name': p['metadata']['name'], 'uid': p['metadata']['uid']}}
        sample = (ready or every or [None])[0]
        ports = []
        for sp in spec.get('ports') or []:
            port = target_port(sp, sample) if sample else None
            if port:
                e = {'port': port, 'protocol': sp.get('protocol', 'TCP')}
                if sp.get('name'):
                    e['name'] = sp['name']
                ports.append(e)
        subset = {}
        if ready:
            subset['addresses'] = [addr(p) for p in ready]
        if every:
            subset['notReadyAddresses'] = [addr(p) for p in every]
        subsets = [dict(subset, ports=ports)] if subset and ports else []
        key = (md['namespace'], md['name'])
        if self.endpoints_written.get(key) == subsets:
            return
        body = {'apiVersion': 'v1', 'kind': 'Endpoints',
                'metadata': {'name': md['name'], 'namespace': md['namespace'], 'labels': md.get('labels') or {}},
                'subsets': subsets}
        path = resource_path(CORE, 'endpoints', md['namespace'])
        try:
            try:
                self.api.update(path + '/' + md['name'], body)
            except ApiError as e:
                if e.code != 404:
                    raise
                self.api.create(path, body)
            self.endpoints_written[key] = subsets
        except ApiError as e:
            self.log('endpoints %s/%s: %s' % (md['namespace'], md['name'], e))

    # --- the Node object ------------------------------------------------------------------

    def node_status(self, ready):
        return {'addresses': [{'type': 'InternalIP', 'address': self.node_ip},
                              {'type': 'Hostname', 'address': self.node_name}],
                'capacity': {'cpu': str(os.cpu_count() or 1), 'memory': '8Gi', 'pods': '110',
                             'ephemeral-storage': '100Gi'},
                'allocatable': {'cpu': str(os.cpu_count() or 1), 'memory': '8Gi', 'pods': '110',
                                'ephemeral-storage': '100Gi'},
                'conditions': [{'type': 'Ready', 'status': ready, 'lastHeartbeatTime': now_str(),
                                'lastTransitionTime': self.ready_since,
                                'reason': 'KubeletReady' if ready == 'True' else 'NodeStatusUnknown',
                                'message': 'kubelet is posting ready status' if ready == 'True' else
                                'Kubelet stopped posting node status.'}],
                'daemonEndpoints': {'kubeletEndpoint': {'Port': self.server_address[1]}},
                'nodeInfo': {'kubeletVersion': 'v1.35.0-standin', 'kubeProxyVersion': 'v1.35.0-standin',
                             'operatingSystem': 'linux', 'architecture': 'amd64',
                             'containerRuntimeVersion': 'standin://1', 'osImage': 'tests/k8s/kubelet.py'}}

    def register_node(self):
        self.ready_since = now_str()
        labels = {'kubernetes.io/hostname': self.node_name, 'kubernetes.io/os': 'linux',
                  'kubernetes.io/arch': 'amd64'}
        labels.update(self.node_labels)
        body = {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': self.node_name, 'labels': labels}}
        try:
            self.api.create(resource_path(CORE, 'nodes'), body)
        except ApiError as e:
            if e.code != 409:
                raise
            self.api.patch(resource_path(CORE, 'nodes', name=self.node_name), {'metadata': {'labels': labels}})
        self.heartbeat('True')

    def heartbeat(self, ready):
        self.api.patch(resource_path(CORE, 'nodes', name=self.node_name, sub='status'),
                       {'status': self.node_status(ready)})

    # --- logs (the emulator proxies GET pods/<name>/log here) -----------------------------

    def log_files(self, ns, pod, container):
        """Log files of the newest pod of that name, oldest run first."""
        dirs = sorted(glob.glob(os.path.join(self.state_dir, 'logs', '%s_%s_*' % (ns, pod))),
                      key=os.path.getmtime)
        cur = self.pods.get(ns, pod)
        if cur is not None:
            d = self.log_dir(ns, pod, cur['metadata']['uid'])
            dirs = [d] if os.path.isdir(d) else []
        if not dirs:
            return []
        files = glob.glob(os.path.join(dirs[-1], container, '*.log'))
        return sorted(files, key=lambda f: int(os.path.basename(f).split('.')[0]))

    def start_log_server(self):
        kl = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query).items()}
                parts = u.path.strip('/').split('/')
                if len(parts) != 4 or parts[0] != 'containerLogs':
                    self.send_error(404)
                    return
                files = kl.log_files(parts[1], parts[2], parts[3])
                prev = q.get('previous') == 'true'
                files = files[-2:-1] if prev else files[-1:]
                if not files:
                    body = (('previous terminated container "%s" in pod "%s" not found' if prev else
                             'container "%s" in pod "%s" is waiting to start: ContainerCreating') % (
                        parts[3], parts[2])).encode()
                    self.send_response(400)
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                data = b''
                for f in files:
                    with open(f, 'rb') as fh:
                        data += fh.read()
                if q.get('tailLines'):
                    n = int(q['tailLines'])
                    lines = data.splitlines(keepends=True)
                    data = b''.join(lines[-n:]) if n > 0 else b''
                if q.get('limitBytes'):
                    data = data[:int(q['limitBytes'])]
                self.send_response(200)
                self.send_header('Content-Type', 'text/plain')
                if q.get('follow') != 'true' or not files:
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_header('Transfer-Encoding', 'chunked')
                self.end_headers()
                try:
                    if data:
                        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
                    with open(files[-1], 'rb') as fh:
                        fh.seek(0, 2)
                        while not kl.stopping:
                            chunk = fh.read(65536)
                            if chunk:
                                self.wfile.write(b'%x\r\n%s\r\n' % (len(chunk), chunk))
                                self.wfile.flush()
                                continue
                            if kl.log_files(parts[1], parts[2], parts[3])[-1:] != files[-1:]:
                                break  # the container restarted or the pod is gone
                            time.sleep(0.2)
                    self.wfile.write(b'0\r\n\r\n')
                except OSError:
                    pass
                self.close_connection = True

        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
        self.log_server = S((self.node_ip, 0), H)
        self.server_address = self.log_server.server_address
        threading.Thread(target=self.log_server.serve_forever, daemon=True, name='log-server').start()

    # --- shutdown -------------------------------------------------------------------------

    def stop(self):
        """Kills every container (SIGTERM, then SIGKILL after 5 s), marks the node NotReady."""
        self.stopping = True
        self.wake.set()
        with self.lock:
            workers = list(self.workers.values())
        for w in workers:
            w.wake.set()
        for w in workers:
            w.join(10)
        for w in workers:  # a worker stuck in an API call: kill its processes directly
            for c in w.containers:
                if c.proc is not None and c.proc.poll() is None:
                    w.signal(c, signal.SIGKILL, group=True)
        self.proxy.stop()
        for inf in self.informers.values():
            inf.stop()
        try:
            self.heartbeat('Unknown')
        except Exception:
            pass


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--kubeconfig', required=True, help='the kubeconfig the emulator wrote')
    ap.add_argument('--state-dir', required=True, help='volumes, logs and addresses of the site')
    ap.add_argument('--site-index', type=int, default=0, help='k: addresses 127.<k+10>.x.y (0..200)')
    ap.add_argument('--node-name', help='default: node-<site index>')
    ap.add_argument('--node-label', action='append', default=[], help='KEY=VALUE label of the Node (repeatable)')
    ap.add_argument('--garage-bin', default=os.environ.get('GARAGE_BIN'),
                    help='binary that images whose name contains "garage" run (default $GARAGE_BIN)')
    ap.add_argument('--image', action='append', default=[],
                    help='SUBSTRING=BINARY: images whose name contains SUBSTRING run BINARY (repeatable; '
                         'the longest match wins, before the --garage-bin mapping)')
    ap.add_argument('--backoff-base', type=float, default=10.0, help='first crash-loop back-off (seconds)')
    ap.add_argument('--backoff-max', type=float, default=300.0, help='longest crash-loop back-off (seconds)')
    a = ap.parse_args(argv)
    if not 0 <= a.site_index <= 200:
        ap.error('--site-index must be in 0..200')
    a.node_name = a.node_name or 'node-%d' % a.site_index
    kl = Kubelet(a)
    done = threading.Event()

    def on_signal(sig, frame):
        done.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    kl.start()
    print('kubelet ready: node %s at %s, log server port %d' % (kl.node_name, kl.node_ip, kl.server_address[1]),
          flush=True)
    while not done.wait(1):
        pass
    kl.stop()


if __name__ == '__main__':
    main()
