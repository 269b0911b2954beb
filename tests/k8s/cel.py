"""A CEL subset for x-kubernetes-validations rules (Python stdlib only).

Supported: int/uint/double/string/bytes-less literals, bool, null, lists, maps;
identifiers (self, oldSelf and macro variables); field selection, indexing;
has(); the operators ! - * / % + - < <= > >= == != in && || ?: with CEL's
error-absorbing && and ||; functions size, matches, startsWith, endsWith,
contains, lowerAscii, upperAscii, trim, int, uint, double, string, bool,
type-free; macros all, exists, exists_one, map, filter; list/string
concatenation with +; isSorted, min, max on lists; join.
Not supported: optionals, bytes, timestamps and durations (beyond strings),
quantities, type checking at CRD creation time (rules are only parsed then).
"""
import re


class CelError(Exception):
    """A parse or evaluation error (CEL runtime error)."""


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|0x[0-9a-fA-F]+u?|\d+u?)
  | (?P<str>[rR]?(?:\"\"\"(?:.|\n)*?\"\"\"|'''(?:.|\n)*?'''|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'))
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|[-+*/%!<>?:.,\[\](){}])
""", re.X)

_ESC = {'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', '"': '"', "'": "'", '`': '`',
        'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v', '?': '?'}


def _unquote(tok):
    raw = tok[0] in 'rR'
    if raw:
        tok = tok[1:]
    q = tok[:3] if tok[:3] in ('"""', "'''") else tok[0]
    body = tok[len(q):-len(q)]
    if raw:
        return body
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == '\\' and i + 1 < len(body):
            n = body[i + 1]
            if n in _ESC:
                out.append(_ESC[n]); i += 2; continue
            if n == 'u':
                out.append(chr(int(body[i + 2:i + 6], 16))); i += 6; continue
            if n == 'x':
                out.append(chr(int(body[i + 2:i + 4], 16))); i += 4; continue
            raise CelError("invalid escape \\" + n)
        out.append(c); i += 1
    return ''.join(out)


def tokenize(src):
    toks, pos = [], 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            raise CelError("Syntax error: token recognition error at: '%s'" % src[pos])
        pos = m.end()
        kind = m.lastgroup
        if kind == 'ws':
            continue
        toks.append((kind, m.group()))
    toks.append(('eof', ''))
    return toks


class Parser:
    """Precedence-climbing parser producing tuples (AST nodes)."""

    def __init__(self, src):
        self.toks = tokenize(src)
        self.i = 0

    def peek(self, k=0):
        return self.toks[self.i + k]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, v):
        t = self.next()
        if t[1] != v or t[0] == 'str':
            raise CelError("Syntax error: expected '%s', got '%s'" % (v, t[1]))
        return t

    def accept(self, v):
        t = self.peek()
        if t[0] in ('op', 'id') and t[1] == v:
            self.i += 1
            return True
        return False

    def parse(self):
        e = self.expr()
        if self.peek()[0] != 'eof':
            raise CelError("Syntax error: unexpected '%s'" % self.peek()[1])
        return e

    def expr(self):
        c = self.or_()
        if self.accept('?'):
            a = self.expr()
            self.expect(':')
            b = self.expr()
            return ('cond', c, a, b)
        return c

    def or_(self):
        e = self.and_()
        while self.accept('||'):
            e = ('or', e, self.and_())
        return e

    def and_(self):
        e = self.rel()
        while self.accept('&&'):
            e = ('and', e, self.rel())
        return e

    def rel(self):
        e = self.add()
        while True:
            t = self.peek()
            if (t[0] == 'op' and t[1] in ('<', '<=', '>', '>=', '==', '!=')) or (t[0] == 'id' and t[1] == 'in'):
                self.i += 1
                e = ('bin', t[1], e, self.add())
            else:
                return e

    def add(self):
        e = self.mul()
        while self.peek()[0] == 'op' and self.peek()[1] in ('+', '-'):
            op = self.next()[1]
            e = ('bin', op, e, self.mul())
        return e

    def mul(self):
        e = self.unary()
        while self.peek()[0] == 'op' and self.peek()[1] in ('*', '/', '%'):
            op = self.next()[1]
            e = ('bin', op, e, self.unary())
        return e

    def unary(self):
        if self.accept('!'):
            return ('not', self.unary())
        if self.peek() == ('op', '-'):
            self.i += 1
            return ('neg', self.unary())
        return self.member()

    def member(self):
        e = self.primary()
        while True:
            if self.accept('.'):
                t = self.next()
                if t[0] != 'id':
                    raise CelError("Syntax error: expected field name")
                if self.accept('('):
                    e = ('call', t[1], e, self.args(')'))
                else:
                    e = ('sel', e, t[1])
            elif self.accept('['):
                idx = self.expr()
                self.expect(']')
                e = ('index', e, idx)
            else:
                return e

    def args(self, close):
        out = []
        if self.accept(close):
            return out
        while True:
            out.append(self.expr())
            if self.accept(close):
                return out
            self.expect(',')

    def primary(self):
        t = self.next()
        kind, v = t
        if kind == 'num':
            if v.endswith('u'):
                return ('lit', int(v[:-1], 0))
            if v.startswith('0x'):
                return ('lit', int(v, 16))
            if '.' in v or 'e' in v or 'E' in v:
                return ('lit', float(v))
            return ('lit', int(v))
        if kind == 'str':
            return ('lit', _unquote(v))
        if kind == 'id':
            if v == 'true':
                return ('lit', True)
            if v == 'false':
                return ('lit', False)
            if v == 'null':
                return ('lit', None)
            if self.accept('('):
                return ('call', v, None, self.args(')'))
            return ('ident', v)
        if kind == 'op' and v == '(':
            e = self.expr()
            self.expect(')')
            return e
        if kind == 'op' and v == '[':
            return ('list', self.args(']'))
        if kind == 'op' and v == '{':
            items = []
            if not self.accept('}'):
                while True:
                    k = self.expr()
                    self.expect(':')
                    items.append((k, self.expr()))
                    if self.accept('}'):
                        break
                    self.expect(',')
            return ('map', items)
        raise CelError("Syntax error: unexpected '%s'" % v)


def parse(src):
    return Parser(src).parse()


def references(ast, name):
    """True when identifier `name` appears in the AST."""
    if isinstance(ast, tuple):
        if ast[0] == 'ident' and ast[1] == name:
            return True
        return any(references(x, name) for x in ast[1:])
    if isinstance(ast, list):
        return any(references(x, name) for x in ast)
    return False


_MACROS = ('all', 'exists', 'exists_one', 'map', 'filter')


def _type(v):
    if isinstance(v, bool):
        return 'bool'
    if isinstance(v, int):
        return 'int'
    if isinstance(v, float):
        return 'double'
    if isinstance(v, str):
        return 'string'
    if isinstance(v, list):
        return 'list'
    if isinstance(v, dict):
        return 'map'
    if v is None:
        return 'null_type'
    return type(v).__name__


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _eq(a, b):
    if _num(a) and _num(b):
        return a == b
    if type(a) is not type(b) and not (isinstance(a, (list, dict)) and isinstance(b, (list, dict))):
        return False
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_eq(a[k], b[k]) for k in a)
    return a == b


def _cmp(op, a, b):
    if not ((_num(a) and _num(b)) or (type(a) is type(b) and isinstance(a, (str, bool)))):
        raise CelError("no such overload: %s %s %s" % (_type(a), op, _type(b)))
    return {'<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b}[op]


class Env:
    def __init__(self, vars_):
        self.vars = vars_


def evaluate(ast, variables):
    return _eval(ast, dict(variables))


def _eval(n, env):
    k = n[0]
    if k == 'lit':
        return n[1]
    if k == 'ident':
        if n[1] not in env:
            raise CelError("undeclared reference to '%s'" % n[1])
        return env[n[1]]
    if k == 'list':
        return [_eval(x, env) for x in n[1]]
    if k == 'map':
        return {_eval(a, env): _eval(b, env) for a, b in n[1]}
    if k == 'sel':
        obj = _eval(n[1], env)
        if isinstance(obj, dict):
            if n[2] not in obj:
                raise CelError("no such key: %s" % n[2])
            return obj[n[2]]
        raise CelError("no such key: %s (on %s)" % (n[2], _type(obj)))
    if k == 'index':
        obj, idx = _eval(n[1], env), _eval(n[2], env)
        if isinstance(obj, list):
            if not _num(idx) or int(idx) != idx:
                raise CelError("no such overload: list[%s]" % _type(idx))
            if idx < 0 or idx >= len(obj):
                raise CelError("index out of bounds: %d" % idx)
            return obj[int(idx)]
        if isinstance(obj, dict):
            if idx not in obj:
                raise CelError("no such key: %s" % idx)
            return obj[idx]
        raise CelError("no such overload: %s[]" % _type(obj))
    if k == 'not':
        v = _eval(n[1], env)
        if not isinstance(v, bool):
            raise CelError("no such overload: !%s" % _type(v))
        return not v
    if k == 'neg':
        v = _eval(n[1], env)
        if not _num(v):
            raise CelError("no such overload: -%s" % _type(v))
        return -v
    if k in ('and', 'or'):
        short = (k == 'or')
        err = None
        try:
            a = _eval(n[1], env)
            if not isinstance(a, bool):
                raise CelError("no such overload: %s %s" % (_type(a), k))
            if a == short:
                return short
        except CelError as e:
            err = e
        b = _eval(n[2], env)
        if not isinstance(b, bool):
            raise CelError("no such overload: %s %s" % (k, _type(b)))
        if b == short:
            return short
        if err:
            raise err
        return b
    if k == 'cond':
        c = _eval(n[1], env)
        if not isinstance(c, bool):
            raise CelError("no such overload: %s ? :" % _type(c))
        return _eval(n[2] if c else n[3], env)
    if k == 'bin':
        return _binop(n[1], _eval(n[2], env), _eval(n[3], env))
    if k == 'call':
        return _call(n, env)
    raise CelError("unknown node %r" % (k,))


def _binop(op, a, b):
    if op == '==':
        return _eq(a, b)
    if op == '!=':
        return not _eq(a, b)
    if op in ('<', '<=', '>', '>='):
        return _cmp(op, a, b)
    if op == 'in':
        if isinstance(b, list):
            return any(_eq(a, x) for x in b)
        if isinstance(b, dict):
            return a in b
        raise CelError("no such overload: %s in %s" % (_type(a), _type(b)))
    if op == '+':
        if (_num(a) and _num(b)) or (isinstance(a, str) and isinstance(b, str)) or \
                (isinstance(a, list) and isinstance(b, list)):
            return a + b
        raise CelError("no such overload: %s + %s" % (_type(a), _type(b)))
    if not (_num(a) and _num(b)):
        raise CelError("no such overload: %s %s %s" % (_type(a), op, _type(b)))
    if op == '-':
        return a - b
    if op == '*':
        return a * b
    if op == '/':
        if b == 0:
            raise CelError("division by zero")
        if isinstance(a, int) and isinstance(b, int):
            q = abs(a) // abs(b)
            return q if (a >= 0) == (b >= 0) else -q
        return a / b
    if op == '%':
        if b == 0:
            raise CelError("modulus by zero")
        if isinstance(a, int) and isinstance(b, int):
            r = abs(a) % abs(b)
            return r if a >= 0 else -r
        raise CelError("no such overload: double % double")
    raise CelError("unknown operator " + op)


def _call(n, env):
    _, name, target, args = n
    if target is None and name == 'has':
        if len(args) != 1 or args[0][0] != 'sel':
            raise CelError("invalid argument to has() macro")
        obj = _eval(args[0][1], env)
        if isinstance(obj, dict):
            return args[0][2] in obj and obj[args[0][2]] is not None
        raise CelError("no such overload: has() on %s" % _type(obj))
    if target is not None and name in _MACROS:
        coll = _eval(target, env)
        if len(args) != 2 or args[0][0] != 'ident':
            raise CelError("invalid arguments to %s macro" % name)
        var, body = args[0][1], args[1]
        items = list(coll.keys()) if isinstance(coll, dict) else coll
        if not isinstance(items, list):
            raise CelError("no such overload: %s.%s" % (_type(coll), name))

        def run(x):
            e2 = dict(env)
            e2[var] = x
            return _eval(body, e2)
        if name == 'map':
            return [run(x) for x in items]
        if name == 'filter':
            return [x for x in items if run(x) is True]
        if name == 'exists_one':
            return sum(1 for x in items if run(x) is True) == 1
        # all / exists with error absorption
        want = (name == 'exists')
        err = None
        for x in items:
            try:
                r = run(x)
            except CelError as e:
                err = e
                continue
            if not isinstance(r, bool):
                raise CelError("no such overload in %s" % name)
            if r == want:
                return want
        if err:
            raise err
        return not want
    vals = [_eval(a, env) for a in args]
    if target is not None:
        vals.insert(0, _eval(target, env))
    return _function(name, vals)


def _function(name, v):
    def need(cnt, *types):
        if len(v) != cnt or any(t and not isinstance(x, t) for x, t in zip(v, types)):
            raise CelError("found no matching overload for '%s' applied to (%s)" %
                           (name, ', '.join(_type(x) for x in v)))
    if name == 'size':
        need(1)
        if isinstance(v[0], (str, list, dict)):
            return len(v[0])
        raise CelError("found no matching overload for 'size' applied to (%s)" % _type(v[0]))
    if name == 'matches':
        need(2, str, str)
        try:
            return re.search(v[1], v[0]) is not None
        except re.error as e:
            raise CelError("invalid regular expression '%s': %s" % (v[1], e))
    if name == 'startsWith':
        need(2, str, str)
        return v[0].startswith(v[1])
    if name == 'endsWith':
        need(2, str, str)
        return v[0].endswith(v[1])
    if name == 'contains':
        need(2, str, str)
        return v[1] in v[0]
    if name == 'lowerAscii':
        need(1, str)
        return v[0].lower()
    if name == 'upperAscii':
        need(1, str)
        return v[0].upper()
    if name == 'trim':
        need(1, str)
        return v[0].strip()
    if name == 'split':
        need(2, str, str)
        return v[0].split(v[1])
    if name == 'join':
        if len(v) == 1:
            need(1, list)
            return ''.join(v[0])
        need(2, list, str)
        return v[1].join(v[0])
    if name == 'indexOf':
        need(2, str, str)
        return v[0].find(v[1])
    if name in ('int', 'uint'):
        need(1)
        x = v[0]
        if isinstance(x, bool):
            raise CelError("no such overload: int(bool)")
        if isinstance(x, str):
            try:
                return int(x)
            except ValueError:
                raise CelError("cannot convert '%s' to int" % x)
        if _num(x):
            return int(x)
        raise CelError("no such overload: int(%s)" % _type(x))
    if name == 'double':
        need(1)
        try:
            return float(v[0])
        except (TypeError, ValueError):
            raise CelError("no such overload: double(%s)" % _type(v[0]))
    if name == 'string':
        need(1)
        x = v[0]
        if isinstance(x, bool):
            return 'true' if x else 'false'
        if isinstance(x, (str, int, float)):
            return str(x)
        raise CelError("no such overload: string(%s)" % _type(x))
    if name == 'bool':
        need(1)
        if isinstance(v[0], bool):
            return v[0]
        if v[0] in ('true', 'True', 'TRUE', 't', '1'):
            return True
        if v[0] in ('false', 'False', 'FALSE', 'f', '0'):
            return False
        raise CelError("no such overload: bool(%s)" % _type(v[0]))
    if name == 'isSorted':
        need(1, list)
        return all(_cmp('<=', a, b) for a, b in zip(v[0], v[0][1:]))
    if name in ('min', 'max'):
        need(1, list)
        if not v[0]:
            raise CelError("%s called on empty list" % name)
        return (min if name == 'min' else max)(v[0])
    if name == 'sum':
        need(1, list)
        return sum(v[0])
    if name == 'type':
        need(1)
        return _type(v[0])
    raise CelError("undeclared reference to '%s'" % name)


class Program:
    """A compiled rule: parse once, evaluate many times."""

    def __init__(self, src):
        self.src = src
        self.ast = parse(src)
        self.uses_old_self = references(self.ast, 'oldSelf')

    def eval(self, variables):
        return evaluate(self.ast, variables)
