//! `driftgate fingerprint SNAP --scope S…`: one `SCOPE HASH` line per scope.

use super::common::{load_snapshot, ConnectArgs};
use super::Context;
use crate::exit;
use crate::model::fingerprint::Scope;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct FingerprintCmd {
    /// A ref, snapshot id or prefix, snapshot file, or `live`.
    pub snap: String,
    /// catalog (default), schema:NAME, triggers:TABLE, constraints:TABLE, indexes:TABLE,
    /// policies:TABLE, or one object as KIND:KEY (e.g. function:public.fn_birth_gate()).
    #[arg(long)]
    pub scope: Vec<String>,
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
        let mut out = std::io::stdout().lock();
        for scope in &scopes {
            match scope.hash(&tree, &snap.objects) {
                // A name may hold a newline: one scope is one line.
                Some(h) => writeln!(
                    out,
                    "{} {h}",
                    crate::render::table::cell(&scope.to_string())
                )?,
                None => anyhow::bail!("the snapshot has no object {scope}"),
            }
        }
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
