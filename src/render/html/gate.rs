//! HTML page of `driftgate gate` (being written).
