//! Where the store path came from (`--store`, `DRIFTGATE_STORE`, `store =` of a
//! driftgate.toml, or the default), so `doctor` and error messages can say so.

/// Where the store path came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StoreSource {
    Flag,
    Env,
    /// `store =` of the discovered driftgate.toml.
    Config,
    Default,
}

impl StoreSource {
    /// As the user would name it.
    pub fn name(self) -> &'static str {
        match self {
            StoreSource::Flag => "--store",
            StoreSource::Env => "DRIFTGATE_STORE",
            StoreSource::Config => "driftgate.toml",
            StoreSource::Default => "default",
        }
    }
}
