//! The settings written at one node (a section): what `build` collects and `resolve` reads.

use std::collections::BTreeMap;

use crate::config::FilePlace;

use super::origin::SettingOrigin;
use super::table::Opt;
use super::typed::Typed;

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
