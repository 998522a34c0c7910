//! The INI layer against Python 3.11's configparser. The expected readings were produced by
//! running configparser (with CherryPy's case-preserving `optionxform`) on the same inputs.

use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::{DEFAULT_SECTION, InterpolationBudget, interpolate, parse};
use crate::source::SourceFile;

const CASES: &str = r#"["[a]\nk = v\n",
 "[a]\nk : v : w\nx=y=z\n",
 "[a]\nk = 1\n  2\n\n  3\n\n\n[b]\n",
 "[a]\nk = [1,\n  # comment\n  2]\n",
 "[a]\n  k = 1\n  j = 2\n",
 "[a]\nk = 1\n\tj = 2\n",
 "[a]\n# c\n; c\n  # indented comment\nk=\n",
 "[a] # trailing\nk=1\n[b]]\nj=2\n",
 "[DEFAULT]\nd = 1\n[a]\nk = %(d)s\nd = 2\n[b]\nk = %(d)s%%\n",
 "[DEFAULT]\nx = 1\n[DEFAULT]\ny = 2\n[a]\n",
 "[a]\nk = 1\nk = 2\n",
 "[a]\n[a]\n",
 "k = 1\n[a]\n",
 "\ufeff[a]\nk=1\n",
 "[a]\nnovalue\nk=1\nk=2\n",
 "[a]\nk = %(k)s\n",
 "[a]\nk = 100%\n",
 "[a]\nk = %(missing)s\n",
 "[a]\nk = %(\n",
 "[a]\r\nk = 1\r\n  2\r\n",
 "[a]\rk = 1\r  2\r",
 "[a]\nk = 1 \u00a0\n\u00a0j = 2\n",
 "[a]\nk = 1\n\u001cj = 2\n",
 "[a]\n= v\n  cont\n",
 "[a]\nk\n  cont\n",
 "[a]\nK = 1\nk = 2\n",
 "  [a]\nk = 1\n  [b]\n",
 "[a]\nk = 1\n  [b]\nj = 2\n",
 "[]\n",
 "[[x]]\nk=1\n[[[y]]]\n",
 "[a]\nk = \n",
 "[a]\nk=%(j)s\nj=%(k)s\n",
 "[a]\nk=1\n\n\n  \n"
]"#;

const PYTHON: &str = r#"[{"a": {"k": "v"}}, {"a": {"k": "v : w", "x": "y=z"}}, {"a": {"k": "1\n2\n\n3"}, "b": {}}, {"a": {"k": "[1,\n2]"}}, {"a": {"k": "1", "j": "2"}}, {"a": {"k": "1\nj = 2"}}, {"a": {"k": ""}}, {"a": {"k": "1"}, "b]": {"j": "2"}}, {"a": {"k": "2", "d": "2"}, "b": {"k": "1%", "d": "1"}}, {"a": {"x": "1", "y": "2"}}, {"error": "DuplicateOptionError", "line": 3}, {"error": "DuplicateSectionError", "line": 2}, {"error": "MissingSectionHeaderError", "line": 1}, {"error": "MissingSectionHeaderError", "line": 1}, {"error": "DuplicateOptionError", "line": 4}, {"a": {"k": "!InterpolationDepthError"}}, {"a": {"k": "!InterpolationSyntaxError"}}, {"a": {"k": "!InterpolationMissingOptionError"}}, {"a": {"k": "!InterpolationSyntaxError"}}, {"a": {"k": "1\n2"}}, {"a": {"k": "1\n2"}}, {"a": {"k": "1\nj = 2"}}, {"a": {"k": "1\nj = 2"}}, {"error": "ParsingError", "line": 2}, {"error": "ParsingError", "line": 2}, {"a": {"K": "1", "k": "2"}}, {"a": {"k": "1\n[b]"}}, {"a": {"k": "1\n[b]", "j": "2"}}, {"error": "MissingSectionHeaderError", "line": 1}, {"[x]": {"k": "1"}, "[[y]]": {}}, {"a": {"k": ""}}, {"a": {"k": "!InterpolationDepthError", "j": "!InterpolationDepthError"}}, {"a": {"k": "1"}}]"#;

/// configparser's exception names for our codes.
fn python_name(code: &str) -> &'static str {
    match code {
        "missing-section-header" => "MissingSectionHeaderError",
        "duplicate-section" => "DuplicateSectionError",
        "duplicate-option" => "DuplicateOptionError",
        "invalid-line" => "ParsingError",
        "interpolation-syntax" => "InterpolationSyntaxError",
        "interpolation-missing" => "InterpolationMissingOptionError",
        "interpolation-depth" => "InterpolationDepthError",
        other => panic!("unexpected code {other}"),
    }
}

/// Our reading in the shape the Python script prints.
fn read(text: &str) -> Json {
    let source = SourceFile::new("f", text);
    let parsed = parse(&source);
    if let Some(error) = parsed.first_error() {
        let (line, _) = error.line_column().unwrap();
        return json!({"error": python_name(error.code), "line": line});
    }
    let doc = &parsed.document;
    let defaults: Vec<_> = doc
        .sections()
        .iter()
        .filter(|s| s.name(&source) == DEFAULT_SECTION)
        .flat_map(|s| s.entries.iter())
        .collect();
    let mut out = Map::new();
    for section in doc
        .sections()
        .iter()
        .filter(|s| s.name(&source) != DEFAULT_SECTION)
    {
        let own = &section.entries;
        let lookup = |name: &str| {
            own.iter()
                .chain(defaults.iter().copied())
                .find(|e| e.key(&source) == name)
                .map(|e| e.value.text(&source))
        };
        let mut keys = Map::new();
        let mut budget = InterpolationBudget::default();
        let inherited = defaults
            .iter()
            .copied()
            .filter(|d| !own.iter().any(|e| e.key(&source) == d.key(&source)));
        for entry in own.iter().chain(inherited) {
            let value = match interpolate(entry.value.text(&source), &lookup, &mut budget) {
                Ok(text) => json!(text),
                Err(err) => json!(format!("!{}", python_name(err.code()))),
            };
            keys.insert(entry.key(&source).to_owned(), value);
        }
        out.insert(section.name(&source).to_owned(), Json::Object(keys));
    }
    Json::Object(out)
}

#[test]
fn reads_like_python_configparser() {
    let cases: Vec<String> = serde_json::from_str(CASES).unwrap();
    let expected: Vec<Json> = serde_json::from_str(PYTHON).unwrap();
    assert_eq!(cases.len(), expected.len());
    for (case, expected) in cases.iter().zip(expected) {
        assert_eq!(read(case), expected, "input: {case:?}");
    }
}

#[test]
fn printing_gives_back_the_input() {
    let cases: Vec<String> = serde_json::from_str(CASES).unwrap();
    for case in cases {
        let source = SourceFile::new("f", case.clone());
        assert_eq!(parse(&source).document.to_string(), case);
    }
}

#[test]
fn value_offsets_map_back_to_the_file() {
    let source: Arc<SourceFile> = SourceFile::new("f", "[a]\nk = [1,\n  # c\n   2]\n");
    let parsed = parse(&source);
    let value = &parsed.document.sections()[0].entries[0].value;
    assert_eq!(value.text(&source), "[1,\n2]");
    let two = value.text(&source).find('2').unwrap();
    let span = value.source_span(two..two + 1);
    assert_eq!(source.line_column(span.start), (4, 4));
}

#[test]
fn duplicate_beats_an_earlier_bad_line() {
    // configparser raises a duplicate at once but bad lines only at the end of the file.
    let source = SourceFile::new("f", "[a]\nbad line\nk = 1\nk = 2\n");
    let parsed = parse(&source);
    assert_eq!(parsed.errors.len(), 2);
    assert_eq!(parsed.first_error().unwrap().code, "duplicate-option");
}
