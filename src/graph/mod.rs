//! The trigger fan-out graph: what an INSERT, UPDATE, DELETE or TRUNCATE on a table sets off,
//! in which order, computed offline from a snapshot.
//!
//! - [`firing`]: PostgreSQL's firing order of one table's triggers for one event.
//! - [`body`]: what each routine writes, calls and notifies (PL/pgSQL and SQL bodies parsed
//!   with `pg_query`), and the `NEW` fields it assigns and reads, and what a rewrite rule's
//!   actions do; [`sqlfacts`] reads one parse tree.
//! - [`fanout`]: the petgraph walk table → trigger → function → table …, with cycles
//!   (event-aware), ordering hazards and `--depth`.
//! - [`views`]: whether a view is automatically updatable, and its base relation; the
//!   walk's `fanout::rewrite` room applies it with the relation's rules before triggers.
//! - [`gdiff`]: the fan-out of one table on two snapshots, compared by name.
//! - [`routing`]: which triggers a statement fires across partitions and inheritance
//!   children (rows routed, moved, TRUNCATE reaching the whole tree).
//! - [`database`]: every table ranked by fan-out, over a state graph expanded once.
//!
//! Pure: model values in, model values out; the renderers live in `render/`.

/// The object kinds the graph reads; loading a snapshot for it can skip the rest (indexes,
/// sequences, grants, …).
pub const KINDS_USED: [crate::model::ObjectKind; 11] = [
    crate::model::ObjectKind::Table,
    crate::model::ObjectKind::View,
    crate::model::ObjectKind::Matview,
    crate::model::ObjectKind::Constraint,
    crate::model::ObjectKind::Function,
    crate::model::ObjectKind::Procedure,
    crate::model::ObjectKind::Aggregate,
    crate::model::ObjectKind::Trigger,
    // Row-level security policies: their expressions run for every row a write touches.
    crate::model::ObjectKind::Policy,
    // Rewrite rules: DO ALSO / DO INSTEAD actions of a write.
    crate::model::ObjectKind::Rule,
    // Domains: their CHECKs run for every value a write coerces to them.
    crate::model::ObjectKind::Type,
];

pub mod body;
pub mod certainty;
pub mod database;
pub mod fanout;
pub mod firing;
pub mod gdiff;
pub mod index;
pub mod routing;
pub mod sqlfacts;
#[cfg(test)]
pub(crate) mod testkit;
pub mod views;

pub use database::{database_fanout, DatabaseFanout, TableRank};
pub use fanout::{
    parse_event, resolve_table, table_fanout, EdgeKind, Fanout, FanoutGraph, GraphEdge, GraphError,
    GraphNode, Hazard, NodeKind, TableVisit, VisitOutcome, WalkOptions,
};
pub use firing::{firing_order, FiringEntry, FiringPhase};
