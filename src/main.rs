//! The `migrate` binary: a thin CLI over the library.

mod cli;

/// mimalloc: loading 100,000 revisions is allocation-heavy, and glibc's allocator was a
/// third of the time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // A bug must not dump a backtrace (whatever RUST_BACKTRACE says) into a public CI
    // log or into the middle of JSON on stdout: one line on stderr, exit 101.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        let what: String = what
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error: {what}{at}; please report it");
    }));
    cli::main()
}
