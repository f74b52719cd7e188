//! The `migrate` binary: a thin CLI over the library.

mod cli;

/// mimalloc: loading 100,000 revisions is allocation-heavy, and glibc's allocator was a
/// third of the time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
