//! Runtime construction shared by the side-by-side benches: the same
//! flavours, built the same way, for keen and for tokio.

/// A keen runtime: current-thread, or multi-thread with 2 workers.
pub fn keen_rt(multi: bool) -> keen::Runtime {
    let mut b = if multi {
        keen::runtime::Builder::new_multi_thread()
    } else {
        keen::runtime::Builder::new_current_thread()
    };
    if multi {
        b.worker_threads(2);
    }
    b.build().unwrap()
}

/// A tokio runtime of the same flavour, with timers enabled.
pub fn tokio_rt(multi: bool) -> tokio::runtime::Runtime {
    let mut b = if multi {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    if multi {
        b.worker_threads(2);
    }
    b.enable_all().build().unwrap()
}

/// The flavour's label in bench ids.
pub fn flavor(multi: bool) -> &'static str {
    if multi {
        "multi_thread(2)"
    } else {
        "current_thread"
    }
}
