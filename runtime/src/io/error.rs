//! The errors keen's I/O returns for misuse and for a runtime that is gone,
//! each naming the cause and the fix.

use std::io;

/// Message of the error for a socket created outside any runtime.
pub(crate) const NO_RUNTIME: &str = "there is no keen runtime on this thread, and keen sockets \
     register with a runtime's I/O reactor: create them inside `Runtime::block_on` or a task, or \
     make a runtime current first with `Handle::enter` (or `Runtime::enter`)";

/// Message of the error for a socket used after its runtime shut down.
pub(crate) const SHUT_DOWN: &str = "the keen runtime this socket was registered with has shut \
     down, so its I/O reactor is gone: the socket can no longer wait for readiness (keep the \
     runtime alive while its sockets are in use)";

/// A socket was created outside any runtime.
pub(crate) fn no_runtime() -> io::Error {
    io::Error::other(NO_RUNTIME)
}

/// The socket's runtime shut down.
pub(crate) fn shut_down() -> io::Error {
    io::Error::other(SHUT_DOWN)
}
