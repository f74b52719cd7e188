//! A request to stop a run at the next safe point: set by the CLI's signal handler,
//! read by the runner between statements and between steps. The engine never installs
//! handlers itself; a library user may share one [`Interrupt`] with its own shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Shared "please stop" flag; holds the number of the signal that asked (0: none).
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicUsize>);

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }

    /// The counter a signal handler sets (signal-hook's `flag::register_usize`).
    pub fn cell(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.0)
    }

    /// Asks the run to stop, on behalf of `signal`.
    pub fn request(&self, signal: i32) {
        self.0.store(signal.max(1) as usize, Ordering::SeqCst);
    }

    /// The signal that asked the run to stop, if one did.
    pub fn requested(&self) -> Option<Signal> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            n => Some(Signal(n as i32)),
        }
    }
}

/// A signal number, named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal(pub i32);

impl Signal {
    pub const INT: Signal = Signal(2);
    pub const TERM: Signal = Signal(15);

    /// The shell's exit status for a process stopped by this signal (128 + n).
    pub fn exit_code(self) -> u8 {
        (128 + self.0.clamp(1, 127)) as u8
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            2 => f.write_str("SIGINT"),
            15 => f.write_str("SIGTERM"),
            1 => f.write_str("SIGHUP"),
            n => write!(f, "signal {n}"),
        }
    }
}
