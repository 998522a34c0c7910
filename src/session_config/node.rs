//! The settings written at one node (a section): each session key of a section read into
//! a typed slot, the better of two spellings of one setting kept (`build` collects one node
//! per section), and the nodes on a path merged (what `resolve` reads).

use std::sync::Arc;

use crate::Diagnostic;
use crate::config::{FilePlace, Origin, Settings};

use super::codes;
use super::era::{Era, EraReport};
use super::input::RawEntry;
use super::keys::{Classified, Target, classify, classify_2_0};
use super::legacy;
use super::origin::{How, SettingOrigin};
use super::sink::{Sink, at_key};
use super::table::Opt;
use super::typed::Typed;
use super::values::{checked, interpret};

/// What a slot takes in a node, before what its value holds on the heap: what the
/// session settings' budget counts for each setting a section holds.
pub(super) const SLOT_BYTES: usize = size_of::<(Opt, Slot)>();

/// One setting as written at one node.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub(super) typed: Typed,
    pub(super) how: How,
    pub(super) rank: u8,
    /// The key as written (for a preset's setting, where `environment` is set).
    pub(super) place: FilePlace,
}

impl Slot {
    /// Where the value came from, as a resolved setting says it.
    pub(super) fn origin(&self) -> SettingOrigin {
        self.how.origin(self.place.clone())
    }
}

/// The settings written at one node (a section), the winning spelling of each, in the
/// table's order. A sorted vector: a section has a few of the table's settings, and a map
/// would take several times their size.
#[derive(Debug, Clone, Default)]
pub(super) struct Node(Vec<(Opt, Slot)>);

impl Node {
    pub(super) fn get(&self, opt: Opt) -> Option<&Slot> {
        let at = self.0.binary_search_by_key(&opt, |(o, _)| *o).ok()?;
        Some(&self.0[at].1)
    }

    /// Sets a setting's slot, replacing the one there.
    pub(super) fn set(&mut self, opt: Opt, slot: Slot) {
        match self.0.binary_search_by_key(&opt, |(o, _)| *o) {
            Ok(at) => self.0[at].1 = slot,
            Err(at) => self.0.insert(at, (opt, slot)),
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (Opt, &Slot)> {
        self.0.iter().map(|(opt, slot)| (*opt, slot))
    }

    pub(super) fn into_slots(self) -> impl Iterator<Item = (Opt, Slot)> {
        self.0.into_iter()
    }
}

pub(super) fn node_from_settings(settings: &Settings, era: &EraReport, sink: &mut Sink) -> Node {
    let mut node = Node::default();
    for (key, setting) in settings.iter() {
        let Some(classified) = classify(key) else {
            continue;
        };
        let place = setting.origin.place();
        let spelling = match classified {
            Classified::Known(spelling) => spelling,
            unknown => {
                legacy::unknown_key(&unknown, place, sink);
                continue;
            }
        };
        // Only 2.1 turned sessions off on static paths (its session filter tested
        // `staticFilter.on` first).
        if spelling.target == Target::Opt(Opt::StaticOn) && era.defaults != Era::V2_1 {
            continue;
        }
        legacy::key_diagnostic(&spelling, place, era, sink);
        let Target::Opt(opt) = spelling.target else {
            continue;
        };
        // Counted before it is read: reading copies the value into this section's node.
        if !sink.charge(SLOT_BYTES + crate::unrepr::weight(&setting.value), place) {
            continue;
        }
        let Some(typed) = interpret(opt, spelling.era, &setting.value, place, sink) else {
            continue;
        };
        if !checked(opt, &typed, place, sink) {
            continue;
        }
        let how = match (&setting.origin, spelling.era) {
            (Origin::Environment { preset, .. }, Era::V3) => How::Preset(Arc::from(&**preset)),
            (_, Era::V3) => How::Written,
            (_, era) => How::Alias(era),
        };
        let slot = Slot {
            typed,
            how,
            rank: spelling.rank,
            place: place.clone(),
        };
        insert(&mut node, opt, slot, sink);
    }
    node
}

pub(super) fn node_from_raw(entries: &[RawEntry], era: &EraReport, sink: &mut Sink) -> Node {
    let mut node = Node::default();
    for entry in entries {
        let spelling = match classify_2_0(entry.place.key()) {
            Classified::Known(spelling) => spelling,
            unknown => {
                legacy::unknown_key(&unknown, &entry.place, sink);
                continue;
            }
        };
        legacy::key_diagnostic(&spelling, &entry.place, era, sink);
        for (opt, typed, how) in legacy::raw_2_0(spelling.target, &entry.raw, &entry.place, sink) {
            if !checked(opt, &typed, &entry.place, sink) {
                continue;
            }
            let slot = Slot {
                typed,
                how,
                rank: spelling.rank,
                place: entry.place.clone(),
            };
            insert(&mut node, opt, slot, sink);
        }
    }
    node
}

/// Two spellings of one setting at one node: the better rank wins (`tools.sessions.*`, then
/// camelCase, which 2.2 tried first); at equal rank the later one (2.0 `timeout` and
/// `TIMEOUT` are one key to 2.0's ConfigParser).
pub(super) fn insert(node: &mut Node, opt: Opt, slot: Slot, sink: &mut Sink) {
    let Some(old) = node.get(opt) else {
        node.set(opt, slot);
        return;
    };
    if old.place == slot.place {
        node.set(opt, slot);
        return;
    }
    let (winner, loser) = if slot.rank <= old.rank {
        (&slot, old)
    } else {
        (old, &slot)
    };
    let (line, _) = winner.place.file.line_column(winner.place.key_span.start);
    sink.push(at_key(
        &loser.place,
        Diagnostic::warning(
            codes::SHADOWED_KEY,
            format!(
                "not used: `{}` (line {line}) sets the same setting in this section and wins",
                winner.place.key()
            ),
        ),
    ));
    if slot.rank <= old.rank {
        node.set(opt, slot);
    }
}

/// Later nodes win, per setting.
pub(super) fn merge<'a>(chain: impl IntoIterator<Item = &'a Node>) -> Node {
    let mut merged = Node::default();
    for node in chain {
        for (opt, slot) in node.iter() {
            merged.set(opt, slot.clone());
        }
    }
    merged
}
