//! The settings written at one node (a section): each session key of a section read into
//! a typed slot, the better of two spellings of one setting kept (`build` collects one node
//! per section), and the nodes on a path merged (what `resolve` reads).

use std::collections::BTreeMap;

use crate::Diagnostic;
use crate::config::{FilePlace, Settings};

use super::codes;
use super::era::{Era, EraReport};
use super::input::RawEntry;
use super::keys::{Classified, Target, classify, classify_2_0};
use super::legacy;
use super::origin::SettingOrigin;
use super::sink::{Sink, at_key};
use super::table::Opt;
use super::typed::Typed;
use super::values::{in_range, interpret};

/// One setting as written at one node.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub(super) typed: Typed,
    pub(super) origin: SettingOrigin,
    pub(super) rank: u8,
    pub(super) place: FilePlace,
}

/// The settings written at one node (a section), the winning spelling of each.
pub(super) type Node = BTreeMap<Opt, Slot>;

pub(super) fn node_from_settings(settings: &Settings, era: &EraReport, sink: &mut Sink) -> Node {
    let mut node = Node::new();
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
        if !sink.charge(crate::unrepr::weight(&setting.value), place) {
            continue;
        }
        let Some(typed) = interpret(opt, spelling.era, &setting.value, place, sink) else {
            continue;
        };
        if !in_range(opt, &typed, place, sink) {
            continue;
        }
        let origin = if spelling.era == Era::V3 {
            SettingOrigin::from_config(&setting.origin)
        } else {
            SettingOrigin::LegacyAlias {
                era: spelling.era,
                place: place.clone(),
            }
        };
        let slot = Slot {
            typed,
            origin,
            rank: spelling.rank,
            place: place.clone(),
        };
        insert(&mut node, opt, slot, sink);
    }
    node
}

pub(super) fn node_from_raw(entries: &[RawEntry], era: &EraReport, sink: &mut Sink) -> Node {
    let mut node = Node::new();
    for entry in entries {
        let spelling = match classify_2_0(entry.place.key()) {
            Classified::Known(spelling) => spelling,
            unknown => {
                legacy::unknown_key(&unknown, &entry.place, sink);
                continue;
            }
        };
        legacy::key_diagnostic(&spelling, &entry.place, era, sink);
        for (opt, typed, origin) in legacy::raw_2_0(spelling.target, &entry.raw, &entry.place, sink)
        {
            if !in_range(opt, &typed, &entry.place, sink) {
                continue;
            }
            let slot = Slot {
                typed,
                origin,
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
    let Some(old) = node.get(&opt) else {
        node.insert(opt, slot);
        return;
    };
    if old.place == slot.place {
        node.insert(opt, slot);
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
        node.insert(opt, slot);
    }
}

/// Later nodes win, per setting.
pub(super) fn merge(chain: &[&Node]) -> Node {
    let mut merged = Node::new();
    for node in chain {
        for (opt, slot) in *node {
            merged.insert(*opt, slot.clone());
        }
    }
    merged
}
