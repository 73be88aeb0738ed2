//! Firing-order changes: for every table one of whose triggers was added, removed or
//! changed, the order in which its triggers fire for each event, before and after. A renamed
//! trigger can move past its siblings (PostgreSQL orders triggers of one phase by name), so a
//! rename that looks cosmetic can change what a BEFORE trigger sees.

use crate::graph::firing::{firing_order, Event};
use crate::model::{CatalogSnapshot, ObjectKind};
use serde::Serialize;
use std::collections::BTreeSet;

use super::ObjectChange;

/// One table and event whose firing sequence differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FiringOrderChange {
    pub table: String,
    pub event: Event,
    /// Trigger names in firing order, before and after.
    pub before: Vec<String>,
    pub after: Vec<String>,
    /// Triggers (matched by function and arguments, so a renamed trigger is still itself)
    /// whose position relative to the triggers on both sides changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<String>,
}

pub fn firing_order_changes(
    base: &CatalogSnapshot,
    head: &CatalogSnapshot,
    changes: &[ObjectChange],
) -> Vec<FiringOrderChange> {
    let tables: BTreeSet<String> = changes
        .iter()
        .filter(|c| c.kind == ObjectKind::Trigger)
        .filter_map(|c| {
            base.get(&c.key)
                .or_else(|| head.get(&c.key))
                .and_then(|o| o.table())
                .map(str::to_string)
        })
        .collect();
    let mut out = Vec::new();
    for table in &tables {
        for event in Event::ALL {
            let before = firing_order(base, table, event);
            let after = firing_order(head, table, event);
            let names = |list: &[crate::graph::firing::FiringEntry]| -> Vec<String> {
                list.iter().map(|e| e.trigger.clone()).collect()
            };
            let identity = |e: &crate::graph::firing::FiringEntry| {
                (e.function.clone(), e.arguments.clone(), e.timing, e.level)
            };
            let (b, a) = (names(&before), names(&after));
            if b == a {
                continue;
            }
            // Entries present on both sides (by what they run), in each side's order.
            let common_before: Vec<_> = before
                .iter()
                .filter(|e| after.iter().any(|f| identity(f) == identity(e)))
                .collect();
            let common_after: Vec<_> = after
                .iter()
                .filter(|e| before.iter().any(|f| identity(f) == identity(e)))
                .collect();
            let moved = common_after
                .iter()
                .enumerate()
                .filter(|(i, e)| {
                    common_before
                        .get(*i)
                        .is_none_or(|b| identity(b) != identity(e))
                })
                .map(|(_, e)| e.trigger.clone())
                .collect();
            out.push(FiringOrderChange {
                table: table.clone(),
                event,
                before: b,
                after: a,
                moved,
            });
        }
    }
    out
}
