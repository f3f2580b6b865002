//! Glue that lets libraries written against another runtime's traits run
//! on keen (cargo feature `hyper`): [`hyper`]. The tokio I/O traits live
//! on the streams themselves (feature `tokio-io`, see [`crate::io`]).

pub mod hyper;
