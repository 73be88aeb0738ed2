//! HTML page of `driftgate check` (being written).
