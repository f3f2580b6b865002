//! Synchronisation primitives that work from any thread and any runtime.
