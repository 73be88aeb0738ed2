//! `driftgate fingerprint SNAP --scope S…`: one `SCOPE HASH` line per scope.

use super::common::{load_snapshot, ConnectArgs};
use super::format::FormatArg;
use super::Context;
use crate::exit;
use crate::model::fingerprint::Scope;
use crate::render::fingerprint::{FingerprintReport, ScopeHash};
use crate::render::Format;
use clap::Args;

#[derive(Args, Debug)]
pub struct FingerprintCmd {
    /// A ref, snapshot id or prefix, snapshot file, or `live`.
    pub snap: String,
    /// catalog (default), schema:NAME, triggers:TABLE, constraints:TABLE, indexes:TABLE,
    /// policies:TABLE, or one object as KIND:KEY (e.g. function:public.fn_birth_gate()).
    #[arg(long)]
    pub scope: Vec<String>,
    /// text: `SCOPE HASH` lines; json: `{"format": "driftgate.fingerprint/v1", "scopes": […]}`.
    #[arg(long, value_parser = FormatArg::of::<FingerprintReport>(), default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl FingerprintCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let scopes = parse_scopes(&self.scope)?;
        let loaded = load_snapshot(
            &self.snap,
            &ctx.store,
            &self.connect,
            self.connect.capture_options(),
        )
        .await?;
        let snap = &loaded.snapshot;
        let tree = snap.tree();
        let mut hashes = Vec::new();
        for scope in &scopes {
            match scope.hash(&tree, &snap.objects) {
                Some(h) => hashes.push(ScopeHash {
                    scope: scope.to_string(),
                    hash: h.to_hex(),
                }),
                None => anyhow::bail!(
                    "scope {scope} matches no object in the snapshot (check the name; `driftgate show {}` lists what it holds)",
                    self.snap
                ),
            }
            if scope.member_count(&tree, &snap.objects) == Some(0) {
                ctx.note(format!("note: {scope}: the relation exists and has none"));
            }
        }
        let report = FingerprintReport {
            snapshot: loaded.id.map(|id| id.to_hex()),
            scopes: hashes,
        };
        ctx.print(&report, self.format)?;
        Ok(exit::OK)
    }
}

/// Parse `--scope` values; none means `catalog`.
pub fn parse_scopes(specs: &[String]) -> anyhow::Result<Vec<Scope>> {
    if specs.is_empty() {
        return Ok(vec![Scope::Catalog]);
    }
    specs
        .iter()
        .map(|s| Scope::parse(s).map_err(|e| anyhow::anyhow!("--scope {s:?}: {e}")))
        .collect()
}
