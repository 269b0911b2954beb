"""The kube-proxy of the kubelet stand-in (kubelet.py): a TCP proxy per
Service port. ClusterIP services listen on spec.clusterIP:port, NodePort (and
LoadBalancer) services also on the node's address:nodePort, LoadBalancer
services also on status.loadBalancer.ingress[].ip:port. Each connection goes
to a ready pod matching the selector (running but unready ones too with
publishNotReadyAddresses), round robin, resolved when the connection is
accepted, so it follows pods as they come and go. targetPort may be a number
or the name of a container port. Headless (clusterIP: None), ExternalName,
selector-less services and UDP ports get no proxy. Connections already open
are not cut when their pod goes away (the process going away does that)."""
import itertools
import socket
import threading

from statefulset import is_running_and_ready


def selector_matches(sel, labels):
    return bool(sel) and all(labels.get(k) == v for k, v in sel.items())


def service_backends(svc, pods):
    """Pods (sorted by name) that traffic of `svc` may go to."""
    sel = (svc.get('spec') or {}).get('selector') or {}
    ns = svc['metadata']['namespace']
    not_ready_ok = (svc.get('spec') or {}).get('publishNotReadyAddresses')
    out = []
    for p in pods:
        if p['metadata'].get('namespace') != ns or not selector_matches(sel, p['metadata'].get('labels') or {}):
            continue
        st = p.get('status') or {}
        if not st.get('podIP') or p['metadata'].get('deletionTimestamp'):
            continue
        if is_running_and_ready(p) or (not_ready_ok and st.get('phase') == 'Running'):
            out.append(p)
    return sorted(out, key=lambda p: p['metadata']['name'])


def target_port(svc_port, pod):
    tp = svc_port.get('targetPort', svc_port.get('port'))
    if isinstance(tp, int) or (isinstance(tp, str) and tp.isdigit()):
        return int(tp)
    for c in (pod.get('spec') or {}).get('containers') or []:
        for p in c.get('ports') or []:
            if p.get('name') == tp:
                return int(p['containerPort'])
    return None


def _pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Listener(threading.Thread):
    def __init__(self, addr, resolve, log):
        super().__init__(daemon=True, name='proxy-%s:%d' % addr)
        self.addr = addr
        self.resolve = resolve  # () -> list of (ip, port) to try in order
        self.log = log
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(addr)
        self.sock.listen(128)
        self.closed = False

    def run(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        for ip, port in self.resolve():
            try:
                up = socket.create_connection((ip, port), timeout=3)
            except OSError:
                continue
            up.settimeout(None)
            threading.Thread(target=_pump, args=(conn, up), daemon=True).start()
            _pump(up, conn)
            return
        conn.close()  # no endpoint: the client sees the connection closed

    def close(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Proxy:
    def __init__(self, node_ip, services, pods, log):
        self.node_ip = node_ip
        self.services, self.pods = services, pods
        self.log = log
        self.listeners = {}  # (ip, port) -> (Listener, service key, port name/number)
        self.rr = itertools.count()
        self.failed = set()

    def resolver(self, ns, name, port_key):
        def resolve():
            svc = self.services.get(ns, name)
            if svc is None:
                return []
            sp = next((p for p in svc['spec'].get('ports') or [] if (p.get('name') or '', p['port']) == port_key), None)
            if sp is None:
                return []
            backends = service_backends(svc, self.pods.list(ns))
            if not backends:
                return []
            start = next(self.rr) % len(backends)
            out = []
            for p in backends[start:] + backends[:start]:
                port = target_port(sp, p)
                if port:
                    out.append((p['status']['podIP'], port))
            return out
        return resolve

    def desired(self):
        want = {}
        for svc in self.services.list():
            spec = svc.get('spec') or {}
            t = spec.get('type', 'ClusterIP')
            ip = spec.get('clusterIP')
            if t == 'ExternalName' or not ip or ip == 'None' or not spec.get('selector'):
                continue
            key = (svc['metadata']['namespace'], svc['metadata']['name'])
            lb_ips = [i.get('ip') for i in ((svc.get('status') or {}).get('loadBalancer') or {}).get('ingress') or []
                      if i.get('ip')]
            for p in spec.get('ports') or []:
                if p.get('protocol', 'TCP') != 'TCP':
                    continue
                pk = (p.get('name') or '', p['port'])
                want[(ip, int(p['port']))] = (key, pk)
                if t in ('NodePort', 'LoadBalancer') and p.get('nodePort'):
                    want[(self.node_ip, int(p['nodePort']))] = (key, pk)
                if t == 'LoadBalancer':
                    for lb in lb_ips:
                        want[(lb, int(p['port']))] = (key, pk)
        return want

    def sync(self):
        want = self.desired()
        for addr in list(self.listeners):
            l, key, pk = self.listeners[addr]
            if want.get(addr) != (key, pk):
                l.close()
                del self.listeners[addr]
        for addr, (key, pk) in want.items():
            if addr in self.listeners:
                continue
            try:
                l = Listener(addr, self.resolver(key[0], key[1], pk), self.log)
            except OSError as e:
                if addr not in self.failed:
                    self.log('proxy: cannot listen on %s:%d for service %s/%s: %s' % (addr + key + (e,)))
                    self.failed.add(addr)
                continue
            self.failed.discard(addr)
            l.start()
            self.listeners[addr] = (l, key, pk)

    def stop(self):
        for l, _, _ in self.listeners.values():
            l.close()
        self.listeners.clear()
