//! `keen::sync::oneshot` and `keen::sync::mpsc` on every runtime
//! configuration: delivery across tasks, plain threads and two runtimes
//! (async and blocking forms), closed detection from both ends, tokio's
//! close rules (close → senders fail, queued messages drain, then `None`;
//! dropped receiver → queued messages dropped), FIFO service of blocked
//! senders, cancel-safety (a dropped `recv` loses no message; a dropped
//! `send` passes its slot on; scopes cancelling either), and exact counts
//! under many producers.

use std::task::Poll;
use std::thread;
use std::time::Duration;

use keen::scope::move_on_after;
use keen::sync::mpsc::error::{TryRecvError, TrySendError};
use keen::sync::{mpsc, oneshot};
use keen::task::yield_now;
use keen_suite::{
    ALL, DropCounter, announce_pending, each, panic_message, poll_once, run_in_task, signal,
};

const MS: Duration = Duration::from_millis(1);

// ---- oneshot -------------------------------------------------------------

#[test]
fn oneshot_delivers_across_tasks_threads_and_runtimes() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        // Task to task.
        let got = run_in_task(&rt, async {
            let (tx, rx) = oneshot::channel();
            keen::spawn(async move {
                yield_now().await;
                tx.send(1).unwrap();
            });
            rx.await.unwrap()
        });
        assert_eq!(got, 1);
        // Plain thread to task, task to plain thread (blocking_recv).
        let (tx, rx) = oneshot::channel();
        let (back_tx, back_rx) = oneshot::channel();
        let helper = thread::spawn(move || {
            tx.send(2).unwrap();
            back_rx.blocking_recv().unwrap()
        });
        let got = run_in_task(&rt, async move {
            let got = rx.await.unwrap();
            back_tx.send(got + 1).unwrap();
            got
        });
        assert_eq!(got, 2);
        assert_eq!(helper.join().unwrap(), 3);
        // A task on another runtime answers.
        let other = ALL[2].build();
        let (tx, rx) = oneshot::channel();
        let answer = other.spawn(async move { tx.send("other runtime") });
        assert_eq!(run_in_task(&rt, rx), Ok("other runtime"));
        other.block_on(answer).unwrap().unwrap();
    });
}

#[test]
fn oneshot_closed_detection_from_both_ends() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            // Sender dropped unsent: the receiver sees the error.
            let (tx, rx) = oneshot::channel::<u8>();
            keen::spawn(async move {
                yield_now().await;
                drop(tx);
            });
            assert!(rx.await.is_err());
            // Receiver dropped: `closed()` wakes, `send` hands the value back.
            let (mut tx, rx) = oneshot::channel::<String>();
            keen::spawn(async move {
                yield_now().await;
                drop(rx);
            });
            tx.closed().await;
            assert!(tx.is_closed());
            assert_eq!(tx.send("unread".into()), Err("unread".into()));
            // Receiver closed: a value sent before stays readable.
            let (tx, mut rx) = oneshot::channel();
            tx.send(5).unwrap();
            rx.close();
            assert_eq!(rx.try_recv(), Ok(5));
            let (tx, mut rx) = oneshot::channel::<u8>();
            rx.close();
            assert_eq!(tx.send(6), Err(6));
            assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Closed));
        });
    });
}

#[test]
fn a_cancelled_oneshot_wait_loses_no_value() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let (tx, mut rx) = oneshot::channel();
            assert!(move_on_after(5 * MS, &mut rx).await.is_none());
            tx.send(7).unwrap();
            assert_eq!(move_on_after(5 * MS, &mut rx).await, Some(Ok(7)));
        });
    });
}

#[test]
fn an_unread_oneshot_value_is_dropped_with_the_receiver() {
    let drops = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    tx.send(drops.token()).unwrap();
    assert_eq!(drops.get(), 0);
    drop(rx);
    assert_eq!(drops.get(), 1);
}

// ---- mpsc: delivery and counts --------------------------------------------

#[test]
fn many_producers_deliver_every_message_in_per_producer_order() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (bounded, unbounded) = run_in_task(&rt, async {
            let (tx, mut rx) = mpsc::channel(4);
            for p in 0..8u64 {
                let tx = tx.clone();
                keen::spawn(async move {
                    for i in 0..500 {
                        tx.send((p, i)).await.unwrap();
                    }
                });
            }
            drop(tx);
            let mut next = [0u64; 8];
            let mut count = 0;
            while let Some((p, i)) = rx.recv().await {
                assert_eq!(next[p as usize], i, "producer {p} out of order");
                next[p as usize] += 1;
                count += 1;
            }
            let (utx, mut urx) = mpsc::unbounded_channel();
            for p in 0..8u64 {
                let utx = utx.clone();
                keen::spawn(async move {
                    for i in 0..500 {
                        utx.send((p, i)).unwrap();
                        if i % 50 == 0 {
                            yield_now().await;
                        }
                    }
                });
            }
            drop(utx);
            let mut unext = [0u64; 8];
            let mut ucount = 0;
            while let Some((p, i)) = urx.recv().await {
                assert_eq!(unext[p as usize], i);
                unext[p as usize] += 1;
                ucount += 1;
            }
            (count, ucount)
        });
        assert_eq!((bounded, unbounded), (4000, 4000));
    });
}

#[test]
fn plain_threads_and_two_runtimes_feed_one_receiver() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (tx, mut rx) = mpsc::channel::<u64>(8);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 1..=300 {
                        tx.blocking_send(i).unwrap();
                    }
                })
            })
            .collect();
        let other = ALL[2].build();
        let remote = other.spawn({
            let tx = tx.clone();
            async move {
                for i in 1..=300 {
                    tx.send(i).await.unwrap();
                }
            }
        });
        drop(tx);
        let sum = run_in_task(&rt, async move {
            let mut sum = 0;
            while let Some(i) = rx.recv().await {
                sum += i;
            }
            sum
        });
        for t in threads {
            t.join().unwrap();
        }
        other.block_on(remote).unwrap();
        assert_eq!(sum, 3 * 300 * 301 / 2);
    });
}

#[test]
fn a_plain_thread_receives_with_blocking_recv() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (tx, mut rx) = mpsc::channel(2);
        let (utx, mut urx) = mpsc::unbounded_channel();
        let consumer = thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(i) = rx.blocking_recv() {
                got.push(i);
            }
            while let Some(i) = urx.blocking_recv() {
                got.push(i);
            }
            got
        });
        run_in_task(&rt, async move {
            for i in 0..50 {
                tx.send(i).await.unwrap();
            }
            drop(tx);
            for i in 50..100 {
                utx.send(i).unwrap();
            }
        });
        assert_eq!(consumer.join().unwrap(), (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn blocking_send_and_recv_in_async_context_panic() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let messages = run_in_task(&rt, async {
            let (tx, mut rx) = mpsc::channel::<u8>(1);
            let send = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tx.blocking_send(1).ok();
            }));
            let recv = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rx.blocking_recv();
            }));
            [
                panic_message(&*send.unwrap_err()),
                panic_message(&*recv.unwrap_err()),
            ]
        });
        assert!(messages[0].contains("blocking_send"), "{}", messages[0]);
        assert!(messages[1].contains("blocking_recv"), "{}", messages[1]);
    });
}

// ---- mpsc: closing ----------------------------------------------------------

#[test]
fn close_fails_senders_and_lets_the_receiver_drain() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, mut rx) = mpsc::channel(2);
            tx.send(1).await.unwrap();
            tx.send(2).await.unwrap();
            // A sender blocked on the full channel.
            let (queued, is_queued) = signal();
            let blocked = keen::spawn({
                let tx = tx.clone();
                async move { announce_pending(tx.send(3), queued).await }
            });
            is_queued.await;
            let (closed_seen, is_closed_seen) = signal();
            let watcher = keen::spawn({
                let tx = tx.clone();
                async move {
                    announce_pending(tx.closed(), closed_seen).await;
                }
            });
            is_closed_seen.await;
            rx.close();
            assert_eq!(blocked.await.unwrap().unwrap_err().0, 3);
            watcher.await.unwrap();
            assert!(tx.is_closed() && rx.is_closed());
            assert!(matches!(tx.try_send(4), Err(TrySendError::Closed(4))));
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(rx.recv().await, None);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        });
    });
}

#[test]
fn dropping_the_receiver_drops_queued_messages_and_fails_senders() {
    let drops = DropCounter::new();
    let (tx, rx) = mpsc::channel(4);
    let (utx, urx) = mpsc::unbounded_channel();
    for _ in 0..3 {
        tx.try_send(drops.token()).unwrap();
        utx.send(drops.token()).unwrap();
    }
    drop(rx);
    drop(urx);
    assert_eq!(drops.get(), 6);
    assert!(tx.is_closed() && utx.is_closed());
    assert!(tx.try_send(drops.token()).is_err());
    assert!(utx.send(drops.token()).is_err());
    assert_eq!(drops.get(), 8, "the refused values come back and drop here");
}

#[test]
fn the_receiver_sees_the_end_only_after_the_queue_drains() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    let tx2 = tx.clone();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "one sender is left"
    );
    tx2.send(2).unwrap();
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

// ---- mpsc: fairness and cancel-safety ---------------------------------------

#[test]
fn blocked_senders_are_served_in_order_and_try_send_cannot_barge() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut first = Box::pin(tx.send(1));
    let mut second = Box::pin(tx.send(2));
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // frees the slot: handed to `first`
    assert!(
        matches!(tx.try_send(9), Err(TrySendError::Full(9))),
        "barged"
    );
    assert!(poll_once(&mut second).is_pending());
    assert!(poll_once(&mut first).is_ready());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(poll_once(&mut second).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn a_dropped_send_passes_its_slot_on_and_loses_no_queued_message() {
    let drops = DropCounter::new();
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(Some(drops.token())).unwrap();
    let mut first = Box::pin(tx.send(None));
    let mut second = Box::pin(tx.send(None));
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    let queued = rx.try_recv().unwrap(); // slot handed to `first`
    assert!(queued.is_some(), "the queued message survived");
    drop(first); // its value is dropped unsent, its slot goes to `second`
    assert!(poll_once(&mut second).is_ready());
    assert!(rx.try_recv().unwrap().is_none(), "`second`'s message");
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    drop(queued);
    assert_eq!(drops.get(), 1);
}

#[test]
fn scopes_cancelling_recv_and_send_lose_nothing() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let (tx, mut rx) = mpsc::channel(1);
            // A recv cancelled while waiting loses no later message.
            assert!(move_on_after(5 * MS, rx.recv()).await.is_none());
            tx.send(1).await.unwrap();
            // A send cancelled while the channel is full leaves the queue
            // as it was, and the slot free for the next sender.
            assert!(move_on_after(5 * MS, tx.send(2)).await.is_none());
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(tx.capacity(), 1);
            tx.send(3).await.unwrap();
            assert_eq!(rx.recv().await, Some(3));
            // The same for the unbounded channel's recv.
            let (utx, mut urx) = mpsc::unbounded_channel();
            assert!(move_on_after(5 * MS, urx.recv()).await.is_none());
            utx.send(4).unwrap();
            assert_eq!(urx.recv().await, Some(4));
        });
    });
}

#[test]
fn recv_many_takes_what_is_queued_up_to_the_limit() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (tx, mut rx) = mpsc::channel(8);
            for i in 0..5 {
                tx.send(i).await.unwrap();
            }
            let mut buf = Vec::new();
            assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
            assert_eq!(tx.capacity(), 6, "three slots came back");
            assert_eq!(rx.recv_many(&mut buf, 10).await, 2);
            assert_eq!(buf, [0, 1, 2, 3, 4]);
            drop(tx);
            assert_eq!(rx.recv_many(&mut buf, 10).await, 0);
        });
    });
}

#[test]
fn poll_recv_sees_a_message_sent_after_it_returned_pending() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(rx.poll_recv(&mut cx).is_pending());
    tx.send(1).unwrap();
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
}

#[test]
fn request_reply_server_answers_every_client() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let answered = run_in_task(&rt, async {
            let (tx, mut rx) = mpsc::channel::<(u32, oneshot::Sender<u32>)>(16);
            let server = keen::spawn(async move {
                while let Some((n, reply)) = rx.recv().await {
                    let _ = reply.send(n * 2);
                }
            });
            let clients: Vec<_> = (0..20)
                .map(|c| {
                    let tx = tx.clone();
                    keen::spawn(async move {
                        let mut ok = 0;
                        for i in 0..50 {
                            let (reply, answer) = oneshot::channel();
                            tx.send((c * 100 + i, reply)).await.unwrap();
                            assert_eq!(answer.await.unwrap(), (c * 100 + i) * 2);
                            ok += 1;
                        }
                        ok
                    })
                })
                .collect();
            drop(tx);
            let mut answered = 0;
            for c in clients {
                answered += c.await.unwrap();
            }
            server.await.unwrap();
            answered
        });
        assert_eq!(answered, 1000);
    });
}

#[test]
fn slots_free_per_received_message_and_taken_batches_drop_with_the_receiver() {
    let drops = DropCounter::new();
    let (tx, mut rx) = mpsc::channel(4);
    for _ in 0..4 {
        tx.try_send(drops.token()).unwrap();
    }
    assert_eq!(tx.capacity(), 0);
    // The first receive moves the whole queue to the receiver's side, but
    // only the message handed out frees its slot.
    let first = rx.try_recv().unwrap();
    assert_eq!(tx.capacity(), 1);
    assert_eq!(rx.len(), 3);
    tx.try_send(drops.token()).unwrap();
    assert_eq!(rx.len(), 4);
    assert!(matches!(
        tx.try_send(drops.token()),
        Err(TrySendError::Full(_))
    ));
    assert_eq!(drops.get(), 1, "the refused value dropped");
    drop(first);
    drop(rx);
    assert_eq!(
        drops.get(),
        6,
        "every message, taken or still queued, dropped"
    );
}
