//! `driftgate manpage [SUBCOMMAND]`: the roff man page of driftgate, or of one subcommand,
//! generated from the same clap definitions as `--help`, e.g.
//! `driftgate manpage > /usr/local/share/man/man1/driftgate.1`.

use crate::exit;
use anyhow::Context as _;
use clap::Args;

#[derive(Args, Debug)]
pub struct ManpageCmd {
    /// A subcommand (e.g. gate) for its own page, driftgate-gate(1); default driftgate(1).
    pub subcommand: Option<String>,
}

impl ManpageCmd {
    pub fn run(self) -> anyhow::Result<u8> {
        let root = super::command();
        let page = match &self.subcommand {
            None => root,
            Some(name) => {
                let names: Vec<String> = root
                    .get_subcommands()
                    .map(|c| c.get_name().to_string())
                    .collect();
                let sub = root.find_subcommand(name).cloned().with_context(|| {
                    format!("no subcommand {name:?}; one of: {}", names.join(", "))
                })?;
                // The page is named after the command as typed: driftgate-gate(1).
                let page_name: &'static str =
                    Box::leak(format!("driftgate-{}", sub.get_name()).into_boxed_str());
                sub.name(page_name)
            }
        };
        let mut out = Vec::new();
        clap_mangen::Man::new(page).render(&mut out)?;
        use std::io::Write;
        std::io::stdout().write_all(&out)?;
        Ok(exit::OK)
    }
}
