#!/usr/bin/env python3
"""A Kubernetes API server emulator for the operator's tests: one process is
one emulated cluster. HTTPS with a bearer token, discovery, built-in types and
CRDs (validation, defaults, pruning, CEL rules, status and scale
subresources, printer columns), list/watch with resourceVersion and
bookmarks, create/update/patch (merge, strategic, JSON, server-side apply)/
delete with finalizers and ownerReference garbage collection. See README.md.

    python3 apiserver.py --port 0 --token T --kubeconfig-out kc.yaml [--tls-dir D]
"""
import argparse
import base64
import bisect
import collections
import copy
import http.server
import json
import os
import random
import socketserver
import ssl
import string
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protobuf  # noqa: E402
import query  # noqa: E402
import resources as res  # noqa: E402
import schema as sch  # noqa: E402
import ssa  # noqa: E402

try:
    import yaml
except ImportError:  # JSON bodies still work
    yaml = None

VERSION = {'major': '1', 'minor': '35', 'gitVersion': 'v1.35.0-emulated', 'gitCommit': '0' * 40,
           'gitTreeState': 'clean', 'buildDate': '2026-01-01T00:00:00Z', 'goVersion': 'go1.25',
           'compiler': 'gc', 'platform': 'linux/amd64', 'emulationMajor': '1', 'emulationMinor': '35'}


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        s = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
             'message': self.message, 'reason': self.reason, 'code': self.code}
        if self.details:
            s['details'] = self.details
        return s


def not_found(rt, name):
    return ApiError(404, 'NotFound', '%s "%s" not found' % (rt.qualified(), name),
                    {'name': name, 'group': rt.group, 'kind': rt.plural})


def conflict(rt, name, why='the object has been modified; please apply your changes to the latest version and try again'):
    return ApiError(409, 'Conflict', 'Operation cannot be fulfilled on %s "%s": %s' % (rt.qualified(), name, why),
                    {'name': name, 'group': rt.group, 'kind': rt.plural})


def invalid(rt, name, errs):
    """errs: list of (field, message) or schema.FieldError."""
    causes, texts = [], []
    for e in errs:
        if isinstance(e, sch.FieldError):
            causes.append({'reason': e.reason(), 'message': e.message(), 'field': e.path})
            texts.append(str(e))
        else:
            causes.append({'reason': 'FieldValueInvalid', 'message': e[1], 'field': e[0]})
            texts.append('%s: %s' % e)
    body = texts[0] if len(texts) == 1 else '[' + ', '.join(texts) + ']'
    return ApiError(422, 'Invalid', '%s "%s" is invalid: %s' % (rt.qualified_kind(), name, body),
                    {'name': name, 'group': rt.group, 'kind': rt.kind, 'causes': causes})


def bad_request(msg):
    return ApiError(400, 'BadRequest', msg)


Event = collections.namedtuple('Event', 'rv type storage obj old')


class Cluster:
    """All state of one emulated cluster, guarded by one lock."""

    def __init__(self, history=2000, ca_pem='', service_cidr=None):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1
        self.objects = collections.defaultdict(dict)   # storage -> {(ns, name): obj}
        self.history = collections.deque()
        self.history_max = history
        self.compacted = 1   # events after this rv are all in history
        self.types = {}      # (group, version, plural) -> ResType
        self.alloc = res.Allocator(service_cidr)
        self.ca_pem = ca_pem
        self.group_order = []
        for t in res.builtin_types():
            self.add_type(t)
        for ns in ('default', 'kube-system', 'kube-public', 'kube-node-lease'):
            self.create(self.type('', 'v1', 'namespaces'), None, {'metadata': {'name': ns}}, 'kube-apiserver')

    # --- types ---------------------------------------------------------------------------

    def add_type(self, t):
        self.types[(t.group, t.version, t.plural)] = t
        if t.group not in self.group_order:
            self.group_order.append(t.group)

    def type(self, group, version, plural):
        return self.types.get((group, version, plural))

    def find_type(self, group, version, name):
        t = self.types.get((group, version, name))
        if t:
            return t
        for t in self.types.values():
            if t.group == group and t.version == version and (t.singular == name or name in t.short_names):
                return t
        return None

    def groups(self):
        """{group: [versions]} with the preferred version first."""
        out = collections.OrderedDict()
        for g in self.group_order:
            vs = []
            for (tg, tv, _), t in self.types.items():
                if tg == g and tv not in vs:
                    vs.append(tv)
            if vs:
                out[g] = sorted(vs, key=_version_priority)
        return out

    # --- events --------------------------------------------------------------------------

    def _next_rv(self):
        self.rv += 1
        return self.rv

    def _emit(self, type_, storage, obj, old=None):
        self.history.append(Event(int(obj['metadata']['resourceVersion']), type_, storage, obj, old))
        while len(self.history) > self.history_max:
            e = self.history.popleft()
            self.compacted = e.rv
        self.cond.notify_all()

    # --- reads ---------------------------------------------------------------------------

    def get(self, rt, ns, name):
        o = self.objects[rt.storage].get((ns if rt.namespaced else '', name))
        if o is None:
            raise not_found(rt, name)
        return o

    def list(self, rt, ns, label_sel=None, field_sel=None):
        out = []
        for (ons, name), o in sorted(self.objects[rt.storage].items()):
            if rt.namespaced and ns and ons != ns:
                continue
            if matches(o, label_sel, field_sel):
                out.append(o)
        return out

    # --- writes --------------------------------------------------------------------------

    def _key(self, rt, ns, name):
        return (ns if rt.namespaced else '', name)

    def _check_namespace(self, rt, ns, creating=True):
        if not rt.namespaced:
            return
        nst = self.type('', 'v1', 'namespaces')
        n = self.objects[nst.storage].get(('', ns))
        if n is None:
            raise ApiError(404, 'NotFound', 'namespaces "%s" not found' % ns,
                           {'name': ns, 'kind': 'namespaces'})
        if creating and n['metadata'].get('deletionTimestamp'):
            raise ApiError(403, 'Forbidden', '%s "%s" is forbidden: unable to create new content in namespace %s '
                           'because it is being terminated' % (rt.qualified(), '', ns),
                           {'kind': rt.plural, 'group': rt.group})

    def _prepare(self, rt, ns, body, old, subresource, strict=None):
        """The object to store for a write (defaults, validation, status and
        metadata rules). Returns (obj, warnings)."""
        warnings = []
        if not isinstance(body, dict):
            raise bad_request('the body of the request was in an unknown format')
        obj = copy.deepcopy(body)
        md = obj.get('metadata')
        if not isinstance(md, dict):
            md = obj['metadata'] = {}
        if rt.storage == ('', 'events') and rt.group == 'events.k8s.io':
            obj = res.event_to_core(obj)
            md = obj['metadata']
        obj['apiVersion'] = 'v1' if rt.storage == ('', 'events') else rt.gv
        obj['kind'] = rt.kind
        name = md.get('name', '')
        if rt.namespaced:
            if md.get('namespace') and md['namespace'] != ns:
                raise bad_request('the namespace of the provided object does not match the namespace sent on the request')
            md['namespace'] = ns
        else:
            md.pop('namespace', None)
        if old is not None:
            omd = old['metadata']
            for k in ('uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'):
                if k in omd:
                    md[k] = omd[k]
                else:
                    md.pop(k, None)
            if rt.status and subresource is None:
                if 'status' in old:
                    obj['status'] = copy.deepcopy(old['status'])
                else:
                    obj.pop('status', None)
            if subresource == 'status':
                keep = copy.deepcopy(old)
                if 'status' in obj:
                    keep['status'] = obj['status']
                else:
                    keep.pop('status', None)
                keep['metadata']['resourceVersion'] = md.get('resourceVersion', '')
                if 'managedFields' in md:
                    keep['metadata']['managedFields'] = md['managedFields']
                obj, md = keep, keep['metadata']
        else:
            for k in ('uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation',
                      'resourceVersion'):
                md.pop(k, None)
            if rt.status and rt.crd:
                obj.pop('status', None)
        # CRD-backed types: pruning, defaults, schema and CEL validation
        if rt.schema is not None:
            before = copy.deepcopy(obj)
            sch.prune(rt.schema, obj, root=True)
            unknown = _removed_fields(before, obj)
            if unknown and strict == 'Strict':
                raise bad_request('%s in version "%s" cannot be handled as a %s: strict decoding error: %s' % (
                    rt.kind, rt.version, rt.kind, ', '.join('unknown field "%s"' % u for u in unknown)))
            if unknown and strict == 'Warn':
                warnings += ['unknown field "%s"' % u for u in unknown]
            sch.apply_defaults(rt.schema, obj)
            errs = sch.validate(rt.schema, obj, old if old is not None else sch._MISSING)
            if errs:
                raise invalid(rt, name, errs)
        else:
            used = set()
            if rt.plural == 'services':
                for s in self.objects[rt.storage].values():
                    for p in (s.get('spec') or {}).get('ports') or []:
                        if p.get('nodePort'):
                            used.add(p['nodePort'])
            errs = res.default_builtin(rt, obj, old, self.alloc, used)
            if errs:
                raise invalid(rt, name, errs)
        if rt.plural == 'customresourcedefinitions':
            self._prepare_crd(obj, old)
        if old is not None and old['metadata'].get('deletionTimestamp'):
            new_fins = [f for f in obj['metadata'].get('finalizers') or []
                        if f not in (old['metadata'].get('finalizers') or [])]
            if new_fins:
                raise invalid(rt, name, [('metadata.finalizers', 'Forbidden: no new finalizers can be added if the '
                                          'object is being deleted, found new finalizers %s' % json.dumps(new_fins))])
        if old is not None and rt.plural == 'namespaces' and old['metadata'].get('deletionTimestamp'):
            obj['status'] = old.get('status', obj.get('status'))
        return obj, warnings

    def _finish(self, rt, obj, old):
        """Generation, resourceVersion; stores and emits the event."""
        md = obj['metadata']
        if rt.crd is None and rt.plural in res.NO_GENERATION:
            md.pop('generation', None)
        elif old is None:
            md['generation'] = 1
        else:
            gen = old['metadata'].get('generation', 1)
            if _spec_part(obj, rt.status) != _spec_part(old, rt.status):
                gen += 1
            md['generation'] = gen
        md['resourceVersion'] = str(self._next_rv())
        key = self._key(rt, md.get('namespace', ''), md['name'])
        if md.get('deletionTimestamp') and not md.get('finalizers'):
            self.objects[rt.storage].pop(key, None)
            self._emit('DELETED', rt.storage, obj, old)
            self._after_removal(obj)
            return obj
        self.objects[rt.storage][key] = obj
        self._emit('ADDED' if old is None else 'MODIFIED', rt.storage, obj, old)
        if rt.plural == 'customresourcedefinitions':
            self._serve_crd(obj)
        return obj

    def create(self, rt, ns, body, manager, dry_run=False, strict=None):
        with self.lock:
            self._check_namespace(rt, ns)
            md = body.get('metadata') if isinstance(body, dict) else None
            if isinstance(md, dict) and not md.get('name') and md.get('generateName'):
                md['name'] = md['generateName'] + ''.join(random.choice('bcdfghjklmnpqrstvwxz2456789') for _ in range(5))
            name = (md or {}).get('name') if isinstance(md, dict) else None
            if not name:
                raise invalid(rt, '', [('metadata.name', 'Required value: name or generateName is required')])
            err = res.validate_name(rt, name)
            if err:
                raise invalid(rt, name, [('metadata.name', 'Invalid value: "%s": %s' % (name, err))])
            if self._key(rt, ns, name) in self.objects[rt.storage]:
                raise ApiError(409, 'AlreadyExists', '%s "%s" already exists' % (rt.qualified(), name),
                               {'name': name, 'group': rt.group, 'kind': rt.plural})
            obj, warnings = self._prepare(rt, ns, body, None, None, strict)
            md = obj['metadata']
            md['uid'] = str(uuid.uuid4())
            md['creationTimestamp'] = res.rfc3339()
            md.pop('managedFields', None)
            ssa.record_update(None, obj, manager, rt.list_info, self._status_mode(rt, None), '', res.rfc3339())
            if dry_run:
                return obj, warnings
            obj = self._finish(rt, obj, None)
            if rt.plural == 'namespaces':
                self._namespace_defaults(obj['metadata']['name'])
            return obj, warnings

    def _status_mode(self, rt, subresource):
        if not rt.status:
            return None
        return 'status' if subresource == 'status' else 'main'

    def update(self, rt, ns, name, body, manager, subresource=None, dry_run=False, strict=None, record_as=None):
        with self.lock:
            old = self.get(rt, ns, name)
            bmd = body.get('metadata') if isinstance(body, dict) else None
            if not isinstance(bmd, dict):
                raise bad_request('the body of the request was in an unknown format')
            if bmd.get('name') and bmd['name'] != name:
                raise bad_request('the name of the object (%s) does not match the name on the URL (%s)' % (bmd['name'], name))
            bmd['name'] = name
            rv = bmd.get('resourceVersion')
            if rv and rv != old['metadata']['resourceVersion']:
                raise conflict(rt, name)
            obj, warnings = self._prepare(rt, ns, body, old, subresource, strict)
            if 'managedFields' not in bmd:
                obj['metadata']['managedFields'] = copy.deepcopy(old['metadata'].get('managedFields', []))
            ssa.record_update(old, obj, manager, rt.list_info, self._status_mode(rt, subresource),
                              record_as or subresource or '', res.rfc3339())
            if _same(obj, old):
                return old, warnings
            if dry_run:
                return obj, warnings
            return self._finish(rt, obj, old), warnings

    def patch(self, rt, ns, name, ptype, patch, manager, subresource=None, force=False, dry_run=False,
              strict=None):
        with self.lock:
            try:
                old = self.get(rt, ns, name)
            except ApiError:
                if ptype != 'apply':
                    raise
                old = None
            if ptype == 'apply':
                return self._apply(rt, ns, name, old, patch, manager, subresource, force, dry_run, strict)
            cur = self._view(rt, old)
            try:
                if ptype == 'merge':
                    if not isinstance(patch, dict):
                        raise bad_request('json: cannot unmarshal into Go value of type map[string]interface {}')
                    new = ssa.merge_patch(cur, patch)
                elif ptype == 'strategic':
                    if rt.crd:
                        raise ApiError(415, 'UnsupportedMediaType',
                                       'the body of the request was in an unknown format - accepted media types '
                                       'include: application/json-patch+json, application/merge-patch+json, '
                                       'application/apply-patch+yaml')
                    new = ssa.strategic_merge(cur, patch, rt.list_info)
                elif ptype == 'json':
                    new = ssa.json_patch(cur, patch)
                else:
                    raise ApiError(415, 'UnsupportedMediaType', 'unsupported patch type')
            except ssa.PatchError as e:
                raise ApiError(e.code, e.reason, e.message)
            if not isinstance(new, dict):
                raise bad_request('patched object is not an object')
            if rt.storage == ('', 'events') and rt.group == 'events.k8s.io':
                pass  # _prepare converts back
            md = new.setdefault('metadata', {})
            rv = md.get('resourceVersion')
            if rv and rv != old['metadata']['resourceVersion']:
                raise conflict(rt, name)
            md['resourceVersion'] = old['metadata']['resourceVersion']
            md['name'] = name
            if subresource == 'scale':
                raise bad_request('use the scale handler')
            obj, warnings = self._prepare(rt, ns, new, old, subresource, strict)
            ssa.record_update(old, obj, manager, rt.list_info, self._status_mode(rt, subresource),
                              subresource or '', res.rfc3339())
            if _same(obj, old):
                return old, warnings
            if dry_run:
                return obj, warnings
            return self._finish(rt, obj, old), warnings

    def _view(self, rt, obj):
        if rt.storage == ('', 'events') and rt.group == 'events.k8s.io':
            return res.event_from_core(obj)
        o = copy.deepcopy(obj)
        o['apiVersion'] = rt.gv
        return o

    def _apply(self, rt, ns, name, old, patch, manager, subresource, force, dry_run, strict):
        if not manager:
            raise bad_request('PATCH /%s: fieldManager is required for apply requests' % rt.plural)
        if not isinstance(patch, dict):
            raise bad_request('error decoding YAML: the apply configuration is not an object')
        pmd = patch.get('metadata') or {}
        if pmd.get('name') and pmd['name'] != name:
            raise bad_request('the name of the object (%s) does not match the name on the URL (%s)' % (pmd['name'], name))
        if not patch.get('apiVersion') or not patch.get('kind'):
            raise bad_request('invalid object type: ' + ('/, Kind=' if not patch.get('kind') else patch.get('apiVersion', '')))
        if patch['kind'] != rt.kind:
            raise bad_request('invalid object type: %s, Kind=%s' % (patch['apiVersion'], patch['kind']))
        if old is None and subresource:
            raise not_found(rt, name)
        if old is None:
            self._check_namespace(rt, ns)
        if pmd.get('resourceVersion') and old is not None and pmd['resourceVersion'] != old['metadata']['resourceVersion']:
            raise conflict(rt, name)
        applied = copy.deepcopy(patch)
        applied.setdefault('metadata', {})['name'] = name
        mode = self._status_mode(rt, subresource)
        if rt.storage == ('', 'events') and rt.group == 'events.k8s.io':
            applied = res.event_to_core(applied)
        live = self._view(rt, old) if old is not None else None
        if live is not None and rt.storage == ('', 'events') and rt.group == 'events.k8s.io':
            live = copy.deepcopy(old)
        try:
            merged = ssa.apply(live, applied, manager, force, rt.list_info, mode, subresource or '', res.rfc3339())
        except ssa.ApplyConflict as e:
            raise ApiError(409, 'Conflict', e.message(),
                           {'causes': [{'reason': 'FieldManagerConflict',
                                        'message': 'conflict with "%s" using %s' % (m, v), 'field': p}
                                       for m, v, p in e.conflicts]})
        merged['apiVersion'] = rt.gv
        merged['kind'] = rt.kind
        mf = merged['metadata'].get('managedFields')
        if old is None:
            merged['metadata']['name'] = name
            obj, warnings = self._create_applied(rt, ns, merged, dry_run, strict)
            return obj, warnings
        merged['metadata']['resourceVersion'] = old['metadata']['resourceVersion']
        obj, warnings = self._prepare(rt, ns, merged, old, subresource, strict)
        if mf is not None:
            obj['metadata']['managedFields'] = mf
        if _same(obj, old):
            return old, warnings
        if dry_run:
            return obj, warnings
        return self._finish(rt, obj, old), warnings

    def _create_applied(self, rt, ns, obj, dry_run, strict):
        err = res.validate_name(rt, obj['metadata']['name'])
        if err:
            raise invalid(rt, obj['metadata']['name'], [('metadata.name', 'Invalid value: "%s": %s' % (obj['metadata']['name'], err))])
        mf = obj['metadata'].get('managedFields')
        o, warnings = self._prepare(rt, ns, obj, None, None, strict)
        o['metadata']['uid'] = str(uuid.uuid4())
        o['metadata']['creationTimestamp'] = res.rfc3339()
        if mf is not None:
            o['metadata']['managedFields'] = mf
        if dry_run:
            return o, warnings
        o = self._finish(rt, o, None)
        if rt.plural == 'namespaces':
            self._namespace_defaults(o['metadata']['name'])
        return o, warnings

    # --- deletion and garbage collection -------------------------------------------------

    def delete(self, rt, ns, name, opts, dry_run=False):
        with self.lock:
            old = self.get(rt, ns, name)
            pre = opts.get('preconditions') or {}
            if pre.get('uid') and pre['uid'] != old['metadata'].get('uid'):
                raise conflict(rt, name, 'Precondition failed: UID in precondition: %s, UID in object meta: %s' % (
                    pre['uid'], old['metadata'].get('uid')))
            if pre.get('resourceVersion') and pre['resourceVersion'] != old['metadata']['resourceVersion']:
                raise conflict(rt, name, 'Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in '
                               'object meta: %s' % (pre['resourceVersion'], old['metadata']['resourceVersion']))
            policy = opts.get('propagationPolicy')
            if opts.get('orphanDependents') is True:
                policy = 'Orphan'
            obj = copy.deepcopy(old)
            md = obj['metadata']
            fins = list(md.get('finalizers') or [])
            if policy == 'Orphan' and 'orphan' not in fins and self._dependents(md['uid']):
                fins.append('orphan')
            if policy == 'Foreground' and 'foregroundDeletion' not in fins and self._dependents(md['uid']):
                fins.append('foregroundDeletion')
            if rt.plural == 'namespaces':
                fins = fins  # spec.finalizers handled by the sweep
            grace = opts.get('gracePeriodSeconds')
            graceful = (rt.plural == 'pods' and (obj.get('spec') or {}).get('nodeName') and
                        (grace is None or int(grace) > 0) and
                        (obj.get('status') or {}).get('phase') not in ('Succeeded', 'Failed'))
            if dry_run:
                return obj
            if fins or graceful or rt.plural == 'namespaces':
                if not md.get('deletionTimestamp'):
                    if graceful:
                        g = int(grace if grace is not None else (obj['spec'].get('terminationGracePeriodSeconds', 30)))
                        md['deletionTimestamp'] = res.rfc3339(res.now() + _td(g))
                        md['deletionGracePeriodSeconds'] = g
                    else:
                        md['deletionTimestamp'] = res.rfc3339()
                        md['deletionGracePeriodSeconds'] = 0
                    if 'generation' in md:
                        md['generation'] += 1
                elif rt.plural == 'pods' and grace is not None and int(grace) == 0 and not fins:
                    return self._remove(rt, obj)
                md['finalizers'] = fins
                if not fins:
                    md.pop('finalizers')
                if rt.plural == 'namespaces':
                    obj.setdefault('status', {})['phase'] = 'Terminating'
                md['resourceVersion'] = str(self._next_rv())
                key = self._key(rt, ns, name)
                self.objects[rt.storage][key] = obj
                self._emit('MODIFIED', rt.storage, obj, old)
                self.sweep()
                return self.objects[rt.storage].get(key, obj)
            return self._remove(rt, obj, policy)

    def _remove(self, rt, obj, policy=None):
        md = obj['metadata']
        key = self._key(rt, md.get('namespace', ''), md['name'])
        old = self.objects[rt.storage].pop(key, None)
        if old is None:
            return obj
        obj = copy.deepcopy(obj)
        obj['metadata']['resourceVersion'] = str(self._next_rv())
        self._emit('DELETED', rt.storage, obj, old)
        self._after_removal(obj, policy)
        return obj

    def _after_removal(self, obj, policy=None):
        if obj.get('kind') == 'CustomResourceDefinition':
            self._unserve_crd(obj)
        uid = obj['metadata'].get('uid')
        for rt, dep in self._dependents(uid):
            if policy == 'Orphan':
                continue
            refs = dep['metadata'].get('ownerReferences') or []
            alive = [r for r in refs if r.get('uid') != uid and self._uid_exists(r.get('uid'))]
            if not alive and not dep['metadata'].get('deletionTimestamp'):
                try:
                    self.delete(rt, dep['metadata'].get('namespace', ''), dep['metadata']['name'],
                                {'propagationPolicy': 'Background'})
                except ApiError:
                    pass
        self.sweep()

    def _uid_exists(self, uid):
        for objs in self.objects.values():
            for o in objs.values():
                if o['metadata'].get('uid') == uid:
                    return True
        return False

    def _rt_of_storage(self, storage):
        for t in self.types.values():
            if t.storage == storage and (t.group != 'events.k8s.io'):
                return t
        return None

    def _dependents(self, uid):
        out = []
        for storage, objs in list(self.objects.items()):
            for o in list(objs.values()):
                if any(r.get('uid') == uid for r in o['metadata'].get('ownerReferences') or []):
                    rt = self._rt_of_storage(storage)
                    if rt:
                        out.append((rt, o))
        return out

    def _store_modified(self, rt, obj, old):
        obj['metadata']['resourceVersion'] = str(self._next_rv())
        key = self._key(rt, obj['metadata'].get('namespace', ''), obj['metadata']['name'])
        if obj['metadata'].get('deletionTimestamp') and not obj['metadata'].get('finalizers') and \
                rt.plural != 'namespaces':
            self.objects[rt.storage].pop(key, None)
            self._emit('DELETED', rt.storage, obj, old)
            self._after_removal(obj)
        else:
            self.objects[rt.storage][key] = obj
            self._emit('MODIFIED', rt.storage, obj, old)

    def sweep(self):
        """Finalizers the API server handles itself: orphan, foregroundDeletion,
        namespace termination; pods whose grace period is over."""
        with self.lock:
            changed = True
            rounds = 0
            while changed and rounds < 50:
                changed = False
                rounds += 1
                for storage, objs in list(self.objects.items()):
                    rt = self._rt_of_storage(storage)
                    if rt is None:
                        continue
                    for key, o in list(objs.items()):
                        md = o['metadata']
                        if not md.get('deletionTimestamp'):
                            continue
                        fins = md.get('finalizers') or []
                        if 'orphan' in fins:
                            for drt, dep in self._dependents(md['uid']):
                                d2 = copy.deepcopy(dep)
                                d2['metadata']['ownerReferences'] = [r for r in d2['metadata']['ownerReferences']
                                                                     if r.get('uid') != md['uid']]
                                if not d2['metadata']['ownerReferences']:
                                    del d2['metadata']['ownerReferences']
                                self._store_modified(drt, d2, dep)
                            self._drop_finalizer(rt, o, 'orphan')
                            changed = True
                        elif 'foregroundDeletion' in fins:
                            deps = self._dependents(md['uid'])
                            for drt, dep in deps:
                                if not dep['metadata'].get('deletionTimestamp'):
                                    try:
                                        self.delete(drt, dep['metadata'].get('namespace', ''), dep['metadata']['name'],
                                                    {'propagationPolicy': 'Foreground'})
                                    except ApiError:
                                        pass
                                    changed = True
                            if not self._dependents(md['uid']):
                                self._drop_finalizer(rt, o, 'foregroundDeletion')
                                changed = True
                        elif rt.plural == 'namespaces':
                            name = md['name']
                            for st, objs2 in list(self.objects.items()):
                                t2 = self._rt_of_storage(st)
                                if t2 is None or not t2.namespaced:
                                    continue
                                for (ns2, n2), o2 in list(objs2.items()):
                                    if ns2 != name or (ns2, n2) not in objs2:
                                        continue
                                    if not o2['metadata'].get('deletionTimestamp'):
                                        try:
                                            self.delete(t2, ns2, n2, {'gracePeriodSeconds': 0})
                                        except ApiError:
                                            pass
                                        changed = True
                            still = sum(1 for st, objs2 in self.objects.items()
                                        if self._rt_of_storage(st) and self._rt_of_storage(st).namespaced
                                        for (ns2, _) in objs2 if ns2 == name)
                            if still == 0 and not fins:
                                self._remove(rt, o)
                                changed = True
                        elif rt.plural == 'pods' and not fins and not self._kubelet_runs(o):
                            t = res.parse_time(md['deletionTimestamp'])
                            if t is not None and t <= res.now():
                                self._remove(rt, o)
                                changed = True

    def _kubelet_runs(self, pod):
        """Whether a live kubelet (a Ready Node with a heartbeat in the last 40 s, the node
        controller's grace period) runs the pod: then that kubelet, not the end of the grace
        period, removes the pod once its containers are gone (it deletes it again with
        gracePeriodSeconds=0), as in a real cluster."""
        node = self.objects[('', 'nodes')].get(('', (pod.get('spec') or {}).get('nodeName') or ''))
        for c in ((node or {}).get('status') or {}).get('conditions') or []:
            if c.get('type') == 'Ready' and c.get('status') == 'True':
                beat = res.parse_time(c.get('lastHeartbeatTime'))
                return beat is None or (res.now() - beat).total_seconds() < 40
        return False

    def _drop_finalizer(self, rt, o, fin):
        cur = self.objects[rt.storage].get(self._key(rt, o['metadata'].get('namespace', ''), o['metadata']['name']))
        if cur is None:
            return
        n = copy.deepcopy(cur)
        n['metadata']['finalizers'] = [f for f in n['metadata'].get('finalizers') or [] if f != fin]
        if not n['metadata']['finalizers']:
            del n['metadata']['finalizers']
        self._store_modified(rt, n, cur)

    # --- namespaces and CRDs --------------------------------------------------------------

    def _namespace_defaults(self, ns):
        """What the service-account and root-CA controllers create in a namespace."""
        sa = self.type('', 'v1', 'serviceaccounts')
        cm = self.type('', 'v1', 'configmaps')
        if ('', 'serviceaccounts') and (ns, 'default') not in self.objects[sa.storage]:
            self.create(sa, ns, {'metadata': {'name': 'default'}}, 'kube-controller-manager')
        if (ns, 'kube-root-ca.crt') not in self.objects[cm.storage]:
            self.create(cm, ns, {'metadata': {'name': 'kube-root-ca.crt',
                                              'annotations': {'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc.'}},
                                 'data': {'ca.crt': self.ca_pem}}, 'kube-controller-manager')

    def _prepare_crd(self, obj, old):
        spec = obj.setdefault('spec', {})
        names = spec.setdefault('names', {})
        errs = []
        for f in ('plural', 'kind'):
            if not names.get(f):
                errs.append(('spec.names.%s' % f, 'Required value'))
        if not spec.get('group'):
            errs.append(('spec.group', 'Required value'))
        if spec.get('scope') not in ('Namespaced', 'Cluster'):
            errs.append(('spec.scope', 'Unsupported value: "%s": supported values: "Cluster", "Namespaced"' % spec.get('scope', '')))
        if not spec.get('versions'):
            errs.append(('spec.versions', 'Required value: must have exactly one version marked as storage version'))
        if errs:
            raise invalid(self.type('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'), obj['metadata']['name'], errs)
        want = '%s.%s' % (names['plural'], spec['group'])
        if obj['metadata']['name'] != want:
            raise invalid(self.type('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'), obj['metadata']['name'],
                          [('metadata.name', 'Invalid value: "%s": must be spec.names.plural+"."+spec.group' % obj['metadata']['name'])])
        names.setdefault('singular', names['kind'].lower())
        names.setdefault('listKind', names['kind'] + 'List')
        spec.setdefault('conversion', {'strategy': 'None'})
        cerrs = []
        for i, v in enumerate(spec['versions']):
            s = (v.get('schema') or {}).get('openAPIV3Schema')
            if s is not None:
                for e in sch.check_rules_compile(s, 'spec.versions[%d].schema.openAPIV3Schema' % i):
                    cerrs.append(e)
        if cerrs:
            raise invalid(self.type('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'), obj['metadata']['name'], cerrs)
        if old is not None and old['spec'].get('names', {}).get('plural') != names['plural']:
            pass
        st = obj.setdefault('status', {})
        st['acceptedNames'] = {k: names[k] for k in ('plural', 'singular', 'kind', 'listKind', 'shortNames', 'categories') if k in names}
        t = res.rfc3339()
        st['conditions'] = [
            {'type': 'NamesAccepted', 'status': 'True', 'reason': 'NoConflicts', 'message': 'no conflicts found', 'lastTransitionTime': t},
            {'type': 'Established', 'status': 'True', 'reason': 'InitialNamesAccepted', 'message': 'the initial names have been accepted', 'lastTransitionTime': t}]
        if old is not None and old.get('status', {}).get('conditions'):
            st['conditions'] = old['status']['conditions']
        st['storedVersions'] = sorted(set((old or {}).get('status', {}).get('storedVersions', []) +
                                          [v['name'] for v in spec['versions'] if v.get('storage')]))

    def _serve_crd(self, crd):
        spec = crd['spec']
        names = spec['names']
        for key in [k for k, t in self.types.items() if t.crd == crd['metadata']['name']]:
            del self.types[key]
        for v in spec['versions']:
            if not v.get('served', True):
                continue
            sub = v.get('subresources') or {}
            scale = sub.get('scale')
            cols = [res.NAME_COL]
            pcs = v.get('additionalPrinterColumns')
            if not pcs:
                cols.append(res.AGE_COL)
            for c in pcs or []:
                cols.append(res.C(c['name'], _jsonpath_fn(c.get('jsonPath', ''), c.get('type', 'string')),
                                  c.get('type', 'string'), c.get('priority', 0), c.get('description', '')))
            t = res.ResType(spec['group'], v['name'], names['kind'], names['plural'],
                            spec.get('scope') == 'Namespaced', names.get('shortNames') or [],
                            names.get('categories') or [], status='status' in sub, scale=scale,
                            singular=names.get('singular'), columns=cols,
                            schema=(v.get('schema') or {}).get('openAPIV3Schema') or {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True},
                            crd=crd['metadata']['name'], storage=(spec['group'], names['plural']))
            self.add_type(t)

    def _unserve_crd(self, crd):
        spec = crd['spec']
        storage = (spec['group'], spec['names']['plural'])
        for key in [k for k, t in self.types.items() if t.crd == crd['metadata']['name']]:
            del self.types[key]
        for key, o in list(self.objects.get(storage, {}).items()):
            o = copy.deepcopy(o)
            self.objects[storage].pop(key)
            o['metadata']['resourceVersion'] = str(self._next_rv())
            self._emit('DELETED', storage, o)

    # --- watch ---------------------------------------------------------------------------

    def events_since(self, rv):
        """Events with resourceVersion > rv, or None when rv is too old."""
        if rv < self.compacted:
            return None
        rvs = [e.rv for e in self.history]
        i = bisect.bisect_right(rvs, rv)
        return list(self.history)[i:]


def _td(seconds):
    import datetime
    return datetime.timedelta(seconds=seconds)


def _version_priority(v):
    import re
    m = re.match(r'^v(\d+)(?:(alpha|beta)(\d+))?$', v)
    if not m:
        return (3, 0, 0, v)
    kind = {None: 0, 'beta': 1, 'alpha': 2}[m.group(2)]
    return (kind, -int(m.group(1)), -int(m.group(3) or 0), v)


def _spec_part(o, has_status_subresource=True):
    # without a status subresource, status is part of what generation counts
    skip = ('metadata', 'status', 'apiVersion', 'kind') if has_status_subresource else ('metadata', 'apiVersion', 'kind')
    return {k: v for k, v in o.items() if k not in skip}


def _same(a, b):
    def strip(o):
        o = copy.deepcopy(o)
        for k in ('resourceVersion',):
            o['metadata'].pop(k, None)
        for m in o['metadata'].get('managedFields') or []:
            m.pop('time', None)
        return o
    return strip(a) == strip(b)


def _removed_fields(before, after, path=''):
    out = []
    if isinstance(before, dict) and isinstance(after, dict):
        for k, v in before.items():
            p = k if not path else path + '.' + k
            if k not in after:
                out.append(p)
            else:
                out += _removed_fields(v, after[k], p)
    elif isinstance(before, list) and isinstance(after, list):
        for i, (a, b) in enumerate(zip(before, after)):
            out += _removed_fields(a, b, '%s[%d]' % (path, i))
    return out


def _jsonpath_fn(path, type_):
    def fn(o):
        try:
            v = query.cell(query.jsonpath(o, path), type_)
        except ValueError:
            return None
        if type_ == 'date' and isinstance(v, str):
            return res.human_duration(v)
        return v
    return fn


def matches(o, label_sel, field_sel):
    if label_sel and not query.label_match(label_sel, o['metadata'].get('labels')):
        return False
    if field_sel and not query.field_match(field_sel, o):
        return False
    return True


# --- HTTP ---------------------------------------------------------------------------------

def _discovery_resources(cluster, group, version):
    out = []
    for t in cluster.types.values():
        if t.group != group or t.version != version:
            continue
        r = {'name': t.plural, 'singularName': t.singular, 'namespaced': t.namespaced, 'kind': t.kind,
             'verbs': t.verbs}
        if t.short_names:
            r['shortNames'] = t.short_names
        if t.categories:
            r['categories'] = t.categories
        out.append(r)
        if t.status:
            out.append({'name': t.plural + '/status', 'singularName': '', 'namespaced': t.namespaced,
                        'kind': t.kind, 'verbs': ['get', 'patch', 'update']})
        if t.scale is not None:
            out.append({'name': t.plural + '/scale', 'singularName': '', 'namespaced': t.namespaced,
                        'group': 'autoscaling', 'version': 'v1', 'kind': 'Scale',
                        'verbs': ['get', 'patch', 'update']})
    return out


def _aggregated(cluster, core):
    items = []
    for g, versions in cluster.groups().items():
        if (g == '') != core:
            continue
        vs = []
        for v in versions:
            rs = []
            for t in cluster.types.values():
                if t.group != g or t.version != v:
                    continue
                r = {'resource': t.plural, 'responseKind': {'group': t.group, 'version': t.version, 'kind': t.kind},
                     'scope': 'Namespaced' if t.namespaced else 'Cluster', 'singularResource': t.singular,
                     'verbs': t.verbs}
                if t.short_names:
                    r['shortNames'] = t.short_names
                if t.categories:
                    r['categories'] = t.categories
                subs = []
                if t.status:
                    subs.append({'subresource': 'status', 'responseKind': {'group': t.group, 'version': t.version, 'kind': t.kind},
                                 'verbs': ['get', 'patch', 'update']})
                if t.scale is not None:
                    subs.append({'subresource': 'scale', 'responseKind': {'group': 'autoscaling', 'version': 'v1', 'kind': 'Scale'},
                                 'verbs': ['get', 'patch', 'update']})
                if subs:
                    r['subresources'] = subs
                rs.append(r)
            vs.append({'version': v, 'resources': sorted(rs, key=lambda r: r['resource']), 'freshness': 'Current'})
        items.append({'metadata': {'name': g, 'creationTimestamp': None}, 'versions': vs})
    return {'kind': 'APIGroupDiscoveryList', 'apiVersion': 'apidiscovery.k8s.io/v2', 'metadata': {}, 'items': items}


def _to_table(rt, objs, rv, include='Metadata'):
    cols = rt.columns or [res.NAME_COL, res.AGE_COL]
    defs = [{'name': c[0], 'type': 'string' if c[1] == 'date' else c[1],
             'format': 'name' if c[0] == 'Name' and i == 0 else '', 'description': c[4], 'priority': c[3]}
            for i, c in enumerate(cols)]
    rows = []
    for o in objs:
        cells = []
        for c in cols:
            try:
                v = c[2](o)
            except Exception:
                v = None
            cells.append(v if v is not None else ('<none>' if False else None))
        row = {'cells': cells}
        if include == 'Object':
            row['object'] = o
        elif include != 'None':
            row['object'] = {'kind': 'PartialObjectMetadata', 'apiVersion': 'meta.k8s.io/v1',
                             'metadata': o['metadata']}
        rows.append(row)
    return {'kind': 'Table', 'apiVersion': 'meta.k8s.io/v1', 'metadata': {'resourceVersion': str(rv)},
            'columnDefinitions': defs, 'rows': rows}


_FIELD_PARAMS = [{'name': n, 'in': 'query', 'schema': {'type': 'string', 'uniqueItems': True}}
                 for n in ('dryRun', 'fieldManager', 'fieldValidation', 'force')]


def _openapi_docs(c):
    """{'api/v1' | 'apis/<g>/<v>': (hash, document)}"""
    import hashlib
    by_gv = collections.OrderedDict()
    for t in c.types.values():
        by_gv.setdefault(('api/' if not t.group else 'apis/') + t.gv, []).append(t)
    out = collections.OrderedDict()
    for gv, ts in by_gv.items():
        paths, schemas = {}, {}
        for t in ts:
            gvk = {'group': t.group, 'version': t.version, 'kind': t.kind}
            base = '/' + gv + ('/namespaces/{namespace}/' if t.namespaced else '/') + t.plural
            body = {'content': {k: {'schema': {'type': 'object'}} for k in (
                'application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml')}}
            ref = t.kind if not t.group else '%s.%s.%s' % (t.group, t.version, t.kind)
            ok = {'200': {'description': 'OK', 'content': {'application/json': {'schema': {'$ref': '#/components/schemas/' + ref}}}}}
            paths[base + '/{name}'] = {
                'get': {'operationId': 'read' + t.kind, 'x-kubernetes-action': 'get',
                        'x-kubernetes-group-version-kind': gvk, 'responses': ok},
                'put': {'operationId': 'replace' + t.kind, 'x-kubernetes-action': 'put',
                        'x-kubernetes-group-version-kind': gvk, 'parameters': _FIELD_PARAMS[:3], 'responses': ok},
                'patch': {'operationId': 'patch' + t.kind, 'x-kubernetes-action': 'patch',
                          'x-kubernetes-group-version-kind': gvk, 'parameters': _FIELD_PARAMS,
                          'requestBody': body, 'responses': ok},
                'parameters': [{'name': 'name', 'in': 'path', 'required': True, 'schema': {'type': 'string'}}]}
            paths[base] = {'post': {'operationId': 'create' + t.kind, 'x-kubernetes-action': 'post',
                                    'x-kubernetes-group-version-kind': gvk, 'parameters': _FIELD_PARAMS[:3],
                                    'responses': ok}}
            sc = copy.deepcopy(t.schema) if t.schema is not None else {
                'type': 'object', 'description': '%s (the emulator has no schema for built-in types)' % t.kind,
                'x-kubernetes-preserve-unknown-fields': True}
            sc.setdefault('properties', {})
            if t.schema is not None:
                sc['properties'].setdefault('apiVersion', {'type': 'string', 'description': 'APIVersion defines the versioned schema of this representation of an object.'})
                sc['properties'].setdefault('kind', {'type': 'string', 'description': 'Kind is a string value representing the REST resource this object represents.'})
                sc['properties']['metadata'] = {'allOf': [{'$ref': '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'}],
                                                'description': 'Standard object\'s metadata.'}
            sc['x-kubernetes-group-version-kind'] = [gvk]
            schemas[ref] = sc
        schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'] = {
            'type': 'object', 'description': 'ObjectMeta is metadata that all persisted resources must have.',
            'properties': {k: {'type': 'string'} for k in ('name', 'namespace', 'uid', 'resourceVersion', 'generateName')}}
        doc = {'openapi': '3.0.0', 'info': {'title': 'Kubernetes', 'version': VERSION['gitVersion']},
               'paths': paths, 'components': {'schemas': schemas}}
        h = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
        out[gv] = (h, doc)
    return out


def _scale_of(rt, o):
    sc = rt.scale
    spec = query.jsonpath(o, sc['specReplicasPath'])
    stat = query.jsonpath(o, sc['statusReplicasPath']) if sc.get('statusReplicasPath') else []
    out = {'kind': 'Scale', 'apiVersion': 'autoscaling/v1',
           'metadata': {k: o['metadata'][k] for k in ('name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp')
                        if k in o['metadata']},
           'spec': {'replicas': spec[0] if spec else 0},
           'status': {'replicas': stat[0] if stat else 0}}
    if rt.plural == 'statefulsets':
        out['status']['selector'] = res.selector_string((o.get('spec') or {}).get('selector'))
    elif sc.get('labelSelectorPath'):
        sel = query.jsonpath(o, sc['labelSelectorPath'])
        if sel:
            out['status']['selector'] = res.selector_string(sel[0])
    return out


def _set_path(o, path, value):
    parts = [p for p in path.strip('.').split('.') if p]
    cur = o
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'k8s-emulator'
    cluster = None
    tokens = ()
    bookmark_interval = 5.0

    def setup(self):
        super().setup()

    def log_message(self, fmt, *args):
        if os.environ.get('K8S_EMULATOR_LOG'):
            sys.stderr.write('%s - %s\n' % (self.address_string(), fmt % args))

    # --- plumbing ------------------------------------------------------------------------

    def _send(self, code, body, ctype='application/json', headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(',', ':')).encode()
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Audit-Id', str(uuid.uuid4()))
        self.send_header('Cache-Control', 'no-cache, private')
        for k, v in (headers or {}).items():
            if isinstance(v, list):
                for x in v:
                    self.send_header(k, x)
            else:
                self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def _error(self, e):
        self._send(e.code, e.status())

    def _body(self):
        if getattr(self, 'raw', None) is not None:
            return self.raw
        self.raw = self._read_body()
        return self.raw

    def _read_body(self):
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            data = b''
            while True:
                line = self.rfile.readline().strip()
                n = int(line.split(b';')[0], 16)
                if n == 0:
                    while self.rfile.readline().strip():
                        pass
                    break
                data += self.rfile.read(n)
                self.rfile.readline()
            return data
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def _parse(self, raw, ctype):
        if 'protobuf' in ctype:
            try:
                return protobuf.decode(raw)
            except protobuf.ProtoError as e:
                raise ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - '
                               'accepted media types include: application/json, application/yaml (%s)' % e)
        if 'cbor' in ctype:
            raise ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - '
                           'accepted media types include: application/json, application/yaml')
        if not raw.strip():
            raise bad_request('the body of the request was empty')
        try:
            return json.loads(raw)
        except ValueError:
            if yaml is not None and ('yaml' in ctype):
                try:
                    return yaml.safe_load(raw)
                except yaml.YAMLError as e:
                    raise bad_request('error decoding YAML: %s' % e)
            raise bad_request("couldn't get version/kind; json parse error: invalid character")

    def do_GET(self):
        self._handle('GET')

    def do_POST(self):
        self._handle('POST')

    def do_PUT(self):
        self._handle('PUT')

    def do_PATCH(self):
        self._handle('PATCH')

    def do_DELETE(self):
        self._handle('DELETE')

    def _handle(self, method):
        self.raw = None
        try:
            # the whole request is read before anything can fail, so that a
            # kept-alive connection stays in step after an error answer
            if method in ('POST', 'PUT', 'PATCH', 'DELETE'):
                self._body()
            url = urllib.parse.urlsplit(self.path)
            self.q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
            path = url.path.rstrip('/') or '/'
            if path in ('/healthz', '/livez', '/readyz') and method == 'GET':
                return self._send(200, b'ok', 'text/plain; charset=utf-8')
            auth = self.headers.get('Authorization', '')
            if not auth.startswith('Bearer ') or auth[7:].strip() not in self.tokens:
                return self._send(401, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
                                        'message': 'Unauthorized', 'reason': 'Unauthorized', 'code': 401})
            self._route(method, path)
        except ApiError as e:
            self._error(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a bug in the emulator: tell the client, keep serving
            traceback.print_exc()
            self._error(ApiError(500, 'InternalError', 'Internal error occurred: %s' % e))

    # --- routing -------------------------------------------------------------------------

    def _route(self, method, path):
        c = self.cluster
        accept = self.headers.get('Accept', '')
        if path == '/version':
            return self._send(200, VERSION)
        if path.startswith('/openapi/'):
            return self._openapi(path)
        parts = path.strip('/').split('/')
        if method == 'GET':
            if path == '/api':
                if 'as=APIGroupDiscoveryList' in accept:
                    with c.lock:
                        return self._send(200, _aggregated(c, True), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')
                return self._send(200, {'kind': 'APIVersions', 'versions': ['v1'], 'serverAddressByClientCIDRs': [
                    {'clientCIDR': '0.0.0.0/0', 'serverAddress': self.server.server_address[0] + ':%d' % self.server.server_address[1]}]})
            if path == '/apis':
                with c.lock:
                    if 'as=APIGroupDiscoveryList' in accept:
                        return self._send(200, _aggregated(c, False), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')
                    return self._send(200, {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': [
                        self._group(g, vs) for g, vs in c.groups().items() if g]})
            if path == '/api/v1':
                with c.lock:
                    return self._send(200, {'kind': 'APIResourceList', 'groupVersion': 'v1',
                                            'resources': _discovery_resources(c, '', 'v1')})
            if len(parts) == 2 and parts[0] == 'apis':
                with c.lock:
                    vs = c.groups().get(parts[1])
                    if not vs:
                        raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
                    g = self._group(parts[1], vs)
                    g.update({'kind': 'APIGroup', 'apiVersion': 'v1'})
                    return self._send(200, g)
            if len(parts) == 3 and parts[0] == 'apis':
                with c.lock:
                    rs = _discovery_resources(c, parts[1], parts[2])
                    if not rs:
                        raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
                    return self._send(200, {'kind': 'APIResourceList', 'apiVersion': 'v1',
                                            'groupVersion': parts[1] + '/' + parts[2], 'resources': rs})
        if parts[0] == 'api' and len(parts) >= 2:
            group, version, rest = '', parts[1], parts[2:]
        elif parts[0] == 'apis' and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        watch = self.q.get('watch') in ('true', '1')
        if rest and rest[0] == 'watch':
            watch, rest = True, rest[1:]
        ns = None
        with c.lock:
            if len(rest) >= 3 and rest[0] == 'namespaces':
                t = c.type(group, version, rest[2])
                if t is not None and t.namespaced:
                    ns, rest = rest[1], rest[2:]
            rt = c.type(group, version, rest[0]) if rest else None
        if rt is None:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3 or (sub and not ((sub == 'status' and rt.status) or (sub == 'scale' and rt.scale is not None) or
                                          (sub == 'log' and rt.plural == 'pods' and method == 'GET'))):
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        if rt.namespaced and ns is None and method not in ('GET',) and name is None:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        if rt.namespaced and ns is None and name is not None:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        manager = self.q.get('fieldManager') or self.headers.get('User-Agent', 'unknown').split('/')[0]
        dry = self.q.get('dryRun') == 'All'
        strict = self.q.get('fieldValidation')
        ns = ns or ''
        if method == 'GET':
            if watch:
                return self._watch(rt, ns, name)
            if name is None:
                return self._list(rt, ns)
            if sub == 'log':
                return self._pod_log(rt, ns, name)
            with c.lock:
                o = c.get(rt, ns, name)
                if sub == 'scale':
                    return self._send(200, _scale_of(rt, o))
                return self._object(rt, o)
        if method == 'POST':
            if name is not None:
                raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
            body = self._parse(self._body(), self.headers.get('Content-Type', ''))
            self._check_kind(rt, body)
            o, warn = c.create(rt, ns, body, manager, dry, strict)
            return self._object(rt, o, 201, warn)
        if method == 'PUT':
            if name is None:
                raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
            body = self._parse(self._body(), self.headers.get('Content-Type', ''))
            if sub == 'scale':
                return self._scale_write(rt, ns, name, body, manager, 'put')
            self._check_kind(rt, body)
            o, warn = c.update(rt, ns, name, body, manager, sub, dry, strict)
            return self._object(rt, o, 200, warn)
        if method == 'PATCH':
            if name is None:
                raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
            ctype = self.headers.get('Content-Type', '').split(';')[0].strip()
            ptype = {'application/merge-patch+json': 'merge', 'application/strategic-merge-patch+json': 'strategic',
                     'application/json-patch+json': 'json', 'application/apply-patch+yaml': 'apply',
                     'application/apply-patch+cbor': None}.get(ctype)
            if ptype is None:
                self._body()
                raise ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted '
                               'media types include: application/json-patch+json, application/merge-patch+json, '
                               'application/apply-patch+yaml')
            patch = self._parse(self._body(), ctype)
            if sub == 'scale':
                return self._scale_write(rt, ns, name, patch, manager, ptype)
            force = self.q.get('force') in ('true', '1')
            if ptype != 'apply' and 'force' in self.q:
                raise bad_request('force is only valid for apply requests')
            if ptype == 'apply':
                manager = self.q.get('fieldManager')
            o, warn = c.patch(rt, ns, name, ptype, patch, manager, sub, force, dry, strict)
            return self._object(rt, o, 200, warn)
        if method == 'DELETE':
            raw = self._body()
            opts = self._parse(raw, self.headers.get('Content-Type', '')) if raw.strip() else {}
            if not isinstance(opts, dict):
                raise bad_request('the body of the request was in an unknown format')
            if opts.get('dryRun') == ['All']:
                dry = True
            for k in ('propagationPolicy', 'gracePeriodSeconds', 'orphanDependents'):
                if k in self.q:
                    opts[k] = self.q[k] if k == 'propagationPolicy' else (
                        int(self.q[k]) if k == 'gracePeriodSeconds' else self.q[k] == 'true')
            if name is None:
                with c.lock:
                    items = c.list(rt, ns, *self._selectors())
                    for o in items:
                        try:
                            c.delete(rt, o['metadata'].get('namespace', ''), o['metadata']['name'], opts, dry)
                        except ApiError:
                            pass
                    return self._send(200, {'kind': rt.kind + 'List', 'apiVersion': rt.gv,
                                            'metadata': {'resourceVersion': str(c.rv)}, 'items': [c._view(rt, o) for o in items]})
            with c.lock:
                o = c.delete(rt, ns, name, opts, dry)
                # 202 Accepted while finalizers or a grace period keep the object
                still = c.objects[rt.storage].get(c._key(rt, ns, name))
                code = 202 if still is not None and still['metadata'].get('uid') == o['metadata'].get('uid') \
                    and not dry else 200
                return self._object(rt, o, code)
        raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')

    def _pod_log(self, rt, ns, name):
        """GET pods/<name>/log: proxied to the kubelet of the pod's node (its Node's
        InternalIP and daemonEndpoints port), as the real API server does."""
        c = self.cluster
        with c.lock:
            pod = c.get(rt, ns, name)
            spec = pod.get('spec') or {}
            names = [x.get('name') for x in spec.get('containers') or []]
            every = names + [x.get('name') for x in spec.get('initContainers') or []]
            cont = self.q.get('container')
            if not cont:
                if len(names) != 1:
                    raise bad_request('a container name must be specified for pod %s, choose one of: [%s]' % (
                        name, ' '.join(names)))
                cont = names[0]
            elif cont not in every:
                raise bad_request('container %s is not valid for pod %s' % (cont, name))
            node = c.objects[('', 'nodes')].get(('', spec.get('nodeName') or ''))
            if not spec.get('nodeName'):
                raise bad_request('pod %s does not have a host assigned' % name)
            st = (node or {}).get('status') or {}
            ip = next((a.get('address') for a in st.get('addresses') or [] if a.get('type') == 'InternalIP'), None)
            port = ((st.get('daemonEndpoints') or {}).get('kubeletEndpoint') or {}).get('Port')
        if not ip or not port:
            raise bad_request('no kubelet serves the logs of node %s' % spec.get('nodeName'))
        q = {k: v for k, v in self.q.items() if k in ('follow', 'previous', 'tailLines', 'limitBytes', 'timestamps')}
        url = 'http://%s:%s/containerLogs/%s/%s/%s?%s' % (ip, port, ns, name, cont, urllib.parse.urlencode(q))
        try:
            r = urllib.request.urlopen(url, timeout=None if q.get('follow') == 'true' else 30)
        except urllib.error.HTTPError as e:
            raise bad_request(e.read().decode(errors='replace') or str(e))
        except OSError as e:
            raise ApiError(500, 'InternalError', 'Get "%s": %s' % (url, e))
        with r:
            self.send_response(200)
            self.send_header('Content-Type', 'text/plain')
            self.send_header('Transfer-Encoding', 'chunked')
            self.send_header('Cache-Control', 'no-cache, private')
            self.end_headers()
            self.close_connection = True
            try:
                while True:
                    data = r.read1(65536)
                    if not data:
                        break
                    self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
                    self.wfile.flush()
                self.wfile.write(b'0\r\n\r\n')
            except OSError:
                pass

    def _group(self, g, vs):
        return {'name': g, 'versions': [{'groupVersion': g + '/' + v, 'version': v} for v in vs],
                'preferredVersion': {'groupVersion': g + '/' + vs[0], 'version': vs[0]}}

    def _check_kind(self, rt, body):
        if not isinstance(body, dict):
            raise bad_request('the body of the request was in an unknown format')
        k, av = body.get('kind'), body.get('apiVersion')
        if (k and k != rt.kind) or (av and av != rt.gv):
            raise bad_request('the API version in the data (%s) does not match the expected API version (%s)' % (av, rt.gv)
                              if k == rt.kind else 'the kind in the data (%s) does not match the expected kind (%s)' % (k, rt.kind))

    def _wants_table(self):
        a = self.headers.get('Accept', '')
        return 'as=Table' in a and 'g=meta.k8s.io' in a

    def _object(self, rt, o, code=200, warnings=None):
        view = self.cluster._view(rt, o)
        headers = {}
        if warnings:
            headers['Warning'] = ['299 - "%s"' % w.replace('"', "'") for w in warnings]
        if self._wants_table():
            return self._send(code, _to_table(rt, [view], o['metadata'].get('resourceVersion', ''),
                                              self.q.get('includeObject', 'Metadata')),
                              'application/json;as=Table;v=v1;g=meta.k8s.io', headers)
        return self._send(code, view, 'application/json', headers)

    def _selectors(self):
        try:
            ls = query.parse_label_selector(self.q.get('labelSelector', '')) if self.q.get('labelSelector') else None
            fs = query.parse_field_selector(self.q.get('fieldSelector', '')) if self.q.get('fieldSelector') else None
        except query.SelectorError as e:
            raise bad_request('unable to parse requirement: %s' % e)
        return ls, fs

    def _list(self, rt, ns):
        c = self.cluster
        ls, fs = self._selectors()
        with c.lock:
            items = c.list(rt, ns, ls, fs)
            rv = c.rv
            want_rv = self.q.get('resourceVersion')
            if self.q.get('resourceVersionMatch') == 'Exact' and want_rv and int(want_rv) != rv:
                if int(want_rv) < c.compacted:
                    raise ApiError(410, 'Expired', 'The resourceVersion for the provided list is too old.')
        start = 0
        cont = self.q.get('continue')
        if cont:
            try:
                tok = json.loads(base64.urlsafe_b64decode(cont.encode()).decode())
                start = tok['start']
            except Exception:
                raise bad_request('continue key is not valid')
        limit = int(self.q.get('limit') or 0)
        meta = {'resourceVersion': str(rv)}
        page = items[start:]
        if limit and len(page) > limit:
            page = page[:limit]
            meta['continue'] = base64.urlsafe_b64encode(json.dumps({'start': start + limit, 'rv': rv}).encode()).decode()
            meta['remainingItemCount'] = len(items) - start - limit
        views = [c._view(rt, o) for o in page]
        if self._wants_table():
            t = _to_table(rt, views, rv, self.q.get('includeObject', 'Metadata'))
            t['metadata'].update(meta)
            return self._send(200, t, 'application/json;as=Table;v=v1;g=meta.k8s.io')
        return self._send(200, {'kind': rt.kind + 'List', 'apiVersion': rt.gv, 'metadata': meta, 'items': views})

    def _scale_write(self, rt, ns, name, body, manager, ptype):
        c = self.cluster
        with c.lock:
            o = c.get(rt, ns, name)
            cur = _scale_of(rt, o)
            try:
                if ptype == 'put':
                    new = body
                elif ptype == 'merge':
                    new = ssa.merge_patch(cur, body)
                elif ptype == 'strategic':
                    new = ssa.strategic_merge(cur, body, lambda k: ('atomic', None))
                elif ptype == 'json':
                    new = ssa.json_patch(cur, body)
                else:
                    new = ssa.merge_patch(cur, {'spec': (body or {}).get('spec', {})})
            except ssa.PatchError as e:
                raise ApiError(e.code, e.reason, e.message)
            rv = ((new or {}).get('metadata') or {}).get('resourceVersion')
            if rv and rv != o['metadata']['resourceVersion']:
                raise conflict(rt, name)
            replicas = ((new or {}).get('spec') or {}).get('replicas')
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise ApiError(422, 'Invalid', 'Scale.autoscaling "%s" is invalid: spec.replicas: Invalid value: %s: '
                               'must be greater than or equal to 0' % (name, json.dumps(replicas)),
                               {'name': name, 'group': 'autoscaling', 'kind': 'Scale'})
            obj = copy.deepcopy(o)
            _set_path(obj, rt.scale['specReplicasPath'], replicas)
            obj['metadata'].pop('resourceVersion', None)
            updated, _ = c.update(rt, ns, name, obj, manager, record_as='scale')
            return self._send(200, _scale_of(rt, updated))

    # --- watch ---------------------------------------------------------------------------

    def _chunk(self, obj):
        data = json.dumps(obj, separators=(',', ':')).encode() + b'\n'
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        self.wfile.flush()

    def _watch(self, rt, ns, name):
        c = self.cluster
        ls, fs = self._selectors()
        if name is not None:
            fs = (fs or []) + [('metadata.name', False, name)]
        bookmarks = self.q.get('allowWatchBookmarks') in ('true', '1')
        send_initial = self.q.get('sendInitialEvents') in ('true', '1')
        timeout = float(self.q.get('timeoutSeconds') or 1800)
        as_table = self._wants_table()
        rvq = self.q.get('resourceVersion', '')
        if send_initial and self.q.get('resourceVersionMatch') != 'NotOlderThan':
            raise ApiError(422, 'Invalid', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
                           'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan')

        def in_scope(o):
            md = o['metadata']
            if rt.namespaced and ns and md.get('namespace') != ns:
                return False
            return matches(o, ls, fs)

        initial = []
        with c.lock:
            if send_initial or rvq in ('', '0'):
                initial = [o for o in c.list(rt, ns, ls, fs)]
                pos = c.rv
            else:
                try:
                    pos = int(rvq)
                except ValueError:
                    raise bad_request('invalid resource version: %s' % rvq)
                if pos > c.rv:
                    pass
        self.send_response(200)
        self.send_header('Content-Type', 'application/json;as=Table;v=v1;g=meta.k8s.io' if as_table else 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.send_header('Cache-Control', 'no-cache, private')
        self.end_headers()
        self.close_connection = True

        def wrap(o):
            v = c._view(rt, o)
            if as_table:
                return _to_table(rt, [v], o['metadata']['resourceVersion'], self.q.get('includeObject', 'Metadata'))
            return v

        def bookmark(rv, initial_end=False):
            md = {'resourceVersion': str(rv)}
            if initial_end:
                md['annotations'] = {'k8s.io/initial-events-end': 'true'}
            return {'type': 'BOOKMARK', 'object': {'kind': rt.kind, 'apiVersion': rt.gv, 'metadata': md}}

        try:
            for o in initial:
                self._chunk({'type': 'ADDED', 'object': wrap(o)})
            if send_initial:
                self._chunk(bookmark(pos, True))
            deadline = time.monotonic() + timeout
            last_bm = time.monotonic()
            while True:
                out = []
                with c.lock:
                    evs = c.events_since(pos)
                    if evs is None:
                        st = ApiError(410, 'Expired', 'too old resource version: %d (%d)' % (pos, c.compacted)).status()
                        out.append({'type': 'ERROR', 'object': st})
                    else:
                        if not evs:
                            wait = min(deadline - time.monotonic(),
                                       (last_bm + self.bookmark_interval - time.monotonic()) if bookmarks else 1e9)
                            if wait > 0:
                                c.cond.wait(min(wait, 5.0))
                            evs = c.events_since(pos) or []
                        for e in evs:
                            pos = e.rv
                            if e.storage != rt.storage:
                                continue
                            new_in = in_scope(e.obj)
                            old_in = e.old is not None and in_scope(e.old)
                            if e.type == 'MODIFIED':
                                if new_in and old_in:
                                    out.append({'type': 'MODIFIED', 'object': wrap(e.obj)})
                                elif new_in:
                                    out.append({'type': 'ADDED', 'object': wrap(e.obj)})
                                elif old_in:
                                    out.append({'type': 'DELETED', 'object': wrap(e.obj)})
                            elif e.type == 'DELETED':
                                if new_in or old_in:
                                    out.append({'type': 'DELETED', 'object': wrap(e.obj)})
                            elif new_in:
                                out.append({'type': e.type, 'object': wrap(e.obj)})
                for ev in out:
                    self._chunk(ev)
                if out and out[-1]['type'] == 'ERROR':
                    break
                if bookmarks and time.monotonic() - last_bm >= self.bookmark_interval:
                    self._chunk(bookmark(pos))
                    last_bm = time.monotonic()
                if time.monotonic() >= deadline:
                    break
            self.wfile.write(b'0\r\n\r\n')
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass

    # --- openapi -------------------------------------------------------------------------

    def _openapi(self, path):
        """Enough OpenAPI v3 for kubectl: the index, and per group-version the
        PATCH operations (so kubectl sees that the server validates fields
        itself) and, for CRDs, their schemas (kubectl explain). No v2."""
        c = self.cluster
        if not path.startswith('/openapi/v3'):
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        with c.lock:
            docs = _openapi_docs(c)
        if path == '/openapi/v3':
            idx = {'paths': {gv: {'serverRelativeURL': '/openapi/v3/%s?hash=%s' % (gv, h)}
                             for gv, (h, _) in docs.items()}}
            return self._send(200, idx)
        gv = path[len('/openapi/v3/'):]
        if gv not in docs:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        return self._send(200, docs[gv][1], 'application/json',
                          {'Etag': '"%s"' % docs[gv][0], 'Cache-Control': 'public, immutable'}
                          if self.q.get('hash') else None)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, ctx):
        self.ctx = ctx
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return sock, addr

    def process_request_thread(self, request, client_address):
        try:
            request = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self.shutdown_request(request)
            return
        super().process_request_thread(request, client_address)


# --- TLS and kubeconfig ---------------------------------------------------------------------

def make_tls(d, hosts):
    os.makedirs(d, exist_ok=True)
    ca_key, ca_crt = os.path.join(d, 'ca.key'), os.path.join(d, 'ca.crt')
    key, crt = os.path.join(d, 'server.key'), os.path.join(d, 'server.crt')
    sans = ['DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc',
            'DNS:kubernetes.default.svc.cluster.local', 'IP:127.0.0.1']
    for h in hosts:
        entry = ('IP:' if all(p.isdigit() for p in h.split('.')) or ':' in h else 'DNS:') + h
        if entry not in sans:
            sans.append(entry)
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if not (os.path.exists(ca_key) and os.path.exists(ca_crt)):
        run('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-keyout', ca_key, '-out', ca_crt, '-days', '3650', '-subj', '/CN=k8s-emulator-ca',
            '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    sans_file = os.path.join(d, 'server.sans')
    want = ','.join(sans)
    if not (os.path.exists(key) and os.path.exists(crt) and os.path.exists(sans_file) and open(sans_file).read() == want):
        csr = os.path.join(d, 'server.csr')
        ext = os.path.join(d, 'server.ext')
        run('openssl', 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-keyout', key, '-out', csr, '-subj', '/CN=kube-apiserver')
        with open(ext, 'w') as f:
            f.write('subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
                    'basicConstraints=CA:FALSE\n' % want)
        run('openssl', 'x509', '-req', '-in', csr, '-CA', ca_crt, '-CAkey', ca_key, '-CAcreateserial',
            '-out', crt, '-days', '3650', '-extfile', ext)
        with open(sans_file, 'w') as f:
            f.write(want)
    return ca_crt, crt, key


def write_kubeconfig(path, server, ca_pem, token, name, namespace='default'):
    ca_b64 = base64.b64encode(ca_pem.encode()).decode()
    text = ('apiVersion: v1\nkind: Config\nclusters:\n- name: {n}\n  cluster:\n    server: {s}\n'
            '    certificate-authority-data: {ca}\nusers:\n- name: {n}\n  user:\n    token: {t}\n'
            'contexts:\n- name: {n}\n  context:\n    cluster: {n}\n    user: {n}\n    namespace: {ns}\n'
            'current-context: {n}\npreferences: {{}}\n').format(n=name, s=server, ca=ca_b64, t=token, ns=namespace)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--port', type=int, default=0, help='0 picks a free port')
    ap.add_argument('--host', default='127.0.0.1', help='address to listen on')
    ap.add_argument('--tls-dir', help='where the CA and server certificate live (made if absent)')
    ap.add_argument('--token', action='append', required=True, help='accepted bearer token (repeatable)')
    ap.add_argument('--kubeconfig-out', required=True)
    ap.add_argument('--name', default='emulated', help='cluster/context/user name in the kubeconfig')
    ap.add_argument('--san', action='append', default=[], help='extra host name or IP for the certificate')
    ap.add_argument('--watch-history', type=int, default=2000,
                    help='events kept for watch resumption; older resourceVersions get 410 Gone')
    ap.add_argument('--bookmark-interval', type=float, default=5.0, help='seconds between watch BOOKMARK events')
    ap.add_argument('--service-cidr', help='range of Service cluster IPs (default 10.96.0.0/12 style addresses); '
                    'the kubelet stand-in of site k uses 127.<k+10>.128.0/17')
    a = ap.parse_args(argv)
    tls_dir = a.tls_dir or os.path.join(os.path.dirname(os.path.abspath(a.kubeconfig_out)), 'tls-' + a.name)
    ca_crt, crt, key = make_tls(tls_dir, [a.host] + a.san)
    ca_pem = open(ca_crt).read()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    ctx.set_alpn_protocols(['http/1.1'])
    cluster = Cluster(history=a.watch_history, ca_pem=ca_pem, service_cidr=a.service_cidr)
    handler = type('BoundHandler', (Handler,), {'cluster': cluster, 'tokens': tuple(a.token),
                                                 'bookmark_interval': a.bookmark_interval})
    srv = Server((a.host, a.port), handler, ctx)
    port = srv.server_address[1]

    def sweeper():
        while True:
            time.sleep(1)
            try:
                cluster.sweep()
            except Exception:
                traceback.print_exc()
    threading.Thread(target=sweeper, daemon=True).start()
    host = a.host if ':' not in a.host else '[%s]' % a.host
    write_kubeconfig(a.kubeconfig_out, 'https://%s:%d' % (host, port), ca_pem, a.token[0], a.name)
    print('k8s-emulator listening on https://%s:%d kubeconfig %s' % (host, port, a.kubeconfig_out), flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
