//! Wording of errors and warnings, and the fixes we suggest.

use std::ops::Range;

use super::{ValueWarning, codes};

/// Whether the text reads like a word or path meant as a plain string (`utf-8`, `/tmp/x`,
/// `log/cherrypy.log`, `en-US`): one run of non-blank characters without quotes or
/// brackets, with a letter or a leading `/`, `.` or `~`. Such text fails (or parses as
/// arithmetic) only because it is not quoted.
pub(super) fn looks_like_bare_text(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && !t.contains(|c: char| c.is_whitespace() || "\"'()[]{}#\\;,".contains(c))
        && (t.chars().any(char::is_alphabetic) || t.starts_with(['/', '.', '~']))
}

/// "to use it as text, quote it: `"utf-8"`", when the whole text looks like bare text.
pub(super) fn quote_help(text: &str) -> Option<String> {
    looks_like_bare_text(text)
        .then(|| format!("if this is meant as text, quote it: `\"{}\"`", text.trim()))
}

/// What CherryPy's builder does not recognise, by Python's AST class: `class|what we call
/// it|op if it is an operator (whose fix is to compute the value)|the fix we suggest`.
const UNSUPPORTED: &str = "
Sub|subtraction (`-`)|op|
Div|division (`/`)|op|
FloorDiv|floor division (`//`)|op|
Mod|the `%` operator|op|
Pow|exponentiation (`**`)|op|
MatMult|the `@` operator|op|
LShift|the `<<` operator|op|
RShift|the `>>` operator|op|
BitOr|the `|` operator|op|
BitXor|the `^` operator|op|
BitAnd|the `&` operator|op|
UAdd|unary `+`|op|drop the `+`
Invert|the `~` operator|op|
Not|`not`|op|
Compare|comparisons (`==`, `<`, `in`, `is`, ...) are||
BoolOp|`and` and `or` are||
IfExp|conditional expressions (`x if c else y`) are||
Set|set displays (`{1, 2}`) are||use a list `[...]` or a tuple `(...)`
Lambda|lambda expressions are||
ListComp|comprehensions and generator expressions are||write the items out
SetComp|comprehensions and generator expressions are||write the items out
DictComp|comprehensions and generator expressions are||write the items out
GeneratorExp|comprehensions and generator expressions are||write the items out
JoinedStr|f-strings are||use a plain string; `+` can join strings
Slice|slices (`a[1:2]`) are||
NamedExpr|assignment expressions (`:=`) are||
Await|`await` expressions are||
Yield|`yield` expressions are||
YieldFrom|`yield` expressions are||
Starred|unpacking with `*` outside call arguments is||
";

/// Message and help for a node CherryPy's builder does not recognise.
pub(super) fn unsupported(class: &str, text: &str) -> (String, Option<String>) {
    let row = UNSUPPORTED
        .lines()
        .find(|l| l.split('|').next() == Some(class));
    // `the `|` operator` holds the separator: split from both ends.
    let (what, rest) = row
        .and_then(|r| r[class.len() + 1..].rsplit_once('|'))
        .unwrap_or(("this expression is|", ""));
    let (what, operator) = what
        .rsplit_once('|')
        .map_or((what, false), |(w, op)| (w, op == "op"));
    let help = if rest.is_empty() && operator {
        "write the computed value instead"
    } else {
        rest
    };
    let message = if operator {
        format!(
            "{what} is not supported in config values; CherryPy allows only `+`, `*` and unary `-`"
        )
    } else {
        format!(
            "{what} not supported in config values (CherryPy: unrepr does not recognize '{class}')"
        )
    };
    (
        message,
        quote_help(text).or((!help.is_empty()).then(|| help.to_string())),
    )
}

/// The warning for a name CherryPy could only resolve with the application's help.
pub(super) fn unresolved_name(name: &str, span: Range<usize>, text: &str) -> ValueWarning {
    let message = format!(
        "`{name}` is not a Python builtin or standard-library module: CherryPy would try to import a module \
         named `{name}`, and fail unless the application provides one"
    );
    let help = match name {
        "true" => "write `True` (Python's spelling)".to_string(),
        "false" => "write `False` (Python's spelling)".to_string(),
        "none" | "null" => "write `None` (Python's spelling)".to_string(),
        _ => {
            let whole = text.trim();
            let shown = if looks_like_bare_text(whole) {
                whole
            } else {
                name
            };
            format!("if this is meant as text, quote it: `\"{shown}\"`")
        }
    };
    ValueWarning {
        code: codes::UNRESOLVED_NAME,
        message,
        help: Some(help),
        span,
    }
}

// Generated data (do not edit by hand): `sorted(dir(builtins))` and
// `sorted(sys.stdlib_module_names)` under CPython 3.11.7, one space-separated list each.

/// `dir(builtins)` of Python 3.11.
const BUILTINS: &str = "
ArithmeticError AssertionError AttributeError BaseException BaseExceptionGroup BlockingIOError
BrokenPipeError BufferError BytesWarning ChildProcessError ConnectionAbortedError
ConnectionError ConnectionRefusedError ConnectionResetError DeprecationWarning EOFError
Ellipsis EncodingWarning EnvironmentError Exception ExceptionGroup False FileExistsError
FileNotFoundError FloatingPointError FutureWarning GeneratorExit IOError ImportError
ImportWarning IndentationError IndexError InterruptedError IsADirectoryError KeyError
KeyboardInterrupt LookupError MemoryError ModuleNotFoundError NameError None NotADirectoryError
NotImplemented NotImplementedError OSError OverflowError PendingDeprecationWarning
PermissionError ProcessLookupError RecursionError ReferenceError ResourceWarning RuntimeError
RuntimeWarning StopAsyncIteration StopIteration SyntaxError SyntaxWarning SystemError
SystemExit TabError TimeoutError True TypeError UnboundLocalError UnicodeDecodeError
UnicodeEncodeError UnicodeError UnicodeTranslateError UnicodeWarning UserWarning ValueError
Warning ZeroDivisionError __build_class__ __debug__ __doc__ __import__ __loader__ __name__
__package__ __spec__ abs aiter all anext any ascii bin bool breakpoint bytearray bytes callable
chr classmethod compile complex copyright credits delattr dict dir divmod enumerate eval exec
exit filter float format frozenset getattr globals hasattr hash help hex id input int
isinstance issubclass iter len license list locals map max memoryview min next object oct open
ord pow print property quit range repr reversed round set setattr slice sorted staticmethod str
sum super tuple type vars zip
";

/// `sys.stdlib_module_names` of Python 3.11 (top-level modules).
const STDLIB_MODULES: &str = "
__future__ _abc _aix_support _ast _asyncio _bisect _blake2 _bootsubprocess _bz2 _codecs
_codecs_cn _codecs_hk _codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw _collections
_collections_abc _compat_pickle _compression _contextvars _crypt _csv _ctypes _curses
_curses_panel _datetime _dbm _decimal _elementtree _frozen_importlib _frozen_importlib_external
_functools _gdbm _hashlib _heapq _imp _io _json _locale _lsprof _lzma _markupbase _md5 _msi
_multibytecodec _multiprocessing _opcode _operator _osx_support _overlapped _pickle _posixshmem
_posixsubprocess _py_abc _pydecimal _pyio _queue _random _scproxy _sha1 _sha256 _sha3 _sha512
_signal _sitebuiltins _socket _sqlite3 _sre _ssl _stat _statistics _string _strptime _struct
_symtable _thread _threading_local _tkinter _tokenize _tracemalloc _typing _uuid _warnings
_weakref _weakrefset _winapi _zoneinfo abc aifc antigravity argparse array ast asynchat asyncio
asyncore atexit audioop base64 bdb binascii bisect builtins bz2 cProfile calendar cgi cgitb
chunk cmath cmd code codecs codeop collections colorsys compileall concurrent configparser
contextlib contextvars copy copyreg crypt csv ctypes curses dataclasses datetime dbm decimal
difflib dis distutils doctest email encodings ensurepip enum errno faulthandler fcntl filecmp
fileinput fnmatch fractions ftplib functools gc genericpath getopt getpass gettext glob
graphlib grp gzip hashlib heapq hmac html http idlelib imaplib imghdr imp importlib inspect io
ipaddress itertools json keyword lib2to3 linecache locale logging lzma mailbox mailcap marshal
math mimetypes mmap modulefinder msilib msvcrt multiprocessing netrc nis nntplib nt ntpath
nturl2path numbers opcode operator optparse os ossaudiodev pathlib pdb pickle pickletools pipes
pkgutil platform plistlib poplib posix posixpath pprint profile pstats pty pwd py_compile
pyclbr pydoc pydoc_data pyexpat queue quopri random re readline reprlib resource rlcompleter
runpy sched secrets select selectors shelve shlex shutil signal site smtpd smtplib sndhdr
socket socketserver spwd sqlite3 sre_compile sre_constants sre_parse ssl stat statistics string
stringprep struct subprocess sunau symtable sys sysconfig syslog tabnanny tarfile telnetlib
tempfile termios textwrap this threading time timeit tkinter token tokenize tomllib trace
traceback tracemalloc tty turtle turtledemo types typing unicodedata unittest urllib uu uuid
venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib xml xmlrpc zipapp zipfile
zipimport zlib zoneinfo
";

/// Whether the first part of a (dotted) name can be resolved by CherryPy without the
/// application: a builtin, a standard-library top-level module, or `cherrypy`.
pub(super) fn is_known_name(first: &str) -> bool {
    static KNOWN: std::sync::OnceLock<std::collections::HashSet<&str>> = std::sync::OnceLock::new();
    let words = BUILTINS
        .split_ascii_whitespace()
        .chain(STDLIB_MODULES.split_ascii_whitespace());
    KNOWN
        .get_or_init(|| words.chain(["cherrypy"]).collect())
        .contains(first)
}
