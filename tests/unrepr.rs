//! Tests of the value language (`actix_cherrypy::unrepr`), through the reader the crate uses.
//! The tables were produced by running CherryPy 18.10's builder on CPython 3.11 (names,
//! attributes and calls kept symbolic, as FORMAT.md says); the rest are hand-checked against
//! the same. Table rows are JSON values, one case a line.

use serde_json::Value as Json;

use actix_cherrypy::__private::unrepr::{ValueError, parse};
use actix_cherrypy::unrepr::{Expr, Value};

/// The JSON values of each non-empty line of `table`, in cases of `n` values (`n` = 0: a case
/// a line).
fn cases(table: &str, n: usize) -> Vec<Vec<Json>> {
    let mut out = Vec::new();
    for line in table.lines().filter(|l| !l.is_empty()) {
        let values = serde_json::Deserializer::from_str(line).into_iter::<Json>();
        let row: Vec<Json> = values.collect::<Result<_, _>>().unwrap();
        out.extend(
            row.chunks(if n == 0 { row.len() } else { n })
                .map(<[Json]>::to_vec),
        );
    }
    out
}

fn error(text: &str) -> ValueError {
    match parse(text) {
        Ok(p) => panic!("{text:?} should fail, got {}", p.value.python_repr()),
        Err(e) => e,
    }
}

fn repr(text: &str) -> String {
    parse(text)
        .unwrap_or_else(|e| panic!("{text:?}: {}", e.message))
        .value
        .python_repr()
}

fn json(text: &str) -> Json {
    parse(text)
        .unwrap_or_else(|e| panic!("{text:?} failed: {} {}", e.code, e.message))
        .value
        .to_json()
}

/// The input, then the expected JSON reading, produced by CherryPy 18.10's builder on CPython 3.11.
const VALUES: &str = r#"
"8080" {"type":"int","value":8080} "00" {"type":"int","value":0} "0x1F" {"type":"int","value":31}
"0o17" {"type":"int","value":15} "0b1011" {"type":"int","value":11}
"1_000_000" {"type":"int","value":1000000}
"123456789012345678901234567890" {"type":"int","value":123456789012345678901234567890}
"1." {"type":"float","value":1.0,"repr":"1.0"} ".5" {"type":"float","value":0.5,"repr":"0.5"}
"1e400" {"type":"float","repr":"inf"} "1e16" {"type":"float","value":1e+16,"repr":"1e+16"}
"1e15" {"type":"float","value":1000000000000000.0,"repr":"1000000000000000.0"}
"0.0001" {"type":"float","value":0.0001,"repr":"0.0001"}
"1e-05" {"type":"float","value":1e-05,"repr":"1e-05"} "1j" {"type":"complex","repr":"1j"}
"-1j" {"type":"complex","repr":"(-0-1j)"} "1 + 2j" {"type":"complex","repr":"(1+2j)"}
"(1+2j) * (3+4j)" {"type":"complex","repr":"(-5+10j)"} "-(0j)" {"type":"complex","repr":"(-0-0j)"}
"017.5" {"type":"float","value":17.5,"repr":"17.5"} "True" {"type":"bool","value":true}
"None" {"type":"none"} "..." {"type":"ellipsis"} "-True" {"type":"int","value":-1}
"True + 1" {"type":"int","value":2} "-0.0" {"type":"float","value":-0.0,"repr":"-0.0"}
"\"it's\"" {"type":"str","value":"it's"} "r'\\d+'" {"type":"str","value":"\\d+"}
"b'\\x00\\xff'" {"type":"bytes","value":"\u0000ÿ","repr":"b'\\x00\\xff'"}
"'\\N{BULLET}'" {"type":"str","value":"•"} "'\\x41\\u00e9\\U0001F600'" {"type":"str","value":"Aé😀"}
"'\\q'" {"type":"str","value":"\\q"} "'\\777'" {"type":"str","value":"ǿ"}
"b'\\777'" {"type":"bytes","value":"ÿ","repr":"b'\\xff'"}
"u'a' 'b' \"\"\"c\"\"\"" {"type":"str","value":"abc"} "'a\\\nb'" {"type":"str","value":"ab"}
"'''a\nb'''" {"type":"str","value":"a\nb"}
"[1,\n2]" {"type":"list","items":[{"type":"int","value":1},{"type":"int","value":2}]}
"(1,)" {"type":"tuple","items":[{"type":"int","value":1}]} "()" {"type":"tuple","items":[]}
"1, 2" {"type":"tuple","items":[{"type":"int","value":1},{"type":"int","value":2}]}
"{}" {"type":"dict","items":[]}
"{1: \"a\", True: \"b\"}" {"type":"dict","items":[[{"type":"int","value":1},{"type":"str","value":"b"}]]}
"{1.0: \"a\", 1: \"b\"}" {"type":"dict","items":[[{"type":"float","value":1.0,"repr":"1.0"},{"type":"str","value":"b"}]]}
"{0: 1, -0.0: 2, False: 3}" {"type":"dict","items":[[{"type":"int","value":0},{"type":"int","value":3}]]}
"{(1, 2): \"a\", (1.0, 2): \"b\"}" {"type":"dict","items":[[{"type":"tuple","items":[{"type":"int","value":1},{"type":"int","value":2}]},{"type":"str","value":"b"}]]}
"{**{\"a\": 1}}" {"type":"dict","items":[[{"type":"none"},{"type":"dict","items":[[{"type":"str","value":"a"},{"type":"int","value":1}]]}]]}
"{**x}" {"type":"dict","items":[[{"type":"none"},{"type":"name","value":"x","resolved":false}]]}
"60 * 24" {"type":"int","value":1440} "\"ab\" * 2" {"type":"str","value":"abab"}
"2 * \"ab\"" {"type":"str","value":"abab"} "\"a\" * -1" {"type":"str","value":""}
"[1] + [2]" {"type":"list","items":[{"type":"int","value":1},{"type":"int","value":2}]}
"(1,) + (2,)" {"type":"tuple","items":[{"type":"int","value":1},{"type":"int","value":2}]}
"b\"ab\" * 2" {"type":"bytes","value":"abab","repr":"b'abab'"}
"1 + 1.5" {"type":"float","value":2.5,"repr":"2.5"}
"0.1 + 0.2" {"type":"float","value":0.30000000000000004,"repr":"0.30000000000000004"}
"1e308 * 10" {"type":"float","repr":"inf"} "1e400 * 0" {"type":"float","repr":"nan"}
"[1, 2][-1]" {"type":"int","value":2} "\"héllo\"[1]" {"type":"str","value":"é"}
"b\"ab\"[0]" {"type":"int","value":97} "{\"a\": 1}[\"a\"]" {"type":"int","value":1}
"(1, 2)[True]" {"type":"int","value":2} "{1: \"x\"}[1.0]" {"type":"str","value":"x"}
"{(1, 2): 3}[1, 2]" {"type":"int","value":3} "ram" {"type":"name","value":"ram","resolved":false}
"true" {"type":"name","value":"true","resolved":false}
"os.path.supports_unicode_filenames" {"type":"name","value":"os.path.supports_unicode_filenames","resolved":true}
"cherrypy.lib.sessions.FileSession" {"type":"name","value":"cherrypy.lib.sessions.FileSession","resolved":true}
"os.getpid()" {"type":"call","func":"os.getpid","args":[],"kwargs":[]}
"os.path.join(sys.prefix, \"hello.py\")" {"type":"call","func":"os.path.join","args":[{"type":"name","value":"sys.prefix","resolved":true},{"type":"str","value":"hello.py"}],"kwargs":[]}
"f(1, *x, k=2, **y)" {"type":"call","func":"f","args":[{"type":"int","value":1},{"type":"starred","value":{"type":"name","value":"x","resolved":false}}],"kwargs":[["k",{"type":"int","value":2}],[null,{"type":"name","value":"y","resolved":false}]]}
"dict(**{\"a\": 1})" {"type":"call","func":"dict","args":[],"kwargs":[[null,{"type":"dict","items":[[{"type":"str","value":"a"},{"type":"int","value":1}]]}]]}
"\"a\".upper" {"type":"attribute","object":{"type":"str","value":"a"},"attr":"upper"}
"f().x" {"type":"attribute","object":{"type":"call","func":"f","args":[],"kwargs":[]},"attr":"x"}
"x[1]" {"type":"subscript","value":{"type":"name","value":"x","resolved":false},"index":{"type":"int","value":1}}
"{x: 1}[1]" {"type":"subscript","value":{"type":"dict","items":[[{"type":"name","value":"x","resolved":false},{"type":"int","value":1}]]},"index":{"type":"int","value":1}}
"a.b + \"/x\"" {"type":"binop","op":"+","left":{"type":"name","value":"a.b","resolved":false},"right":{"type":"str","value":"/x"}}
"-x" {"type":"neg","operand":{"type":"name","value":"x","resolved":false}}
"(a + b) * c" {"type":"binop","op":"*","left":{"type":"binop","op":"+","left":{"type":"name","value":"a","resolved":false},"right":{"type":"name","value":"b","resolved":false}},"right":{"type":"name","value":"c","resolved":false}}
"\"a\" + os.environ" {"type":"binop","op":"+","left":{"type":"str","value":"a"},"right":{"type":"name","value":"os.environ","resolved":true}}
"60 # min" {"type":"int","value":60} "1\n \t" {"type":"int","value":1}
"1\n\\\n2" {"type":"int","value":1} "2 ;x" {"type":"int","value":2}
"a = b = 1" {"type":"int","value":1} "1\nif x: pass" {"type":"int","value":1}
"1 \\\n+ 2" {"type":"int","value":3} "1; from . import *" {"type":"int","value":1}
"[x][0]" {"type":"name","value":"x","resolved":false}
"{os: 1, os: 2}" {"type":"dict","items":[[{"type":"name","value":"os","resolved":true},{"type":"int","value":2}]]}
"__debug__" {"type":"name","value":"__debug__","resolved":true}
"ｏｓ" {"type":"name","value":"os","resolved":true}
"#;

/// The input, CherryPy's exception mapped to FORMAT.md's code, and the 1-based line.
const ERRORS: &str = r#"
"unsupported-expression" 1 "60-1" "utf-8" "log/cherrypy.log" "1/60" "2 ** 10" "~1" "+1" "not 1"
"unsupported-expression" 1 "1 < 2" "a and b" "1 if 2 else 3" "{1, 2}" "lambda: 1" "[x for x in y]"
"unsupported-expression" 1 "(x for x in y)" "f'{x}'" "[1][1:2]" "(x := 1)" "await x" "(yield)"
"unsupported-expression" 1 "*a, b" "[*a]" "(1-2) + x.y" "-(1-2)" "+(1-2)" "{[1]: (1-2)}" "x - 1"
"unsupported-expression" 1 "ram + (1 - 2)" "f(1-2)" "1if 1else 2"
"value-syntax" 1 "/tmp/x" "1e" "017" "1__0" "0b12" "'a' b'b'" "b'é'" "'\\x4'" "'\\N{xyz}'" "f'{'"
"value-syntax" 1 "f'}'" "2 ; two words" "1 = 2" "f() = 1" "x = (*a)" "1 +" "(1," "[1,\n2 3" ")" "(]"
"value-syntax" 1 "1 \\ 2" "1 \\" "1; if x: pass" "print 1" "f(a=1, 2)" "f(**k, *a)"
"value-syntax" 1 "f(x for x in y, 1)" "€" "$" "1 2 \"abc" "f'{' 1abc"
"value-syntax" 1 "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((()))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))"
"value-syntax" 1 "\u00001" "x = (yield) = 1" "1; from a import b," "x lambda: 1"
"value-type" 1 "None + 1" "\"a\" + b\"b\"" "[1] + (2,)" "\"a\" * 1.5" "-\"a\"" "{[1]: 2}" "[1][1.0]"
"value-type" 1 "1[0]" "\"a\"(1)" "dict(**[1])" "int(**{1: 2})"
"value-index" 1 "[1, 2][2]" "\"abc\"[5]" "{\"a\": 1}[\"b\"]" "[1][100000000000000000000]"
"value-too-large" 1 "\"a\" * 100000000000000000000"
"value-syntax" 2 "1\n  2" "1\ndef f(a=1, b): pass" "1\ndef f(*): pass" "1\n  2\n1x"
"value-syntax" 3 "1\nif x:\npass" "1\ntry: pass\nx=1" "1\n\\\n 2" "1\n \\\n2"
"value-syntax" 4 "1\ntry: pass\nexcept: pass\nexcept* E: pass"
"value-syntax" 1 "1; global" "1; assert" "1; assert x," "1; nonlocal a.b" "1; lambda *, **k: 1"
"value-syntax" 2 "1\nimport a." "1\nimport" "1\nraise from x" "1\nclass A(: pass"
"value-syntax" 2 "1\nfor x in : pass" "1\ndef f(a) -> : pass" "1\nclass A(x for x in y, 1): pass"
"value-syntax" 2 "1\nwhile: pass" "1\nimport a as" "1\nimport a, " "1\nasync if x: pass"
"value-syntax" 2 "1\nraise x from" "1\ndef (): pass" "1\nclass A(B) pass" "1\ndef f(*, **k): pass"
"value-syntax" 3 "1\nif x: pass\nelif: pass" "1\nif x: pass\nelse x"
"value-syntax" 4 "1\nfor x in y: pass\nelse: pass\nelse: pass"
"#;

#[test]
fn values_match_cherrypy() {
    for row in cases(VALUES, 2) {
        assert_eq!(json(row[0].as_str().unwrap()), row[1], "{}", row[0]);
    }
}

#[test]
fn errors_match_cherrypy() {
    for row in cases(ERRORS, 0) {
        for text in row[2..].iter().map(|t| t.as_str().unwrap()) {
            let e = error(text);
            assert_eq!(e.code, row[0], "{text:?}: {}", e.message);
            let ok = e.span.start <= e.span.end && e.span.end <= text.len();
            assert!(ok, "{text:?}: span {:?}", e.span);
            let line = 1 + text[..e.span.start].matches('\n').count();
            assert_eq!(Json::from(line), row[1], "{text:?}: {}", e.message);
        }
    }
}

/// CherryPy refuses every f-string; we check only an f-string's braces (see the module docs):
/// one whose braces balance is `JoinedStr`, even where CPython finds a syntax error inside.
#[test]
fn fstrings_are_checked_by_their_braces() {
    // Valid Python 3.11, refused by CherryPy's builder.
    let valid = [
        "f'{x = }'",
        "f'{x:{y}}' + 1",
        "f'{\"}\"}'",
        "f'{x!r:>{w}}'",
        "f'{x!=y}'",
        "f'{d[1:2]}'",
        "f'{f(a=1)=!r:{w}}'",
        "f'\\N{EM DASH}{x:{y:\\N{DIGIT ONE}}}'",
        "rf'\\x4{x}'",
    ];
    for text in valid {
        assert_eq!(error(text).code, "unsupported-expression", "{text:?}");
    }
    // CPython syntax errors: unclosed or stray braces, and the rules of a field.
    let invalid = [
        "f'{x:{y}'",
        "f'{\"}\"'",
        "f'{x}}'",
        "1; y = f'{'",
        "f'{}'",
        "f'{ !r}'",
        "f'{x!z}'",
        "f'{#}'",
        "f'{\"\\n\"}'",
        "f'{x:{y:{z}}}'",
        "f'{(]}'",
        "f'{)}'",
        "f'{=}'",
        "f'{a=b}'",
        "f'\\x4{x}'",
        "f'\\N{foo}'",
    ];
    for text in invalid {
        assert_eq!(error(text).code, "value-syntax", "{text:?}");
    }
    // After the value, Python's syntax is only checked, by the same rules.
    assert_eq!(
        parse("1; y = f'{x = }'").unwrap().value,
        Value::Int(1.into())
    );
    assert_eq!(error("1; y = f'{x!z}'").code, "value-syntax");
    // However deep the format specs nest, the check does not recurse.
    let deep = format!("f'{}{}'", "{x:".repeat(100_000), "}".repeat(100_000));
    assert_eq!(error(&deep).code, "value-syntax");
}

#[test]
fn empty_text_is_empty_string() {
    assert_eq!(parse("").unwrap().value, Value::Str(String::new()));
    // Only the empty string: blank text is a syntax error, as `__tempvalue__ =  ` is.
    assert_eq!(error(" ").code, "value-syntax");
}

#[test]
fn big_ints_keep_every_digit() {
    let text = "123456789012345678901234567890 * 10";
    let expected = r#"{"type":"int","value":1234567890123456789012345678900}"#;
    assert_eq!(serde_json::to_string(&json(text)).unwrap(), expected);
    assert_eq!(parse("0x10").unwrap().value, Value::Int(16.into()));
}

/// The input and Python's `repr()` of its value (expressions: as source). Floats: an exact
/// tie between two shortest strings (`900719925474099.2`) takes the even digit, as CPython.
const REPRS: &str = r#"
"1e16" "1e+16" "1e15" "1000000000000000.0" "1e-5" "1e-05" "0.0001" "0.0001" "1.5e300" "1.5e+300"
"0.1 + 0.2" "0.30000000000000004" "1e400" "inf" "-1e400" "-inf" "1e400 * 0" "nan" "5e-324" "5e-324"
"9007199254740993.0 * 0.1" "900719925474099.2" "-0.0" "-0.0" "1j" "1j" "-1j" "(-0-1j)"
"1 + 2j" "(1+2j)" "2.5j + 1e16" "(1e+16+2.5j)" "1e400j" "infj" "1j * 1e400" "(nan+infj)"
"\"it's\"" "\"it's\"" "'say \"hi\"'" "'say \"hi\"'" "'both \\' and \"'" "'both \\' and \"'"
"'\\x00\\x1f\\x7f\\x80\\xa0\\xad é'" "'\\x00\\x1f\\x7f\\x80\\xa0\\xad é'"
"'\\u200b\\u2028\\U000e0001\\n\\t\\\\'" "'\\u200b\\u2028\\U000e0001\\n\\t\\\\'"
"b'\\x00\"\\xff\\''" "b'\\x00\"\\xff\\''" "b\"'\"" "b\"'\"" "os.getpid()" "os.getpid()"
"a.b + '/x'" "a.b + '/x'" "(a + b) * c" "(a + b) * c" "a * (b * c)" "a * (b * c)"
"-(a + b)" "-(a + b)" "f(1, *x, k=2, **y)[0]" "f(1, *x, k=2, **y)[0]" "(1).real" "(1).real"
"[x, {1: (2,)}]" "[x, {1: (2,)}]"
"#;

#[test]
fn reprs_match_python() {
    for case in cases(REPRS, 2) {
        assert_eq!(repr(case[0].as_str().unwrap()), case[1], "{}", case[0]);
    }
}

#[test]
fn names_resolve_against_builtins_stdlib_and_cherrypy() {
    let name = |t: &str| match parse(t).unwrap().value {
        Value::Expr(e) => match *e {
            Expr::Name { dotted, resolved } => (dotted, resolved),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let cases = [
        ("int", true),
        ("json.decoder", true),
        ("cherrypy.lib.sessions.RamSession", true),
    ];
    for (text, resolved) in cases
        .into_iter()
        .chain([("myapp.Root", false), ("True_", false)])
    {
        assert_eq!(name(text), (text.into(), resolved));
    }
}

#[test]
fn unresolved_names_warn_with_a_fix() {
    let p = parse("ram").unwrap();
    assert_eq!(p.warnings.len(), 1);
    let w = &p.warnings[0];
    assert_eq!((w.code, w.span.clone()), ("unresolved-name", 0..3));
    assert!(w.message.contains("import"), "{}", w.message);
    assert_eq!(
        w.help.as_deref(),
        Some("if this is meant as text, quote it: `\"ram\"`")
    );

    let p = parse("[true, myapp.x, os]").unwrap();
    let found: Vec<_> = p
        .warnings
        .iter()
        .map(|w| (w.span.clone(), w.help.clone().unwrap()))
        .collect();
    assert_eq!(found[0], (1..5, "write `True` (Python's spelling)".into()));
    assert_eq!(found[1].0, 7..12);
    assert_eq!(found.len(), 2);
}

#[test]
fn errors_name_the_construct_and_the_fix() {
    let e = error("60-1");
    let message = "subtraction (`-`) is not supported in config values; CherryPy allows only `+`, `*` and unary `-`";
    assert_eq!((e.message.as_str(), e.span), (message, 2..3)); // the `-`
    for text in ["utf-8", "/tmp/x", "log/cherrypy.log"] {
        assert_eq!(
            error(text).help,
            Some(format!("if this is meant as text, quote it: `\"{text}\"`"))
        );
    }
    // The builder's order decides which problem is reported.
    assert_eq!(error("(1-2) + x.y").message, error("1-2").message);
    assert!(error("(1/2) * (1-2)").message.starts_with("division"));
    assert!(error("x(1)(y=(1/2))").message.starts_with("division"));
    // Syntax errors come before builder errors.
    assert_eq!(error("(1-2) + (").code, "value-syntax");
}

/// The input and the construct a builder error points at (its first occurrence): an operator
/// token (of the outermost node the builder meets first, or the one that overflows), the
/// index of a subscript, an unhashable key, else the whole construct.
const ERROR_SPANS: &str = r#"
"60 - 1" "-" "x.y / 2" "/" "2 ** 3 ** 4" "**" "1 < 2 < 3" "<" "a not in b" "not in"
"a and b or c" "or" "a or b and c" "or" "'a' if x else 'b'" "if" "(n := 10)" ":=" "[+1]" "+"
"[not x]" "not" "None + 1" "+" "-'a'" "-" "[1,\n 2 - 3]" "-" "[0] * 99999999999999999999" "*"
"[1, 2][5]" "5" "{'a': 1}['b']" "'b'" "'ab'['x']" "'x'" "{1: 2, (1, [2]): 3}" "(1, [2])"
"1[0]" "1[0]" "[lambda: 1]" "lambda: 1" "f'{x}'" "f'{x}'"
"#;

#[test]
fn builder_errors_point_at_the_offending_construct() {
    for row in cases(ERROR_SPANS, 2) {
        let (text, construct) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
        let at = text.find(construct).unwrap();
        assert_eq!(error(text).span, at..at + construct.len(), "{text:?}");
    }
    // int too large to convert to float.
    let e = error(&format!("1.0 * 1{}", "0".repeat(400)));
    assert_eq!((e.code, e.span), ("value-too-large", 4..5));
}

#[test]
fn too_deep_nesting_points_at_the_value() {
    let deep = [
        "-".repeat(600) + "1",     // the builder's RecursionError
        "not ".repeat(3000) + "1", // CPython's AST depth
        "lambda a=".repeat(800) + "1" + &": 1".repeat(800), // CPython's parser stack
    ];
    for text in deep {
        let e = error(&text);
        assert_eq!((e.code, e.span), ("value-too-large", 0..1));
    }
}

#[test]
fn syntax_error_positions() {
    let at = |t: &str| error(t).span.start;
    assert_eq!(
        (at("1 1"), at("a b c"), at("60 # comment\n1 1")),
        (2, 2, 15)
    );
    assert_eq!(at("[1,\n2"), 0); // '[' was never closed
    assert_eq!(at("x = 1, 2 = 3"), 4); // cannot assign to literal: the first bad target
    assert_eq!((at("1__0"), at("017")), (1, 0));
    let e = error(&("(".repeat(201) + &")".repeat(201)));
    assert_eq!(
        (e.message.as_str(), e.span.start),
        ("too many nested parentheses", 200)
    );
}

#[test]
fn deep_nesting_never_overflows() {
    let run = |text: String| {
        let thread = std::thread::Builder::new().stack_size(256 * 1024);
        let reader = thread.spawn(move || parse(&text).map(|_| ()).map_err(|e| e.code));
        reader.unwrap().join().unwrap()
    };
    let (too_large, lambdas) = (Err("value-too-large"), "lambda a=".repeat(800) + "1");
    let cases = [
        ("(".repeat(200) + "1" + &")".repeat(200), Ok(())),
        ("[".repeat(200) + &"]".repeat(200), Ok(())),
        ("-".repeat(400) + "1", Ok(())),
        // CherryPy's builder recurses once per level and fails with RecursionError.
        ("-".repeat(600) + "1", too_large),
        ("1+".repeat(600) + "1", too_large),
        ("a".to_string() + &".b".repeat(600), too_large),
        // CPython cannot even build the tree of these.
        ("-".repeat(100_000) + "1", too_large),
        ("not ".repeat(3000) + "1", too_large),
        (lambdas + &": 1".repeat(800), too_large),
        // ... but the builder rejects `not` before looking at its operand.
        ("not ".repeat(2000) + "1", Err("unsupported-expression")),
    ];
    for (text, expected) in cases {
        let shown = text[..20.min(text.len())].to_string();
        assert_eq!(run(text), expected, "{shown}...");
    }
}

#[test]
fn huge_results_are_refused() {
    // Python converts the count to a C integer first, even for an empty string.
    let huge = [
        "'ab' * 100000000000",
        "[[1] * 1000] * 100000",
        "'a' * 100000000000000000000",
    ];
    for text in huge.into_iter().chain(["'' * 100000000000000000000"]) {
        assert_eq!(error(text).code, "value-too-large", "{text}");
    }
    let value = |t: &str| parse(t).unwrap().value;
    assert_eq!(value("'' * 1000000000000"), Value::Str(String::new()));
    assert_eq!(value("'ab' * 1000"), Value::Str("ab".repeat(1000)));
}

#[test]
fn lone_surrogates_are_reported() {
    let e = error(r"'a\ud800b'");
    assert_eq!((e.code, e.span.clone()), ("lone-surrogate", 2..8));
    // Not evaluated by the builder: no error.
    assert!(parse(r"1 ; x = '\ud800'").is_ok());
    assert_eq!(error(r"(1-2) + '\ud800'").code, "unsupported-expression");
}

/// The input, its value's type name and truth value (`null`: an expression, unknown).
const TYPES: &str = r#"
"None" "none" false "False" "bool" false "0" "int" false "0.0" "float" false
"1e400 * 0" "float" true "0j" "complex" false "'False'" "str" true "b''" "bytes" false
"[]" "list" false "(0,)" "tuple" true "{}" "dict" false "..." "ellipsis" true "os" "name" null
"f()" "call" null "f().x" "attribute" null "x + 1" "binop" null "-x" "neg" null
"x[0]" "subscript" null
"#;

#[test]
fn type_names_and_truthiness() {
    for row in cases(TYPES, 3) {
        let v = parse(row[0].as_str().unwrap()).unwrap().value;
        let found = (Json::from(v.type_name()), Json::from(v.is_truthy()));
        assert_eq!(found, (row[1].clone(), row[2].clone()), "{}", row[0]);
    }
    let Value::Expr(call) = parse("f(*a)").unwrap().value else {
        panic!()
    };
    let Expr::Call { args, .. } = *call else {
        panic!()
    };
    assert_eq!(args[0].type_name(), "starred");
}

#[test]
fn continuation_lines_and_following_statements() {
    assert_eq!(json("[1,\n2]"), json("[1, 2]"));
    assert_eq!(json("'''a\nb'''"), json("'a\\nb'"));
    assert_eq!(json("1 \\\n+ 2"), json("3"));
    let statements = "2\nx = [i for i in range(3)]\ndef f(a, *b, c=1, **d) -> int: return a";
    assert_eq!(json(statements), json("2"));
    assert_eq!(json("2\nwith (open(p) as f, g): pass"), json("2"));
    assert_eq!(json("1\r\n2"), json("1"));
    assert_eq!(
        error("1\nif x:\npass").message,
        "expected an indented block"
    );
    assert_eq!(error("2 ; two words").code, "value-syntax");
}

/// The pure names and calls CherryPy evaluates, evaluated as Python 3.11 does on POSIX
/// (expectations from running each under CPython); anything else, or other argument types,
/// stays an expression.
#[cfg(unix)]
const PURE: &str = r#"
"os.sep + os.pathsep + os.path.curdir + os.pardir" "'/:...'" "os.linesep" "'\\n'"
"os.path.join('a', 'b/', 'c', '/d', 'e')" "'/d/e'" "os.path.join('', 'x')" "'x'"
"os.path.normpath('//a/./b/../../..//c/')" "'//c'" "os.path.normpath('///a/..')" "'/'"
"os.path.normpath('../a/../../b')" "'../../b'" "os.path.normpath('')" "'.'"
"os.path.dirname('/a/b/')" "'/a/b'" "os.path.dirname('//x')" "'//'" "os.path.dirname('a')" "''"
"os.path.basename('/a/b.txt')" "'b.txt'" "os.path.abspath('/a/../b')" "'/b'"
"os.path.expanduser('a~')" "'a~'" "' a b\\x1c '.split()" "['a', 'b']"
"'a,b,,c'.split(',')" "['a', 'b', '', 'c']" "'-ab-'.strip('-')" "'ab'"
"' x '.lstrip() + '|'" "'x |'" "'Straße'.upper()" "'STRASSE'" "'ΣΑΣ'.lower()" "'σας'"
"'ab'.replace('', '-')" "'-a-b-'" "'aXbX'.replace('X', 'y')" "'ayby'" "'-'.join(('a', 'b'))" "'a-b'"
"'abc'.startswith('ab')" "True" "'abc'.endswith('x')" "False"
"os.path.join('a', 1)" "os.path.join('a', 1)" "os.path.exists('a')" "os.path.exists('a')"
"'a'.split('')" "'a'.split('')" "'a'.upper" "'a'.upper" "os.getcwd(1)" "os.getcwd(1)"
"'a'.title()" "'a'.title()"
"#;

#[cfg(unix)]
#[test]
fn pure_names_and_calls_evaluate_as_python() {
    for case in cases(PURE, 2) {
        assert_eq!(repr(case[0].as_str().unwrap()), case[1], "{}", case[0]);
    }
    let cwd = std::env::current_dir().unwrap().display().to_string();
    let value = |t: &str| parse(t).unwrap().value;
    assert_eq!(value("os.getcwd()"), Value::Str(cwd.clone()));
    let templates = value("os.path.abspath(os.getcwd() + '/templates')");
    assert_eq!(templates, Value::Str(format!("{cwd}/templates")));
    assert_eq!(value("os.path.abspath(os.path.curdir)"), Value::Str(cwd));
    if let Ok(home) = std::env::var("HOME") {
        let home = home.trim_end_matches('/').to_owned();
        assert_eq!(
            value("os.path.expanduser('~/x')"),
            Value::Str(format!("{home}/x"))
        );
    }
}

/// Statements after the value, each shape the statement reader knows, checked with CPython
/// 3.11's `ast.parse` (those that fail are in `ERRORS`): the value reads as `1`.
const STATEMENTS: &str = r#"
"1\nraise x from y" "1\nraise" "1; return" "1; return a, *b" "1\nimport a.b as c, d"
"1; global a, b" "1; nonlocal a" "1; assert x, 'm'" "1\nclass A(B, metaclass=M): pass"
"1\nclass A: pass" "1\ndef f(a, /, b=1, *c, d, **e) -> int: pass"
"1\nfor a, *b in c: pass\nelse: pass" "1\nwhile x: pass\nelse: pass"
"1\nif a: pass\nelif b: pass\nelse: pass" "1\nasync def f(): pass" "1\nasync for x in y: pass"
"1\nasync with a as b: pass" "1\n@d\ndef f(): pass" "1\n@d\nclass C: pass"
"1; pass; break; continue" "1\ndef f(*, a): pass"
"#;

#[test]
fn statements_after_the_value() {
    for case in cases(STATEMENTS, 1) {
        assert_eq!(json(case[0].as_str().unwrap()), json("1"), "{}", case[0]);
    }
}

#[test]
fn words_after_a_semicolon() {
    assert_eq!(json("8080 ; default"), json("8080"));
    assert_eq!(json("8080 ; TODO: fix"), json("8080"));
    assert_eq!(error("8080 ; the port").code, "value-syntax");
    // An indented line can only come from an empty interpolation; Python would accept this
    // block, we do not (see the module docs).
    assert_eq!(error("1\nif x:\n  pass").code, "value-syntax");
}
