"""Start an emulated cluster (apiserver.py) from Python and drive it with the
real kubectl (v1.35, installed by hack/k8s-tools.sh) or raw HTTP as client-go
does. Reusable by other tests: sys.path.insert(0, tests/k8s); import emulator."""
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTDATA = os.path.join(HERE, 'testdata')


def kubectl_path():
    p = os.path.join(REPO, '.tools', 'bin', 'kubectl')
    if not os.access(p, os.X_OK):
        subprocess.run(['bash', os.path.join(REPO, 'hack', 'k8s-tools.sh')], check=True, stdout=subprocess.DEVNULL)
    return p


class Emulator:
    """One emulated cluster: the apiserver.py process, its kubeconfig, kubectl and raw HTTP."""

    def __init__(self, workdir, name='site-a', token='test-token', args=(), site_index=None):
        """`site_index` k: Service cluster IPs in 127.<k+10>.128.0/17, for the kubelet
        stand-in of that site (Kubelet below), which proxies them on loopback."""
        if site_index is not None:
            args = ['--service-cidr', '127.%d.128.0/17' % (site_index + 10)] + list(args)
        self.site_index = site_index
        self.dir = workdir
        self.name = name
        self.token = token
        self.kubeconfig = os.path.join(workdir, name + '.kubeconfig')
        self.cache = os.path.join(workdir, name + '-kubectl-cache')
        self.log = open(os.path.join(workdir, name + '.log'), 'w')
        if os.path.exists(self.kubeconfig):
            os.unlink(self.kubeconfig)  # a stale one (an earlier run in this directory) names an old port
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, 'apiserver.py'), '--port', '0', '--token', token, '--name', name,
             '--kubeconfig-out', self.kubeconfig, '--tls-dir', os.path.join(workdir, name + '-tls')] + list(args),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while not os.path.exists(self.kubeconfig):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('emulator did not start: ' + open(self.log.name).read())
            time.sleep(0.05)
        text = open(self.kubeconfig).read()
        self.server = [l.split('server:')[1].strip() for l in text.splitlines() if 'server:' in l][0]
        self.ca = os.path.join(workdir, name + '-tls', 'ca.crt')
        self.ctx = ssl.create_default_context(cafile=self.ca)
        self.kubectl_bin = kubectl_path()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def kubectl(self, *args, input=None, check=True, timeout=60):
        cmd = [self.kubectl_bin, '--kubeconfig', self.kubeconfig, '--cache-dir', self.cache] + list(args)
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError('kubectl %s failed (%d):\n%s%s' % (' '.join(args), r.returncode, r.stdout, r.stderr))
        return r

    def request(self, method, path, body=None, ctype='application/json', token=None, raw=False, timeout=30):
        """Raw HTTP as client-go does it. Returns (status, parsed body, headers)."""
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header('Authorization', 'Bearer ' + (self.token if token is None else token))
        req.add_header('Accept', 'application/json')
        if data is not None:
            req.add_header('Content-Type', ctype)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as r:
                payload = r.read()
                return r.status, (payload if raw else json.loads(payload or b'null')), r.headers
        except urllib.error.HTTPError as e:
            payload = e.read()
            return e.code, json.loads(payload or b'null'), e.headers

    def watch(self, path, timeout=10):
        """Opens a watch; yields decoded events (one JSON object per line)."""
        req = urllib.request.Request(self.server + path)
        req.add_header('Authorization', 'Bearer ' + self.token)
        r = urllib.request.urlopen(req, context=self.ctx, timeout=timeout)
        return r


class Kubelet:
    """The kubelet stand-in (kubelet.py) of an emulated site: its StatefulSets, pods
    (real processes), volumes and Services. Needs an Emulator made with site_index."""

    def __init__(self, emu, garage_bin=None, args=(), node_name=None):
        assert emu.site_index is not None, 'the Emulator needs a site_index'
        self.emu = emu
        self.state_dir = os.path.join(emu.dir, emu.name + '-node')
        self.node_name = node_name or emu.name + '-node'
        self.log_path = os.path.join(emu.dir, emu.name + '-kubelet.log')
        self.log = open(self.log_path, 'w')
        cmd = [sys.executable, os.path.join(HERE, 'kubelet.py'), '--kubeconfig', emu.kubeconfig,
               '--state-dir', self.state_dir, '--site-index', str(emu.site_index), '--node-name', self.node_name]
        if garage_bin:
            cmd += ['--garage-bin', str(garage_bin)]
        self.proc = subprocess.Popen(cmd + list(args), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while 'kubelet ready' not in open(self.log_path).read():
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError('kubelet did not start: ' + open(self.log_path).read())
            time.sleep(0.1)
        self.node_ip = '127.%d.0.1' % (emu.site_index + 10)

    def stop(self):
        """Stops the kubelet, which kills its containers first (their processes also die
        with it if it is killed: PR_SET_PDEATHSIG)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
