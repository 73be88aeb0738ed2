//! The `driftgate` binary: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    // Transparent huge pages make every freshly touched 2 MiB of heap cost a 2 MiB zeroing;
    // driftgate's short-lived, allocation-heavy runs spent a third of their time there.
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    driftgate::main_entry()
}

// Snapshots build and drop hundreds of thousands of small strings and JSON values; mimalloc
// does that markedly faster than glibc's allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
