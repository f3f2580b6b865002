//! Common concurrency patterns built on groups, scopes and `sync`.
