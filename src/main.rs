//! The `migrate` binary: a thin CLI over the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
