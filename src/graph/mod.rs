//! The trigger fan-out graph: what an INSERT, UPDATE, DELETE or TRUNCATE on a table sets off,
//! in which order, computed offline from a snapshot.
//!
//! - [`firing`]: PostgreSQL's firing order of one table's triggers for one event.
//! - [`body`]: what each routine writes, calls and notifies (PL/pgSQL and SQL bodies parsed
//!   with `pg_query`), and the `NEW` fields it assigns and reads; [`sqlfacts`] reads one
//!   parse tree.
//! - [`fanout`]: the petgraph walk table → trigger → function → table …, with cycles
//!   (event-aware), ordering hazards and `--depth`.
//! - [`database`]: every table ranked by fan-out, over a state graph expanded once.
//!
//! Pure: model values in, model values out; the renderers live in `render/`.

pub mod body;
pub mod database;
pub mod fanout;
pub mod firing;
pub mod index;
pub mod sqlfacts;
#[cfg(test)]
pub(crate) mod testkit;

pub use database::{database_fanout, DatabaseFanout, TableRank};
pub use fanout::{
    parse_event, resolve_table, table_fanout, EdgeKind, Fanout, FanoutGraph, GraphEdge, GraphError,
    GraphNode, Hazard, NodeKind, TableVisit, VisitOutcome, WalkOptions,
};
pub use firing::{firing_order, FiringEntry, FiringPhase};
