"""Decoding of the Kubernetes protobuf encoding for the few types kubectl's
typed clients POST/PUT as protobuf (kubectl create configmap / secret /
namespace / serviceaccount / service). Answers are always JSON (kubectl
accepts both). Other types in protobuf get 415 Unsupported Media Type."""
import base64
import datetime
import struct

MAGIC = b'k8s\x00'


class ProtoError(Exception):
    pass


def _varint(b, i):
    shift = v = 0
    while True:
        if i >= len(b):
            raise ProtoError('truncated varint')
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        if not c & 0x80:
            return v, i
        shift += 7


def _fields(b):
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ProtoError('unsupported wire type %d' % wt)
        yield num, wt, v


def _time(b):
    secs = 0
    for n, _, v in _fields(b):
        if n == 1:
            secs = v if v < 1 << 63 else v - (1 << 64)
    return datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _int(v):
    return v if v < 1 << 63 else v - (1 << 64)


S, B, I, BOOL, T = 'string', 'bytes', 'int', 'bool', 'time'

OWNER_REF = {1: ('kind', S), 3: ('name', S), 4: ('uid', S), 5: ('apiVersion', S), 6: ('controller', BOOL),
             7: ('blockOwnerDeletion', BOOL)}
OBJECT_META = {1: ('name', S), 2: ('generateName', S), 3: ('namespace', S), 5: ('uid', S),
               6: ('resourceVersion', S), 7: ('generation', I), 8: ('creationTimestamp', T),
               9: ('deletionTimestamp', T), 10: ('deletionGracePeriodSeconds', I),
               11: ('labels', ('map', S, S)), 12: ('annotations', ('map', S, S)),
               13: ('ownerReferences', ('list', OWNER_REF)), 14: ('finalizers', ('list', S))}
INT_OR_STRING = 'intorstring'
SERVICE_PORT = {1: ('name', S), 2: ('protocol', S), 3: ('port', I), 4: ('targetPort', INT_OR_STRING),
                5: ('nodePort', I), 6: ('appProtocol', S)}
SERVICE_SPEC = {1: ('ports', ('list', SERVICE_PORT)), 2: ('selector', ('map', S, S)), 3: ('clusterIP', S),
                18: ('clusterIPs', ('list', S)), 4: ('type', S), 5: ('externalIPs', ('list', S)),
                7: ('sessionAffinity', S), 8: ('loadBalancerIP', S), 9: ('loadBalancerSourceRanges', ('list', S)),
                10: ('externalName', S), 11: ('externalTrafficPolicy', S), 12: ('healthCheckNodePort', I),
                13: ('publishNotReadyAddresses', BOOL), 19: ('ipFamilies', ('list', S)), 17: ('ipFamilyPolicy', S),
                20: ('allocateLoadBalancerNodePorts', BOOL), 21: ('loadBalancerClass', S),
                22: ('internalTrafficPolicy', S)}
LOCAL_REF = {1: ('name', S)}
OBJECT_REF = {1: ('kind', S), 2: ('namespace', S), 3: ('name', S), 4: ('uid', S), 5: ('apiVersion', S)}

DELETE_OPTIONS = {1: ('gracePeriodSeconds', I), 2: ('preconditions', {1: ('uid', S), 2: ('resourceVersion', S)}),
                  3: ('orphanDependents', BOOL), 4: ('propagationPolicy', S), 5: ('dryRun', ('list', S))}

TYPES = {
    ('v1', 'DeleteOptions'): DELETE_OPTIONS,
    ('meta.k8s.io/v1', 'DeleteOptions'): DELETE_OPTIONS,
    ('v1', 'ConfigMap'): {1: ('metadata', OBJECT_META), 2: ('data', ('map', S, S)), 3: ('binaryData', ('map', S, B)),
                          4: ('immutable', BOOL)},
    ('v1', 'Secret'): {1: ('metadata', OBJECT_META), 2: ('data', ('map', S, B)), 3: ('type', S),
                       4: ('stringData', ('map', S, S)), 5: ('immutable', BOOL)},
    ('v1', 'Namespace'): {1: ('metadata', OBJECT_META), 2: ('spec', {1: ('finalizers', ('list', S))}),
                          3: ('status', {1: ('phase', S)})},
    ('v1', 'ServiceAccount'): {1: ('metadata', OBJECT_META), 2: ('secrets', ('list', OBJECT_REF)),
                               3: ('imagePullSecrets', ('list', LOCAL_REF)),
                               4: ('automountServiceAccountToken', BOOL)},
    ('v1', 'Service'): {1: ('metadata', OBJECT_META), 2: ('spec', SERVICE_SPEC), 3: ('status', {})},
}


def _value(t, wt, v):
    if t == S:
        return v.decode()
    if t == B:
        return base64.b64encode(v).decode()
    if t == I:
        return _int(v)
    if t == BOOL:
        return bool(v)
    if t == T:
        return _time(v)
    if t == INT_OR_STRING:
        kind, iv, sv = 0, 0, ''
        for n, _, x in _fields(v):
            if n == 1:
                kind = x
            elif n == 2:
                iv = _int(x)
            elif n == 3:
                sv = x.decode()
        return sv if kind == 1 else iv
    if isinstance(t, dict):
        return _message(v, t)
    raise ProtoError('unknown type %r' % (t,))


_POINTER_INTS = {'gracePeriodSeconds', 'deletionGracePeriodSeconds'}
_POINTER_BOOLS = {'orphanDependents', 'immutable', 'controller', 'blockOwnerDeletion', 'automountServiceAccountToken',
                  'allocateLoadBalancerNodePorts'}


def _message(b, schema):
    out = {}
    for num, wt, v in _fields(b):
        if num not in schema:
            continue
        name, t = schema[num]
        if isinstance(t, tuple) and t[0] == 'map':
            k = val = None
            for n, w, x in _fields(v):
                if n == 1:
                    k = _value(t[1], w, x)
                elif n == 2:
                    val = _value(t[2], w, x)
            out.setdefault(name, {})[k] = val if val is not None else ('' if t[2] in (S, B) else val)
        elif isinstance(t, tuple) and t[0] == 'list':
            out.setdefault(name, []).append(_value(t[1], wt, v))
        else:
            if (wt == 2) != (t not in (I, BOOL)):
                continue  # not the type this schema expects: skip, like an unknown field
            x = _value(t, wt, v)
            if x == '' or (t == I and x == 0 and name not in _POINTER_INTS) or (x is False and name not in _POINTER_BOOLS):
                continue  # omitempty in the JSON form
            out[name] = x
    return out


def decode(raw):
    """A protobuf-encoded object as a JSON-shaped dict."""
    if not raw.startswith(MAGIC):
        raise ProtoError('missing the k8s protobuf magic')
    api_version = kind = ''
    body = b''
    for num, wt, v in _fields(raw[len(MAGIC):]):
        if num == 1:
            for n, _, x in _fields(v):
                if n == 1:
                    api_version = x.decode()
                elif n == 2:
                    kind = x.decode()
        elif num == 2:
            body = v
    schema = TYPES.get((api_version, kind))
    if schema is None:
        raise ProtoError('no protobuf decoding for %s %s in the emulator' % (api_version, kind))
    obj = _message(body, schema)
    obj['apiVersion'], obj['kind'] = api_version, kind
    return obj
