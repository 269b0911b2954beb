"""A small Kubernetes API client for the stand-ins of tests/k8s (kubelet.py):
the kubeconfig the emulator writes (server, CA data, bearer token), plain
REST calls, and informers (list, then watch from the list's resourceVersion
with bookmarks, re-list on 410 Gone or a broken stream) keeping a local
cache, as client-go's controllers do. Python standard library + PyYAML."""
import base64
import collections
import http.client
import json
import ssl
import threading
import time
import urllib.parse

import yaml


class ApiError(Exception):
    def __init__(self, code, body):
        self.code = code
        self.body = body if isinstance(body, dict) else {}
        super().__init__('%d %s' % (code, self.body.get('message') or body))

    @property
    def reason(self):
        return self.body.get('reason', '')


def load_kubeconfig(path):
    """(server URL, CA PEM text, token) of the current context."""
    with open(path) as f:
        kc = yaml.safe_load(f)
    ctx_name = kc.get('current-context')
    ctx = next(c['context'] for c in kc['contexts'] if c['name'] == ctx_name)
    cluster = next(c['cluster'] for c in kc['clusters'] if c['name'] == ctx['cluster'])
    user = next(u['user'] for u in kc['users'] if u['name'] == ctx['user'])
    ca = base64.b64decode(cluster['certificate-authority-data']).decode()
    return cluster['server'], ca, user.get('token', '')


def resource_path(api, plural, ns=None, name=None, sub=None):
    """`api` is '/api/v1' or '/apis/<group>/<version>'."""
    p = api
    if ns:
        p += '/namespaces/' + ns
    p += '/' + plural
    if name:
        p += '/' + name
    if sub:
        p += '/' + sub
    return p


class Api:
    """REST calls with the kubeconfig's token; one kept-alive connection per thread."""

    def __init__(self, kubeconfig, user_agent='kubelet-standin/1.35'):
        server, ca, self.token = load_kubeconfig(kubeconfig)
        u = urllib.parse.urlsplit(server)
        self.host, self.port = u.hostname, u.port or 443
        self.ctx = ssl.create_default_context(cadata=ca)
        self.ctx.check_hostname = False  # the emulator's certificate names its listen address
        self.user_agent = user_agent
        self.local = threading.local()

    def connect(self, timeout=30):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def headers(self, ctype=None):
        h = {'Authorization': 'Bearer ' + self.token, 'Accept': 'application/json',
             'User-Agent': self.user_agent}
        if ctype:
            h['Content-Type'] = ctype
        return h

    def request(self, method, path, body=None, ctype='application/json', query=None):
        if query:
            path += '?' + urllib.parse.urlencode(query)
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        for attempt in range(3):
            conn = getattr(self.local, 'conn', None)
            if conn is None:
                conn = self.local.conn = self.connect()
            try:
                conn.request(method, path, body=data, headers=self.headers(ctype if data is not None else None))
                r = conn.getresponse()
                payload = r.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.2)
        try:
            obj = json.loads(payload) if payload else None
        except ValueError:
            obj = {'message': payload.decode(errors='replace')}
        if r.status >= 400:
            raise ApiError(r.status, obj)
        return obj

    def get(self, path, **q):
        return self.request('GET', path, query=q or None)

    def create(self, path, obj):
        return self.request('POST', path, obj)

    def update(self, path, obj):
        return self.request('PUT', path, obj)

    def patch(self, path, patch, ptype='merge'):
        ctype = {'merge': 'application/merge-patch+json', 'strategic': 'application/strategic-merge-patch+json',
                 'json': 'application/json-patch+json'}[ptype]
        return self.request('PATCH', path, patch, ctype)

    def delete(self, path, grace=None, uid=None, propagation=None):
        opts = {'kind': 'DeleteOptions', 'apiVersion': 'v1'}
        if grace is not None:
            opts['gracePeriodSeconds'] = grace
        if uid:
            opts['preconditions'] = {'uid': uid}
        if propagation:
            opts['propagationPolicy'] = propagation
        return self.request('DELETE', path, opts)


def rv_of(o):
    try:
        return int(o['metadata'].get('resourceVersion') or 0)
    except (TypeError, ValueError):
        return 0


class Informer(threading.Thread):
    """A cache of one resource type, kept by list + watch. `on_change(kind,
    old, new)` is called (from this thread) for every change; `synced` is set
    once the first list is in."""

    def __init__(self, api, group_version, plural, on_change=None, namespace=None, bookmark_timeout=60):
        super().__init__(daemon=True, name='informer-' + plural)
        self.api, self.gv, self.plural = api, group_version, plural
        self.namespace = namespace
        self.on_change = on_change or (lambda kind, old, new: None)
        self.lock = threading.RLock()
        self.store = {}
        self.gone = collections.OrderedDict()  # uids removed by remove(): late events must not revive them
        self.synced = threading.Event()
        self.stopping = False
        self.read_timeout = bookmark_timeout

    @staticmethod
    def key(o):
        md = o['metadata']
        return md.get('namespace', ''), md['name']

    # --- reading the cache ---------------------------------------------------------------

    def get(self, ns, name):
        with self.lock:
            return self.store.get((ns, name))

    def list(self, ns=None):
        with self.lock:
            return [o for (n, _), o in self.store.items() if ns is None or n == ns]

    # --- writes seen before their watch event (a controller's own writes) -----------------

    def upsert(self, obj):
        if not obj or 'metadata' not in obj:
            return
        k = self.key(obj)
        with self.lock:
            old = self.store.get(k)
            if old is not None and rv_of(old) >= rv_of(obj):
                return
            if old is None and obj['metadata'].get('uid') in self.gone:
                return
            self.store[k] = obj
        self.on_change('MODIFIED' if old else 'ADDED', old, obj)

    def remove(self, obj):
        k = self.key(obj)
        with self.lock:
            old = self.store.get(k)
            if old is None or old['metadata'].get('uid') != obj['metadata'].get('uid'):
                return
            del self.store[k]
            self.gone[old['metadata'].get('uid')] = True
            while len(self.gone) > 1000:
                self.gone.popitem(last=False)
        self.on_change('DELETED', old, None)

    # --- list + watch ---------------------------------------------------------------------

    def run(self):
        while not self.stopping:
            try:
                rv = self.relist()
                self.synced.set()
                self.watch(rv)
            except Exception:  # the API went away or the stream broke: list again
                if self.stopping:
                    return
                time.sleep(0.5)

    def relist(self):
        lst = self.api.get(resource_path(self.gv, self.plural, self.namespace))
        fresh = {self.key(o): o for o in lst.get('items') or []}
        with self.lock:
            old_store, self.store = self.store, fresh
        for k, o in fresh.items():
            old = old_store.get(k)
            if old is None or old['metadata'].get('resourceVersion') != o['metadata'].get('resourceVersion'):
                self.on_change('MODIFIED' if old else 'ADDED', old, o)
        for k, o in old_store.items():
            if k not in fresh:
                self.on_change('DELETED', o, None)
        return lst['metadata']['resourceVersion']

    def watch(self, rv):
        conn = self.api.connect(timeout=self.read_timeout)
        try:
            q = urllib.parse.urlencode({'watch': 'true', 'resourceVersion': rv, 'allowWatchBookmarks': 'true',
                                        'timeoutSeconds': '600'})
            conn.request('GET', resource_path(self.gv, self.plural, self.namespace) + '?' + q,
                         headers=self.api.headers())
            r = conn.getresponse()
            if r.status != 200:
                raise ApiError(r.status, r.read())
            while not self.stopping:
                line = r.readline()
                if not line:
                    return  # the server ended the watch: list again
                ev = json.loads(line)
                t, o = ev.get('type'), ev.get('object') or {}
                if t == 'ERROR':
                    return  # 410 Gone and friends
                if t == 'BOOKMARK':
                    continue
                k = self.key(o)
                with self.lock:
                    old = self.store.get(k)
                    if t == 'DELETED':
                        if old is not None and rv_of(old) <= rv_of(o):
                            del self.store[k]
                        else:
                            continue
                    else:
                        if old is not None and rv_of(old) >= rv_of(o):
                            continue
                        if old is None and o['metadata'].get('uid') in self.gone:
                            continue
                        self.store[k] = o
                self.on_change(t, old, None if t == 'DELETED' else o)
        finally:
            conn.close()

    def stop(self):
        self.stopping = True
