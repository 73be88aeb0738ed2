//! `driftgate verify REF [--scope S]…`: the "entry hash == exit hash" proof. Captures live
//! (or reads `--against SNAP`), and prints per scope `IDENTICAL` or `DRIFT` with both hashes,
//! followed on drift by the objects that differ. Exit 0 all identical, 1 drift.

use super::common::ConnectArgs;
use super::fingerprint::parse_scopes;
use super::pair::load_sides;
use super::Context;
use crate::diff::{self, ChangeType};
use crate::exit;
use crate::render::table::cell;
use clap::Args;
use std::io::Write;

/// Differing objects listed under one DRIFT line before the rest is summed up.
const MAX_LISTED: usize = 20;

#[derive(Args, Debug)]
pub struct VerifyCmd {
    /// The reference snapshot (e.g. `entry`): a ref, id or prefix, or snapshot file.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// catalog (default), schema:NAME, triggers:TABLE, constraints:TABLE, indexes:TABLE,
    /// policies:TABLE, or one object as KIND:KEY. Repeatable.
    #[arg(long)]
    pub scope: Vec<String>,
    /// Compare with this snapshot instead of capturing live.
    #[arg(long, value_name = "SNAP", default_value = "live")]
    pub against: String,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl VerifyCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let scopes = parse_scopes(&self.scope)?;
        // Row counts are not part of any scope: no exact counts, no locks on user tables.
        let (reference, other) =
            load_sides(&self.reference, &self.against, ctx, &self.connect, false)
                .await
                .map_err(|e| {
                    let which = if e.which == "base" {
                        "reference"
                    } else {
                        "--against"
                    };
                    e.error.context(format!("cannot read the {which} snapshot"))
                })?;
        let (a, b) = (reference.snapshot(), other.snapshot());
        let (tree_a, tree_b) = (reference.tree(), other.tree());
        let mut rows = Vec::new();
        for scope in &scopes {
            let (ha, hb) = (
                scope.hash(tree_a, &a.objects),
                scope.hash(tree_b, &b.objects),
            );
            if ha.is_none() && hb.is_none() {
                anyhow::bail!(
                    "neither {} nor {} has an object {scope}",
                    self.reference,
                    self.against
                );
            }
            rows.push((scope, ha, hb));
        }

        let d = diff::diff(a, b);
        let mut out = std::io::stdout().lock();
        let mut drift = false;
        for (scope, ha, hb) in rows {
            let hex = |h: Option<crate::model::ContentHash>| {
                h.map(|h| h.to_hex()).unwrap_or_else(|| "absent".into())
            };
            let identical = ha == hb;
            drift |= !identical;
            writeln!(
                out,
                "{} {} {} {}",
                if identical { "IDENTICAL" } else { "DRIFT" },
                cell(&scope.to_string()),
                hex(ha),
                hex(hb)
            )?;
            if identical {
                continue;
            }
            let differing: Vec<String> = d
                .changes
                .iter()
                .filter(|c| {
                    let obj = match c.change {
                        ChangeType::Added => b.get(&c.key),
                        _ => a.get(&c.key),
                    };
                    obj.is_some_and(|o| scope.covers(o))
                })
                .map(|c| {
                    let fields = c.field_paths();
                    if fields.is_empty() {
                        format!("  {} {}", c.change, cell(c.key.as_str()))
                    } else {
                        format!(
                            "  {} {} ({})",
                            c.change,
                            cell(c.key.as_str()),
                            cell(&fields.join(", "))
                        )
                    }
                })
                .collect();
            for line in differing.iter().take(MAX_LISTED) {
                writeln!(out, "{line}")?;
            }
            if differing.len() > MAX_LISTED {
                writeln!(
                    out,
                    "  … and {} more (see `driftgate diff`)",
                    differing.len() - MAX_LISTED
                )?;
            }
        }
        ctx.note(format!(
            "compared {} with {}",
            reference.info().describe(),
            other.info().describe()
        ));
        Ok(if drift { exit::DRIFT } else { exit::OK })
    }
}
