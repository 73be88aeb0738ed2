//! `driftgate verify REF [--scope S]…`: the "entry hash == exit hash" proof. Captures live
//! (or reads `--against SNAP`), and prints per scope `IDENTICAL` or `DRIFT` with both hashes,
//! followed on drift by the objects that differ. Exit 0 all identical, 1 drift.

use super::common::ConnectArgs;
use super::fingerprint::parse_scopes;
use super::format::FormatArg;
use super::pair::load_sides;
use super::Context;
use crate::diff::{self, ChangeType};
use crate::exit;
use crate::model::fingerprint::Scope;
use crate::model::{CatalogSnapshot, ContentHash};
use crate::render::verify::{Differing, ScopeResult, VerifyReport};
use crate::render::Format;
use clap::Args;

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
    /// An approved change set (`driftgate approve`): instead of "identical", prove that the
    /// catalog differs from REF by exactly these changes (exit 0), else list each extra,
    /// missing or different change (exit 1).
    #[arg(long, value_name = "FILE", conflicts_with = "scope")]
    pub expect: Option<std::path::PathBuf>,
    /// text: one IDENTICAL/DRIFT line per scope; json: `{"format": "driftgate.verify/v1", …}`.
    #[arg(long, value_parser = FormatArg::of::<VerifyReport>(), default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl VerifyCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let expected = match &self.expect {
            Some(path) => Some(super::gate::read_approved(path).map_err(anyhow::Error::msg)?),
            None => None,
        };
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
                    "scope {scope} matches no object in {} or {} (check the name)",
                    self.reference,
                    self.against
                );
            }
            if scope.member_count(tree_a, &a.objects) == Some(0)
                && scope.member_count(tree_b, &b.objects) == Some(0)
            {
                ctx.note(format!(
                    "note: {scope}: the relation exists and has none on both sides"
                ));
            }
            rows.push((scope, ha, hb));
        }

        let d = diff::diff(a, b);
        // The proof asked for: every scope identical, or (with --expect) exactly the
        // approved changes.
        let mut doc = VerifyReport {
            verdict: "identical",
            reference: reference.info().describe(),
            against: other.info().describe(),
            scopes: None,
            approved: None,
            findings: None,
            capture_format: d.capture_format,
        };
        let drift = match &expected {
            Some(set) => {
                let (findings, matched) = set.judge(&d);
                let drift = !findings.is_empty();
                doc.verdict = if drift { "drift" } else { "as-approved" };
                doc.approved = Some(matched);
                doc.findings = Some(findings);
                drift
            }
            None => {
                let results = scope_results(rows, &d, a, b);
                let drift = results.iter().any(|r| !r.identical);
                doc.verdict = if drift { "drift" } else { "identical" };
                doc.scopes = Some(results);
                drift
            }
        };
        // Equal hashes of two capture formats prove nothing: a kind or field one side
        // never read hashes the same as one that did not change.
        let drift = match d.capture_format {
            Some(c) => {
                doc.verdict = "drift";
                ctx.note(format!("capture format changed: {}", c.explain()));
                true
            }
            None => drift,
        };
        ctx.print(&doc, self.format)?;
        ctx.note(format!(
            "compared {} with {}{}",
            doc.reference,
            doc.against,
            if expected.is_some() {
                " against the approved change set"
            } else {
                ""
            }
        ));
        Ok(if drift { exit::DRIFT } else { exit::OK })
    }
}

/// Per scope: identical or not, both hashes, and the differing objects it covers.
fn scope_results(
    rows: Vec<(&Scope, Option<ContentHash>, Option<ContentHash>)>,
    d: &diff::Diff,
    a: &CatalogSnapshot,
    b: &CatalogSnapshot,
) -> Vec<ScopeResult> {
    let hex = |h: Option<ContentHash>| h.map(|h| h.to_hex());
    rows.into_iter()
        .map(|(scope, ha, hb)| {
            let differing = if ha == hb {
                Vec::new()
            } else {
                d.changes
                    .iter()
                    .filter(|c| {
                        let obj = match c.change {
                            ChangeType::Added => b.get(&c.key),
                            _ => a.get(&c.key),
                        };
                        obj.is_some_and(|o| scope.covers(o))
                    })
                    .map(|c| Differing {
                        change: c.change.to_string(),
                        key: c.key.as_str().to_string(),
                        fields: c.field_paths(),
                    })
                    .collect()
            };
            ScopeResult {
                scope: scope.to_string(),
                identical: ha == hb,
                reference: hex(ha),
                against: hex(hb),
                differing,
            }
        })
        .collect()
}
