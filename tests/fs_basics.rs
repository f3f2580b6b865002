//! `keen::fs` on every configuration: each free function round-trips,
//! errors are the OS's own (kind and `raw_os_error` equal to `std`'s for
//! the same call), `File` writes, reads and seeks through its buffer
//! (read-ahead is given back before a write), `read_dir` lists more
//! entries than one chunk, `flush` reports a write that failed after
//! `poll_write` returned, a write dropped unflushed still lands, a few MiB
//! go through `write_all`/`read_to_end`, a cancelled read or seek loses
//! nothing, tokio's traits work (feature `tokio-io`), and outside a
//! runtime every operation is an error, not a panic.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use keen::fs::{self, File, OpenOptions};
use keen::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
use keen_suite::{ALL, each, poll_once, run_in_task};

/// A fresh directory of its own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("keen-fs-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `got` is the error `std` gives for the same operation.
fn same_error(got: io::Error, std: io::Error) {
    assert_eq!(got.kind(), std.kind(), "{got} vs {std}");
    assert_eq!(got.raw_os_error(), std.raw_os_error(), "{got} vs {std}");
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn every_free_function_round_trips() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let dir = TempDir::new("free");
        let root = dir.0.clone();
        run_in_task(&rt, async move {
            let a = root.join("a.txt");
            fs::write(&a, "hello").await.unwrap();
            assert_eq!(fs::read(&a).await.unwrap(), b"hello");
            assert_eq!(fs::read_to_string(&a).await.unwrap(), "hello");
            let meta = fs::metadata(&a).await.unwrap();
            assert!(meta.is_file() && meta.len() == 5);
            assert!(fs::try_exists(&a).await.unwrap());
            assert!(!fs::try_exists(root.join("missing")).await.unwrap());

            assert_eq!(fs::copy(&a, root.join("b.txt")).await.unwrap(), 5);
            fs::rename(root.join("b.txt"), root.join("c.txt"))
                .await
                .unwrap();
            assert!(!fs::try_exists(root.join("b.txt")).await.unwrap());
            assert_eq!(fs::read(root.join("c.txt")).await.unwrap(), b"hello");

            fs::hard_link(&a, root.join("hard")).await.unwrap();
            assert_eq!(fs::read(root.join("hard")).await.unwrap(), b"hello");
            fs::symlink(&a, root.join("soft")).await.unwrap();
            assert_eq!(fs::read_link(root.join("soft")).await.unwrap(), a);
            assert!(
                fs::symlink_metadata(root.join("soft"))
                    .await
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert!(fs::metadata(root.join("soft")).await.unwrap().is_file());
            assert_eq!(
                fs::canonicalize(root.join("soft")).await.unwrap(),
                std::fs::canonicalize(&a).unwrap()
            );

            let mut perm = fs::metadata(&a).await.unwrap().permissions();
            perm.set_readonly(true);
            fs::set_permissions(&a, perm.clone()).await.unwrap();
            assert!(fs::metadata(&a).await.unwrap().permissions().readonly());
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&a, std::fs::Permissions::from_mode(0o600))
                .await
                .unwrap();
            assert_eq!(
                fs::metadata(&a).await.unwrap().permissions().mode() & 0o777,
                0o600
            );

            fs::create_dir(root.join("d")).await.unwrap();
            fs::create_dir_all(root.join("d/e/f")).await.unwrap();
            assert!(fs::metadata(root.join("d/e/f")).await.unwrap().is_dir());
            fs::remove_dir(root.join("d/e/f")).await.unwrap();
            fs::write(root.join("d/e/g"), b"").await.unwrap();
            fs::remove_file(root.join("hard")).await.unwrap();
            fs::remove_dir_all(root.join("d")).await.unwrap();
            assert!(!fs::try_exists(root.join("d")).await.unwrap());
        });
    });
}

#[test]
fn errors_are_the_os_errors_unchanged() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let dir = TempDir::new("errors");
        let root = dir.0.clone();
        run_in_task(&rt, async move {
            let missing = root.join("missing");
            let err = fs::read(&missing).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
            same_error(err, std::fs::read(&missing).unwrap_err());
            same_error(
                File::open(&missing).await.unwrap_err(),
                std::fs::File::open(&missing).unwrap_err(),
            );
            same_error(
                fs::remove_file(&missing).await.unwrap_err(),
                std::fs::remove_file(&missing).unwrap_err(),
            );
            fs::create_dir(root.join("d")).await.unwrap();
            let err = fs::create_dir(root.join("d")).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
            same_error(err, std::fs::create_dir(root.join("d")).unwrap_err());
            fs::write(root.join("d/x"), b"x").await.unwrap();
            same_error(
                fs::remove_dir(root.join("d")).await.unwrap_err(),
                std::fs::remove_dir(root.join("d")).unwrap_err(),
            );
            let err = File::create_new(root.join("d/x")).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
            assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
            let err = fs::read_dir(&missing).await.unwrap_err();
            same_error(err, std::fs::read_dir(&missing).unwrap_err());
        });
    });
}

async fn open_rw(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .await
        .unwrap()
}

#[test]
fn file_writes_reads_and_seeks() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let dir = TempDir::new("file");
        let path = dir.join("f");
        run_in_task(&rt, async move {
            let mut file = open_rw(&path).await;
            file.write_all(b"0123456789").await.unwrap();
            assert_eq!(file.seek(SeekFrom::Start(0)).await.unwrap(), 0);
            let mut two = [0; 2];
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"01");
            // The write lands right after what was read.
            file.write_all(b"ab").await.unwrap();
            assert_eq!(file.stream_position().await.unwrap(), 4);
            file.seek(SeekFrom::Current(-2)).await.unwrap();
            let mut rest = String::new();
            file.read_to_string(&mut rest).await.unwrap();
            assert_eq!(rest, "ab456789");
            assert_eq!(std::fs::read(&path).unwrap(), b"01ab456789");
            // Read ahead again, then seek relative to the caller's position.
            file.seek(SeekFrom::Start(1)).await.unwrap();
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(file.seek(SeekFrom::Current(3)).await.unwrap(), 6);
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"67");

            file.set_len(4).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), 4);
            file.sync_all().await.unwrap();
            file.sync_data().await.unwrap();
            assert_eq!(
                file.stream_position().await.unwrap(),
                8,
                "set_len keeps the position"
            );

            let mut clone = file.try_clone().await.unwrap();
            clone.seek(SeekFrom::Start(0)).await.unwrap();
            let mut all = Vec::new();
            clone.read_to_end(&mut all).await.unwrap();
            assert_eq!(all, b"01ab");

            let mut std = file.into_std().await;
            use std::io::{Read, Seek};
            std.seek(SeekFrom::Start(2)).unwrap();
            let mut tail = String::new();
            std.read_to_string(&mut tail).unwrap();
            assert_eq!(tail, "ab");
            let mut back = File::from_std(std);
            back.write_all(b"cd").await.unwrap();
            back.flush().await.unwrap();
            assert!(back.try_into_std().is_ok());
            assert_eq!(std::fs::read(&path).unwrap(), b"01abcd");
        });
    });
}

/// Occupies the runtime's only blocking thread until the returned sender
/// is dropped, so the next file job queues behind it (its poll is Pending).
async fn hold_the_blocking_thread() -> std::sync::mpsc::Sender<()> {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, wait_started) = std::sync::mpsc::channel();
    drop(keen::spawn_blocking(move || {
        started.send(()).unwrap();
        let _ = held.recv();
    }));
    wait_started.recv().unwrap();
    release
}

#[test]
fn read_ahead_is_given_back_before_a_write_or_seek() {
    each(&ALL, |cfg| {
        let rt = cfg.builder().max_blocking_threads(1).build().unwrap();
        let dir = TempDir::new("read-ahead");
        let path = dir.join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        run_in_task(&rt, async move {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            // A 100-byte read is queued, then given up: its job reads the
            // whole file ahead into the buffer (the OS position is then 10).
            let release = hold_the_blocking_thread().await;
            let mut big = [0; 100];
            let mut read = Box::pin(file.read(&mut big));
            assert!(poll_once(&mut read).is_pending());
            drop(read);
            drop(release);
            let mut two = [0; 2];
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"01");
            // The write lands at the caller's position, 2.
            file.write_all(b"ab").await.unwrap();
            file.flush().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"01ab456789");

            // Same with a relative seek after read-ahead.
            file.seek(SeekFrom::Start(0)).await.unwrap();
            let release = hold_the_blocking_thread().await;
            let mut read = Box::pin(file.read(&mut big));
            assert!(poll_once(&mut read).is_pending());
            drop(read);
            drop(release);
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(file.seek(SeekFrom::Current(3)).await.unwrap(), 5);
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"56");
            // And set_len keeps the caller's position (7), not the OS's.
            let release = hold_the_blocking_thread().await;
            let mut read = Box::pin(file.read(&mut big));
            assert!(poll_once(&mut read).is_pending());
            drop(read);
            drop(release);
            file.set_len(9).await.unwrap();
            assert_eq!(file.stream_position().await.unwrap(), 7);
        });
    });
}

#[test]
fn read_dir_lists_every_entry() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let dir = TempDir::new("read-dir");
        let root = dir.0.clone();
        run_in_task(&rt, async move {
            // More than one chunk of 32.
            let mut expected = BTreeSet::new();
            for i in 0..70 {
                let name = format!("file{i:02}");
                fs::write(root.join(&name), name.as_bytes()).await.unwrap();
                expected.insert(name);
            }
            fs::create_dir(root.join("sub")).await.unwrap();
            expected.insert("sub".to_owned());

            let mut entries = fs::read_dir(&root).await.unwrap();
            let mut seen = BTreeSet::new();
            while let Some(entry) = entries.next_entry().await.unwrap() {
                let name = entry.file_name().into_string().unwrap();
                assert_eq!(entry.path(), root.join(&name));
                let is_dir = entry.file_type().await.unwrap().is_dir();
                assert_eq!(is_dir, name == "sub");
                if !is_dir {
                    assert_eq!(entry.metadata().await.unwrap().len(), name.len() as u64);
                }
                assert!(seen.insert(name), "listed twice");
            }
            assert_eq!(seen, expected);
            assert!(entries.next_entry().await.unwrap().is_none(), "stays ended");

            // A cancelled next_entry loses no entry.
            let mut entries = fs::read_dir(&root).await.unwrap();
            let mut count = 0;
            {
                let mut next = Box::pin(entries.next_entry());
                if let Poll::Ready(entry) = poll_once(&mut next) {
                    count += usize::from(entry.unwrap().is_some());
                }
            }
            while entries.next_entry().await.unwrap().is_some() {
                count += 1;
            }
            assert_eq!(count, expected.len());
        });
    });
}

#[test]
fn flush_reports_a_write_that_failed_in_flight() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let dir = TempDir::new("flush-error");
        let path = dir.join("ro");
        std::fs::write(&path, b"").unwrap();
        run_in_task(&rt, async move {
            let mut file = File::open(&path).await.unwrap(); // read-only
            // The write is accepted into the buffer; the OS refuses it on
            // the blocking pool.
            assert_eq!(file.write(b"x").await.unwrap(), 1);
            let err = file.flush().await.unwrap_err();
            use std::io::Write;
            let std_err = std::fs::File::open(&path).unwrap().write(b"x").unwrap_err();
            same_error(err, std_err);
            file.flush().await.unwrap(); // reported once
            // Through sync_all too.
            assert_eq!(file.write(b"y").await.unwrap(), 1);
            assert!(file.sync_all().await.is_err());
        });
    });
}

#[test]
fn a_write_dropped_unflushed_still_lands() {
    each(&ALL, |cfg| {
        // One blocking thread: jobs run in order, so a job spawned after
        // the write finishing means the write finished.
        let rt = cfg.builder().max_blocking_threads(1).build().unwrap();
        let dir = TempDir::new("drop-unflushed");
        let path = dir.join("f");
        run_in_task(&rt, async move {
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"not flushed").await.unwrap();
            drop(file);
            keen::spawn_blocking(|| ()).await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"not flushed");
        });
    });
}

#[test]
fn a_few_mebibytes_round_trip() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let dir = TempDir::new("large");
        let path = dir.join("big");
        run_in_task(&rt, async move {
            let data = pattern(5 * 1024 * 1024 + 123);
            let mut file = File::create(&path).await.unwrap();
            file.write_all(&data).await.unwrap();
            file.flush().await.unwrap();
            drop(file);
            let mut back = Vec::new();
            File::open(&path)
                .await
                .unwrap()
                .read_to_end(&mut back)
                .await
                .unwrap();
            assert!(back == data, "{} bytes back of {}", back.len(), data.len());
            assert_eq!(fs::read(&path).await.unwrap().len(), data.len());
        });
    });
}

#[test]
fn a_cancelled_read_or_seek_loses_nothing() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let dir = TempDir::new("cancel");
        let path = dir.join("f");
        let data = pattern(1024 * 1024);
        std::fs::write(&path, &data).unwrap();
        run_in_task(&rt, async move {
            let mut file = File::open(&path).await.unwrap();
            let mut got = Vec::new();
            // Cancel reads mid-way: whatever the dropped read took stays in
            // the file's buffer for the next one.
            for _ in 0..3 {
                let mut buf = vec![0; 64 * 1024];
                let mut read = Box::pin(file.read(&mut buf));
                let done = poll_once(&mut read);
                drop(read);
                if let Poll::Ready(n) = done {
                    got.extend_from_slice(&buf[..n.unwrap()]);
                }
                let n = file.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            file.read_to_end(&mut got).await.unwrap();
            assert!(got == data, "{} bytes of {}", got.len(), data.len());

            // A seek given up, then another: the second is what counts.
            let mut seek = Box::pin(file.seek(SeekFrom::Start(100)));
            let _ = poll_once(&mut seek);
            drop(seek);
            assert_eq!(file.seek(SeekFrom::Start(10)).await.unwrap(), 10);
            let mut one = [0; 1];
            file.read_exact(&mut one).await.unwrap();
            assert_eq!(one[0], data[10]);
        });
    });
}

#[test]
fn tokio_traits_drive_the_same_file() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let dir = TempDir::new("tokio");
        let path = dir.join("f");
        run_in_task(&rt, async move {
            let mut file = open_rw(&path).await;
            tokio::io::AsyncWriteExt::write_all(&mut file, b"tokio traits")
                .await
                .unwrap();
            tokio::io::AsyncWriteExt::flush(&mut file).await.unwrap();
            assert_eq!(
                tokio::io::AsyncSeekExt::seek(&mut file, SeekFrom::Start(6))
                    .await
                    .unwrap(),
                6
            );
            let mut rest = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut file, &mut rest)
                .await
                .unwrap();
            assert_eq!(rest, "traits");
            tokio::io::AsyncWriteExt::shutdown(&mut file).await.unwrap();
        });
    });
}

#[test]
fn outside_a_runtime_every_operation_is_an_error() {
    let dir = TempDir::new("outside");
    let path = dir.join("f");
    std::fs::write(&path, b"data").unwrap();
    let mut read = Box::pin(fs::read(&path));
    match poll_once(&mut read) {
        Poll::Ready(Err(err)) => assert!(err.to_string().contains("runtime"), "{err}"),
        other => panic!("expected an error, got {other:?}"),
    }
    let mut file = File::from_std(std::fs::File::open(&path).unwrap());
    let mut buf = [0; 4];
    let mut read = Box::pin(file.read(&mut buf));
    assert!(matches!(poll_once(&mut read), Poll::Ready(Err(_))));
}

#[test]
fn the_types_are_send_and_sync_like_tokios() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<File>();
    send_sync::<OpenOptions>();
    send_sync::<fs::ReadDir>();
    send_sync::<fs::DirEntry>();
}
