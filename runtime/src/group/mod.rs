//! Task groups: structured concurrency on top of cancel scopes (see
//! `docs/structured-concurrency.md`).
