//! The desktop notification: the freedesktop notification service over the session bus
//! (pure-Rust D-Bus, so no libdbus to install), bounded in time so a hung service cannot
//! hold the nightly job.

use super::{Message, Notifier};
use std::time::Duration;

/// The longest a notification service may take to answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// Notifications on the desktop session of the user running driftgate.
pub struct Desktop;

impl Notifier for Desktop {
    async fn notify(&self, message: &Message) -> Result<(), String> {
        // Said in `doctor`'s words, so both name the same missing bus the same way.
        if let Some(missing) = crate::doctor::missing_session_bus() {
            return Err(missing);
        }
        let mut n = notify_rust::Notification::new();
        n.appname("driftgate")
            .summary(&message.title)
            .body(&message.body);
        #[cfg(all(unix, not(target_os = "macos")))]
        n.urgency(if message.urgent {
            notify_rust::Urgency::Critical
        } else {
            notify_rust::Urgency::Normal
        });
        match tokio::time::timeout(ANSWER_WITHIN, n.show_async()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer from the notification service within 5 s".into()),
        }
    }
}
