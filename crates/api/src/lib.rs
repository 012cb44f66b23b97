//! The rvsd control protocol (versioned JSON lines) and a small blocking client.
