//! Line-level edits of a lossless document: everything not edited is copied byte for byte.

use crate::ini::{Document, LineKind};
use crate::source::Span;

/// A set of edits to one document, applied all at once.
#[derive(Debug)]
pub(crate) struct Edits<'d> {
    doc: &'d Document,
    replacements: Vec<(Span, String)>,
    /// The ending the file uses most, for added lines (counted once: a file can have
    /// hundreds of thousands of lines and as many insertions).
    eol: &'static str,
}

impl<'d> Edits<'d> {
    pub(crate) fn new(doc: &'d Document) -> Self {
        Self {
            doc,
            replacements: Vec::new(),
            eol: line_ending(doc),
        }
    }

    /// Replaces the key of an entry line, keeping its separator and spacing.
    pub(crate) fn rename_key(&mut self, line: usize, key: &str) {
        if let LineKind::Entry { key: span, .. } = self.doc.line(line).kind {
            self.replacements.push((span, key.to_owned()));
        }
    }

    /// Replaces the value on an entry line (continuation lines are left as they are). An
    /// empty value (`key =`) gets the spacing the key has before the separator.
    pub(crate) fn replace_value(&mut self, line: usize, value: &str) {
        if let LineKind::Entry {
            key,
            separator,
            value: span,
        } = self.doc.line(line).kind
        {
            if span.is_empty() {
                let pad = self.doc.source().slice(Span::new(key.end, separator.start));
                let at = separator.end;
                let end = span.end.max(at);
                self.replacements
                    .push((Span::new(at, end), format!("{pad}{value}")));
            } else {
                self.replacements.push((span, value.to_owned()));
            }
        }
    }

    /// An entry line laid out like `like` (same spacing and separator), for lines added next
    /// to it. Never indented: an indented line below an entry would continue its value.
    pub(crate) fn entry_like(&self, like: usize, key: &str, value: &str) -> String {
        let source = self.doc.source();
        let line = self.doc.line(like);
        let LineKind::Entry {
            key: k,
            separator,
            value: v,
        } = line.kind
        else {
            return format!("{key} = {value}");
        };
        let before = source.slice(Span::new(k.end, separator.start));
        let sep = source.slice(separator);
        let after = if v.is_empty() {
            before
        } else {
            source.slice(Span::new(separator.end, v.start))
        };
        format!("{key}{before}{sep}{after}{value}")
    }

    /// Removes a line and its ending.
    pub(crate) fn delete_line(&mut self, line: usize) {
        let l = self.doc.line(line);
        self.replacements
            .push((Span::new(l.span.start, l.ending.end), String::new()));
    }

    /// Adds lines at the end of the file (after a line ending, added if the file has none).
    pub(crate) fn append(&mut self, lines: &[String]) {
        if let Some(last) = self.doc.line_count().checked_sub(1) {
            self.insert_after(last, lines);
        }
    }

    /// Renames a section in its header line, keeping the brackets and anything around them.
    pub(crate) fn rename_section(&mut self, line: usize, name: &str) {
        if let LineKind::Header { name: span } = self.doc.line(line).kind {
            self.replacements.push((span, name.to_owned()));
        }
    }

    /// Replaces a whole line's text (its line ending is kept).
    pub(crate) fn replace_line(&mut self, line: usize, text: &str) {
        self.replacements
            .push((self.doc.line(line).span, text.to_owned()));
    }

    /// Turns a line (and the continuation lines of its entry up to `last`) into comments
    /// that say why.
    pub(crate) fn comment_out(&mut self, first: usize, last: usize, reason: &str) {
        for line in first..=last {
            let text = self.doc.line_text(line);
            let note = if line == first {
                format!("  ({reason})")
            } else {
                String::new()
            };
            self.replace_line(line, &format!("# {text}{note}"));
        }
    }

    /// Adds lines after a line, with the file's own line ending.
    pub(crate) fn insert_after(&mut self, line: usize, lines: &[String]) {
        if lines.is_empty() {
            return;
        }
        let this = self.doc.line(line);
        let eol = self.eol;
        let mut text = String::new();
        // The last line of a file may have no ending: give it one before adding more.
        if this.ending.is_empty() {
            text.push_str(eol);
        }
        for l in lines {
            text.push_str(l);
            text.push_str(eol);
        }
        // A file without a final line ending keeps none.
        if this.ending.is_empty() {
            text.truncate(text.len() - eol.len());
        }
        let at = this.ending.end;
        self.replacements.push((Span::new(at, at), text));
    }

    /// The new text. Insertions at one point keep the order they were made in (the sort
    /// is stable), and come before a replacement that starts there.
    pub(crate) fn apply(self) -> String {
        let mut replacements = self.replacements;
        replacements.sort_by_key(|(span, _)| (span.start, span.end));
        self.doc.edit(replacements)
    }
}

/// The ending the file uses most (`\n` for a file of one line).
fn line_ending(doc: &Document) -> &'static str {
    let source = doc.source();
    let (mut crlf, mut cr, mut lf) = (0, 0, 0);
    for line in doc.lines() {
        match source.slice(line.ending) {
            "\r\n" => crlf += 1,
            "\r" => cr += 1,
            "\n" => lf += 1,
            _ => {}
        }
    }
    if crlf > lf && crlf >= cr {
        "\r\n"
    } else if cr > lf {
        "\r"
    } else {
        "\n"
    }
}
