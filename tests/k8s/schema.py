"""Structural OpenAPI v3 schemas of CRDs: defaulting, pruning, validation
(types, enum, required, bounds, pattern, lengths, items, list types) and
x-kubernetes-validations CEL rules, with messages shaped like the real API's
field errors ("spec.x: Invalid value: 0: spec.x in body should be ...")."""
import copy
import json
import re

import cel

_METADATA_KEEP = ('name', 'namespace', 'generateName', 'labels', 'annotations', 'finalizers',
                  'ownerReferences', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
                  'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink')


class FieldError:
    def __init__(self, path, kind, value=None, detail='', has_value=True):
        self.path, self.kind, self.value, self.detail, self.has_value = path, kind, value, detail, has_value

    def reason(self):
        return {'Invalid value': 'FieldValueInvalid', 'Required value': 'FieldValueRequired',
                'Unsupported value': 'FieldValueNotSupported', 'Too long': 'FieldValueTooLong',
                'Too many': 'FieldValueTooMany', 'Forbidden': 'FieldValueForbidden',
                'Duplicate value': 'FieldValueDuplicate'}.get(self.kind, 'FieldValueInvalid')

    def message(self):
        s = self.kind
        if self.has_value and self.kind not in ('Required value', 'Forbidden'):
            s += ': ' + fmt_value(self.value)
        if self.detail:
            s += ': ' + self.detail
        return s

    def __str__(self):
        return '%s: %s' % (self.path or '<root>', self.message())


def fmt_value(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float)):
        return repr(v) if isinstance(v, float) else str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if v is None:
        return 'null'
    return json.dumps(v, separators=(',', ':'))


def join(path, name):
    return name if not path else path + '.' + name


def type_name(schema, v):
    t = schema.get('type')
    if t:
        return t
    if isinstance(v, dict):
        return 'object'
    if isinstance(v, list):
        return 'array'
    if isinstance(v, bool):
        return 'boolean'
    if isinstance(v, int):
        return 'integer'
    if isinstance(v, str):
        return 'string'
    return 'object'


def _json_type(v):
    if v is None:
        return 'null'
    if isinstance(v, bool):
        return 'boolean'
    if isinstance(v, int):
        return 'integer'
    if isinstance(v, float):
        return 'integer' if v.is_integer() else 'number'
    if isinstance(v, str):
        return 'string'
    if isinstance(v, list):
        return 'array'
    return 'object'


# --- defaulting -----------------------------------------------------------

def apply_defaults(schema, v):
    """Fills in defaults of absent properties, recursively (mutates v)."""
    if not schema:
        return v
    if isinstance(v, dict):
        props = schema.get('properties') or {}
        for k, sub in props.items():
            if k not in v and 'default' in sub:
                v[k] = copy.deepcopy(sub['default'])
            if k in v:
                v[k] = apply_defaults(sub, v[k])
        ap = schema.get('additionalProperties')
        if isinstance(ap, dict):
            for k in list(v):
                if k not in props:
                    v[k] = apply_defaults(ap, v[k])
    elif isinstance(v, list) and isinstance(schema.get('items'), dict):
        for i, x in enumerate(v):
            v[i] = apply_defaults(schema['items'], x)
    return v


# --- pruning --------------------------------------------------------------

def prune(schema, v, root=False):
    """Drops fields not in the schema unless x-kubernetes-preserve-unknown-fields."""
    if not schema:
        return v
    if isinstance(v, dict):
        props = schema.get('properties') or {}
        ap = schema.get('additionalProperties')
        preserve = schema.get('x-kubernetes-preserve-unknown-fields') or ap is True
        embedded = schema.get('x-kubernetes-embedded-resource')
        for k in list(v):
            if root and k in ('apiVersion', 'kind'):
                continue
            if (root or embedded) and k == 'metadata' and isinstance(v[k], dict):
                for mk in list(v[k]):
                    if mk not in _METADATA_KEEP:
                        del v[k][mk]
                continue
            if embedded and k in ('apiVersion', 'kind'):
                continue
            if k in props:
                prune(props[k], v[k])
            elif isinstance(ap, dict):
                prune(ap, v[k])
            elif not preserve:
                del v[k]
    elif isinstance(v, list) and isinstance(schema.get('items'), dict):
        for x in v:
            prune(schema['items'], x)
    return v


# --- validation -----------------------------------------------------------

_programs = {}


def program(rule):
    p = _programs.get(rule)
    if p is None:
        p = _programs[rule] = cel.Program(rule)
    return p


def check_rules_compile(schema, path='spec.validation.openAPIV3Schema'):
    """Compile errors of every CEL rule in a CRD schema (for CRD creation)."""
    errs = []
    if not isinstance(schema, dict):
        return errs
    for i, r in enumerate(schema.get('x-kubernetes-validations') or []):
        try:
            program(r.get('rule', ''))
        except cel.CelError as e:
            errs.append(FieldError('%s.x-kubernetes-validations[%d].rule' % (path, i), 'Invalid value',
                                   r.get('rule', ''), 'compilation failed: ' + str(e)))
        if r.get('messageExpression'):
            try:
                program(r['messageExpression'])
            except cel.CelError as e:
                errs.append(FieldError('%s.x-kubernetes-validations[%d].messageExpression' % (path, i),
                                       'Invalid value', r['messageExpression'],
                                       'compilation failed: ' + str(e)))
    for k, sub in (schema.get('properties') or {}).items():
        errs += check_rules_compile(sub, path + '.properties[%s]' % k)
    if isinstance(schema.get('items'), dict):
        errs += check_rules_compile(schema['items'], path + '.items')
    if isinstance(schema.get('additionalProperties'), dict):
        errs += check_rules_compile(schema['additionalProperties'], path + '.additionalProperties')
    return errs


_MISSING = object()


def validate(schema, v, old=_MISSING, path='', root=True):
    """Returns a list of FieldError for value v (old: the correlated old value
    on update, for transition rules and ratcheting)."""
    errs = []
    _validate(schema, v, old, path, errs, root)
    return errs


def _pattern_matches(pattern, v):
    try:
        return re.search(pattern, v) is not None
    except re.error:
        return True  # an RE2 pattern Python cannot compile: not checked


def _ratchet(new_errs, v, old):
    # Validation ratcheting: an unchanged value keeps passing.
    if old is not _MISSING and old == v:
        return []
    return new_errs


def _validate(s, v, old, path, errs, root=False):
    if not s:
        return
    mine = []
    if v is None:
        if not s.get('nullable'):
            mine.append(FieldError(path, 'Invalid value', 'null',
                                   '%s in body must be of type %s: "null"' % (path, s.get('type', 'object'))))
        errs += _ratchet(mine, v, old)
        return
    t = s.get('type')
    jt = _json_type(v)
    if s.get('x-kubernetes-int-or-string'):
        if jt not in ('integer', 'string'):
            mine.append(FieldError(path, 'Invalid value', jt,
                                   '%s in body must be of type integer,string: "%s"' % (path, jt)))
    elif t and not (t == jt or (t == 'number' and jt == 'integer')):
        mine.append(FieldError(path, 'Invalid value', jt, '%s in body must be of type %s: "%s"' % (path, t, jt)))
        errs += _ratchet(mine, v, old)
        return
    if 'enum' in s and not any(v == e and type(v) is type(e) or (v == e and isinstance(v, (int, float)) and not isinstance(v, bool)) for e in s['enum']):
        mine.append(FieldError(path, 'Unsupported value', v,
                               'supported values: ' + ', '.join(fmt_value(e) for e in s['enum'])))
    if jt in ('integer', 'number'):
        if 'minimum' in s:
            if s.get('exclusiveMinimum') is True and not v > s['minimum']:
                mine.append(FieldError(path, 'Invalid value', v, '%s in body should be greater than %s' % (path, fmt_value(s['minimum']))))
            elif v < s['minimum']:
                mine.append(FieldError(path, 'Invalid value', v, '%s in body should be greater than or equal to %s' % (path, fmt_value(s['minimum']))))
        if 'maximum' in s:
            if s.get('exclusiveMaximum') is True and not v < s['maximum']:
                mine.append(FieldError(path, 'Invalid value', v, '%s in body should be less than %s' % (path, fmt_value(s['maximum']))))
            elif v > s['maximum']:
                mine.append(FieldError(path, 'Invalid value', v, '%s in body should be less than or equal to %s' % (path, fmt_value(s['maximum']))))
        if 'multipleOf' in s and s['multipleOf'] and v % s['multipleOf'] != 0:
            mine.append(FieldError(path, 'Invalid value', v, '%s in body should be a multiple of %s' % (path, fmt_value(s['multipleOf']))))
    if jt == 'string':
        if 'maxLength' in s and len(v) > s['maxLength']:
            mine.append(FieldError(path, 'Too long', v, 'may not be more than %d bytes' % s['maxLength'], has_value=False))
        if 'minLength' in s and len(v) < s['minLength']:
            mine.append(FieldError(path, 'Invalid value', v, '%s in body should be at least %d chars long' % (path, s['minLength'])))
        if 'pattern' in s and not _pattern_matches(s['pattern'], v):
            mine.append(FieldError(path, 'Invalid value', v, "%s in body should match '%s'" % (path, s['pattern'])))
    if jt == 'array':
        if 'maxItems' in s and len(v) > s['maxItems']:
            mine.append(FieldError(path, 'Too many', len(v), 'must have at most %d items' % s['maxItems']))
        if 'minItems' in s and len(v) < s['minItems']:
            mine.append(FieldError(path, 'Invalid value', len(v), '%s in body should have at least %d items' % (path, s['minItems'])))
        lt = s.get('x-kubernetes-list-type')
        if lt == 'set' or s.get('uniqueItems'):
            seen = []
            for i, x in enumerate(v):
                if x in seen:
                    mine.append(FieldError('%s[%d]' % (path, i), 'Duplicate value', x))
                seen.append(x)
        if lt == 'map':
            keys = s.get('x-kubernetes-list-map-keys') or []
            seen = set()
            for i, x in enumerate(v):
                if isinstance(x, dict):
                    k = json.dumps({kk: x.get(kk) for kk in keys}, sort_keys=True)
                    if k in seen:
                        mine.append(FieldError('%s[%d]' % (path, i), 'Duplicate value',
                                               {kk: x.get(kk) for kk in keys}))
                    seen.add(k)
        items = s.get('items')
        if isinstance(items, dict):
            old_by_key = _correlate_items(s, old)
            for i, x in enumerate(v):
                _validate(items, x, old_by_key(x, i), '%s[%d]' % (path, i), errs)
    if jt == 'object':
        props = s.get('properties') or {}
        for r in s.get('required') or []:
            if r not in v:
                mine.append(FieldError(join(path, r), 'Required value', has_value=False))
        if 'maxProperties' in s and len(v) > s['maxProperties']:
            mine.append(FieldError(path, 'Too many', len(v), 'must have at most %d items' % s['maxProperties']))
        if 'minProperties' in s and len(v) < s['minProperties']:
            mine.append(FieldError(path, 'Invalid value', len(v), '%s in body should have at least %d properties' % (path, s['minProperties'])))
        ap = s.get('additionalProperties')
        for k, x in v.items():
            if root and k in ('apiVersion', 'kind', 'metadata'):
                continue
            sub = props.get(k) if k in props else (ap if isinstance(ap, dict) else None)
            if sub is None:
                continue
            o = old.get(k, _MISSING) if isinstance(old, dict) else _MISSING
            _validate(sub, x, o, join(path, k), errs)
    errs += _ratchet(mine, v, old)
    errs += _cel(s, v, old, path, root)


def _correlate_items(s, old):
    """Old list items correlate to new ones only for map-type lists (by keys)."""
    if not isinstance(old, list) or s.get('x-kubernetes-list-type') != 'map':
        return lambda x, i: _MISSING
    keys = s.get('x-kubernetes-list-map-keys') or []
    table = {}
    for o in old:
        if isinstance(o, dict):
            table[json.dumps({k: o.get(k) for k in keys}, sort_keys=True)] = o
    return lambda x, i: table.get(json.dumps({k: x.get(k) for k in keys}, sort_keys=True), _MISSING) \
        if isinstance(x, dict) else _MISSING


def _cel(s, v, old, path, root):
    errs = []
    rules = s.get('x-kubernetes-validations') or []
    if not rules:
        return errs
    self_v = v
    old_v = old
    if root and isinstance(v, dict):
        self_v = dict(v)
        self_v['metadata'] = {k: x for k, x in (v.get('metadata') or {}).items() if k in ('name', 'generateName')}
        if isinstance(old, dict):
            old_v = dict(old)
            old_v['metadata'] = {k: x for k, x in (old.get('metadata') or {}).items() if k in ('name', 'generateName')}
    for r in rules:
        rule = r.get('rule', '')
        try:
            p = program(rule)
        except cel.CelError as e:
            errs.append(FieldError(path, 'Invalid value', type_name(s, v), 'compilation failed: %s' % e))
            continue
        env = {'self': self_v}
        if p.uses_old_self:
            if old is _MISSING:
                if not r.get('optionalOldSelf'):
                    continue  # transition rules run on updates only
                env['oldSelf'] = None
            else:
                env['oldSelf'] = old_v
        fpath = path
        if r.get('fieldPath'):
            fp = r['fieldPath']
            fpath = (path + fp) if fp.startswith('.') or fp.startswith('[') else join(path, fp)
            fpath = fpath.lstrip('.')
        try:
            ok = p.eval(env)
        except (cel.CelError, TypeError, ValueError, re.error, RecursionError) as e:
            errs.append(FieldError(fpath, 'Invalid value', type_name(s, v), '%s: %s' % (_msg(r, env), e)))
            continue
        if ok is not True:
            kind = {'FieldValueForbidden': 'Forbidden', 'FieldValueRequired': 'Required value',
                    'FieldValueDuplicate': 'Duplicate value'}.get(r.get('reason'), 'Invalid value')
            errs.append(FieldError(fpath, kind, type_name(s, v), _msg(r, env),
                                   has_value=kind in ('Invalid value', 'Duplicate value')))
    return errs


def _msg(r, env):
    if r.get('messageExpression'):
        try:
            m = program(r['messageExpression']).eval(env)
            if isinstance(m, str) and m.strip():
                return m
        except cel.CelError:
            pass
    if r.get('message'):
        return r['message']
    return 'failed rule: %s' % r.get('rule', '')


def schema_at(schema, path_elems):
    """The sub-schema at a field path (list of keys; ints for list items)."""
    s = schema
    for e in path_elems:
        if not isinstance(s, dict):
            return None
        if isinstance(e, int):
            s = s.get('items')
        else:
            props = s.get('properties') or {}
            if e in props:
                s = props[e]
            elif isinstance(s.get('additionalProperties'), dict):
                s = s['additionalProperties']
            else:
                return None
    return s
