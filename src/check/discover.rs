//! Which config `check` and `baseline` read, and the gate policy it names: `--config FILE`,
//! else `./driftgate.toml`, else the XDG config; the policy built in, inline, or a file
//! beside the config. Errors are messages that name the file (and line) to fix.

use super::config::{looks_like_config, CheckConfig, PolicySource};
use crate::gate::Policy;
use std::path::{Path, PathBuf};

/// A config and the policy it names.
pub struct LoadedConfig {
    pub config: CheckConfig,
    pub policy: Policy,
}

/// `--config FILE` (must exist), else `./driftgate.toml`, else
/// `$XDG_CONFIG_HOME/driftgate/config.toml` (`~/.config` when unset). `None`: none of them.
pub fn find_config(explicit: Option<&Path>) -> Result<Option<PathBuf>, String> {
    if let Some(path) = explicit {
        // Anything there is read (bounded), so `/dev/zero` or a FIFO is refused for its
        // size, not called missing.
        if !path.exists() {
            return Err(format!("config file {} not found", path.display()));
        }
        return Ok(Some(path.to_path_buf()));
    }
    let local = PathBuf::from("driftgate.toml");
    if local.is_file() {
        return Ok(Some(local));
    }
    Ok(xdg_config().filter(|p| p.is_file()))
}

fn xdg_config() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let base = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("driftgate").join("config.toml"))
}

/// Find, read and validate the config and its policy.
pub fn load_config(explicit: Option<&Path>) -> Result<LoadedConfig, String> {
    match find_config(explicit)? {
        Some(path) => read_config(&path),
        None => Err(format!(
            "no config: pass --config FILE, or create ./driftgate.toml{}",
            xdg_config()
                .map(|p| format!(" or {}", p.display()))
                .unwrap_or_default()
        )),
    }
}

pub fn read_config(path: &Path) -> Result<LoadedConfig, String> {
    let text =
        crate::bounded::read_text_limited(path, crate::bounded::MAX_POLICY_BYTES, "config file")?;
    let config = CheckConfig::parse(&text, path).map_err(|e| e.to_string())?;
    let policy = resolve_policy(&config)?;
    Ok(LoadedConfig { config, policy })
}

/// The gate policy a config names: built in, inline, or a file beside it.
pub fn resolve_policy(config: &CheckConfig) -> Result<Policy, String> {
    match &config.policy {
        PolicySource::Default => Ok(Policy::default()),
        PolicySource::Inline(p) => Ok(p.clone()),
        PolicySource::File { path, line, column } => {
            let text = crate::bounded::read_text_limited(
                path,
                crate::bounded::MAX_POLICY_BYTES,
                "policy file",
            )
            .map_err(|e| format!("{}:{line}:{column}: {e}", config.file.display()))?;
            if looks_like_config(&text) {
                return Err(format!(
                    "{}:{line}:{column}: policy file {} is itself a driftgate.toml config; \
                     point at a file holding [[rules]], [counts] and [ignore]",
                    config.file.display(),
                    path.display()
                ));
            }
            Policy::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())
        }
    }
}
