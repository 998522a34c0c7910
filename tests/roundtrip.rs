//! The lossless document: every fixture and every real-world corpus file prints back byte for
//! byte (what `migrate` relies on to keep comments, blank lines and spacing).

use std::path::{Path, PathBuf};

use actix_cherrypy::__private::ini;
use actix_cherrypy::config::SourceFile;

mod oracle;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "conf") {
            out.push(path);
        }
    }
}

#[test]
fn every_file_prints_back_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("fixtures"), &mut paths);
    let fixtures = paths.len();
    assert!(fixtures > 60, "the fixtures are missing: {fixtures}");
    paths.extend(oracle::corpus_files_or_skip(
        "every_file_prints_back_byte_for_byte (corpus part)",
    ));
    let mut read = 0;
    for path in paths {
        // A file that is not UTF-8 has no text to print back.
        let Ok(source) = SourceFile::read(&path) else {
            continue;
        };
        let parsed = ini::parse(&source);
        assert_eq!(
            parsed.document.to_string(),
            source.text(),
            "{}",
            path.display()
        );
        assert_eq!(parsed.document.edit(Vec::new()), source.text());
        read += 1;
    }
    assert!(read > 60, "only {read} files read");
}
