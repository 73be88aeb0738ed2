//! Look-ups over one snapshot that the analysis and the walk need many times: relations and
//! routines by name, triggers by table, foreign keys by the table they reference.

use crate::graph::firing::{Event, Level};
use crate::model::{
    CatalogObject, CatalogSnapshot, ConstraintDef, ObjectDef, ObjectKey, ObjectKind, PolicyDef,
    QualifiedName, RuleDef, TriggerDef, TypeDef,
};
use std::collections::{HashMap, HashSet};

pub struct SnapshotIndex<'s> {
    pub snapshot: &'s CatalogSnapshot,
    /// Qualified names (as in keys) of tables, views and materialized views.
    relations: HashSet<String>,
    /// `(schema, name)` unquoted, as the parser reports names → every overload.
    routines: HashMap<(String, String), Vec<&'s ObjectKey>>,
    triggers: HashMap<&'s str, Vec<&'s TriggerDef>>,
    foreign_keys: HashMap<&'s str, Vec<&'s ConstraintDef>>,
    /// CHECK constraints by their table.
    checks: HashMap<&'s str, Vec<&'s ConstraintDef>>,
    /// Row-level security policies by their table.
    policies: HashMap<&'s str, Vec<&'s PolicyDef>>,
    /// Partitions by their partitioned parent.
    partitions: HashMap<&'s str, Vec<&'s str>>,
    /// Inheritance children (`INHERITS`, not partitions) by parent.
    inheritors: HashMap<&'s str, Vec<&'s str>>,
    /// Rewrite rules by their relation, sorted by name (PostgreSQL applies a relation's
    /// rules in name order).
    rules: HashMap<&'s str, Vec<(&'s ObjectKey, &'s RuleDef)>>,
}

/// A partition fires, besides its own triggers, its partitioned ancestors' row-level
/// triggers: PostgreSQL clones each onto every partition. The snapshot holds a clone only
/// when its enabled state differs from the parent's (`clone_of`); then the clone stands
/// for that ancestor's trigger. Statement-level triggers are not cloned: a statement on the
/// partition itself does not fire its parent's.
fn inherit_partition_triggers<'s>(
    snapshot: &'s CatalogSnapshot,
    triggers: &mut HashMap<&'s str, Vec<&'s TriggerDef>>,
) {
    let parent_of = |table: &str| -> Option<&'s str> {
        let key = ObjectKey::new(ObjectKind::Table, table);
        let t = snapshot.objects.get(&key)?.as_table()?;
        t.partition_bound.as_ref()?;
        t.parents.first().map(String::as_str)
    };
    let partitions: Vec<&'s str> = snapshot
        .objects
        .values()
        .filter_map(|o| {
            o.as_table()
                .filter(|t| t.partition_bound.is_some())
                .map(|_| o.key.name())
        })
        .collect();
    let mut added: Vec<(&'s str, &'s TriggerDef)> = Vec::new();
    for part in partitions {
        // The nearest clone stands for its origin's trigger below it: a clone held on an
        // intermediate partition (disabled there, and so on every partition under it, whose
        // own clones match it and are not held) overrides the origin for this partition too.
        let mut overridden: HashSet<(&str, &str)> = HashSet::new();
        for c in triggers.get(part).into_iter().flatten() {
            if let Some(origin) = &c.clone_of {
                overridden.insert((c.name.as_str(), origin.as_str()));
            }
        }
        let mut at = part;
        // A partition tree is finite and acyclic; the bound guards against a snapshot that
        // says otherwise.
        for _ in 0..64 {
            let Some(parent) = parent_of(at) else { break };
            for t in triggers.get(parent).into_iter().flatten() {
                if t.level != Level::Row {
                    continue;
                }
                let origin = t.clone_of.as_deref().unwrap_or(&t.table);
                if overridden.insert((t.name.as_str(), origin)) {
                    added.push((part, t));
                }
            }
            at = parent;
        }
    }
    for (part, t) in added {
        triggers.entry(part).or_default().push(t);
    }
}

/// An expression PostgreSQL evaluates for every row a write touches: a column default, a
/// stored generated column, a CHECK constraint, a row-level security policy.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowExpression<'s> {
    /// `default`, `generated`, `check`, `domain` or `policy`.
    pub via: &'static str,
    /// The column, constraint or policy it belongs to (`column: domain.constraint` for a
    /// domain's CHECK).
    pub name: String,
    pub expression: &'s str,
    /// A domain CHECK runs on UPDATE only when its column is set: the column.
    pub only_if_set: Option<&'s str>,
}

impl<'s> SnapshotIndex<'s> {
    pub fn new(snapshot: &'s CatalogSnapshot) -> Self {
        let mut relations = HashSet::new();
        let mut routines: HashMap<(String, String), Vec<&ObjectKey>> = HashMap::new();
        let mut triggers: HashMap<&str, Vec<&TriggerDef>> = HashMap::new();
        let mut foreign_keys: HashMap<&str, Vec<&ConstraintDef>> = HashMap::new();
        let mut checks: HashMap<&str, Vec<&ConstraintDef>> = HashMap::new();
        let mut policies: HashMap<&str, Vec<&PolicyDef>> = HashMap::new();
        let mut rules: HashMap<&str, Vec<(&ObjectKey, &RuleDef)>> = HashMap::new();
        for obj in snapshot.objects.values() {
            match obj.kind() {
                ObjectKind::Table | ObjectKind::View | ObjectKind::Matview => {
                    relations.insert(obj.key.name().to_string());
                }
                k if k.is_routine() => {
                    if let Some(r) = obj.as_routine() {
                        routines
                            .entry((r.schema.clone(), r.name.clone()))
                            .or_default()
                            .push(&obj.key);
                    }
                }
                ObjectKind::Trigger => {
                    if let Some(t) = obj.as_trigger() {
                        triggers.entry(t.table.as_str()).or_default().push(t);
                    }
                }
                ObjectKind::Constraint => {
                    // A partition's copy of its parent's constraint acts as the parent's.
                    if let Some(c) = obj.as_constraint().filter(|c| c.clone_of.is_none()) {
                        if let Some(fk) = &c.foreign_key {
                            foreign_keys
                                .entry(fk.references.as_str())
                                .or_default()
                                .push(c);
                        }
                        if c.constraint_type == "check" {
                            checks.entry(c.table.as_str()).or_default().push(c);
                        }
                    }
                }
                ObjectKind::Policy => {
                    if let ObjectDef::Policy(p) = &obj.def {
                        policies.entry(p.table.as_str()).or_default().push(p);
                    }
                }
                ObjectKind::Rule => {
                    if let ObjectDef::Rule(r) = &obj.def {
                        rules
                            .entry(r.table.as_str())
                            .or_default()
                            .push((&obj.key, r));
                    }
                }
                _ => {}
            }
        }
        inherit_partition_triggers(snapshot, &mut triggers);
        for list in rules.values_mut() {
            list.sort_by(|a, b| a.1.name.as_bytes().cmp(b.1.name.as_bytes()));
        }
        let mut partitions: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut inheritors: HashMap<&str, Vec<&str>> = HashMap::new();
        for obj in snapshot.objects.values() {
            let Some(t) = obj.as_table() else { continue };
            if t.partition_bound.is_some() {
                if let Some(parent) = t.parents.first() {
                    partitions
                        .entry(parent.as_str())
                        .or_default()
                        .push(obj.key.name());
                }
            } else {
                for parent in &t.parents {
                    inheritors
                        .entry(parent.as_str())
                        .or_default()
                        .push(obj.key.name());
                }
            }
        }
        SnapshotIndex {
            snapshot,
            relations,
            routines,
            triggers,
            foreign_keys,
            checks,
            policies,
            partitions,
            inheritors,
            rules,
        }
    }

    /// The rewrite rules of `table` for `event` (TRUNCATE has none), in name order.
    pub fn rules_on(&self, table: &str, event: Event) -> Vec<(&'s ObjectKey, &'s RuleDef)> {
        self.rules
            .get(table)
            .into_iter()
            .flatten()
            .filter(|(_, r)| r.event == event.as_str())
            .copied()
            .collect()
    }

    /// A view's definition, when `relation` is a view (not a materialized view: those are
    /// not writable).
    pub fn view(&self, relation: &str) -> Option<&'s crate::model::ViewDef> {
        match &self
            .snapshot
            .objects
            .get(&ObjectKey::new(ObjectKind::View, relation))?
            .def
        {
            ObjectDef::View(v) => Some(v),
            _ => None,
        }
    }

    /// The CHECK constraints of a column type that is a domain, with those of the domains
    /// it is based on (an array of a domain checks each element): `(domain, name, expr)`.
    fn domain_checks(&self, data_type: &str) -> Vec<(String, &'s str, &'s str)> {
        let mut out = Vec::new();
        let mut at = data_type.trim_end_matches("[]").to_string();
        // Domains over domains form a finite chain; the bound guards a snapshot that says
        // otherwise.
        for _ in 0..32 {
            let Some(obj) = self
                .snapshot
                .objects
                .get(&ObjectKey::new(ObjectKind::Type, &at))
            else {
                break;
            };
            let ObjectDef::Type(TypeDef {
                type_kind,
                constraints,
                base_type,
                ..
            }) = &obj.def
            else {
                break;
            };
            if type_kind != "domain" {
                break;
            }
            for (name, def) in constraints {
                let mut expr = def.strip_prefix("CHECK ").unwrap_or(def);
                expr = expr.strip_suffix(" NOT VALID").unwrap_or(expr);
                out.push((at.clone(), name.as_str(), expr));
            }
            match base_type {
                Some(b) => at = b.trim_end_matches("[]").to_string(),
                None => break,
            }
        }
        out
    }

    /// Every partition and inheritance child under `table`, at any depth, sorted.
    pub fn descendants(&self, table: &str) -> Vec<String> {
        self.tree_below(table, true)
    }

    /// The inheritance children under `table` (and theirs), sorted; partitions are not.
    pub fn inheritance_descendants(&self, table: &str) -> Vec<String> {
        self.tree_below(table, false)
    }

    fn tree_below(&self, table: &str, with_partitions: bool) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut stack = vec![table];
        let mut seen = HashSet::from([table]);
        while let Some(t) = stack.pop() {
            let parts = self.partitions.get(t).filter(|_| with_partitions);
            for c in parts.into_iter().chain(self.inheritors.get(t)).flatten() {
                if seen.insert(c) {
                    out.push(c.to_string());
                    stack.push(c);
                }
            }
        }
        out.sort();
        out
    }

    /// The row triggers of `table`'s partitions (at any depth) that are their own, not
    /// clones of an ancestor's: a statement on the partitioned table fires each only for
    /// the rows routed to its partition. Sorted by partition, then name.
    pub fn routed_triggers(&self, table: &str) -> Vec<&'s TriggerDef> {
        let mut out: Vec<&'s TriggerDef> = Vec::new();
        let mut stack: Vec<&str> = self.partitions.get(table).cloned().unwrap_or_default();
        let mut seen = HashSet::new();
        while let Some(p) = stack.pop() {
            if !seen.insert(p) {
                continue;
            }
            out.extend(
                self.triggers_on(p)
                    .iter()
                    .filter(|t| t.table == p && t.level == Level::Row),
            );
            stack.extend(self.partitions.get(p).into_iter().flatten());
        }
        out.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
        out
    }

    /// The expressions `event` evaluates for every row of `table`: on INSERT the column
    /// defaults, on INSERT and UPDATE stored generated columns and CHECK constraints, and
    /// the policies of the command when row-level security is on (they bind every role but
    /// the owner and BYPASSRLS roles). Virtual generated columns compute on read, not on
    /// write. Sorted, so that the walk is deterministic.
    pub fn row_expressions(&self, table: &str, event: Event) -> Vec<RowExpression<'s>> {
        let mut out = Vec::new();
        let key = ObjectKey::new(ObjectKind::Table, table);
        let def = self.snapshot.objects.get(&key).and_then(|o| o.as_table());
        if let Some(t) = def {
            for (name, c) in &t.columns {
                let Some(expr) = c.default.as_deref() else {
                    continue;
                };
                let via = match (c.generated.as_deref(), event) {
                    (None, Event::Insert) => "default",
                    (Some("stored"), Event::Insert | Event::Update) => "generated",
                    _ => continue,
                };
                out.push(RowExpression {
                    via,
                    name: name.clone(),
                    expression: expr,
                    only_if_set: None,
                });
            }
            // A domain's CHECK runs whenever a value is coerced to it: every row of an
            // INSERT (an omitted column's NULL or default included), the columns an UPDATE
            // sets.
            if matches!(event, Event::Insert | Event::Update) {
                for (name, c) in &t.columns {
                    for (domain, check, expr) in self.domain_checks(&c.data_type) {
                        out.push(RowExpression {
                            via: "domain",
                            name: format!("{name}: {domain}.{check}"),
                            expression: expr,
                            only_if_set: (event == Event::Update).then_some(name.as_str()),
                        });
                    }
                }
            }
        }
        if matches!(event, Event::Insert | Event::Update) {
            for c in self.checks.get(table).into_iter().flatten() {
                // `CHECK (expr) [NO INHERIT] [NOT VALID]`: the expression alone.
                let mut expr = c.definition.strip_prefix("CHECK ").unwrap_or(&c.definition);
                for suffix in [" NOT VALID", " NO INHERIT"] {
                    expr = expr.strip_suffix(suffix).unwrap_or(expr);
                }
                out.push(RowExpression {
                    via: "check",
                    name: c.name.clone(),
                    expression: expr,
                    only_if_set: None,
                });
            }
        }
        if def.is_some_and(|t| t.rls_enabled) {
            // Policies name their command as the event is spelt; TRUNCATE checks none.
            let command = match event {
                Event::Truncate => "",
                e => e.as_str(),
            };
            for p in self.policies.get(table).into_iter().flatten() {
                if p.command != "all" && p.command != command || command.is_empty() {
                    continue;
                }
                for expr in [&p.using, &p.with_check].into_iter().flatten() {
                    out.push(RowExpression {
                        via: "policy",
                        name: p.name.clone(),
                        expression: expr,
                        only_if_set: None,
                    });
                }
            }
        }
        out.sort();
        out
    }

    pub fn has_relation(&self, qualified: &str) -> bool {
        self.relations.contains(qualified)
    }

    /// Every relation with triggers, sorted by bytes.
    pub fn tables_with_triggers(&self) -> Vec<&'s str> {
        let mut v: Vec<&str> = self.triggers.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Every relation with rewrite rules, sorted by bytes.
    pub fn tables_with_rules(&self) -> Vec<&'s str> {
        let mut v: Vec<&str> = self.rules.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Every relation some foreign key references, sorted by bytes.
    pub fn referenced_tables(&self) -> Vec<&'s str> {
        let mut v: Vec<&str> = self.foreign_keys.keys().copied().collect();
        v.sort_unstable();
        v
    }

    pub fn triggers_on(&self, table: &str) -> &[&'s TriggerDef] {
        self.triggers
            .get(table)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn foreign_keys_to(&self, table: &str) -> &[&'s ConstraintDef] {
        self.foreign_keys
            .get(table)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// A routine's object, by key.
    pub fn routine(&self, key: &ObjectKey) -> Option<&'s CatalogObject> {
        self.snapshot
            .objects
            .get(key)
            .filter(|o| o.as_routine().is_some())
    }

    /// `[schema.]name` of a relation, resolved along `search_path`; `None` when no schema on
    /// the path has it (a temporary table, an excluded schema, a typo).
    pub fn resolve_relation(
        &self,
        schema: Option<&str>,
        name: &str,
        search_path: &[String],
    ) -> Option<String> {
        let in_schema = |s: &str| QualifiedName::new(s, name).to_string();
        match schema {
            Some(s) => Some(in_schema(s)).filter(|q| self.has_relation(q)),
            None => search_path
                .iter()
                .map(|s| in_schema(s))
                .find(|q| self.has_relation(q)),
        }
    }

    /// A function or procedure call (`f`, `s.f`, `db.s.f`), resolved along `search_path`:
    /// every overload in the first schema that has one. Built-ins are not in the snapshot
    /// and resolve to nothing.
    pub fn resolve_routine(&self, parts: &[String], search_path: &[String]) -> Vec<&'s ObjectKey> {
        let lookup = |schema: &str, name: &str| {
            self.routines
                .get(&(schema.to_string(), name.to_string()))
                .cloned()
                .unwrap_or_default()
        };
        match parts {
            [name] => search_path
                .iter()
                .map(|s| lookup(s, name))
                .find(|v| !v.is_empty())
                .unwrap_or_default(),
            [.., schema, name] => lookup(schema, name),
            [] => Vec::new(),
        }
    }
}
