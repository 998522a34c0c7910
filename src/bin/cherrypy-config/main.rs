//! `cherrypy-config`: check, show and migrate CherryPy config files the way CherryPy reads them.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use actix_cherrypy::config::{self, FileReport};
use actix_cherrypy::config::{SourceError, SourceFile};
use actix_cherrypy::diagnostic::cap_repeated;
use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session_config::{self, SessionConfigs};
use actix_cherrypy::{Diagnostic, Severity};
use clap::{Parser, Subcommand, ValueEnum};
use render::ColorChoice;

/// Read CherryPy config files exactly as CherryPy 18 does.
#[derive(Parser)]
#[command(name = "cherrypy-config", version)]
struct Cli {
    /// Colour diagnostics: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report every error and warning (exit 0: clean or warnings only, 1: errors, 2: unreadable).
    Check {
        /// Output format: text (a snippet per diagnostic, on stderr) or JSON (one object
        /// per diagnostic and line, on stdout, for editors and CI).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also run the middleware's startup checks on this machine, as the app would here
        /// (storage directories: present, writable, not writable by everyone).
        #[arg(long)]
        startup: bool,
        /// Config files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Show the effective session settings of a request path, each with its origin.
    Explain {
        /// The request path (relative to the application's mount point).
        #[arg(long, default_value = "/")]
        path: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Config files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Rewrite a legacy CherryPy 2.x file in CherryPy 3.x/18.x syntax (exit 0: done or
    /// nothing to do, 1: errors, or with --check: the file needs migrating, 2: unreadable).
    Migrate {
        /// Write the result to FILE and keep the original as FILE.bak.
        #[arg(long, conflicts_with = "check")]
        in_place: bool,
        /// Write nothing; exit 1 when the file needs migrating.
        #[arg(long)]
        check: bool,
        /// The config file.
        file: PathBuf,
    },
    /// Print a completion script for SHELL (e.g. `cherrypy-config completions bash >
    /// /etc/bash_completion.d/cherrypy-config`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `cherrypy-config man | man -l -`.
    Man,
    /// Print each file's sections and values as CherryPy reads them.
    Dump {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Config files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Exit codes: the worst outcome over all files.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Clean = 0,
    Errors = 1,
    Unreadable = 2,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = cli.color.for_stderr();
    let outcome = match cli.command {
        Command::Check {
            format,
            startup,
            files,
        } => files.iter().map(|f| check(f, format, startup, color)).max(),
        Command::Dump { format, files } => files.iter().map(|f| dump(f, format, color)).max(),
        Command::Explain {
            path,
            format,
            files,
        } => files.iter().map(|f| explain(f, &path, format, color)).max(),
        Command::Migrate {
            in_place,
            check,
            file,
        } => Some(migrate(&file, in_place, check, color)),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(
                shell,
                &mut command,
                "cherrypy-config",
                &mut std::io::stdout(),
            );
            Some(Outcome::Clean)
        }
        Command::Man => {
            let page = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            Some(match page.render(&mut std::io::stdout()) {
                Ok(()) => Outcome::Clean,
                Err(_) => Outcome::Unreadable,
            })
        }
    };
    ExitCode::from(outcome.unwrap_or(Outcome::Clean) as u8)
}

fn read(path: &PathBuf) -> Result<FileReport, SourceError> {
    SourceFile::read(path).map(|source| config::read_source(&source))
}

fn check(path: &PathBuf, format: Format, startup: bool, color: bool) -> Outcome {
    let report = match read(path) {
        Ok(report) => report,
        Err(err) if matches!(format, Format::Json) => {
            let outcome = source_error_outcome(&err);
            println!("{}", diagnostic_json(path, &Diagnostic::from(err)));
            return outcome;
        }
        Err(err) => return report_unreadable(err, color),
    };
    let mut diagnostics = report.diagnostics;
    if let Some(file) = report
        .file
        .filter(|_| !diagnostics.iter().any(Diagnostic::is_error))
    {
        // What the session settings make of the values (bad timeouts, legacy names), from
        // the file as it was read (not read a second time), beside the warnings of the
        // layers below that the middleware keeps: the same list it logs.
        diagnostics = SessionConfigs::check_files_with(std::slice::from_ref(&file), diagnostics);
    }
    // What the middleware refuses at startup on this machine (a storage directory that is
    // missing, unwritable, or writable by everyone), and what it warns of there (a shared
    // directory): the app's own check, in its words. Only those errors: a store the app's
    // build has and this command's lacks is not the file's fault. Opt-in, since a config
    // is often checked on another machine than its server's.
    if startup && !diagnostics.iter().any(Diagnostic::is_error) {
        match CherryPySessions::from_file(path) {
            Ok(sessions) => {
                for d in sessions.warnings() {
                    if !diagnostics.contains(d) {
                        diagnostics.push(d.clone());
                    }
                }
            }
            Err(err) if err.diagnostic().code == "storage-path" => {
                diagnostics.push(err.into_diagnostic());
            }
            // Said, not counted as the file's error: the app's build may have the store.
            Err(err) if err.diagnostic().code == "storage-feature-missing" => {
                let mut d = err.into_diagnostic();
                let feature = d.message.split(' ').next().unwrap_or_default().to_owned();
                d.severity = Severity::Warning;
                d.code = "startup-not-checked";
                d.message = format!(
                    "the {feature} store is not checked on this machine: this cherrypy-config was built without the `{feature}` feature"
                );
                d.help = Some(format!(
                    "cargo install actix-cherrypy --features cli,{feature}"
                ));
                diagnostics.push(d);
            }
            Err(_) => {}
        }
    }
    let diagnostics = cap_repeated(diagnostics);
    let mut stderr = std::io::stderr().lock();
    match format {
        Format::Text => {
            for d in &diagnostics {
                let _ = write!(stderr, "{}", render::render(d, color));
            }
        }
        Format::Json => {
            let mut stdout = std::io::stdout().lock();
            for d in &diagnostics {
                let _ = writeln!(stdout, "{}", diagnostic_json(path, d));
            }
        }
    }
    // A closing "… and N more like this" line counts the N it stands for.
    let count = |d: &Diagnostic| d.omitted.max(1);
    let errors: usize = diagnostics.iter().filter(|d| d.is_error()).map(count).sum();
    let warnings: usize = diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(count)
        .sum();
    let _ = writeln!(
        stderr,
        "{}: {errors} error{}, {warnings} warning{}",
        path.display(),
        plural(errors),
        plural(warnings)
    );
    if errors > 0 {
        Outcome::Errors
    } else {
        Outcome::Clean
    }
}

/// One diagnostic as `check --format json` prints it: `{"file", "line", "column",
/// "severity", "code", "message", "section", "key", "help", "notes", "omitted"}` (line and
/// column 1-based, null where the diagnostic has no place; `omitted` counts the
/// diagnostics a closing "… and N more like this" stands for).
fn diagnostic_json(path: &std::path::Path, d: &Diagnostic) -> serde_json::Value {
    let (line, column) = d.line_column().unzip();
    let location = d.location.as_ref();
    serde_json::json!({
        "file": path.display().to_string(),
        "line": line,
        "column": column,
        "severity": d.severity.to_string(),
        "code": d.code,
        "message": d.message,
        "section": location.and_then(|l| l.section.as_deref()),
        "key": location.and_then(|l| l.key.as_deref()),
        "help": d.help,
        "notes": d.notes,
        "omitted": d.omitted,
    })
}

fn dump(path: &PathBuf, format: Format, color: bool) -> Outcome {
    let name = path.display().to_string();
    let report = match read(path) {
        Ok(report) => report,
        Err(err) => {
            if let Format::Json = format {
                let outcome = source_error_outcome(&err);
                println!("{}", config::error_json(&name, &Diagnostic::from(err)));
                return outcome;
            }
            return report_unreadable(err, color);
        }
    };
    let mut out = Budgeted {
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        left: MAX_DUMP_BYTES,
    };
    let written = match (format, &report.file, report.first_error()) {
        (Format::Json, ..) => {
            config::write_report_json(&name, &report, &mut out).and_then(|()| writeln!(out))
        }
        (Format::Text, Some(file), None) => (|| {
            writeln!(out, "# {name}")?;
            for (section, settings) in file.sections() {
                writeln!(out, "[{section}]")?;
                for (key, setting) in settings.iter() {
                    writeln!(out, "{key} = {}", setting.value.python_repr())?;
                }
            }
            Ok(())
        })(),
        (Format::Text, _, Some(error)) => {
            eprint!("{}", render::render(error, color));
            Ok(())
        }
        (Format::Text, None, None) => unreachable!("a report without a file has an error"),
    };
    // A closed pipe (`| head`) only ends the output; a dump over its budget is an error.
    if let Err(e) = written.and_then(|()| out.out.flush())
        && e.kind() == std::io::ErrorKind::FileTooLarge
    {
        eprintln!("{name}: {e}");
        return Outcome::Errors;
    }
    if report.first_error().is_some() {
        Outcome::Errors
    } else {
        Outcome::Clean
    }
}

/// The most `dump` writes: every section prints the `[DEFAULT]` values it inherits, so a
/// file of a few kilobytes (long strings in `[DEFAULT]`, thousands of sections) would
/// print hundreds of gigabytes. 256 MiB is tens of thousands of times a real config.
const MAX_DUMP_BYTES: usize = 256 << 20;

/// Output that ends with an error past its budget.
struct Budgeted<W> {
    out: W,
    left: usize,
}

impl<W: Write> Write for Budgeted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.left {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!(
                    "the dump is longer than {} MiB (each section prints the [DEFAULT] values it inherits); stopped",
                    MAX_DUMP_BYTES >> 20
                ),
            ));
        }
        let n = self.out.write(buf)?;
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn explain(file: &PathBuf, path: &str, format: Format, color: bool) -> Outcome {
    let source = match SourceFile::read(file) {
        Ok(source) => source,
        Err(err) => return report_unreadable(err, color),
    };
    match session_config::explain(&source, path) {
        Ok(explanation) => {
            match format {
                Format::Json => println!("{}", explanation.to_json()),
                Format::Text => print!("{}", explanation.to_text()),
            }
            Outcome::Clean
        }
        Err(err) => {
            if let Format::Json = format {
                println!(
                    "{}",
                    config::error_json(&file.display().to_string(), err.diagnostic())
                );
            }
            eprint!("{}", render::render(err.diagnostic(), color));
            Outcome::Errors
        }
    }
}

fn migrate(file: &PathBuf, in_place: bool, check: bool, color: bool) -> Outcome {
    let source = match SourceFile::read(file) {
        Ok(source) => source,
        Err(err) => return report_unreadable(err, color),
    };
    let migration = match actix_cherrypy::migrate::migrate(&source) {
        Ok(migration) => migration,
        Err(err) => {
            eprint!("{}", render::render(err.diagnostic(), color));
            return Outcome::Errors;
        }
    };
    let mut stderr = std::io::stderr().lock();
    for d in &migration.warnings {
        let _ = write!(stderr, "{}", render::render(d, color));
    }
    if check {
        let _ = writeln!(
            stderr,
            "{}: {}",
            file.display(),
            if migration.changed {
                "needs migrating"
            } else {
                "nothing to migrate"
            }
        );
        return if migration.changed {
            Outcome::Errors
        } else {
            Outcome::Clean
        };
    }
    if !in_place {
        print!("{}", migration.text);
        return Outcome::Clean;
    }
    if !migration.changed {
        let _ = writeln!(stderr, "{}: nothing to migrate", file.display());
        return Outcome::Clean;
    }
    let mut backup = file.clone().into_os_string();
    backup.push(".bak");
    // The backup is made before the file is overwritten, so a failed write loses nothing.
    let written = std::fs::copy(file, &backup).and_then(|_| std::fs::write(file, &migration.text));
    match written {
        Ok(()) => {
            let _ = writeln!(
                stderr,
                "{}: migrated (original kept as {})",
                file.display(),
                PathBuf::from(backup).display()
            );
            Outcome::Clean
        }
        Err(err) => {
            let _ = writeln!(stderr, "{}: cannot write: {err}", file.display());
            Outcome::Unreadable
        }
    }
}

fn report_unreadable(err: SourceError, color: bool) -> Outcome {
    let outcome = source_error_outcome(&err);
    eprint!("{}", render::render(&Diagnostic::from(err), color));
    outcome
}

/// A file that cannot be opened is a usage problem; one that is not UTF-8 is a config error.
fn source_error_outcome(err: &SourceError) -> Outcome {
    match err {
        SourceError::Io { .. } => Outcome::Unreadable,
        _ => Outcome::Errors,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
