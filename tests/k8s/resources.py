"""Built-in resource types of the emulator and what the API server itself
does for them (defaulting, printer columns, list semantics for field
management and strategic merge patch)."""
import base64
import datetime
import ipaddress
import json
import re


class ResType:
    def __init__(self, group, version, kind, plural, namespaced=True, short_names=(), categories=(),
                 status=False, scale=None, singular=None, columns=None, schema=None, crd=None,
                 storage=None):
        self.group, self.version, self.kind, self.plural = group, version, kind, plural
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.categories = list(categories)
        self.status = status          # has the status subresource
        self.scale = scale            # {specReplicasPath, statusReplicasPath, labelSelectorPath}
        self.singular = singular or kind.lower()
        self.columns = columns        # list of (name, type, fn(obj), priority, description)
        self.schema = schema          # openAPIV3Schema (CRDs)
        self.crd = crd                # name of the CRD serving this type
        self.storage = storage or (group, plural)
        self.verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

    @property
    def gv(self):
        return self.group + '/' + self.version if self.group else self.version

    def qualified(self):
        return self.plural + ('.' + self.group if self.group else '')

    def qualified_kind(self):
        return self.kind + ('.' + self.group if self.group else '')

    def list_info(self, keys):
        if self.schema is not None and keys and keys[0] != 'metadata':
            from schema import schema_at
            s = schema_at(self.schema, list(keys))
            if isinstance(s, dict):
                lt = s.get('x-kubernetes-list-type')
                if lt == 'map':
                    return 'map', s.get('x-kubernetes-list-map-keys') or []
                if lt == 'set':
                    return 'set', None
            return 'atomic', None
        return builtin_list_info(keys)


_MAP_KEYS = {
    'containers': ['name'], 'initContainers': ['name'], 'ephemeralContainers': ['name'],
    'env': ['name'], 'volumes': ['name'], 'volumeMounts': ['mountPath'],
    'volumeDevices': ['devicePath'], 'conditions': ['type'], 'imagePullSecrets': ['name'],
    'ownerReferences': ['uid'], 'hostAliases': ['ip'], 'secrets': ['name'],
    'topologySpreadConstraints': ['topologyKey', 'whenUnsatisfiable'],
    'containerStatuses': ['name'], 'initContainerStatuses': ['name'],
}
_SETS = {'finalizers'}


def builtin_list_info(keys):
    if not keys:
        return 'atomic', None
    last = keys[-1]
    if last == 'ports':
        if 'containers' in keys or 'initContainers' in keys:
            return 'map', ['containerPort', 'protocol']
        if 'spec' in keys and len(keys) == 2:
            return 'map', ['port', 'protocol']
        return 'atomic', None
    if last in _MAP_KEYS:
        return 'map', _MAP_KEYS[last]
    if last in _SETS:
        return 'set', None
    return 'atomic', None


# --- printing helpers ---------------------------------------------------------

def now():
    return datetime.datetime.now(datetime.timezone.utc)


def rfc3339(t=None):
    return (t or now()).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_time(s):
    try:
        s = s.rstrip('Z').split('.')[0]
        return datetime.datetime.strptime(s, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    except (ValueError, AttributeError):
        return None


def human_duration(s):
    t = parse_time(s)
    if t is None:
        return '<unknown>'
    d = int((now() - t).total_seconds())
    if d < 0:
        return '<invalid>'
    if d < 120:
        return '%ds' % d
    m = d // 60
    if m < 10:
        return '%dm%ds' % (m, d % 60) if d % 60 else '%dm' % m
    if m < 180:
        return '%dm' % m
    h = m // 60
    if h < 8:
        return '%dh%dm' % (h, m % 60) if m % 60 else '%dh' % h
    if h < 48:
        return '%dh' % h
    return '%dd' % (h // 24)


def _g(o, *path, default=None):
    for p in path:
        if not isinstance(o, dict) or p not in o:
            return default
        o = o[p]
    return o


def age(o):
    return human_duration(_g(o, 'metadata', 'creationTimestamp'))


def _svc_ports(o):
    out = []
    for p in _g(o, 'spec', 'ports', default=[]) or []:
        s = '%s' % p.get('port')
        if p.get('nodePort'):
            s += ':%s' % p['nodePort']
        out.append(s + '/' + p.get('protocol', 'TCP'))
    return ','.join(out) or '<none>'


def _pod_ready(o):
    cs = _g(o, 'status', 'containerStatuses', default=[]) or []
    n = len(_g(o, 'spec', 'containers', default=[]) or [])
    return '%d/%d' % (sum(1 for c in cs if c.get('ready')), n)


def _pod_status(o):
    if _g(o, 'metadata', 'deletionTimestamp'):
        return 'Terminating'
    reason = _g(o, 'status', 'reason') or _g(o, 'status', 'phase', default='Unknown')
    for c in _g(o, 'status', 'containerStatuses', default=[]) or []:
        st = c.get('state') or {}
        if (st.get('waiting') or {}).get('reason'):
            reason = st['waiting']['reason']
        elif (st.get('terminated') or {}).get('reason'):
            reason = st['terminated']['reason']
    return reason


def _ext_ip(o):
    t = _g(o, 'spec', 'type', default='ClusterIP')
    if t == 'LoadBalancer':
        ing = _g(o, 'status', 'loadBalancer', 'ingress', default=[]) or []
        ips = [i.get('ip') or i.get('hostname') for i in ing]
        return ','.join(x for x in ips if x) or '<pending>'
    return ','.join(_g(o, 'spec', 'externalIPs', default=[]) or []) or '<none>'


def C(name, fn, type_='string', priority=0, description=''):
    return (name, type_, fn, priority, description)


NAME_COL = C('Name', lambda o: _g(o, 'metadata', 'name', default=''), 'string', 0,
             'Name must be unique within a namespace.')
AGE_COL = C('Age', age, 'string', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.')

BUILTIN_COLUMNS = {
    'namespaces': [C('Status', lambda o: _g(o, 'status', 'phase', default=''))],
    'configmaps': [C('Data', lambda o: len(o.get('data') or {}) + len(o.get('binaryData') or {}), 'integer')],
    'secrets': [C('Type', lambda o: o.get('type', '')), C('Data', lambda o: len(o.get('data') or {}), 'integer')],
    'services': [C('Type', lambda o: _g(o, 'spec', 'type', default='ClusterIP')),
                 C('Cluster-IP', lambda o: _g(o, 'spec', 'clusterIP', default='<none>')),
                 C('External-IP', _ext_ip), C('Port(s)', _svc_ports)],
    'pods': [C('Ready', _pod_ready), C('Status', _pod_status),
             C('Restarts', lambda o: sum(c.get('restartCount', 0) for c in _g(o, 'status', 'containerStatuses', default=[]) or []), 'integer'),
             ],
    'pods+wide': [C('IP', lambda o: _g(o, 'status', 'podIP', default='<none>'), 'string', 1),
                  C('Node', lambda o: _g(o, 'spec', 'nodeName', default='<none>'), 'string', 1)],
    'statefulsets+wide': [C('Containers', lambda o: ','.join(c.get('name', '') for c in _g(o, 'spec', 'template', 'spec', 'containers', default=[]) or []), 'string', 1),
                          C('Images', lambda o: ','.join(c.get('image', '') for c in _g(o, 'spec', 'template', 'spec', 'containers', default=[]) or []), 'string', 1)],
    'statefulsets': [C('Ready', lambda o: '%d/%d' % (_g(o, 'status', 'readyReplicas', default=0) or 0,
                                                     _g(o, 'spec', 'replicas', default=0) or 0))],
    'poddisruptionbudgets': [C('Min Available', lambda o: str(_g(o, 'spec', 'minAvailable', default='N/A'))),
                             C('Max Unavailable', lambda o: str(_g(o, 'spec', 'maxUnavailable', default='N/A'))),
                             C('Allowed Disruptions', lambda o: _g(o, 'status', 'disruptionsAllowed', default=0), 'integer')],
    'leases': [C('Holder', lambda o: _g(o, 'spec', 'holderIdentity', default=''))],
    'persistentvolumeclaims': [C('Status', lambda o: _g(o, 'status', 'phase', default='')),
                               C('Volume', lambda o: _g(o, 'spec', 'volumeName', default='')),
                               C('Capacity', lambda o: _g(o, 'status', 'capacity', 'storage', default='')),
                               C('StorageClass', lambda o: _g(o, 'spec', 'storageClassName', default=''))],
    'customresourcedefinitions': [C('Created At', lambda o: _g(o, 'metadata', 'creationTimestamp', default=''), 'date')],
    'serviceaccounts': [C('Secrets', lambda o: len(o.get('secrets') or []), 'integer')],
    'nodes': [C('Status', lambda o: 'Ready' if any(c.get('type') == 'Ready' and c.get('status') == 'True'
                                                   for c in _g(o, 'status', 'conditions', default=[]) or []) else 'NotReady')],
}
EVENT_COLUMNS = [
    C('Last Seen', lambda o: human_duration(o.get('lastTimestamp') or o.get('eventTime') or
                                            _g(o, 'metadata', 'creationTimestamp'))),
    C('Type', lambda o: o.get('type', '')), C('Reason', lambda o: o.get('reason', '')),
    C('Object', lambda o: '%s/%s' % ((_g(o, 'involvedObject', 'kind', default='') or '').lower(),
                                     _g(o, 'involvedObject', 'name', default=''))),
    C('Message', lambda o: o.get('message', '')),
]


def builtin_types():
    t = []
    core = ''
    t.append(ResType(core, 'v1', 'Namespace', 'namespaces', False, ['ns'], status=True))
    t.append(ResType(core, 'v1', 'ConfigMap', 'configmaps', True, ['cm']))
    t.append(ResType(core, 'v1', 'Secret', 'secrets', True))
    t.append(ResType(core, 'v1', 'Service', 'services', True, ['svc'], ['all'], status=True))
    t.append(ResType(core, 'v1', 'Pod', 'pods', True, ['po'], ['all'], status=True))
    t.append(ResType(core, 'v1', 'ServiceAccount', 'serviceaccounts', True, ['sa']))
    t.append(ResType(core, 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', True, ['pvc'], status=True))
    t.append(ResType(core, 'v1', 'Event', 'events', True, ['ev'], storage=('', 'events')))
    t.append(ResType(core, 'v1', 'Endpoints', 'endpoints', True, ['ep']))
    t.append(ResType(core, 'v1', 'Node', 'nodes', False, ['no'], status=True))
    t.append(ResType('apps', 'v1', 'StatefulSet', 'statefulsets', True, ['sts'], ['all'], status=True,
                     scale={'specReplicasPath': '.spec.replicas', 'statusReplicasPath': '.status.replicas',
                            'labelSelectorPath': None}))
    t.append(ResType('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', True, ['pdb'], status=True))
    t.append(ResType('coordination.k8s.io', 'v1', 'Lease', 'leases', True))
    t.append(ResType('events.k8s.io', 'v1', 'Event', 'events', True, ['ev'], storage=('', 'events')))
    t.append(ResType('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions',
                     False, ['crd', 'crds'], ['api-extensions'], status=True))
    for r in t:
        if r.plural == 'events':
            r.columns = EVENT_COLUMNS
        elif r.plural == 'customresourcedefinitions':
            r.columns = [NAME_COL] + BUILTIN_COLUMNS[r.plural]
        else:
            r.columns = [NAME_COL] + BUILTIN_COLUMNS.get(r.plural, []) + [AGE_COL] + \
                BUILTIN_COLUMNS.get(r.plural + '+wide', [])
    return t


# --- events: core/v1 <-> events.k8s.io/v1 ---------------------------------------------

def event_to_core(e):
    """An events.k8s.io/v1 Event in core/v1 shape (the storage form)."""
    out = {k: v for k, v in e.items() if k in ('metadata', 'reason', 'type', 'action', 'related',
                                               'reportingInstance', 'eventTime', 'series')}
    out['apiVersion'], out['kind'] = 'v1', 'Event'
    if 'regarding' in e:
        out['involvedObject'] = e['regarding']
    if 'note' in e:
        out['message'] = e['note']
    if 'reportingController' in e:
        out['reportingComponent'] = e['reportingController']
    src = e.get('deprecatedSource')
    if src:
        out['source'] = src
    for a, b in (('deprecatedFirstTimestamp', 'firstTimestamp'), ('deprecatedLastTimestamp', 'lastTimestamp'),
                 ('deprecatedCount', 'count')):
        if a in e:
            out[b] = e[a]
    if 'series' in e and isinstance(e['series'], dict):
        out['count'] = e['series'].get('count', out.get('count'))
        out['lastTimestamp'] = e['series'].get('lastObservedTime', '').split('.')[0].rstrip('Z') + 'Z' \
            if e['series'].get('lastObservedTime') else out.get('lastTimestamp')
    if 'source' not in out and e.get('reportingController'):
        out['source'] = {'component': e['reportingController']}
    return out


def event_from_core(c):
    out = {k: v for k, v in c.items() if k in ('metadata', 'reason', 'type', 'action', 'related',
                                               'reportingInstance', 'eventTime', 'series')}
    out['apiVersion'], out['kind'] = 'events.k8s.io/v1', 'Event'
    if 'involvedObject' in c:
        out['regarding'] = c['involvedObject']
    if 'message' in c:
        out['note'] = c['message']
    if c.get('reportingComponent'):
        out['reportingController'] = c['reportingComponent']
    if 'source' in c:
        out['deprecatedSource'] = c['source']
    for a, b in (('deprecatedFirstTimestamp', 'firstTimestamp'), ('deprecatedLastTimestamp', 'lastTimestamp'),
                 ('deprecatedCount', 'count')):
        if b in c:
            out[a] = c[b]
    return out


# --- defaulting and validation of built-ins ------------------------------------------

_DNS1123_SUB = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
_DNS1123_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')


def validate_name(rt, name):
    """Field error message for metadata.name, or None."""
    label = rt.plural in ('namespaces', 'services')
    if rt.plural == 'events':
        return None
    if label:
        if len(name) > 63 or not _DNS1123_LABEL.match(name):
            return ('a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', '
                    'and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', '
                    'regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')')
        return None
    if len(name) > 253 or not _DNS1123_SUB.match(name):
        return ('a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', '
                'and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for '
                'validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')')
    return None


class Allocator:
    def __init__(self, service_cidr=None):
        self.next_ip = 10
        self.next_port = 30000
        self.net = ipaddress.ip_network(service_cidr) if service_cidr else None

    def cluster_ip(self):
        self.next_ip += 1
        n = self.next_ip
        if self.net is not None:
            # the kubelet stand-in proxies services on loopback: its cluster IPs are 127.x.y.z
            if n >= self.net.num_addresses - 1:
                raise RuntimeError('service CIDR %s is full' % self.net)
            return str(self.net.network_address + n)
        return '10.96.%d.%d' % (n // 250, n % 250 + 1)

    def node_port(self, used):
        while self.next_port in used:
            self.next_port += 1
        p = self.next_port
        self.next_port += 1
        return p


# types whose objects carry no metadata.generation in the real API
NO_GENERATION = {'configmaps', 'secrets', 'serviceaccounts', 'events', 'leases', 'namespaces', 'endpoints', 'nodes'}


def default_pod_spec(spec):
    spec.setdefault('restartPolicy', 'Always')
    spec.setdefault('terminationGracePeriodSeconds', 30)
    spec.setdefault('dnsPolicy', 'ClusterFirst')
    spec.setdefault('schedulerName', 'default-scheduler')
    spec.setdefault('securityContext', {})
    for c in (spec.get('containers') or []) + (spec.get('initContainers') or []):
        if not isinstance(c, dict):
            continue
        c.setdefault('imagePullPolicy', 'Always' if ':' not in str(c.get('image', '')).rsplit('/', 1)[-1] or
                     str(c.get('image', '')).endswith(':latest') else 'IfNotPresent')
        c.setdefault('terminationMessagePath', '/dev/termination-log')
        c.setdefault('terminationMessagePolicy', 'File')
        c.setdefault('resources', {})
        for p in c.get('ports') or []:
            if isinstance(p, dict):
                p.setdefault('protocol', 'TCP')


def default_builtin(rt, obj, old, alloc, used_node_ports):
    """What the real API server's defaulting and registry strategies add.
    Returns a list of (field, message) validation errors."""
    errs = []
    spec = obj.get('spec')
    if rt.plural == 'namespaces':
        obj.setdefault('spec', {}).setdefault('finalizers', ['kubernetes'])
        st = obj.setdefault('status', {})
        st.setdefault('phase', 'Active')
        obj['metadata'].setdefault('labels', {})['kubernetes.io/metadata.name'] = obj['metadata']['name']
    elif rt.plural == 'secrets':
        obj.setdefault('type', 'Opaque')
        sd = obj.pop('stringData', None)
        if sd:
            data = obj.setdefault('data', {})
            for k, v in sd.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
        for k, v in (obj.get('data') or {}).items():
            try:
                base64.b64decode(v or '', validate=True)
            except Exception:
                errs.append(('data[%s]' % k, 'Invalid value: illegal base64 data'))
    elif rt.plural == 'services':
        spec = obj.setdefault('spec', {})
        spec.setdefault('type', 'ClusterIP')
        spec.setdefault('sessionAffinity', 'None')
        if spec['type'] != 'ExternalName':
            if old and _g(old, 'spec', 'clusterIP'):
                spec.setdefault('clusterIP', old['spec']['clusterIP'])
            if not spec.get('clusterIP'):
                spec['clusterIP'] = alloc.cluster_ip()
            spec['clusterIPs'] = [spec['clusterIP']]
            spec.setdefault('ipFamilies', ['IPv4'])
            spec.setdefault('ipFamilyPolicy', 'SingleStack')
            spec.setdefault('internalTrafficPolicy', 'Cluster')
        old_ports = {(p.get('port'), p.get('protocol', 'TCP')): p for p in (_g(old, 'spec', 'ports', default=[]) or [])} if old else {}
        for p in spec.get('ports') or []:
            p.setdefault('protocol', 'TCP')
            p.setdefault('targetPort', p.get('port'))
            if spec['type'] in ('NodePort', 'LoadBalancer') and not p.get('nodePort'):
                op = old_ports.get((p.get('port'), p['protocol']))
                p['nodePort'] = op['nodePort'] if op and op.get('nodePort') else alloc.node_port(used_node_ports)
            if spec['type'] in ('ClusterIP', 'ExternalName') and 'nodePort' in p:
                del p['nodePort']
        if spec['type'] in ('NodePort', 'LoadBalancer'):
            spec.setdefault('externalTrafficPolicy', 'Cluster')
        obj.setdefault('status', {}).setdefault('loadBalancer', {})
    elif rt.plural == 'pods':
        spec = obj.setdefault('spec', {})
        default_pod_spec(spec)
        spec.setdefault('serviceAccountName', 'default')
        if not old:
            obj.setdefault('status', {}).setdefault('phase', 'Pending')
    elif rt.plural == 'statefulsets':
        spec = obj.setdefault('spec', {})
        if isinstance(_g(spec, 'template', 'spec'), dict):
            default_pod_spec(spec['template']['spec'])
        spec.setdefault('replicas', 1)
        spec.setdefault('podManagementPolicy', 'OrderedReady')
        spec.setdefault('updateStrategy', {'type': 'RollingUpdate', 'rollingUpdate': {'partition': 0}})
        spec.setdefault('revisionHistoryLimit', 10)
        spec.setdefault('persistentVolumeClaimRetentionPolicy', {'whenDeleted': 'Retain', 'whenScaled': 'Retain'})
        if not spec.get('selector'):
            errs.append(('spec.selector', 'Required value'))
        tl = _g(spec, 'template', 'metadata', 'labels', default={}) or {}
        ml = _g(spec, 'selector', 'matchLabels', default={}) or {}
        if ml and any(tl.get(k) != v for k, v in ml.items()):
            errs.append(('spec.template.metadata.labels', 'Invalid value: %s: `selector` does not match template `labels`' % json.dumps(tl)))
        if not old:
            obj.setdefault('status', {}).setdefault('replicas', 0)
            obj['status'].setdefault('availableReplicas', 0)
    elif rt.plural == 'persistentvolumeclaims':
        spec = obj.setdefault('spec', {})
        spec.setdefault('volumeMode', 'Filesystem')
        if not old:
            obj.setdefault('status', {}).setdefault('phase', 'Pending')
    elif rt.plural == 'poddisruptionbudgets':
        spec = obj.setdefault('spec', {})
        if 'minAvailable' in spec and 'maxUnavailable' in spec:
            errs.append(('spec', 'Invalid value: minAvailable and maxUnavailable cannot be both set'))
    return errs


def selector_string(sel):
    """A LabelSelector object as a selector string (for scale status)."""
    if isinstance(sel, str):
        return sel
    if not isinstance(sel, dict):
        return ''
    parts = ['%s=%s' % (k, v) for k, v in sorted((sel.get('matchLabels') or {}).items())]
    for e in sel.get('matchExpressions') or []:
        op = e.get('operator')
        if op == 'In':
            parts.append('%s in (%s)' % (e['key'], ','.join(e.get('values') or [])))
        elif op == 'NotIn':
            parts.append('%s notin (%s)' % (e['key'], ','.join(e.get('values') or [])))
        elif op == 'Exists':
            parts.append(e['key'])
        elif op == 'DoesNotExist':
            parts.append('!' + e['key'])
    return ','.join(parts)
