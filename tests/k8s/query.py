"""Label and field selectors, and the JSONPath subset of printer columns."""
import json
import re


class SelectorError(Exception):
    pass


def parse_label_selector(s):
    """Returns a list of requirements (key, op, values). ops: = != in notin exists !exists."""
    reqs = []
    s = (s or '').strip()
    i = 0
    # split at commas outside parentheses
    parts, depth, cur = [], 0, ''
    for c in s:
        if c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
        if c == ',' and depth == 0:
            parts.append(cur)
            cur = ''
        else:
            cur += c
    if cur.strip():
        parts.append(cur)
    for p in parts:
        p = p.strip()
        if not p:
            raise SelectorError('found \'\', expected: !, identifier, or \'end of string\'')
        m = re.match(r'^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$', p)
        if m:
            vals = [v.strip() for v in m.group(3).split(',') if v.strip()]
            reqs.append((m.group(1), m.group(2), vals))
            continue
        m = re.match(r'^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$', p)
        if m:
            reqs.append((m.group(1), '!=' if m.group(2) == '!=' else '=', [m.group(3)]))
            continue
        m = re.match(r'^!\s*([\w./-]+)$', p)
        if m:
            reqs.append((m.group(1), '!exists', []))
            continue
        m = re.match(r'^([\w./-]+)$', p)
        if m:
            reqs.append((m.group(1), 'exists', []))
            continue
        raise SelectorError('unable to parse requirement: %s' % p)
    return reqs


def label_match(reqs, labels):
    labels = labels or {}
    for k, op, vals in reqs:
        has = k in labels
        v = labels.get(k)
        if op == '=' and not (has and v == vals[0]):
            return False
        if op == '!=' and has and v == vals[0]:
            return False
        if op == 'in' and not (has and v in vals):
            return False
        if op == 'notin' and has and v in vals:
            return False
        if op == 'exists' and not has:
            return False
        if op == '!exists' and has:
            return False
    return True


def parse_field_selector(s):
    reqs = []
    for p in (s or '').split(','):
        p = p.strip()
        if not p:
            continue
        m = re.match(r'^([\w.\-\[\]]+)\s*(==|!=|=)\s*(.*)$', p)
        if not m:
            raise SelectorError('invalid selector: \'%s\'; can\'t understand \'%s\'' % (s, p))
        reqs.append((m.group(1), m.group(2) == '!=', m.group(3)))
    return reqs


def field_value(obj, path):
    cur = obj
    for part in path.split('.'):
        if not isinstance(cur, dict):
            return ''
        cur = cur.get(part)
    if cur is None:
        return ''
    if isinstance(cur, bool):
        return 'true' if cur else 'false'
    return str(cur)


def field_match(reqs, obj):
    for path, neg, want in reqs:
        got = field_value(obj, path)
        if (got == want) == neg:
            return False
    return True


# --- JSONPath subset: .a.b, [n], [*], [?(@.k=="v")], ['key'] -----------------------------

_SEG = re.compile(r"""\.([A-Za-z0-9_\-/$]+)|\[(\d+|-?\d+)\]|\[\*\]|\[\?\(@\.([\w.\-]+)\s*(==|!=)\s*["']?([^"'\)]*)["']?\)\]|\[['"]([^'"]+)['"]\]""")


def jsonpath(obj, path):
    """Values (a list) selected by a printer-column JSONPath."""
    path = path.strip()
    if path.startswith('{') and path.endswith('}'):
        path = path[1:-1]
    if path.startswith('$'):
        path = path[1:]
    if path and path[0] not in '.[':
        path = '.' + path
    cur = [obj]
    pos = 0
    while pos < len(path):
        m = _SEG.match(path, pos)
        if not m:
            raise ValueError('unsupported JSONPath %r' % path)
        pos = m.end()
        nxt = []
        for c in cur:
            if m.group(1) is not None or m.group(6) is not None:
                k = m.group(1) if m.group(1) is not None else m.group(6)
                if isinstance(c, dict) and k in c:
                    nxt.append(c[k])
            elif m.group(2) is not None:
                if isinstance(c, list):
                    i = int(m.group(2))
                    if -len(c) <= i < len(c):
                        nxt.append(c[i])
            elif m.group(0) == '[*]':
                if isinstance(c, list):
                    nxt.extend(c)
                elif isinstance(c, dict):
                    nxt.extend(c.values())
            else:
                key, op, want = m.group(3), m.group(4), m.group(5)
                if isinstance(c, list):
                    for x in c:
                        got = field_value(x, key) if isinstance(x, dict) else ''
                        if (got == want) == (op == '=='):
                            nxt.append(x)
        cur = nxt
    return cur


def cell(values, type_):
    """Printer-column cell of a CRD column, like the real table convertor."""
    if not values:
        return None
    v = values[0]
    if len(values) > 1:
        return ','.join(json.dumps(x) if isinstance(x, (dict, list)) else str(x) for x in values)
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(',', ':'))
    if type_ == 'integer' and isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v)
    if type_ == 'number' and isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    if type_ == 'boolean' and isinstance(v, bool):
        return v
    if isinstance(v, bool):
        return 'true' if v else 'false'
    return v if isinstance(v, (int, float)) else str(v)
