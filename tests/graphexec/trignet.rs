//! Random trigger networks for the real-execution test (issue 18, item 5): tables (plain,
//! partitioned with a sub-partitioned partition, inheritance parents and children), row and
//! statement triggers BEFORE and AFTER, `UPDATE OF`, `WHEN` with PL/pgSQL predicates,
//! writes under `IF` guards, helper functions, literal and opaque dynamic SQL, `pg_notify`,
//! foreign-key cascades and disabled triggers (also a disabled partition clone).
//!
//! The network is a DAG by construction: a trigger or helper only writes to tables of a
//! later group, and a foreign key only references an earlier group, so no statement
//! recurses forever and every run ends. Everything is drawn from one seeded splitmix64, so
//! a seed replays the same SQL.
//!
//! Every trigger function appends `depth:table:trigger:op` to the `dg.order` setting, so the
//! test reads the order PostgreSQL fired them in. Every routine is PL/pgSQL: SQL-language
//! functions may be inlined by the planner and then never appear in the statistics.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// splitmix64: small, fast and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Plain,
    /// `PARTITION BY RANGE (k)`: `_p0` (k < 10) and `_p1` (k ≥ 10), `_p1` sometimes itself
    /// partitioned by id into `_p1a` and `_p1b`.
    Partitioned,
    /// A parent with `INHERITS` children `_c0`, `_c1`.
    Inherits,
}

/// One relation a statement can name.
#[derive(Clone, Debug)]
pub struct Rel {
    pub name: String,
    /// Tables of a group are written only by triggers of earlier groups.
    pub group: usize,
    /// A partition (of any level) or an inheritance child.
    pub parent: Option<String>,
    /// Partitioned itself (has no rows of its own).
    pub partitioned: bool,
    /// The k values a row of this relation can have: [lo, hi].
    pub k_range: (i32, i32),
    /// Partitioned by id (the `_p1` of a sub-partitioned tree, or a leaf under it): an
    /// UPDATE of id may move a row, which a leaf refuses.
    pub id_bounded: bool,
    /// Where the ids of rows inserted by the test start (a partition bounded by id takes
    /// only its own).
    pub id_base: i32,
    /// Ids of rows the setup commits, visible through this relation (descendants included).
    pub ids: Vec<i32>,
    /// Some foreign key references it (TRUNCATE needs CASCADE).
    pub referenced: bool,
}

impl Rel {
    /// The sequence fresh ids of rows written into it come from: the leaf holding ids
    /// below 100000 has its own.
    fn sequence(&self) -> &'static str {
        if self.id_bounded && !self.partitioned && self.id_base < 100_000 {
            "dg_small"
        } else {
            "dg_ids"
        }
    }
}

/// A generated network: its setup SQL and the statements to run against it.
pub struct Network {
    pub seed: u64,
    pub sql: String,
    pub rels: Vec<Rel>,
    /// Every channel a function may notify, for the LISTEN session.
    pub channels: BTreeSet<String>,
}

/// One statement the test runs: on `table`, the `event`, and for an UPDATE the columns
/// it sets.
#[derive(Clone, Debug)]
pub struct Statement {
    pub table: String,
    pub event: &'static str,
    pub columns: Vec<String>,
    pub sql: String,
}

/// A write a routine's body may do.
fn write_action(rng: &mut Rng, rels: &[Rel], from_group: usize, ctx: &str) -> Option<String> {
    let targets: Vec<&Rel> = rels.iter().filter(|r| r.group > from_group).collect();
    if targets.is_empty() {
        return None;
    }
    let t = *rng.pick(&targets);
    let k = t.k_range.0 + rng.below((t.k_range.1 - t.k_range.0 + 1) as usize) as i32;
    let id = if t.ids.is_empty() || rng.chance(20) {
        999_999
    } else {
        *rng.pick(&t.ids)
    };
    let name = &t.name;
    let seq = t.sequence();
    Some(match rng.below(10) {
        0..=4 => format!(
            "INSERT INTO public.{name} (id, k, v) VALUES (nextval('public.{seq}'), {k}, '{ctx}');"
        ),
        5..=7 => {
            // A partition keeps k within its bounds; elsewhere k or v.
            if t.parent.is_some() || t.partitioned || rng.chance(50) {
                format!("UPDATE public.{name} SET v = v || 'u' WHERE id = {id};")
            } else {
                format!("UPDATE public.{name} SET k = k + 1 WHERE id = {id};")
            }
        }
        _ => format!("DELETE FROM public.{name} WHERE id = {id};"),
    })
}

/// The statements of one routine body (a trigger function or a helper).
fn body_actions(
    rng: &mut Rng,
    net: &mut Network,
    from_group: usize,
    helpers: &[(String, usize)],
    ctx: &str,
) -> String {
    let mut out = String::new();
    for _ in 0..rng.below(4) {
        let action = match rng.below(20) {
            0..=9 => write_action(rng, &net.rels, from_group, ctx),
            10..=12 => {
                let ch = format!("ch_{}", rng.below(4));
                net.channels.insert(ch.clone());
                Some(if rng.chance(50) {
                    format!("PERFORM pg_notify('{ch}', '{ctx}');")
                } else {
                    format!("NOTIFY {ch};")
                })
            }
            13..=15 => {
                let callable: Vec<&(String, usize)> =
                    helpers.iter().filter(|(_, g)| *g > from_group).collect();
                (!callable.is_empty())
                    .then(|| format!("PERFORM public.{}();", rng.pick(&callable).0))
            }
            16 => {
                // Opaque: the table name is computed at run time.
                let targets: Vec<&Rel> = net
                    .rels
                    .iter()
                    .filter(|r| r.group > from_group && !r.partitioned)
                    .collect();
                (!targets.is_empty()).then(|| {
                    let t = rng.pick(&targets);
                    format!(
                        "EXECUTE format('INSERT INTO public.%I (id, k, v) VALUES (nextval(''public.{}''), {}, ''dyn'')', '{}');",
                        t.sequence(), t.k_range.0, t.name
                    )
                })
            }
            17 => {
                net.channels.insert("ch_dyn".to_string());
                Some("PERFORM pg_notify('ch_' || 'dyn', 'x');".to_string())
            }
            18 => {
                // Literal dynamic SQL: the statement is in the text.
                write_action(rng, &net.rels, from_group, ctx)
                    .map(|w| format!("EXECUTE '{}';", w.trim_end_matches(';').replace('\'', "''")))
            }
            _ => None,
        };
        let Some(action) = action else { continue };
        if rng.chance(25) {
            let guard = match rng.below(3) {
                0 => format!("TG_OP = '{}'", rng.pick(&["INSERT", "UPDATE", "DELETE"])),
                1 => "pg_trigger_depth() > 1".to_string(),
                _ => "random() < 0.0".to_string(),
            };
            // Helpers have no TG_OP.
            let guard = if ctx.starts_with('h') && guard.starts_with("TG_OP") {
                "random() < 0.0".to_string()
            } else {
                guard
            };
            writeln!(out, "    IF {guard} THEN\n        {action}\n    END IF;").unwrap();
        } else {
            writeln!(out, "    {action}").unwrap();
        }
    }
    out
}

impl Network {
    pub fn generate(seed: u64) -> Network {
        let mut rng = Rng::new(seed);
        let mut net = Network {
            seed,
            sql: String::new(),
            rels: Vec::new(),
            channels: BTreeSet::new(),
        };
        let mut sql = String::new();
        writeln!(sql, "-- driftgate graphexec seed {seed}").unwrap();
        writeln!(sql, "CREATE SEQUENCE public.dg_ids START 200000;").unwrap();
        writeln!(sql, "CREATE SEQUENCE public.dg_small START 60000;").unwrap();
        let groups = 3 + rng.below(4);
        // Plain tables an FK may reference: (name, group).
        let mut fk_targets: Vec<String> = Vec::new();
        let mut rows = String::new();
        for g in 0..groups {
            let shape = match rng.below(4) {
                0 | 1 => Shape::Plain,
                2 => Shape::Partitioned,
                _ => Shape::Inherits,
            };
            let name = format!("t{g}");
            // A foreign key to an earlier plain table, with its actions.
            let mut fk = String::new();
            let mut refs_row = false;
            if !fk_targets.is_empty() && rng.chance(50) {
                let target = rng.pick(&fk_targets).clone();
                let on_delete = *rng.pick(&["CASCADE", "SET NULL", "NO ACTION"]);
                let on_update = *rng.pick(&["CASCADE", "SET NULL", "NO ACTION"]);
                fk = format!(
                    " REFERENCES public.{target} (id) ON DELETE {on_delete} ON UPDATE {on_update}"
                );
                // A row referencing a NO ACTION parent would make its DELETE fail.
                refs_row = on_delete != "NO ACTION" && on_update != "NO ACTION";
                if let Some(r) = net.rels.iter_mut().find(|r| r.name == target) {
                    r.referenced = true;
                }
            }
            let cols = format!(
                "id int NOT NULL, k int NOT NULL DEFAULT 0, v text NOT NULL DEFAULT '', r int{fk}"
            );
            let r = if refs_row { "1" } else { "NULL" };
            let rel = |name: &str, parent: Option<&str>, partitioned, k_range, ids: Vec<i32>| Rel {
                name: name.to_string(),
                group: g,
                parent: parent.map(str::to_string),
                partitioned,
                k_range,
                id_bounded: false,
                id_base: 5000,
                ids,
                referenced: false,
            };
            match shape {
                Shape::Plain => {
                    writeln!(
                        sql,
                        "CREATE TABLE public.{name} ({cols}, PRIMARY KEY (id));"
                    )
                    .unwrap();
                    writeln!(
                        rows,
                        "INSERT INTO public.{name} (id, k, v, r) VALUES (1, 3, 'a', {r}), (2, 12, 'b', {r}), (3, 7, 'c', NULL);"
                    )
                    .unwrap();
                    net.rels
                        .push(rel(&name, None, false, (0, 20), vec![1, 2, 3]));
                    fk_targets.push(name);
                }
                Shape::Partitioned => {
                    let sub = rng.chance(50);
                    writeln!(
                        sql,
                        "CREATE TABLE public.{name} ({cols}) PARTITION BY RANGE (k);"
                    )
                    .unwrap();
                    writeln!(sql, "CREATE TABLE public.{name}_p0 PARTITION OF public.{name} FOR VALUES FROM (MINVALUE) TO (10);").unwrap();
                    let p1_by = if sub { " PARTITION BY RANGE (id)" } else { "" };
                    writeln!(sql, "CREATE TABLE public.{name}_p1 PARTITION OF public.{name} FOR VALUES FROM (10) TO (MAXVALUE){p1_by};").unwrap();
                    writeln!(
                        rows,
                        "INSERT INTO public.{name} (id, k, v, r) VALUES (1, 3, 'a', {r}), (2, 12, 'b', {r}), (3, 15, 'c', NULL), (300000, 14, 'd', NULL);"
                    )
                    .unwrap();
                    net.rels
                        .push(rel(&name, None, true, (0, 20), vec![1, 2, 3, 300000]));
                    net.rels.push(rel(
                        &format!("{name}_p0"),
                        Some(&name),
                        false,
                        (0, 9),
                        vec![1],
                    ));
                    let mut p1 = rel(
                        &format!("{name}_p1"),
                        Some(&name),
                        sub,
                        (10, 20),
                        vec![2, 3, 300000],
                    );
                    p1.id_bounded = sub;
                    net.rels.push(p1);
                    if sub {
                        let p1 = format!("{name}_p1");
                        writeln!(sql, "CREATE TABLE public.{p1}a PARTITION OF public.{p1} FOR VALUES FROM (MINVALUE) TO (100000);").unwrap();
                        writeln!(sql, "CREATE TABLE public.{p1}b PARTITION OF public.{p1} FOR VALUES FROM (100000) TO (MAXVALUE);").unwrap();
                        for (leaf, ids) in [("a", vec![2, 3]), ("b", vec![300000])] {
                            let mut l =
                                rel(&format!("{p1}{leaf}"), Some(&p1), false, (10, 20), ids);
                            l.id_bounded = true;
                            if leaf == "b" {
                                l.id_base = 105_000;
                            }
                            net.rels.push(l);
                        }
                    }
                }
                Shape::Inherits => {
                    writeln!(
                        sql,
                        "CREATE TABLE public.{name} ({cols}, PRIMARY KEY (id));"
                    )
                    .unwrap();
                    let children = 1 + rng.below(2);
                    let mut all = vec![1, 2];
                    writeln!(
                        rows,
                        "INSERT INTO public.{name} (id, k, v, r) VALUES (1, 3, 'a', {r}), (2, 12, 'b', NULL);"
                    )
                    .unwrap();
                    let mut kids = Vec::new();
                    for c in 0..children {
                        let child = format!("{name}_c{c}");
                        writeln!(
                            sql,
                            "CREATE TABLE public.{child} () INHERITS (public.{name});"
                        )
                        .unwrap();
                        let ids = vec![10 * (c as i32 + 1) + 1, 10 * (c as i32 + 1) + 2];
                        writeln!(
                            rows,
                            "INSERT INTO public.{child} (id, k, v) VALUES ({}, 4, 'x'), ({}, 14, 'y');",
                            ids[0], ids[1]
                        )
                        .unwrap();
                        all.extend(&ids);
                        kids.push(rel(&child, Some(&name), false, (0, 20), ids));
                    }
                    net.rels.push(rel(&name, None, false, (0, 20), all));
                    net.rels.extend(kids);
                    fk_targets.push(name);
                }
            }
        }

        // PL/pgSQL WHEN predicates: they run for every row the trigger sees.
        let predicates = 1 + rng.below(2);
        for p in 0..predicates {
            writeln!(
                sql,
                "CREATE FUNCTION public.wp_{p}(x int) RETURNS boolean LANGUAGE plpgsql AS $$\nBEGIN\n    RETURN x % {} = 0;\nEND $$;",
                p + 2
            )
            .unwrap();
        }
        // Helpers: each writes only to groups at or after its own, and is called only from
        // earlier groups.
        let mut helpers: Vec<(String, usize)> = Vec::new();
        for h in 0..rng.below(4) {
            let group = 1 + rng.below(groups - 1);
            let name = format!("h_{h}");
            let body = body_actions(&mut rng, &mut net, group - 1, &[], &name);
            writeln!(
                sql,
                "CREATE FUNCTION public.{name}() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n{body}END $$;"
            )
            .unwrap();
            helpers.push((name, group));
        }

        // Triggers, with a name drawn so that the firing order (by name) is shuffled.
        let mut n = 0;
        let rels = net.rels.clone();
        let mut disable = String::new();
        for rel in &rels {
            for _ in 0..rng.below(4) {
                n += 1;
                let tname = format!(
                    "{}{}_{n}",
                    (b'a' + rng.below(26) as u8) as char,
                    (b'a' + rng.below(26) as u8) as char
                );
                let row = rng.chance(70);
                let before = rng.chance(50);
                let mut events: Vec<&str> = ["INSERT", "UPDATE", "DELETE"]
                    .into_iter()
                    .filter(|_| rng.chance(50))
                    .collect();
                if events.is_empty() {
                    events.push(*rng.pick(&["INSERT", "UPDATE", "DELETE"]));
                }
                if !row && rng.chance(30) {
                    events.push("TRUNCATE");
                }
                let events: Vec<String> = events
                    .into_iter()
                    .map(|e| {
                        if e == "UPDATE" && rng.chance(30) {
                            format!("UPDATE OF {}", rng.pick(&["k", "v", "k, v", "id"]))
                        } else {
                            e.to_string()
                        }
                    })
                    .collect();
                let has = |e: &str| events.iter().any(|x| x.starts_with(e));
                let when = if row && rng.chance(30) {
                    let rec = if has("DELETE") && !has("INSERT") && !has("UPDATE") {
                        Some("OLD")
                    } else if !has("DELETE") {
                        Some("NEW")
                    } else {
                        None
                    };
                    rec.map(|rec| {
                        if rng.chance(60) {
                            format!(" WHEN (public.wp_{}({rec}.k))", rng.below(predicates))
                        } else {
                            format!(" WHEN ({rec}.k > 5)")
                        }
                    })
                } else {
                    None
                }
                .unwrap_or_default();
                let fname = format!("fn_{tname}");
                let body = body_actions(&mut rng, &mut net, rel.group, &helpers, &tname);
                let ret = if row && before {
                    if rng.chance(10) {
                        // Skips the row on UPDATE: the later row triggers do not fire for it.
                        "IF TG_OP = 'UPDATE' THEN\n        RETURN NULL;\n    END IF;\n    IF TG_OP = 'DELETE' THEN\n        RETURN OLD;\n    END IF;\n    RETURN NEW;"
                    } else {
                        "IF TG_OP = 'DELETE' THEN\n        RETURN OLD;\n    END IF;\n    RETURN NEW;"
                    }
                } else {
                    "RETURN NULL;"
                };
                writeln!(
                    sql,
                    "CREATE FUNCTION public.{fname}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    PERFORM set_config('dg.order', current_setting('dg.order', true) || ',' || pg_trigger_depth() || ':' || TG_TABLE_NAME || ':' || TG_NAME || ':' || lower(TG_OP), true);\n{body}    {ret}\nEND $$;"
                )
                .unwrap();
                writeln!(
                    sql,
                    "CREATE TRIGGER {tname} {} {} ON public.{} FOR EACH {}{when} EXECUTE FUNCTION public.{fname}();",
                    if before { "BEFORE" } else { "AFTER" },
                    events.join(" OR "),
                    rel.name,
                    if row { "ROW" } else { "STATEMENT" },
                )
                .unwrap();
                if rng.chance(10) {
                    writeln!(
                        disable,
                        "ALTER TABLE public.{} DISABLE TRIGGER {tname};",
                        rel.name
                    )
                    .unwrap();
                } else if row && rel.partitioned && rng.chance(30) {
                    // Disable the clone on one partition only.
                    let parts: Vec<&Rel> = rels
                        .iter()
                        .filter(|r| r.parent.as_deref() == Some(&rel.name))
                        .collect();
                    let p = rng.pick(&parts);
                    writeln!(
                        disable,
                        "ALTER TABLE public.{} DISABLE TRIGGER {tname};",
                        p.name
                    )
                    .unwrap();
                }
            }
        }
        sql.push_str(&disable);
        sql.push_str(&rows);
        net.sql = sql;
        net
    }

    /// The statements to run: INSERT, UPDATE, DELETE and TRUNCATE on every relation.
    pub fn statements(&self) -> Vec<Statement> {
        let mut rng = Rng::new(self.seed.wrapping_mul(31).wrapping_add(7));
        let mut out = Vec::new();
        for (i, rel) in self.rels.iter().enumerate() {
            let name = &rel.name;
            let k = rel.k_range.0 + rng.below((rel.k_range.1 - rel.k_range.0 + 1) as usize) as i32;
            out.push(Statement {
                table: name.clone(),
                event: "insert",
                columns: Vec::new(),
                sql: format!(
                    "INSERT INTO public.{name} (id, k, v) VALUES ({}, {k}, 'root')",
                    rel.id_base + i as i32
                ),
            });
            let id = *rng.pick(&rel.ids);
            // Within a partition, k stays in its bounds; on the partitioned root or an
            // inheritance parent it may move the row to another partition.
            let k2 = rel.k_range.0 + rng.below((rel.k_range.1 - rel.k_range.0 + 1) as usize) as i32;
            let mut sets: Vec<(String, String)> = Vec::new();
            if rng.chance(70) {
                sets.push(("v".into(), "v || '!'".into()));
            }
            if rng.chance(50) {
                sets.push(("k".into(), k2.to_string()));
            }
            // An id change moves a row between id-bounded partitions: not allowed on a leaf.
            let leaf_by_id = rel.id_bounded && !rel.partitioned;
            if rng.chance(25) && !leaf_by_id {
                sets.push(("id".into(), "id + 500000".into()));
            }
            if sets.is_empty() {
                sets.push(("v".into(), "v || '!'".into()));
            }
            out.push(Statement {
                table: name.clone(),
                event: "update",
                columns: sets.iter().map(|(c, _)| c.clone()).collect(),
                sql: format!(
                    "UPDATE public.{name} SET {} WHERE id = {id}",
                    sets.iter()
                        .map(|(c, e)| format!("{c} = {e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            let id = *rng.pick(&rel.ids);
            out.push(Statement {
                table: name.clone(),
                event: "delete",
                columns: Vec::new(),
                sql: format!("DELETE FROM public.{name} WHERE id = {id}"),
            });
            // A referenced table is truncated with CASCADE (its referencing tables too).
            let cascade = if rel.referenced { " CASCADE" } else { "" };
            out.push(Statement {
                table: name.clone(),
                event: "truncate",
                columns: Vec::new(),
                sql: format!("TRUNCATE public.{name}{cascade}"),
            });
        }
        out
    }
}
