//! HTML page of `driftgate diff` (being written).
