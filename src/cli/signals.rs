//! Ctrl-C and SIGTERM during a run: the first asks the engine to stop at the next safe
//! point (between statements or steps, rolling back what it can, releasing the lock);
//! a second exits at once. Read-only commands keep the default behaviour: they never
//! call [`interrupt`].

use std::sync::OnceLock;

use migrate::engine::{Interrupt, Signal};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The process's interrupt flag, with the handlers installed on first use.
pub fn interrupt() -> Interrupt {
    static INTERRUPT: OnceLock<Interrupt> = OnceLock::new();
    INTERRUPT
        .get_or_init(|| {
            let interrupt = Interrupt::new();
            watch(interrupt.clone());
            interrupt
        })
        .clone()
}

/// A thread that waits for the signals: signal-hook's iterator does the handler-safe
/// part, so the notice can be printed as soon as the signal comes.
fn watch(interrupt: Interrupt) {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
        eprintln!("warning: can't watch for Ctrl-C; an interrupt will stop migrate at once");
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            for n in signals.forever() {
                let signal = Signal(n);
                if interrupt.requested().is_some() {
                    eprintln!("{signal} again: exiting now");
                    std::process::exit(i32::from(signal.exit_code()));
                }
                interrupt.request(n);
                eprintln!(
                    "{signal} received: stopping after the running statement (send it again to exit at once)"
                );
            }
        });
    if spawned.is_err() {
        eprintln!("warning: can't watch for Ctrl-C; an interrupt will stop migrate at once");
    }
}
