//! The per-worker director: one entry point turning a frame and `now` into a verdict.
