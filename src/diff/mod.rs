//! Snapshot × snapshot → [`Diff`]: added, removed and changed objects with their changed
//! fields and text diffs of changed definitions, plus row-count drift kept apart.
//!
//! Pure: no I/O. Objects equal on both sides are skipped with one structural comparison
//! (cheaper than hashing them), so the cost of a diff grows with what changed, not with the
//! size of the catalog.

pub mod counts;
pub mod fields;
pub mod firing;
pub mod history;
pub mod text;

pub use counts::{CountChange, CountDelta};
pub use fields::FieldChange;
pub use text::DefinitionDiff;

use crate::model::canonical::hash_of;
use crate::model::redact::NOT_READABLE;
use crate::model::{CatalogObject, CatalogSnapshot, ContentHash, ObjectKey, ObjectKind};
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;

/// What happened to one object between base and head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeType {
    Added,
    Removed,
    Changed,
    /// A routine whose body differs only in whitespace or comments: same token stream, same
    /// literals and identifiers, nothing else changed.
    WhitespaceOnly,
}

impl ChangeType {
    pub const ALL: [ChangeType; 4] = [
        ChangeType::Added,
        ChangeType::Removed,
        ChangeType::Changed,
        ChangeType::WhitespaceOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "added",
            ChangeType::Removed => "removed",
            ChangeType::Changed => "changed",
            ChangeType::WhitespaceOnly => "whitespace-only",
        }
    }
}

impl fmt::Display for ChangeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One added, removed or changed object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectChange {
    pub kind: ObjectKind,
    pub key: ObjectKey,
    pub change: ChangeType,
    /// The schema the object lives in (absent for database-wide objects); policies ignore
    /// schemas by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Changed fields, for `changed` and `whitespace-only`. Fields derived from another
    /// changed field are left out: a routine's `body_hash`/`token_hash` when its `source`
    /// changed, its `source` when its `definition` (which contains it) changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// Unified diffs of changed definitions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub definitions: Vec<DefinitionDiff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_hash: Option<ContentHash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<ContentHash>,
}

impl ObjectChange {
    /// Changed field paths, in order.
    pub fn field_paths(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.path.clone()).collect()
    }
}

/// Everything that differs between two snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// Catalog changes, sorted by key.
    pub changes: Vec<ObjectChange>,
    /// Row-count changes of tables on both sides, sorted by table.
    pub counts: Vec<CountChange>,
    /// Tables whose triggers now fire in another sequence (by table, then event).
    pub firing_order: Vec<firing::FiringOrderChange>,
    /// The two snapshots were taken by captures of different formats: kinds or fields one
    /// side holds may never have been read on the other, so an object or field it lacks
    /// is neither drift nor the absence of drift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_format: Option<CaptureFormatChange>,
    /// Fields one side's role could read and the other's could not: not drift (the value
    /// was not seen, not changed) and not its absence either; said apart, by key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub readability: Vec<ReadabilityChange>,
}

/// A field [`NOT_READABLE`] on one side only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReadabilityChange {
    pub key: ObjectKey,
    pub path: String,
    /// `base` or `head`: the side whose role could read it.
    pub readable_in: &'static str,
}

impl ReadabilityChange {
    pub fn explain(&self) -> String {
        let unreadable = if self.readable_in == "base" {
            "head"
        } else {
            "base"
        };
        format!(
            "{} {}: {NOT_READABLE} in {unreadable}, so whether it changed is not known; compare snapshots taken by roles that can read the same",
            self.key, self.path
        )
    }
}

/// Take the fields that are not readable on one side out of a change, into `out`.
fn split_readability(change: &mut ObjectChange, out: &mut Vec<ReadabilityChange>) {
    let unreadable =
        |v: &Option<serde_json::Value>| v.as_ref().and_then(|v| v.as_str()) == Some(NOT_READABLE);
    change.fields.retain(|f| {
        let side = match (unreadable(&f.old), unreadable(&f.new)) {
            (false, true) => "base",
            (true, false) => "head",
            _ => return true,
        };
        out.push(ReadabilityChange {
            key: change.key.clone(),
            path: f.path.clone(),
            readable_in: side,
        });
        false
    });
}

/// The capture formats of base and head, when they differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CaptureFormatChange {
    pub base: u32,
    pub head: u32,
}

impl CaptureFormatChange {
    /// What it means and what to do, in one sentence for every output.
    pub fn explain(&self) -> String {
        format!(
            "the snapshots were captured in format {} and {}: what one captures the other may never have read, so the diff cannot show the drift between them; re-take the baseline with `baseline accept`",
            self.base, self.head
        )
    }
}

/// How many of each change a diff holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiffSummary {
    pub added: usize,
    pub removed: usize,
    /// Real changes, whitespace-only ones not included.
    pub changed: usize,
    pub whitespace_only: usize,
    /// Tables whose exact count moved.
    pub count_drift: usize,
}

impl Diff {
    /// Drift: any catalog change, or an exact count that moved (estimates alone are not),
    /// or snapshots of two capture formats, which cannot prove that nothing changed.
    pub fn has_drift(&self) -> bool {
        !self.changes.is_empty()
            || self.counts.iter().any(CountChange::exact_drift)
            || self.capture_format.is_some()
    }

    pub fn summary(&self) -> DiffSummary {
        let mut s = DiffSummary::default();
        for c in &self.changes {
            match c.change {
                ChangeType::Added => s.added += 1,
                ChangeType::Removed => s.removed += 1,
                ChangeType::Changed => s.changed += 1,
                ChangeType::WhitespaceOnly => s.whitespace_only += 1,
            }
        }
        s.count_drift = self.counts.iter().filter(|c| c.exact_drift()).count();
        s
    }
}

/// Compare two snapshots.
pub fn diff(base: &CatalogSnapshot, head: &CatalogSnapshot) -> Diff {
    let mut changes = Vec::new();
    let mut readability = Vec::new();
    let mut a = base.objects.iter().peekable();
    let mut b = head.objects.iter().peekable();
    // Both maps are sorted by key: one merge walk, no lookups.
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((ka, _)), Some((kb, _))) => ka.cmp(kb),
        };
        match order {
            Ordering::Less => {
                let (_, old) = a.next().expect("peeked");
                changes.push(one_sided(old, ChangeType::Removed));
            }
            Ordering::Greater => {
                let (_, new) = b.next().expect("peeked");
                changes.push(one_sided(new, ChangeType::Added));
            }
            Ordering::Equal => {
                let (_, old) = a.next().expect("peeked");
                let (_, new) = b.next().expect("peeked");
                if old != new {
                    let mut change = changed(old, new);
                    split_readability(&mut change, &mut readability);
                    if !change.fields.is_empty() {
                        changes.push(change);
                    }
                }
            }
        }
    }
    let firing_order = firing::firing_order_changes(base, head, &changes);
    let formats = (base.meta.capture_format, head.meta.capture_format);
    Diff {
        changes,
        counts: counts::diff_counts(&base.counts, &head.counts),
        firing_order,
        capture_format: (formats.0 != formats.1).then_some(CaptureFormatChange {
            base: formats.0,
            head: formats.1,
        }),
        readability,
    }
}

fn one_sided(obj: &CatalogObject, change: ChangeType) -> ObjectChange {
    let hash = Some(hash_of(obj));
    let (base_hash, head_hash) = match change {
        ChangeType::Removed => (hash, None),
        _ => (None, hash),
    };
    ObjectChange {
        kind: obj.kind(),
        key: obj.key.clone(),
        change,
        schema: obj.schema().map(str::to_string),
        fields: Vec::new(),
        definitions: Vec::new(),
        base_hash,
        head_hash,
    }
}

/// Fields a whitespace-only routine change may touch: the body bytes and what prints them.
const BODY_TEXT_FIELDS: [&str; 3] = ["definition", "source", "body_hash"];

/// Whether two routine definitions differ in nothing but the body's whitespace and comments:
/// the header around the body (`COST 500`, `SECURITY DEFINER`, `SET …`, `RETURNS …`) must
/// be the same token for token, since the body tokens alone say nothing of it.
fn definition_tokens_equal(o: &crate::model::RoutineDef, n: &crate::model::RoutineDef) -> bool {
    match (&o.definition, &n.definition) {
        (Some(a), Some(b)) => {
            let header = |def: &str, body: &str| {
                if body.is_empty() {
                    def.to_string()
                } else {
                    def.replacen(body, "", 1)
                }
            };
            crate::sqltext::token_hash("sql", &header(a, &o.source))
                == crate::sqltext::token_hash("sql", &header(b, &n.source))
        }
        (None, None) => true,
        _ => false,
    }
}

/// Whether a routine change touches nothing but the whitespace and comments of its text:
/// only body-text fields differ, the header around the body is the same token for token,
/// and the two bodies have the same token stream.
///
/// The bodies are tokenized again here instead of trusting the stored `token_hash`, and a
/// `body_hash` that changed while the `source` did not is a real change: the hashes are
/// derived from the source, so either case means a snapshot whose hashes do not match its
/// body (hand-edited, or written by another tokenizer), and fail closed means not calling
/// that whitespace. The every-field test found both judged whitespace-only (WARN): a
/// `body_hash` changed alone, and an aggregate's `source` (aggregates have no definition
/// to catch it) changed with its stored token hash left as it was.
fn whitespace_only(
    o: &crate::model::RoutineDef,
    n: &crate::model::RoutineDef,
    fields: &[FieldChange],
) -> bool {
    let changed = |p: &str| fields.iter().any(|f| f.path == p);
    fields
        .iter()
        .all(|f| BODY_TEXT_FIELDS.contains(&f.path.as_str()))
        && (changed("source") || !changed("body_hash"))
        && o.token_hash == n.token_hash
        && crate::sqltext::token_hash(&o.language, &o.source)
            == crate::sqltext::token_hash(&n.language, &n.source)
        && definition_tokens_equal(o, n)
}

fn changed(old: &CatalogObject, new: &CatalogObject) -> ObjectChange {
    let old_json = serde_json::to_value(old).expect("model values always serialize");
    let new_json = serde_json::to_value(new).expect("model values always serialize");
    let mut fields = fields::changed_fields(&old_json, &new_json);

    let change = match (old.as_routine(), new.as_routine()) {
        (Some(o), Some(n)) if whitespace_only(o, n, &fields) => ChangeType::WhitespaceOnly,
        _ => ChangeType::Changed,
    };

    if old.kind().is_routine() {
        let has = |fields: &[FieldChange], p: &str| fields.iter().any(|f| f.path == p);
        if has(&fields, "source") {
            fields.retain(|f| f.path != "body_hash" && f.path != "token_hash");
        }
        if has(&fields, "definition") {
            fields.retain(|f| f.path != "source");
        }
    }

    let key = old.key.as_str();
    let mut definitions = Vec::new();
    for f in &fields {
        let text_field = f.path == "definition" || (f.path == "source" && old.kind().is_routine());
        if let (true, Some(o), Some(n)) = (
            text_field,
            f.old.as_ref().and_then(|v| v.as_str()),
            f.new.as_ref().and_then(|v| v.as_str()),
        ) {
            definitions.push(DefinitionDiff {
                field: f.path.clone(),
                unified: text::unified(key, o, n),
            });
        }
    }

    ObjectChange {
        kind: old.kind(),
        key: old.key.clone(),
        change,
        schema: new.schema().map(str::to_string),
        fields,
        definitions,
        base_hash: Some(hash_of(old)),
        head_hash: Some(hash_of(new)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::snapshot::{RowCount, SnapshotMeta, SNAPSHOT_FORMAT};
    use crate::model::{
        Column, Event, Level, ObjectDef, RoutineDef, SourceInfo, TableDef, Timing, TriggerDef,
    };
    use crate::sqltext::{exact_hash, token_hash};
    use std::collections::BTreeMap;

    pub fn snapshot(objects: Vec<CatalogObject>) -> CatalogSnapshot {
        CatalogSnapshot {
            meta: SnapshotMeta {
                format: SNAPSHOT_FORMAT.into(),
                created_at: "2025-01-01T00:00:00Z".into(),
                source: SourceInfo {
                    database: "gov".into(),
                    ..SourceInfo::default()
                },
                server_version: "17.0".into(),
                server_version_num: 170000,
                driftgate_version: "0.1.0".into(),
                capture_format: crate::model::snapshot::CAPTURE_FORMAT,
                label: None,
                include_schemas: vec![],
                exclude_schemas: vec![],
                capture_ms: 1,
            },
            objects: objects.into_iter().map(|o| (o.key.clone(), o)).collect(),
            counts: BTreeMap::new(),
        }
    }

    pub fn function(name: &str, body: &str) -> CatalogObject {
        CatalogObject {
            key: ObjectKey::routine(ObjectKind::Function, "public", name, &[]),
            owner: Some("postgres".into()),
            acl: None,
            comment: None,
            def: ObjectDef::Function(RoutineDef {
                schema: "public".into(),
                name: name.into(),
                identity_args: String::new(),
                arguments: String::new(),
                result: Some("trigger".into()),
                language: "plpgsql".into(),
                volatility: "volatile".into(),
                strict: false,
                security_definer: false,
                leakproof: false,
                parallel: "unsafe".into(),
                config: vec![],
                cost: "100".into(),
                rows: None,
                support: None,
                window: false,
                transforms: vec![],
                definition: Some(format!(
                    "CREATE OR REPLACE FUNCTION public.{name}()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function${body}$function$\n"
                )),
                source: body.into(),
                body_hash: exact_hash(body),
                token_hash: token_hash("plpgsql", body),
                aggregate: None,
            }),
        }
    }

    pub fn table(name: &str, columns: &[(&str, Option<&str>)]) -> CatalogObject {
        let columns = columns
            .iter()
            .enumerate()
            .map(|(i, (c, default))| {
                (
                    c.to_string(),
                    Column {
                        ordinal: i as u32 + 1,
                        data_type: "text".into(),
                        not_null: false,
                        default: default.map(str::to_string),
                        identity: None,
                        generated: None,
                        collation: None,
                        comment: None,
                        acl: None,
                        ..Default::default()
                    },
                )
            })
            .collect();
        CatalogObject {
            key: ObjectKey::qualified(ObjectKind::Table, "public", name),
            owner: Some("postgres".into()),
            acl: None,
            comment: None,
            def: ObjectDef::Table(TableDef {
                schema: "public".into(),
                name: name.into(),
                relkind: "table".into(),
                persistence: "permanent".into(),
                columns,
                partition_key: None,
                partition_bound: None,
                parents: vec![],
                rls_enabled: false,
                rls_forced: false,
                options: vec![],
                ..Default::default()
            }),
        }
    }

    pub fn trigger(table: &str, name: &str, enabled: &str) -> CatalogObject {
        CatalogObject {
            key: ObjectKey::on_table(ObjectKind::Trigger, "public", table, name),
            owner: None,
            acl: None,
            comment: None,
            def: ObjectDef::Trigger(TriggerDef {
                schema: "public".into(),
                table: format!("public.{table}"),
                name: name.into(),
                timing: Timing::Before,
                events: vec![Event::Insert],
                update_columns: vec![],
                level: Level::Row,
                function: "public.f()".into(),
                arguments: vec![],
                when: None,
                enabled: enabled.parse().expect("a trigger enabled state"),
                constraint_trigger: false,
                deferrable: false,
                initially_deferred: false,
                old_table: None,
                new_table: None,
                definition: format!("CREATE TRIGGER {name} BEFORE INSERT ON public.{table} FOR EACH ROW EXECUTE FUNCTION f()"),
                clone_of: None,
            }),
        }
    }

    const BODY: &str = "\nBEGIN\n    IF NEW.code IS NULL THEN\n        NEW.code := 'DOT-' || NEW.id;\n    END IF;\n    RETURN NEW;\nEND ";

    #[test]
    fn identical_snapshots_have_no_drift() {
        let s = snapshot(vec![function("f", BODY), table("t", &[("a", None)])]);
        let d = diff(&s, &s.clone());
        assert!(!d.has_drift());
        assert!(d.changes.is_empty());
    }

    #[test]
    fn a_changed_literal_is_a_real_change_with_the_line_in_the_text_diff() {
        let base = snapshot(vec![function("f", BODY)]);
        let head = snapshot(vec![function("f", &BODY.replace("'DOT-'", "'DOT_'"))]);
        let d = diff(&base, &head);
        assert_eq!(d.changes.len(), 1);
        let c = &d.changes[0];
        assert_eq!(c.change, ChangeType::Changed);
        assert_eq!(c.key.as_str(), "function:public.f()");
        assert_eq!(
            c.field_paths(),
            vec!["definition"],
            "derived fields are folded into definition"
        );
        assert_eq!(c.definitions.len(), 1);
        let u = &c.definitions[0].unified;
        assert!(
            u.contains("\n-        NEW.code := 'DOT-' || NEW.id;\n"),
            "{u}"
        );
        assert!(
            u.contains("\n+        NEW.code := 'DOT_' || NEW.id;\n"),
            "{u}"
        );
        assert_ne!(c.base_hash, c.head_hash);
        assert!(d.has_drift());
    }

    /// `ALTER FUNCTION f() COST 500` changed the definition's header but not the body's
    /// tokens, and was judged whitespace-only (the default gate only warned).
    #[test]
    fn a_changed_header_with_the_same_body_is_a_real_change() {
        let body = "\nBEGIN\n  RETURN NEW;\nEND\n";
        let old = function("f", body);
        let mut new = old.clone();
        if let ObjectDef::Function(r) = &mut new.def {
            r.definition = r
                .definition
                .as_ref()
                .map(|d| d.replace(" LANGUAGE plpgsql\n", " LANGUAGE plpgsql\n COST 500\n"));
        }
        let d = diff(&snapshot(vec![old.clone()]), &snapshot(vec![new]));
        assert_eq!(d.changes.len(), 1);
        assert_eq!(
            d.changes[0].change,
            ChangeType::Changed,
            "{:?}",
            d.changes[0]
        );
        let mut costly = old.clone();
        if let ObjectDef::Function(r) = &mut costly.def {
            r.cost = "500".into();
        }
        let d = diff(&snapshot(vec![old]), &snapshot(vec![costly]));
        assert_eq!(d.changes[0].change, ChangeType::Changed);
        assert_eq!(d.changes[0].field_paths(), ["cost"]);
    }

    /// The every-field test's finding: a `body_hash` that changed while the source did not
    /// was whitespace-only (WARN), though no whitespace moved.
    #[test]
    fn a_body_hash_changed_alone_is_a_real_change() {
        let old = function("f", BODY);
        let mut new = old.clone();
        if let ObjectDef::Function(r) = &mut new.def {
            r.body_hash.push('x');
        }
        let d = diff(&snapshot(vec![old]), &snapshot(vec![new]));
        assert_eq!(d.changes[0].change, ChangeType::Changed);
        assert_eq!(d.changes[0].field_paths(), ["body_hash"]);
    }

    /// The every-field test's finding: an aggregate has no definition, so a source that
    /// changed with a stale stored token hash was whitespace-only (WARN).
    #[test]
    fn a_changed_source_with_a_stale_token_hash_is_a_real_change() {
        let mut old = function("f", BODY);
        if let ObjectDef::Function(r) = &mut old.def {
            r.definition = None;
        }
        let mut new = old.clone();
        if let ObjectDef::Function(r) = &mut new.def {
            r.source = BODY.replace("'DOT-'", "'DOT_'");
            r.body_hash = exact_hash(&r.source);
        }
        let d = diff(&snapshot(vec![old.clone()]), &snapshot(vec![new]));
        assert_eq!(d.changes[0].change, ChangeType::Changed);
        // Without a definition, a real whitespace-only change is still told apart.
        let mut reindented = old.clone();
        if let ObjectDef::Function(r) = &mut reindented.def {
            r.source = BODY.replace("    ", "\t");
            r.body_hash = exact_hash(&r.source);
        }
        let d = diff(&snapshot(vec![old]), &snapshot(vec![reindented]));
        assert_eq!(d.changes[0].change, ChangeType::WhitespaceOnly);
    }

    #[test]
    fn reindenting_a_body_is_whitespace_only() {
        let base = snapshot(vec![function("f", BODY)]);
        let reindented = BODY
            .replace("    ", "  ")
            .replace("END IF;", "END IF; -- done");
        let head = snapshot(vec![function("f", &reindented)]);
        let d = diff(&base, &head);
        assert_eq!(d.changes.len(), 1);
        assert_eq!(d.changes[0].change, ChangeType::WhitespaceOnly);
        assert_eq!(d.summary().whitespace_only, 1);
        assert_eq!(d.summary().changed, 0);
        assert!(
            d.has_drift(),
            "whitespace-only is still drift; the policy decides its weight"
        );
    }

    #[test]
    fn whitespace_in_the_body_plus_another_field_is_a_real_change() {
        let base = snapshot(vec![function("f", BODY)]);
        let mut f = function("f", &BODY.replace("    ", "  "));
        if let ObjectDef::Function(r) = &mut f.def {
            r.security_definer = true;
        }
        let d = diff(&base, &snapshot(vec![f]));
        assert_eq!(d.changes[0].change, ChangeType::Changed);
        assert_eq!(
            d.changes[0].field_paths(),
            vec!["definition", "security_definer"]
        );
    }

    #[test]
    fn table_columns_are_diffed_field_by_field() {
        let base = snapshot(vec![table(
            "t",
            &[("status", Some("'draft'::text")), ("old", None)],
        )]);
        let head = snapshot(vec![table(
            "t",
            &[("status", Some("'new'::text")), ("old", None)],
        )]);
        let d = diff(&base, &head);
        assert_eq!(d.changes[0].field_paths(), vec!["columns.status.default"]);
        assert!(d.changes[0].definitions.is_empty());
    }

    #[test]
    fn added_removed_and_disabled_trigger() {
        let base = snapshot(vec![
            trigger("t", "a", "origin"),
            trigger("t", "b", "origin"),
        ]);
        let head = snapshot(vec![
            trigger("t", "b", "disabled"),
            trigger("t", "c", "origin"),
        ]);
        let d = diff(&base, &head);
        let got: Vec<(String, ChangeType)> = d
            .changes
            .iter()
            .map(|c| (c.key.to_string(), c.change))
            .collect();
        assert_eq!(
            got,
            vec![
                ("trigger:public.t.a".to_string(), ChangeType::Removed),
                ("trigger:public.t.b".to_string(), ChangeType::Changed),
                ("trigger:public.t.c".to_string(), ChangeType::Added),
            ]
        );
        assert_eq!(d.changes[1].field_paths(), vec!["enabled"]);
        assert_eq!(d.changes[1].schema.as_deref(), Some("public"));
        assert!(d.changes[0].base_hash.is_some() && d.changes[0].head_hash.is_none());
        assert!(d.changes[2].base_hash.is_none() && d.changes[2].head_hash.is_some());
        let s = d.summary();
        assert_eq!((s.added, s.removed, s.changed), (1, 1, 1));
    }

    /// Snapshots of two capture formats are never "no drift", even with equal objects: a
    /// field or kind one side never captured would otherwise compare as unchanged.
    #[test]
    fn snapshots_of_two_capture_formats_are_drift_even_when_equal() {
        let base = snapshot(vec![table("t", &[("a", None)])]);
        let mut head = base.clone();
        head.meta.capture_format += 1;
        let d = diff(&base, &head);
        assert!(d.changes.is_empty());
        assert_eq!(
            d.capture_format,
            Some(CaptureFormatChange {
                base: base.meta.capture_format,
                head: head.meta.capture_format
            })
        );
        assert!(d.has_drift());
        assert_eq!(diff(&base, &base.clone()).capture_format, None);
    }

    /// A record written before the capture format was recorded reads as format 1, the
    /// format of the captures that wrote such records.
    #[test]
    fn an_unrecorded_capture_format_is_the_first() {
        let mut meta = serde_json::to_value(&snapshot(vec![]).meta).unwrap();
        meta.as_object_mut().unwrap().remove("capture_format");
        let meta: SnapshotMeta = serde_json::from_value(meta).unwrap();
        assert_eq!(meta.capture_format, 1);
    }

    #[test]
    fn counts_are_kept_apart_from_catalog_changes() {
        let mut base = snapshot(vec![table("t", &[])]);
        let mut head = base.clone();
        base.counts.insert(
            "public.t".into(),
            RowCount {
                estimate: 309,
                exact: Some(309),
                exact_error: None,
            },
        );
        head.counts.insert(
            "public.t".into(),
            RowCount {
                estimate: 309,
                exact: Some(310),
                exact_error: None,
            },
        );
        let d = diff(&base, &head);
        assert!(d.changes.is_empty());
        assert_eq!(d.counts.len(), 1);
        assert!(d.has_drift());
        assert_eq!(d.summary().count_drift, 1);
    }

    /// A field one side's role could not read is said apart, not reported as a change.
    #[test]
    fn a_field_unreadable_on_one_side_is_readability_not_drift() {
        use crate::model::ServerSettingDef;
        let setting = |source: &str, value: &str| CatalogObject {
            key: ObjectKey::new(ObjectKind::ServerSetting, "work_mem"),
            owner: None,
            acl: None,
            comment: None,
            def: ObjectDef::ServerSetting(ServerSettingDef {
                name: "work_mem".into(),
                value: Some(value.into()),
                value_removed: false,
                source: source.into(),
            }),
        };
        let base = snapshot(vec![setting("configuration file", "4MB")]);
        let d = diff(&base, &snapshot(vec![setting(NOT_READABLE, "4MB")]));
        assert!(d.changes.is_empty() && !d.has_drift(), "{d:?}");
        assert_eq!(d.readability.len(), 1);
        assert_eq!(d.readability[0].readable_in, "base");
        // A real change beside it is still drift, without the unreadable field.
        let d = diff(&base, &snapshot(vec![setting(NOT_READABLE, "8MB")]));
        assert_eq!(d.changes.len(), 1);
        assert_eq!(d.changes[0].field_paths(), ["value"]);
        assert_eq!(d.readability.len(), 1);
    }
}
