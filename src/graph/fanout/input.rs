//! What a user names: a table (resolved against the snapshot, with suggestions) and an
//! event.

use crate::graph::firing::Event;
use crate::model::{CatalogSnapshot, ObjectKind, QualifiedName};

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("no table {name:?} in the snapshot{}", hint(candidates))]
    UnknownTable {
        name: String,
        candidates: Vec<String>,
    },
    #[error("table name {name:?} is ambiguous: {} (qualify it with its schema)", candidates.join(", "))]
    AmbiguousTable {
        name: String,
        candidates: Vec<String>,
    },
    #[error("unknown event {0:?} (expected insert, update, delete or truncate)")]
    UnknownEvent(String),
}

fn hint(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", candidates.join(", "))
    }
}

/// Turn what a user typed (`dot_tools`, `gov.dot_tools`, `table:public.dot_tools`,
/// `"My Table"`) into the qualified name of a table or view in the snapshot.
pub fn resolve_table(snapshot: &CatalogSnapshot, input: &str) -> Result<String, GraphError> {
    let relations: Vec<(&str, &str)> = snapshot
        .objects
        .values()
        .filter_map(|o| match (o.kind(), &o.def) {
            (ObjectKind::Table, crate::model::ObjectDef::Table(t)) => {
                Some((o.key.name(), t.name.as_str()))
            }
            (
                ObjectKind::View | ObjectKind::Matview,
                crate::model::ObjectDef::View(v) | crate::model::ObjectDef::Matview(v),
            ) => Some((o.key.name(), v.name.as_str())),
            _ => None,
        })
        .collect();
    let bare = input
        .strip_prefix("table:")
        .or_else(|| input.strip_prefix("view:"))
        .unwrap_or(input);
    if let Some((q, _)) = relations.iter().find(|(q, _)| *q == bare) {
        return Ok(q.to_string());
    }
    // `gov.dot_tools` spelt with needless quotes, or a bare name in `public`.
    if let Some(normalized) = QualifiedName::parse_or_in(bare, "public").map(|q| q.to_string()) {
        if let Some((q, _)) = relations.iter().find(|(q, _)| *q == normalized) {
            return Ok(q.to_string());
        }
    }
    let unquoted = crate::model::split_qualified(bare);
    let mut by_name: Vec<String> = relations
        .iter()
        .filter(|(_, name)| unquoted.len() == 1 && *name == unquoted[0])
        .map(|(q, _)| q.to_string())
        .collect();
    by_name.sort();
    match by_name.len() {
        1 => Ok(by_name.remove(0)),
        0 => {
            let needle = unquoted
                .last()
                .map(|s| s.to_lowercase())
                .unwrap_or_default();
            let mut candidates: Vec<String> = relations
                .iter()
                .filter(|(_, name)| !needle.is_empty() && name.to_lowercase().contains(&needle))
                .map(|(q, _)| q.to_string())
                .collect();
            candidates.sort();
            candidates.truncate(5);
            Err(GraphError::UnknownTable {
                name: input.to_string(),
                candidates,
            })
        }
        _ => Err(GraphError::AmbiguousTable {
            name: input.to_string(),
            candidates: by_name,
        }),
    }
}

/// Check an event name given by a user.
pub fn parse_event(event: &str) -> Result<Event, GraphError> {
    Event::parse(event).ok_or_else(|| GraphError::UnknownEvent(event.to_string()))
}
