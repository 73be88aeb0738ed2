//! Exit codes, the same for every command (DESIGN.md).

/// No drift, PASS (and WARN unless `--fail-on warn`).
pub const OK: u8 = 0;
/// Drift found, or a BLOCK verdict.
pub const DRIFT: u8 = 1;
/// Bad input, cannot connect, corrupt store: anything that kept the command from answering.
pub const ERROR: u8 = 2;
