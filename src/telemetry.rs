//! Structured logs. Lines carry ids and route patterns, never names or other personal data:
//! what was done to whom belongs in the audit log only.

use tracing_subscriber::{fmt, EnvFilter};

/// JSON lines in production; readable text in development. `RUST_LOG` overrides the level.
pub fn init(dev_mode: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never escape codes in a log file.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colours);
    // A second init (as in tests) is harmless, so its error is ignored.
    let _ = if dev_mode {
        builder.compact().try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    };
}
