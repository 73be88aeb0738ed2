//! The `driftgate` binary: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    driftgate::main_entry()
}

// Snapshots build and drop hundreds of thousands of small strings and JSON values; mimalloc
// does that markedly faster than glibc's allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
