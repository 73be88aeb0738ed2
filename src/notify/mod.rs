//! Where a result goes besides stdout and report files: sinks that tell people
//! (today the desktop notification of `check --notify`, over D-Bus). A sink never changes
//! the result: a failure is a reason the caller reports as a warning.

mod desktop;

pub use desktop::Desktop;

use std::future::Future;

/// What a notification says. The words are the renderer's (`render::check`); a sink only
/// carries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub title: String,
    pub body: String,
    /// The result needs someone now (BLOCK): shown as critical where the sink can.
    pub urgent: bool,
}

/// A place a message is sent to.
pub trait Notifier {
    /// Send it, or say why it was not sent.
    fn notify(&self, message: &Message) -> impl Future<Output = Result<(), String>>;
}
