//! `driftgate completions SHELL`: a completion script on stdout, e.g.
//! `driftgate completions bash > ~/.local/share/bash-completion/completions/driftgate`.

use crate::exit;
use clap::Args;
use clap_complete::Shell;

#[derive(Args, Debug)]
pub struct CompletionsCmd {
    #[arg(value_enum)]
    pub shell: Shell,
}

impl CompletionsCmd {
    pub fn run(self) -> anyhow::Result<u8> {
        let mut cmd = super::command();
        clap_complete::generate(self.shell, &mut cmd, "driftgate", &mut std::io::stdout());
        Ok(exit::OK)
    }
}
