"""Compatibility oracle: CherryPy 18.10's own reading of config files, as JSON.

Usage: compat/.venv/bin/python compat/oracle.py [--marker-only] [--timeout S] FILE...

Prints one JSON line per FILE, in order, exactly as compat/FORMAT.md says, so that a
Rust test can compare `cherrypy-config dump --format json` with real CherryPy.

The reading uses CherryPy's own classes: `cherrypy.lib.reprconf.Parser` for the INI layer
(its `read`, then values in the order of its `as_dict`) and a subclass of CherryPy's
`_Builder` for values. The subclass only changes what would run code -- names (imports),
attribute look-ups and calls -- into markers (`Expr`), so the comparison data never
depends on, nor executes, what a config names. Everything else (literals, containers,
`+`/`*`/`-`/subscripts on literals, "unrepr does not recognize" errors) is CherryPy's.

Then, unless --marker-only, each file that read fine is also read for real by
compat/cherrypy_real.py (imports and calls included, in a child process); when that
fails the object gets "cherrypy_error" (see README.md).
"""

import ast
import builtins
import configparser
import io
import json
import operator
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import tokenize
import traceback
import unicodedata

try:
    from cherrypy.lib.reprconf import Parser, _Builder
except ImportError:
    sys.exit('oracle.py: no CherryPy here; run compat/setup.sh, then use compat/.venv/bin/python')

# unrepr parses '__tempvalue__ = ' + value; AST and SyntaxError positions on the value's
# first line include this prefix.
PREFIX = '__tempvalue__ = '

# Our own size guard (FORMAT.md `value-too-large`): real CherryPy would try to build
# `"x" * 10000000000` and nested repetitions; the oracle must never hang or exhaust memory.
MAX_LENGTH = 1_000_000    # longest str/bytes/list/tuple a `+` or `*` may produce
MAX_PARTS = 10_000_000    # most parts (values + characters) one key's reading may have

# First parts of dotted names that FORMAT.md calls resolved.
RESOLVABLE = frozenset(dir(builtins)) | sys.stdlib_module_names | {'cherrypy'}

REAL_READER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cherrypy_real.py')


class ValueTooLarge(Exception):
    """Raised by the size guard."""


class TooManyParts(ValueTooLarge):
    """The size guard on a whole value, which no single AST node is to blame for."""


class OracleError(Exception):
    """A reading failure, already mapped to a FORMAT.md error code."""

    def __init__(self, code, line, column, message):
        super().__init__(message)
        self.error = {'code': code, 'line': line, 'column': column, 'message': message}


# --- Values -----------------------------------------------------------------------

class Encoder:
    """Turns built values into FORMAT.md's JSON value objects, counting their parts."""

    def __init__(self):
        self.parts = 0

    def count(self, n):
        self.parts += n
        if self.parts > MAX_PARTS:
            raise TooManyParts(f'the value has more than {MAX_PARTS} parts')

    def __call__(self, v):
        if isinstance(v, Expr):
            self.count(v.parts)
            return v.json
        self.count(1)
        if v is None:
            return {'type': 'none'}
        if v is Ellipsis:
            return {'type': 'ellipsis'}
        if isinstance(v, bool):          # before int: bool is an int in Python
            return {'type': 'bool', 'value': v}
        if isinstance(v, int):
            return {'type': 'int', 'value': v}
        if isinstance(v, float):
            if v != v or v in (float('inf'), float('-inf')):
                return {'type': 'float', 'repr': repr(v)}
            return {'type': 'float', 'value': v, 'repr': repr(v)}
        if isinstance(v, complex):
            return {'type': 'complex', 'repr': repr(v)}
        if isinstance(v, str):
            self.count(len(v))
            return {'type': 'str', 'value': v}
        if isinstance(v, bytes):
            self.count(len(v))
            return {'type': 'bytes', 'value': v.decode('latin-1'), 'repr': repr(v)}
        if isinstance(v, list):
            return {'type': 'list', 'items': [self(x) for x in v]}
        if isinstance(v, tuple):
            return {'type': 'tuple', 'items': [self(x) for x in v]}
        if isinstance(v, dict):
            return {'type': 'dict', 'items': [[self(k), self(x)] for k, x in v.items()]}
        raise TypeError(f'oracle cannot encode a {type(v).__name__}')


def freeze(j):
    """A hashable, comparable form of a JSON value (ints compared without str())."""
    if isinstance(j, dict):
        return tuple((k, freeze(v)) for k, v in j.items())
    if isinstance(j, list):
        return tuple(freeze(v) for v in j)
    if isinstance(j, float):
        return ('float', repr(j))        # the repr decides; 'value' is then redundant
    return (type(j).__name__, j)


class Expr:
    """A value real CherryPy would compute by importing, looking up or calling.

    Kept as its FORMAT.md JSON form. Two markers are equal when they are the same
    expression, so `{a: 1, a: 2}` keeps one key, as it would with the real object.
    """

    __slots__ = ('json', 'parts', '_key', 'bound')

    def __init__(self, head, **values):
        """head: its JSON fields that are plain JSON already; values: built values."""
        encode = Encoder()
        self.json = dict(head)
        for name, v in values.items():
            if name == 'args':
                self.json[name] = [encode(x) for x in v]
            elif name == 'kwargs':
                self.json[name] = [[k, encode(x)] for k, x in v]
            else:
                self.json[name] = encode(v)
        self.parts = encode.parts + 1
        self._key = None
        self.bound = None       # (object, name) of an attribute of a literal str

    @classmethod
    def name(cls, dotted):
        resolved = dotted.split('.', 1)[0] in RESOLVABLE
        return cls({'type': 'name', 'value': dotted, 'resolved': resolved})

    def is_name(self):
        return self.json['type'] == 'name'

    def key(self):
        if self._key is None:
            self._key = freeze(self.json)
        return self._key

    def __eq__(self, other):
        return isinstance(other, Expr) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())


def _binop(op, python_op, left, right):
    if isinstance(left, Expr) or isinstance(right, Expr):
        return Expr({'type': 'binop', 'op': op}, left=left, right=right)
    return python_op(left, right)


def _add(left, right):
    result = _binop('+', operator.add, left, right)
    if isinstance(result, (str, bytes, list, tuple)) and len(result) > MAX_LENGTH:
        raise ValueTooLarge(f'`+` gives a {type(result).__name__} of {len(result)} items')
    return result


def _mul(left, right):
    # Check before multiplying: the point is not to allocate it.
    for seq, n in ((left, right), (right, left)):
        if (isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int)
                and len(seq) * n > MAX_LENGTH):
            raise ValueTooLarge(f'`*` would give a {type(seq).__name__} of {len(seq) * n} items')
    return _binop('*', operator.mul, left, right)


def _neg(operand):
    if isinstance(operand, Expr):
        return Expr({'type': 'neg'}, operand=operand)
    return operator.neg(operand)


# The pure names and calls that our reader evaluates as CherryPy does (src/unrepr/pure.rs);
# everything else stays a marker. They are evaluated here for real, in the oracle's working
# directory and with its $HOME, which are the test's own: the Rust side reads the same.
PURE_CONSTANTS = frozenset(
    'os.sep os.path.sep os.pathsep os.path.pathsep os.linesep os.curdir os.path.curdir '
    'os.pardir os.path.pardir os.extsep os.path.extsep'.split())
PURE_PATH_CALLS = {
    'os.getcwd': os.getcwd, 'os.path.join': os.path.join, 'os.path.abspath': os.path.abspath,
    'os.path.normpath': os.path.normpath, 'os.path.dirname': os.path.dirname,
    'os.path.basename': os.path.basename, 'os.path.expanduser': os.path.expanduser,
}
PURE_STR_METHODS = frozenset(
    'upper lower strip lstrip rstrip split replace join startswith endswith'.split())


def pure_constant(dotted):
    if dotted not in PURE_CONSTANTS:
        return None
    module, name = dotted.rsplit('.', 1)
    return getattr(os.path if module == 'os.path' else os, name)


def pure_call(callee, args, kwargs):
    """The result of a pure call, or None to keep the marker (also where Python raises)."""
    if kwargs or not isinstance(callee, Expr):
        return None
    try:
        if callee.is_name() and callee.json['value'] in PURE_PATH_CALLS:
            name = callee.json['value']
            # `~user` and a missing $HOME need the password database: not evaluated.
            if name == 'os.path.expanduser' and args and type(args[0]) is str and (
                    args[0][1:2] not in ('', '/') and args[0].startswith('~')
                    or args[0].startswith('~') and 'HOME' not in os.environ):
                return None
            if all(type(a) is str for a in args):
                return PURE_PATH_CALLS[name](*args)
        elif callee.bound is not None and callee.bound[1] in PURE_STR_METHODS:
            obj, name = callee.bound
            if name == 'join':
                ok = (len(args) == 1 and type(args[0]) in (list, tuple)
                      and all(type(x) is str for x in args[0]))
            else:
                ok = all(type(a) is str for a in args)
            if ok:
                return getattr(obj, name)(*args)
    except (TypeError, ValueError):
        pass
    return None


class MarkerBuilder(_Builder):
    """CherryPy's unrepr builder, with markers where CherryPy would run code.

    Only these methods differ from `_Builder`; each evaluates its children in the same
    order as CherryPy does, so the first error is the one CherryPy would meet first
    (unless CherryPy would fail on resolving a name before it).
    """

    def build_Name(self, o):
        # (None/True/False are Constant nodes since Python 3.8.)
        return Expr.name(o.id)

    def build_Attribute(self, o):
        parent = self.build(o.value)
        if isinstance(parent, Expr) and parent.is_name():
            dotted = parent.json['value'] + '.' + o.attr
            value = pure_constant(dotted)
            return Expr.name(dotted) if value is None else value
        marker = Expr({'type': 'attribute', 'attr': o.attr}, object=parent)
        if type(parent) is str:
            marker.bound = (parent, o.attr)
        return marker

    def build_Call(self, o):
        callee = self.build(o.func)
        args = []
        for a in o.args:
            if isinstance(a, ast.Starred):
                args.append(Expr({'type': 'starred'}, value=self.build(a.value)))
            else:
                args.append(self.build(a))
        kwargs = []
        for kw in o.keywords:
            value = self.build(kw.value)
            # CherryPy checks `**x` before calling; that check runs no config code.
            if kw.arg is None and not isinstance(value, (dict, Expr)):
                raise TypeError('Invalid argument for call.'
                                'Must be a mapping object.')
            kwargs.append((kw.arg, value))
        result = pure_call(callee, args, kwargs)
        if result is not None:
            return result
        if isinstance(callee, Expr) and callee.is_name():   # FORMAT.md: the dotted name
            return Expr({'type': 'call', 'func': callee.json['value']}, args=args, kwargs=kwargs)
        return Expr({'type': 'call'}, func=callee, args=args, kwargs=kwargs)

    def build_Subscript(self, o):
        value, index = self.build(o.value), self.build(o.slice)
        if isinstance(value, Expr) or isinstance(index, Expr):
            return Expr({'type': 'subscript'}, value=value, index=index)
        return value[index]

    # build_BinOp / build_UnaryOp call whatever the operator node builds to.
    def build_Add(self, o):
        return _add

    def build_Mult(self, o):
        return _mul

    def build_USub(self, o):
        return _neg


# --- The INI layer, with line numbers ---------------------------------------------

class TrackingParser(Parser):
    """CherryPy's Parser, also recording which physical lines make up each value.

    configparser keeps a value as a list of its lines while reading and joins them at
    the end; the dict type below wraps those lists so that each appended line carries
    the number of the file line being read. Nothing it returns changes.
    """

    def __init__(self):
        parser = self
        self.lines = []      # the file's physical lines (universal newlines, no '\n')

        class Lines(list):
            def __init__(self, items):
                super().__init__(items)
                self.linenos = [len(parser.lines)] * len(items)

            def append(self, item):
                super().append(item)
                self.linenos.append(len(parser.lines))

        class Section(dict):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.linenos = {}

            def __setitem__(self, key, value):
                if type(value) is list:
                    value = Lines(value)
                    self.linenos[key] = value.linenos
                super().__setitem__(key, value)

        super().__init__(dict_type=Section)

    def _read(self, fp, fpname):
        def numbered(fp):
            for line in fp:
                self.lines.append(line.rstrip('\n'))
                yield line
        return super()._read(numbered(fp), fpname)

    def value_linenos(self, section, option):
        """File line numbers of the lines of option's raw value, as CherryPy reads it."""
        own = self._sections[section]
        return (own if option in own else self._defaults).linenos[option]

    def position(self, section, option, pos):
        """Map a position in `PREFIX + value` to the file: (line, 1-based column).

        pos is (1-based line, 0-based character column) or None (unknown: the key's
        line, no column). Line 1 of the value is the key's line; each later line the
        continuation line it came from. An interpolated value (raw text with '%') is not
        the text on those lines: it gets the key's line and first character.
        """
        linenos = self.value_linenos(section, option)
        raw = self.get(section, option, raw=True)
        if '%' in raw:
            return linenos[0], first_column(self.lines[linenos[0] - 1])
        if pos is None or not 1 <= pos[0] <= raw.count('\n') + 1:
            return linenos[0], None
        value_line, char_col = pos
        lineno = linenos[value_line - 1]
        if char_col is None:
            return lineno, None
        text = self.lines[lineno - 1]
        start = len(text) - len(text.lstrip())        # configparser strips each line
        if value_line == 1:                            # skip 'key = ' and the prefix
            start += self._optcre.match(text.strip()).start('value')
            char_col -= len(PREFIX)
        if char_col < 0 or start + char_col > len(text):
            return lineno, None
        return lineno, start + char_col + 1


def first_column(text):
    """1-based column of a line's first character that configparser does not strip."""
    return len(text) - len(text.lstrip()) + 1


# --- Reading one file --------------------------------------------------------------

INTERPOLATION_CODES = [
    (configparser.InterpolationMissingOptionError, 'interpolation-missing'),
    (configparser.InterpolationSyntaxError, 'interpolation-syntax'),
    (configparser.InterpolationDepthError, 'interpolation-depth'),
]


def read_ini(path):
    """Parser.read (CherryPy's own), with its exceptions mapped to FORMAT.md codes."""
    parser = TrackingParser()
    try:
        parser.read(path)
        return parser
    except UnicodeDecodeError as e:
        line, column = bad_byte_position(path)
        raise OracleError('invalid-encoding', line, column, str(e))
    except OSError as e:
        raise OracleError('io', 0, None, f'{type(e).__name__}: {e}')
    except configparser.MissingSectionHeaderError as e:   # (a ParsingError: test first)
        code, line, column, message = 'missing-section-header', e.lineno, 1, str(e)
    except configparser.ParsingError as e:
        code, line, column, message = 'invalid-line', e.errors[0][0], 1, str(e)
    except configparser.DuplicateSectionError as e:
        code, line, column, message = 'duplicate-section', e.lineno, 1, str(e)
    except configparser.DuplicateOptionError as e:        # the key, after indentation
        line, message = e.lineno, str(e)
        code, column = 'duplicate-option', first_column(parser.lines[line - 1])
    raise OracleError(code, line, column, message)


def bad_byte_position(path):
    """Line and column of the first byte that is not UTF-8 (universal newlines)."""
    with open(path, 'rb') as f:
        data = f.read()
    try:
        data.decode('utf-8')
        return 1, None        # cannot happen: the decoding just failed
    except UnicodeDecodeError as e:
        before = data[:e.start]
    breaks = list(re.finditer(rb'\r\n|\r|\n', before))
    line_start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, len(before[line_start:].decode('utf-8')) + 1


def read_value(parser, section, option):
    """One key's reading, in CherryPy's order: interpolation, then unrepr."""
    where = f'(section {section!r}, option {option!r})'

    def fail(code, e, pos):
        line, column = parser.position(section, option, pos)
        raise OracleError(code, line, column, f'{type(e).__name__}: {e} {where}')

    try:
        value = parser.get(section, option)
    except configparser.InterpolationError as e:
        fail(next(c for cls, c in INTERPOLATION_CODES if isinstance(e, cls)), e, None)

    if not value:                       # unrepr: `if not s: return s`
        return Encoder()(value)
    source = Source(PREFIX + value)
    builder = MarkerBuilder()
    try:
        node = builder.astnode(value)
    except (SyntaxError, ValueError) as e:   # ValueError: NUL bytes in early 3.11 releases
        fail('value-syntax', e, source.syntax_error_position(e))
    except (MemoryError, RecursionError) as e:    # "too complex": the value's start
        fail('value-too-large', e, source.value_start)
    try:
        return Encoder()(builder.build(node))
    except Exception as e:
        fail(build_error_code(e), e, source.build_error_position(e))


def build_error_code(e):
    if isinstance(e, TypeError):
        if str(e).startswith('unrepr does not recognize'):
            return 'unsupported-expression'
        return 'value-type'
    if isinstance(e, (IndexError, KeyError)):
        return 'value-index'
    if isinstance(e, (OverflowError, MemoryError, RecursionError, ValueTooLarge)):
        return 'value-too-large'
    raise e                             # not a reading error: an oracle bug


# Where the operator of a node is: after the end of this child, the first token.
OPERAND_BEFORE_OPERATOR = {
    ast.BinOp: lambda n: n.left,
    ast.Compare: lambda n: n.left,
    ast.BoolOp: lambda n: n.values[0],
    ast.IfExp: lambda n: n.body,
    ast.NamedExpr: lambda n: n.target,
}


class Source:
    """The text unrepr parses (`PREFIX + value`), for locating errors in it.

    Positions are (1-based line, 0-based character column), as Python's tokenize gives
    them. Which character an error points at follows fixtures/README.md ("Columns").
    """

    value_start = (1, len(PREFIX))

    def __init__(self, text):
        self.text = text
        self.lines = text.split('\n')

    def tokens(self):
        """Python's tokens of the text, as far as it tokenizes."""
        try:
            yield from tokenize.generate_tokens(io.StringIO(self.text).readline)
        except (tokenize.TokenError, SyntaxError):
            return

    def start(self, node):
        return node.lineno, self._chars(node.lineno, node.col_offset)

    def end(self, node):
        return node.end_lineno, self._chars(node.end_lineno, node.end_col_offset)

    def _chars(self, lineno, col_offset):
        # AST col_offset counts UTF-8 bytes; columns count characters.
        line = self.lines[lineno - 1].encode('utf-8', 'surrogatepass')
        return len(line[:col_offset].decode('utf-8', 'replace'))

    def operator(self, node):
        """The operator token of a BinOp, Compare, BoolOp, IfExp (`if`) or `:=`."""
        after = self.end(OPERAND_BEFORE_OPERATOR[type(node)](node))
        skip = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT}
        for tok in self.tokens():       # only `)`, comments and newlines come between
            if tok.start >= after and tok.type not in skip and tok.string != ')':
                return tok.start
        return None

    def build_error_position(self, e):
        """Where an error raised while building points (fixtures/README.md)."""
        if isinstance(e, (RecursionError, TooManyParts)):   # no one node to blame
            return self.value_start
        node = failing_node(e)
        if node is None:
            return None
        if type(node) in OPERAND_BEFORE_OPERATOR:
            return self.operator(node)
        if isinstance(node, ast.Subscript):
            return self.start(node.slice)
        if isinstance(node, ast.Dict):              # an unhashable key: that key
            for key in node.keys:
                try:
                    hash(MarkerBuilder().build(key))
                except TypeError:
                    return self.start(key)
            return None
        if isinstance(node, ast.Call):              # `**` of a non-mapping: undefined
            return None
        return self.start(node)                     # unary operators, other constructs

    def syntax_error_position(self, e):
        message = getattr(e, 'msg', None) or str(e)   # (ValueError has no msg)
        if 'null bytes' in message:                 # no position given: the NUL
            before = self.text[:self.text.index('\0')].split('\n')
            return len(before), len(before[-1])
        if message.startswith('cannot mix bytes and nonbytes literals'):
            return self.mixed_string_run()
        if message.startswith('(unicode error)'):   # Python points past the literal
            if message.endswith('unknown Unicode character name'):
                return self.unknown_named_escape()
            return None
        if message.startswith('Exceeds the limit'):  # Python gives offset 0
            return self.long_decimal_int()
        if e.lineno is None or not e.offset:
            return None
        return e.lineno, e.offset - 1

    def mixed_string_run(self):
        """Start of the first run of adjacent string literals mixing bytes and str.

        (Python's own position for this error is wherever its parser stood.)
        """
        run = []
        for tok in self.tokens():
            if tok.type == tokenize.STRING:
                run.append(tok)
            elif tok.type not in (tokenize.NL, tokenize.COMMENT):
                if len({'b' in string_prefix(t) for t in run}) == 2:
                    return run[0].start
                run = []
        return None

    def unknown_named_escape(self):
        r"""The backslash of the first `\N{...}` that names no character, or None."""
        for tok in self.tokens():
            if tok.type != tokenize.STRING or {'r', 'b'} & set(string_prefix(tok)):
                continue
            for m in re.finditer(r'\\(?:N\{([^}]*)\}|.)', tok.string, re.S):
                if m.group(1) is not None and not is_character_name(m.group(1)):
                    line, col = tok.start
                    before = tok.string[:m.start()].split('\n')
                    return (line + len(before) - 1,
                            (col if len(before) == 1 else 0) + len(before[-1]))
        return None

    def long_decimal_int(self):
        """The first digit of a decimal int literal longer than Python accepts."""
        limit = sys.get_int_max_str_digits()
        for tok in self.tokens():
            if (tok.type == tokenize.NUMBER and re.fullmatch(r'[0-9_]+', tok.string)
                    and len(tok.string.replace('_', '')) > limit):
                return tok.start
        return None


def string_prefix(tok):
    return re.match(r'[A-Za-z]*', tok.string).group().lower()


def is_character_name(name):
    try:
        return len(unicodedata.lookup(name)) == 1   # named sequences are not allowed
    except KeyError:
        return False


def failing_node(e):
    """The innermost AST node being built when `e` was raised.

    Every build method of `_Builder` calls its node `o`; operator nodes (Add, Sub...)
    have no position, so for them it is their BinOp/UnaryOp.
    """
    node = None
    tb = e.__traceback__
    while tb is not None:
        o = tb.tb_frame.f_locals.get('o')
        if isinstance(o, ast.AST) and hasattr(o, 'lineno'):
            node = o
        tb = tb.tb_next
    return node


def read_file(path):
    """The FORMAT.md object for one file, without cherrypy_error."""
    try:
        parser = read_ini(path)
        sections = {}
        for section in parser.sections():          # as Parser.as_dict does
            sections[section] = {}
            for option in parser.options(section):
                sections[section][option] = read_value(parser, section, option)
        return {'file': path, 'ok': True, 'sections': sections}
    except OracleError as e:
        return {'file': path, 'ok': False, 'error': e.error}
    except Exception as e:
        # Never crash; a code FORMAT.md does not know makes the Rust test show it.
        return {'file': path, 'ok': False, 'error': {
            'code': 'oracle-internal', 'line': 0, 'column': None,
            'message': ''.join(traceback.format_exception_only(e)).strip()}}


# --- Real CherryPy ------------------------------------------------------------------

def real_cherrypy_error(path, timeout):
    """Real CherryPy's reading of path (it runs the config's imports and calls).

    Runs compat/cherrypy_real.py in a child: isolated (-I: no PYTHONPATH, no script
    directory on sys.path) with an empty temporary directory as cwd, so application
    modules a config names are not importable, and in its own process group so that
    a timeout ends whatever it started. Returns None when the reading succeeds.
    """
    cwd = tempfile.mkdtemp(prefix='cherrypy-oracle-')
    try:
        child = subprocess.Popen(
            [sys.executable, '-I', '-X', 'utf8', REAL_READER, os.path.abspath(path)],
            cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            out, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            return {'exception': 'Timeout', 'message': f'no result within {timeout} s'}
        try:
            result = json.loads(out)
        except ValueError:
            return {'exception': 'ChildDied',
                    'message': f'the reading process ended with status {child.returncode}'}
        if result is None:
            return None
        # Messages must be deterministic: hide the temporary directory and addresses.
        message = result['message'].replace(cwd, '<tmpdir>')
        message = re.sub(r' at 0x[0-9a-fA-F]+', ' at 0x...', message)
        return {'exception': result['exception'], 'message': message}
    finally:
        shutil.rmtree(cwd, ignore_errors=True)


# --- Main -----------------------------------------------------------------------------

def main(argv):
    timeout, run_real, files = 20.0, True, []
    args = iter(argv)
    for arg in args:
        if arg == '--marker-only':
            run_real = False
        elif arg == '--timeout':
            timeout = float(next(args))
        elif arg in ('-h', '--help'):
            print(__doc__)
            return 0
        else:
            files.append(arg)
    default_digits = sys.get_int_max_str_digits()
    for path in files:
        obj = read_file(path)
        if obj['ok'] and run_real:
            error = real_cherrypy_error(path, timeout)
            if error is not None:
                obj['cherrypy_error'] = error
        # Print every digit of big ints (`0x...` literals), but keep Python's default
        # limit while reading, where it makes CherryPy reject long decimal literals.
        sys.set_int_max_str_digits(0)
        try:
            line = json.dumps(obj)
        finally:
            sys.set_int_max_str_digits(default_digits)
        print(line, flush=True)
    return 0


if __name__ == '__main__':
    # CherryPy's `Parser.read` opens files with the locale's encoding. The comparison
    # is defined for UTF-8, so run in Python's UTF-8 mode whatever the locale is.
    if not sys.flags.utf8_mode:
        os.execv(sys.executable, [sys.executable, '-X', 'utf8'] + sys.argv)
    sys.exit(main(sys.argv[1:]))
