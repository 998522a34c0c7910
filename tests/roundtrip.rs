//! The lossless document: every fixture and every real-world corpus file prints back byte for
//! byte (what `migrate` relies on to keep comments, blank lines and spacing).

use std::path::{Path, PathBuf};

use actix_cherrypy::ini;
use actix_cherrypy::source::SourceFile;

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
    let corpus = std::env::var_os("CHERRYPY_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpus/real"));
    let mut paths = Vec::new();
    files(&root.join("fixtures"), &mut paths);
    files(&corpus, &mut paths);
    assert!(
        paths.len() > 60,
        "fixtures and corpus are missing: {}",
        paths.len()
    );
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
    assert!(read > 60);
}
