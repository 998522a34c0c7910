//! Every budget this crate enforces on input it does not control, in one place.
//!
//! A session middleware sits in front of every request of a site, and a config linter runs
//! on pull requests, so each input is treated as hostile until bounded: what a client sends
//! (request paths, cookies), what a session store hands back (a session file, a memcached or
//! Redis value that anyone with access to the store could have written), and config files.
//! Each budget below is checked *before* the memory or time it guards is spent, and what
//! happens when one is exceeded is stated next to it. None of them ends in a panic or a 500.
//!
//! The same figures are listed, with the threat model, in SECURITY.md.

/// The largest session, in bytes of its pickle, read or written.
///
/// Reading: a stored pickle longer than this (any protocol) is not decoded, and what its
/// data would expand to (memo references let a few bytes name one object many times) is
/// measured before anything is built and held to this figure and to
/// [`MAX_SESSION_EXPANSION`] times the pickle's length (above a floor of
/// [`SESSION_EXPANSION_FLOOR_BYTES`]). Writing: the data is measured the
/// same way, as the length of the protocol 4 pickle this crate writes for the file store,
/// and also as the pickle the session's store writes: protocol 5 for Redis (longer by its
/// memo and frames), protocol 0 for memcached (a `\` or a character beyond Latin-1 takes 6
/// to 10 bytes), each held to this figure, and memcached's to the servers' item size limit
/// too (`item_size_max` less 256 bytes for the key and the item's header, asked at startup;
/// memcached's default, 1 MiB, for a server that does not say; one that did not answer is
/// asked again, off the request path, at most every 5 s while sessions are used, so a server
/// down at startup gives its own limit, higher or lower, once it is back). So every session
/// written reads back, and no save fails for its size. `Session::insert` keeps these
/// measures up to date and refuses a value that would take the session over one of them (a
/// typed error; the session is left as it was). A stored session over the budget is an
/// unknown session: a new id, the stored value untouched, one warning with the reason. So
/// is a memcached or Redis session that decodes within the budget but that its store could
/// not write back: objects another writer shared through memo references are written once
/// per use.
pub const MAX_SESSION_BYTES: usize = 16 << 20;

/// The most values in one session: each key of the session dict, each scalar and each
/// container counts one, and an object that memo references share counts once per use.
///
/// Enforced like [`MAX_SESSION_BYTES`], in both directions and by `Session::insert`; a
/// decoded session is also held to [`MAX_SESSION_EXPANSION`] values per byte of pickle
/// (above a floor of [`SESSION_EXPANSION_FLOOR_VALUES`]).
pub const MAX_SESSION_VALUES: usize = 1 << 20;

/// The most memory, in bytes, the unpickler may hold while it reads one stored session:
/// its stack, marks and memo, every container it has made and their items, the dict keys
/// it has interned, and the strs, bytes and ints it has made, each weighed at what it
/// takes (a mark as a stack entry).
///
/// It is weighed before each opcode, while the pickle is read, not after: a pickle within
/// [`MAX_SESSION_BYTES`] could otherwise make a container, a stack entry, a memo entry or a
/// mark per byte, referred to or not, and hold over 100 bytes per byte of input before
/// [`MAX_SESSION_VALUES`] is checked on what it built. Past it, decoding stops with
/// `PickleError::TooLarge` (this figure), and the stored session is an unknown session, as
/// for [`MAX_SESSION_BYTES`].
///
/// What we write, we read back: the sessions that take the most per value within
/// [`MAX_SESSION_VALUES`] and [`MAX_SESSION_BYTES`] (a million empty lists or dicts in
/// protocol 4 or 5; half a million str keys; 440,000 bytes values in protocol 0, which
/// spells each as a call) weigh under 115 MiB, which
/// `tests/hostile/pickle.rs` checks for every protocol this crate writes.
pub const MAX_SESSION_DECODE_BYTES: usize = 144 << 20;

/// The deepest nesting of containers in one session, read or written (a value of the
/// session dict is at depth 1). Python's own pickler cannot write deeper data (it recurses
/// and stops at its recursion limit of about 1000). Deeper data is refused by
/// `Session::insert`, and a stored session holding it is an unknown session.
pub const MAX_SESSION_DEPTH: usize = 1000;

/// The longest request path, in bytes, whose per-path session settings are looked up.
///
/// Lookup is linear in the path and allocates nothing per segment, so this only caps the
/// work one request can ask for: a longer path is answered `414 URI Too Long` before any
/// session is opened.
pub const MAX_REQUEST_PATH_BYTES: usize = 16 << 10;

/// The most settings one config file's sections may hold, counting in each section the
/// `[DEFAULT]` keys it inherits (configparser, and so CherryPy, copies every one of them
/// into every section).
///
/// A few thousand `[DEFAULT]` keys and a few thousand empty sections are a small file but
/// millions of settings, each a key, a value and where it was written. Counted section by
/// section before the section's settings are made; past it, a located error
/// (`config-too-many-settings`) at the header of the section where it ran out, and that
/// section and the ones after it are not read. A real config holds a few hundred.
pub const MAX_CONFIG_SETTINGS: usize = 1 << 18;

/// The most sections one config file may have, counting `[DEFAULT]` and each header that
/// repeats a name.
///
/// Each section costs more than its text: the settings map the config layer makes for it,
/// and for a path section the session settings resolved for that path (a few kilobytes
/// each, however few keys it has). A file at [`MAX_CONFIG_BYTES`] of short path sections,
/// each turning sessions on, took over 1 GB to check; at this many sections, each with
/// every session setting, it takes under 100 MiB (the session settings they copy are held
/// to [`MAX_SESSION_SETTINGS_BYTES`]). Counted as the file is read, before a
/// section is made; past it, a located error (`config-too-many-sections`) at the header of
/// the first section over it, and the rest of the file is not read. A real config has a
/// few dozen (the largest of the sixty real ones the tests read has 11).
pub const MAX_CONFIG_SECTIONS: usize = 4096;

/// The largest config file, in bytes, that is read. A larger file is a located error
/// (`config-too-large`) before its text is decoded.
///
/// Real configs are a few kilobytes (the largest of the sixty real ones the tests read is
/// 10 KB). What a file costs to read grows with its lines: each is kept (`migrate` edits
/// the file in place), in a byte and its start; each key as the place of its key and
/// value in the text; and an error on every line is counted, past the first
/// [`MAX_DIAGNOSTICS_PER_CODE`] of its kind, not built. A file at this size of keys,
/// errors, comments, blank lines or headers takes less than 32 bytes of memory per byte to
/// check (under 128 MiB: the worst, a million different keys, about 110 MiB; a million
/// errors, comments or blank lines, under 50 MiB). Sections cost more, in the maps the
/// config and session layers make for each: [`MAX_CONFIG_SECTIONS`] bounds them. So do
/// values, in the value language's tokens and syntax tree while one is read
/// ([`MAX_VALUE_TOKENS`]) and in what they build ([`MAX_CONFIG_VALUE_BYTES`]): a file of
/// values each as large as a value may be takes at most about 100 MiB (lists of unknown
/// names, each warned of).
pub const MAX_CONFIG_BYTES: usize = 4 << 20;

/// The most tokens (names, numbers, strings, operators, line breaks) one config value may
/// have: 262,144.
///
/// A value is read as Python, and each of its tokens becomes a syntax node and often an
/// item of what it builds, about 200 bytes in all for a name in a list. A file at
/// [`MAX_CONFIG_BYTES`] can be one value of two million tokens (`[x,x,x,...]`), which took
/// 450 MB to check. Counted as the value is tokenized; past it, the value is a located
/// error (`value-too-large`) where it ran out, before any of it is parsed. A real value
/// has a few dozen tokens; a list of ten thousand host names has twenty thousand.
pub const MAX_VALUE_TOKENS: usize = 1 << 18;

/// The longest value, in bytes, that `%(name)s` interpolation may produce, and the most
/// references it may follow for one value. configparser bounds the depth of references (10)
/// but not their fan-out, so a few lines that each name the previous one several times grow
/// exponentially with the depth. The expansion is measured (each key once per depth) before
/// it is built; past either figure the value is a located error (`interpolation-too-long`)
/// and nothing of it is built.
pub const MAX_INTERPOLATED_BYTES: usize = 1 << 20;

/// The most bytes of value text that `%(name)s` interpolation may read for one config file
/// (each file of a `Config::load` has its own), counted before it reads them: each value
/// with a `%` is read twice (measured, then built), and each value it names is read again
/// each time it is named (measuring reads a value once per depth). [`MAX_INTERPOLATED_BYTES`] bounds one value, but many values can each
/// name the same long one (a line of 1 MB that expands to nothing, named by thousands of
/// short lines or inherited from `[DEFAULT]` by thousands of sections). Past it, each
/// later value with a `%` is a located error (`interpolation-over-budget`) before it is
/// read; values without `%` are read as usual. A realistic config reads a few kilobytes.
pub const MAX_INTERPOLATION_READ_BYTES: usize = 64 << 20;

/// The most diagnostics of one code that are shown for one file; the rest are counted in
/// one closing line ("… and 1234 more like this").
pub const MAX_DIAGNOSTICS_PER_CODE: usize = 20;

/// The most characters of a source line quoted in a diagnostic's snippet; a longer line is
/// cut around the column the diagnostic points at.
pub const MAX_SNIPPET_CHARS: usize = 160;

/// How many times its own length a session pickle may expand to when decoded, in bytes
/// (as measured for [`MAX_SESSION_BYTES`]) and in values, but never less than
/// [`SESSION_EXPANSION_FLOOR_BYTES`] and [`SESSION_EXPANSION_FLOOR_VALUES`] whatever its
/// length. A pickle without shared references never comes near it (this crate's protocol
/// 4 pickle measures exactly its length, a protocol 0 one at most about twice), so only
/// memo references that name one object many times can reach it: such a session is
/// refused before anything is built, which keeps decoding linear in the input, plus the
/// fixed cost of building what the floors allow.
///
/// The floors are there for the small sessions Python writes with one object shared by
/// many keys (pickle writes the object once and refers to it after that): a session whose
/// 20 keys name one tuple of 1.5 KB is a pickle of 1.7 KB standing for 30 KB, 18 times its
/// length. Without a floor it would be an unknown session, whose new cookie replaces the
/// browser's and so signs the user out of CherryPy as well, leaving the data unreachable.
/// With them, such a session is read up to 1 MiB of data (600 keys naming that tuple)
/// however short its pickle; past the floors the rule is the ratio again, which no
/// session reaches unless most of it is shared.
pub const MAX_SESSION_EXPANSION: usize = 16;

/// The least a session pickle may expand to, in bytes as measured for
/// [`MAX_SESSION_BYTES`], whatever its length (see [`MAX_SESSION_EXPANSION`]): 1 MiB.
///
/// It is the most a pickle of a few hundred bytes can make each read build, so it is kept
/// small beside [`MAX_SESSION_BYTES`] (a sixteenth of it) and cheap: 1 MiB of strs and
/// bytes copied out of the pickle, a few milliseconds in a debug build. It is also
/// memcached's default item size, about the largest session a memcached store holds.
pub const SESSION_EXPANSION_FLOOR_BYTES: usize = 1 << 20;

/// The least a session pickle may expand to, in values as counted for
/// [`MAX_SESSION_VALUES`], whatever its length (see [`MAX_SESSION_EXPANSION`]): 65,536.
///
/// It matches [`SESSION_EXPANSION_FLOOR_BYTES`] in what it costs to build rather than in
/// number: a value built takes a 32-byte node and, for a str, bytes or container, an
/// allocation of its own, where a byte of data takes a byte. 65,536 values (16 bytes of
/// data a value, as in a session of short strs and small ints) take a few MiB and about
/// 25 ms in a debug build; a floor of a million values (all of [`MAX_SESSION_VALUES`])
/// would let a few hundred bytes make every read build tens of MiB. Sessions that share
/// objects stay far inside it: the 600 keys naming one tuple of two items (see
/// [`MAX_SESSION_EXPANSION`]) are 2,400 values.
pub const SESSION_EXPANSION_FLOOR_VALUES: usize = 1 << 16;

/// The most decimal digits of an int in a session, read or written: Python's own default
/// limit for converting an int to or from text (`sys.int_info.default_max_str_digits`),
/// which protocol 0 pickles (and Python's `repr`) need. It also keeps the cost of reading
/// one int's digits, quadratic in their number, bounded. A larger int is refused by
/// `Session::insert`, and a stored session holding one is an unknown session.
pub const MAX_INT_DIGITS: usize = 4300;

/// The longest duration a config may give, either way, in minutes: 10^9 minutes, about 1900
/// years. It bounds `tools.sessions.timeout` (−10^9 to 10^9 minutes; a negative timeout is
/// accepted as CherryPy accepts it: sessions expire at once), `clean_freq` (0 to 10^9
/// minutes) and `lock_timeout` (0 to 6·10^10 seconds: CherryPy's file sessions fail every
/// request with a negative one). Within it, every
/// expiry a store computes stays inside what Python's `datetime` can hold (CherryPy itself
/// fails on every request past about 4·10^9 minutes) and inside `SystemTime`/`Instant`
/// arithmetic. A value outside it, NaN or infinite, is a located error
/// (`value-out-of-range`) when the config is read, so `check` and the middleware's startup
/// refuse it; `SessionConfig::check` refuses one set in code by the same rule (run by
/// `CherryPySessions::from_session_config`), so the cookie's `Max-Age` is at most 6·10^10.
pub const MAX_DURATION_MINUTES: f64 = 1e9;

/// The most bytes the values of one config file may take once built, summed over the
/// file: values weighed as they take in memory (a `'a' * 16000000` of 20 bytes builds
/// 16 MB, a name in a list takes 160 bytes; each value alone is bounded at 16 MiB). What
/// values build along the way and do not keep counts too, whether they read or fail, and
/// one value alone is held to it: building and discarding is work as well as memory. The
/// value that passes it is a located error (`config-values-too-large`, or
/// `value-too-large` for one value), and nothing more is built.
///
/// 32 MiB leaves room beside what a file at [`MAX_CONFIG_BYTES`] costs otherwise: values
/// and sections together stay under 128 MiB.
pub const MAX_CONFIG_VALUE_BYTES: usize = 32 << 20;

/// The most bytes the session settings of one config's sections may hold in all: 16 MiB.
///
/// Each section holds its own copy of every session setting that applies to it, the
/// `[DEFAULT]` and `[global]` ones included, and each path section the ones it inherits. A
/// long value (a list of 250,000 memcached servers is 16 MiB) copied into a few thousand
/// path sections took gigabytes. Each copy is weighed as it takes in memory, with the place
/// it was written (a setting of a section about 130 bytes before its value, the resolved
/// settings of a path about 3 KB), and counted before it is made; past it, one located
/// error (`session-settings-too-large`) at the value that went over, and nothing more is
/// copied. Real configs hold a few kilobytes of them; 4,096 path sections each turning
/// sessions on hold 13 MiB.
pub const MAX_SESSION_SETTINGS_BYTES: usize = 16 << 20;
