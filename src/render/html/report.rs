//! HTML page of `driftgate report` (being written).
