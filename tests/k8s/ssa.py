"""Patches and field management: JSON merge patch, strategic merge patch
(as far as kubectl's client-side apply needs), JSON patch, and server-side
apply with metadata.managedFields (FieldsV1) per manager and operation.

List semantics come from a `list_info(keys)` callback (keys: the field
names from the root, list items skipped) answering ('map', [keys]),
('set', None) or ('atomic', None)."""
import copy
import json

MISSING = object()


class PatchError(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class ApplyConflict(Exception):
    def __init__(self, conflicts):
        self.conflicts = conflicts  # list of (manager, apiVersion, path string)
        super().__init__(self.message())

    def message(self):
        n = len(self.conflicts)
        if n == 1:
            m, v, p = self.conflicts[0]
            return 'Apply failed with 1 conflict: conflict with "%s" using %s: %s' % (m, v, p)
        by = {}
        for m, v, p in self.conflicts:
            by.setdefault((m, v), []).append(p)
        parts = ['conflicts with "%s" using %s:\n%s' % (m, v, '\n'.join('- ' + p for p in ps))
                 for (m, v), ps in by.items()]
        return 'Apply failed with %d conflicts: %s' % (n, '\n'.join(parts))


# --- JSON merge patch (RFC 7386) -------------------------------------------

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# --- JSON patch (RFC 6902) ---------------------------------------------------

def _ptr(path):
    if path == '':
        return []
    if not path.startswith('/'):
        raise PatchError(422, 'Invalid', 'invalid JSON pointer %r' % path)
    return [p.replace('~1', '/').replace('~0', '~') for p in path[1:].split('/')]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise PatchError(422, 'Invalid', 'doc is missing path: "/%s"' % '/'.join(parts))
            cur = cur[p]
        elif isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError):
                raise PatchError(422, 'Invalid', 'doc is missing path: "/%s"' % '/'.join(parts))
        else:
            raise PatchError(422, 'Invalid', 'doc is missing path: "/%s"' % '/'.join(parts))
    return cur


def json_patch(doc, ops):
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise PatchError(400, 'BadRequest', 'json patch must be a list of operations')
    for op in ops:
        kind = op.get('op')
        parts = _ptr(op.get('path', ''))

        def put(parts, value, replace):
            nonlocal doc
            if not parts:
                doc = value
                return
            parent = _walk(doc, parts[:-1])
            last = parts[-1]
            if isinstance(parent, dict):
                if replace and last not in parent:
                    raise PatchError(422, 'Invalid', 'replace operation does not apply: doc is missing key: /%s' % '/'.join(parts))
                parent[last] = value
            elif isinstance(parent, list):
                if last == '-':
                    parent.append(value)
                else:
                    i = int(last)
                    if replace:
                        parent[i] = value
                    else:
                        if i > len(parent):
                            raise PatchError(422, 'Invalid', 'add operation does not apply: index out of range')
                        parent.insert(i, value)
            else:
                raise PatchError(422, 'Invalid', 'doc is missing path')

        def remove(parts):
            parent = _walk(doc, parts[:-1])
            last = parts[-1]
            if isinstance(parent, dict):
                if last not in parent:
                    raise PatchError(422, 'Invalid', 'remove operation does not apply: doc is missing path: "/%s"' % '/'.join(parts))
                return parent.pop(last)
            if isinstance(parent, list):
                try:
                    return parent.pop(int(last))
                except (ValueError, IndexError):
                    raise PatchError(422, 'Invalid', 'remove operation does not apply: doc is missing path')
            raise PatchError(422, 'Invalid', 'doc is missing path')

        if kind == 'add':
            put(parts, copy.deepcopy(op.get('value')), False)
        elif kind == 'replace':
            put(parts, copy.deepcopy(op.get('value')), True)
        elif kind == 'remove':
            remove(parts)
        elif kind == 'move':
            v = remove(_ptr(op.get('from', '')))
            put(parts, v, False)
        elif kind == 'copy':
            put(parts, copy.deepcopy(_walk(doc, _ptr(op.get('from', '')))), False)
        elif kind == 'test':
            if _walk(doc, parts) != op.get('value'):
                raise PatchError(422, 'Invalid', 'testing value /%s failed' % '/'.join(parts))
        else:
            raise PatchError(400, 'BadRequest', 'Unexpected kind: %s' % kind)
    return doc


# --- strategic merge patch ---------------------------------------------------

def strategic_merge(target, patch, list_info, keys=()):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get('$patch') == 'replace':
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != '$patch'}
    if patch.get('$patch') == 'delete':
        return MISSING
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get('$retainKeys')
    for k, v in patch.items():
        if k in ('$patch', '$retainKeys') or k.startswith('$setElementOrder/'):
            continue
        if k.startswith('$deleteFromPrimitiveList/'):
            f = k.split('/', 1)[1]
            if isinstance(out.get(f), list):
                out[f] = [x for x in out[f] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
            continue
        sub = keys + (k,)
        if isinstance(v, list):
            kind, mk = list_info(sub)
            out[k] = _smp_list(out.get(k), v, kind, mk, list_info, sub)
        else:
            r = strategic_merge(out.get(k), v, list_info, sub)
            if r is MISSING:
                out.pop(k, None)
            else:
                out[k] = r
    if isinstance(retain, list):
        for k in list(out):
            if k not in retain:
                del out[k]
    return out


def _smp_list(cur, patch, kind, mk, list_info, keys):
    if any(isinstance(x, dict) and x.get('$patch') == 'replace' for x in patch):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and '$patch' in x)]
    if kind == 'set':
        out = list(cur or [])
        for x in patch:
            if x not in out:
                out.append(x)
        return out
    if kind != 'map' or not mk:
        return [copy.deepcopy(x) for x in patch]
    out = copy.deepcopy(cur or [])
    for item in patch:
        if not isinstance(item, dict):
            continue
        ident = {k: item.get(k) for k in mk if k in item}
        idx = next((i for i, o in enumerate(out)
                    if isinstance(o, dict) and all(o.get(k) == v for k, v in ident.items())), None)
        if item.get('$patch') == 'delete':
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge({}, item, list_info, keys))
        else:
            out[idx] = strategic_merge(out[idx], item, list_info, keys)
    return out


# --- field sets ----------------------------------------------------------------

def _kelem(item, mk):
    return 'k:' + json.dumps({k: item.get(k) for k in mk if k in item}, sort_keys=True, separators=(',', ':'))


def fields_of(v, list_info, prefix=(), keys=()):
    """The set of owned paths of a value: leaves, and list-map items as nodes."""
    out = set()
    if isinstance(v, dict):
        if not v and prefix:
            out.add(prefix)
        for k, x in v.items():
            out |= fields_of(x, list_info, prefix + ('f:' + k,), keys + (k,))
    elif isinstance(v, list):
        kind, mk = list_info(keys)
        if kind == 'map' and mk and all(isinstance(x, dict) for x in v):
            if not v:
                out.add(prefix)
            for x in v:
                p = prefix + (_kelem(x, mk),)
                out.add(p)
                out |= fields_of(x, list_info, p, keys)
        elif kind == 'set':
            if not v:
                out.add(prefix)
            for x in v:
                out.add(prefix + ('v:' + json.dumps(x, separators=(',', ':')),))
        else:
            out.add(prefix)
    else:
        if prefix:
            out.add(prefix)
    return out


def get_path(v, path):
    cur = v
    for e in path:
        if e.startswith('f:'):
            if not isinstance(cur, dict) or e[2:] not in cur:
                return MISSING
            cur = cur[e[2:]]
        elif e.startswith('k:'):
            want = json.loads(e[2:])
            if not isinstance(cur, list):
                return MISSING
            cur = next((x for x in cur if isinstance(x, dict) and all(x.get(k) == w for k, w in want.items())), MISSING)
            if cur is MISSING:
                return MISSING
        elif e.startswith('v:'):
            want = json.loads(e[2:])
            if not isinstance(cur, list) or want not in cur:
                return MISSING
            cur = want
        else:
            return MISSING
    return cur


def delete_path(v, path):
    """Removes the field at path from v (in place)."""
    if not path:
        return
    parent = get_path(v, path[:-1])
    e = path[-1]
    if e.startswith('f:') and isinstance(parent, dict):
        parent.pop(e[2:], None)
    elif e.startswith('k:') and isinstance(parent, list):
        want = json.loads(e[2:])
        parent[:] = [x for x in parent if not (isinstance(x, dict) and all(x.get(k) == w for k, w in want.items()))]
    elif e.startswith('v:') and isinstance(parent, list):
        want = json.loads(e[2:])
        parent[:] = [x for x in parent if x != want]


def path_str(path):
    out = ''
    for e in path:
        if e.startswith('f:'):
            out += '.' + e[2:]
        elif e.startswith('k:'):
            out += '[' + ','.join('%s=%s' % (k, json.dumps(v)) for k, v in json.loads(e[2:]).items()) + ']'
        elif e.startswith('v:'):
            out += '[' + e[2:] + ']'
    return out


def encode(fields):
    root = {}
    for p in sorted(fields, key=len):
        node = root
        for e in p:
            node = node.setdefault(e, {})
    # a node owned itself and having children carries "."
    for p in fields:
        node = root
        for e in p:
            node = node[e]
        if node and '.' not in node:
            node['.'] = {}
    return root


def decode(tree, prefix=()):
    out = set()
    for k, sub in (tree or {}).items():
        if k == '.':
            out.add(prefix)
            continue
        p = prefix + (k,)
        if not sub:
            out.add(p)
        else:
            out |= decode(sub, p)
    return out


def merge_values(cur, applied, list_info, keys=()):
    """Applied configuration merged into the live value."""
    if isinstance(applied, dict):
        out = copy.deepcopy(cur) if isinstance(cur, dict) else {}
        for k, v in applied.items():
            out[k] = merge_values(out.get(k), v, list_info, keys + (k,))
        return out
    if isinstance(applied, list):
        kind, mk = list_info(keys)
        if kind == 'map' and mk and isinstance(cur, list):
            out = copy.deepcopy(cur)
            for item in applied:
                if not isinstance(item, dict):
                    return copy.deepcopy(applied)
                idx = next((i for i, o in enumerate(out) if isinstance(o, dict) and
                            all(o.get(k) == item.get(k) for k in mk)), None)
                if idx is None:
                    out.append(copy.deepcopy(item))
                else:
                    out[idx] = merge_values(out[idx], item, list_info, keys)
            return out
        if kind == 'set' and isinstance(cur, list):
            out = list(cur)
            for x in applied:
                if x not in out:
                    out.append(x)
            return out
        return copy.deepcopy(applied)
    return copy.deepcopy(applied)


# --- managedFields -------------------------------------------------------------------

def tracked(obj, status_mode):
    """The part of an object whose fields are tracked.
    status_mode: None (no status subresource), 'main' (status ignored),
    'status' (only status)."""
    out = {}
    for k, v in obj.items():
        if k in ('apiVersion', 'kind'):
            continue
        if k == 'metadata':
            md = {mk: mv for mk, mv in (v or {}).items()
                  if mk in ('labels', 'annotations', 'finalizers', 'ownerReferences')}
            if md and status_mode != 'status':
                out['metadata'] = md
            continue
        if status_mode == 'main' and k == 'status':
            continue
        if status_mode == 'status' and k != 'status':
            continue
        out[k] = v
    return out


def _entries(obj):
    res = []
    for e in (obj.get('metadata') or {}).get('managedFields') or []:
        res.append({'manager': e.get('manager', ''), 'operation': e.get('operation', 'Update'),
                    'subresource': e.get('subresource', ''), 'apiVersion': e.get('apiVersion', ''),
                    'time': e.get('time', ''), 'fields': decode(e.get('fieldsV1'))})
    return res


def _store(obj, entries):
    out = []
    for e in entries:
        if not e['fields']:
            continue
        m = {'manager': e['manager'], 'operation': e['operation'], 'apiVersion': e['apiVersion'],
             'time': e['time'], 'fieldsType': 'FieldsV1', 'fieldsV1': encode(e['fields'])}
        if e['subresource']:
            m['subresource'] = e['subresource']
        out.append(m)
    md = obj.setdefault('metadata', {})
    if out:
        md['managedFields'] = out
    else:
        md.pop('managedFields', None)


def _entry(entries, manager, op, sub, api_version, now):
    for e in entries:
        if e['manager'] == manager and e['operation'] == op and e['subresource'] == sub:
            e['apiVersion'], e['time'] = api_version, now
            return e
    e = {'manager': manager, 'operation': op, 'subresource': sub, 'apiVersion': api_version,
         'time': now, 'fields': set()}
    entries.append(e)
    return e


def record_update(old, new, manager, list_info, status_mode, subresource, now):
    """Field ownership after a non-apply write (create, update, patch): the
    writer owns what it changed; what disappeared is owned by nobody."""
    entries = _entries(old) if old is not None else []
    told = tracked(old, status_mode) if old is not None else {}
    tnew = tracked(new, status_mode)
    fold = fields_of(told, list_info)
    fnew = fields_of(tnew, list_info)
    changed = {p for p in fnew if p not in fold or get_path(tnew, p) != get_path(told, p)}
    gone = fold - fnew
    for e in entries:
        e['fields'] -= gone
        e['fields'] -= changed
    if changed:
        e = _entry(entries, manager, 'Update', subresource, new.get('apiVersion', ''), now)
        e['fields'] |= changed
    _store(new, entries)


def _strip_nulls(v):
    """An applied configuration's nulls say nothing (the field is not applied)."""
    if isinstance(v, dict):
        return {k: _strip_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_strip_nulls(x) for x in v]
    return v


def apply(live, applied, manager, force, list_info, status_mode, subresource, now):
    """Server-side apply of `applied` onto `live` (None when absent).
    Returns the new object; raises ApplyConflict."""
    entries = _entries(live) if live is not None else []
    base = copy.deepcopy(live) if live is not None else {}
    applied = _strip_nulls(applied)
    tapp = tracked(applied, status_mode)
    tlive = tracked(base, status_mode)
    new_set = fields_of(tapp, list_info)
    conflicts = []
    for e in entries:
        if e['manager'] == manager:
            continue
        for p in sorted(new_set & e['fields']):
            a, b = get_path(tapp, p), get_path(tlive, p)
            if b is MISSING or isinstance(a, dict) and p and p[-1].startswith('k:'):
                continue
            if a != b:
                conflicts.append((e, p))
    if conflicts and not force:
        raise ApplyConflict([(e['manager'], e['apiVersion'], path_str(p)) for e, p in conflicts])
    for e, p in conflicts:
        e['fields'].discard(p)
    mine = _entry(entries, manager, 'Apply', subresource, applied.get('apiVersion', ''), now)
    others = set()
    for e in entries:
        if e is not mine:
            others |= e['fields']
    removed = mine['fields'] - new_set
    for p in sorted(removed, key=len, reverse=True):
        if p in others or any(o[:len(p)] == p for o in others):
            continue
        scope = base if status_mode != 'status' else base
        delete_path(scope, p)
    mine['fields'] = new_set
    # the applied configuration merged in (only the tracked parts)
    merged = merge_values(base, {k: v for k, v in applied.items() if k not in ('metadata',) and
                                 k in tapp}, list_info)
    md = merged.setdefault('metadata', {})
    for mk in ('labels', 'annotations', 'finalizers', 'ownerReferences'):
        if mk in (tapp.get('metadata') or {}):
            md[mk] = merge_values(md.get(mk), tapp['metadata'][mk], list_info, ('metadata', mk))
    for mk in ('labels', 'annotations'):
        if mk in md and not md[mk]:
            del md[mk]
    _store(merged, entries)
    return merged
