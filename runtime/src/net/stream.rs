//! What every keen stream (`TcpStream`, `UnixStream`) has in common,
//! written once as a macro over a type with an `io: IoSource<_>` field:
//! readiness futures, `try_*` operations, `split`/`into_split`, and the
//! futures-io `AsyncRead`/`AsyncWrite` impls.
//!
//! Cancel safety: `readable`, `writable`, `ready` and a `read` through
//! `AsyncReadExt` consume nothing until they complete, so dropping them
//! (a timeout, a cancelled scope) loses no byte. A `write` reports what it
//! wrote; `write_all` is not cancel-safe (it may have written a part).

macro_rules! impl_stream {
    ($ty:ident) => {
        impl $ty {
            /// Waits until any readiness in `interest` is set; every waiting
            /// task is woken. Cancel-safe. The readiness may be spurious:
            /// `try_*` then returns `WouldBlock` and the next wait waits.
            pub async fn ready(
                &self,
                interest: $crate::io::Interest,
            ) -> std::io::Result<$crate::io::Ready> {
                Ok(self.io.registration().readiness(interest).await?.ready)
            }

            /// Waits until the stream is readable. Cancel-safe.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.ready($crate::io::Interest::READABLE).await.map(drop)
            }

            /// Waits until the stream is writable. Cancel-safe.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.ready($crate::io::Interest::WRITABLE).await.map(drop)
            }

            /// Reads what is there without waiting: `WouldBlock` if nothing
            /// is (`Ok(0)`: end of file).
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                use std::io::Read;
                self.io
                    .registration()
                    .try_io($crate::io::Interest::READABLE, || (&*self.io).read(buf))
            }

            /// Vectored [`try_read`](Self::try_read).
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                use std::io::Read;
                self.io
                    .registration()
                    .try_io($crate::io::Interest::READABLE, || {
                        (&*self.io).read_vectored(bufs)
                    })
            }

            /// Writes what fits without waiting: `WouldBlock` if nothing
            /// does. Never raises SIGPIPE: a closed peer is `BrokenPipe`.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.io
                    .registration()
                    .try_io($crate::io::Interest::WRITABLE, || {
                        $crate::io::nosignal_send(&*self.io, buf)
                    })
            }

            /// Vectored [`try_write`](Self::try_write).
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                self.io
                    .registration()
                    .try_io($crate::io::Interest::WRITABLE, || {
                        $crate::io::nosignal_send_vectored(&*self.io, bufs)
                    })
            }

            /// Runs `f` (a non-blocking operation on the socket) if the
            /// stream is ready for `interest`; on `WouldBlock` clears that
            /// readiness so the next wait waits.
            pub fn try_io<R>(
                &self,
                interest: $crate::io::Interest,
                f: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.registration().try_io(interest, f)
            }

            /// Waits for `interest` and runs `f` until it does not return
            /// `WouldBlock`.
            pub async fn async_io<R>(
                &self,
                interest: $crate::io::Interest,
                f: impl FnMut() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.registration().async_io(interest, f).await
            }

            /// Borrowed halves: read in one task while writing in another,
            /// without an `Arc`.
            ///
            /// With `keen::io::AsyncReadExt` in scope, method syntax
            /// (`stream.split()`) picks futures-util's consuming
            /// `AsyncReadExt::split` (a by-value method wins over this
            /// `&mut self` one); call it by path, `TcpStream::split(&mut
            /// stream)`, or use [`into_split`](Self::into_split).
            pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
                (
                    $crate::net::split::ReadHalf(self),
                    $crate::net::split::WriteHalf(self),
                )
            }

            /// Owned halves (one `Arc`), e.g. to move them into two tasks.
            /// Dropping the write half shuts the write side down.
            pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
                $crate::net::split::into_split(self)
            }
        }

        impl $crate::net::split::Split for $ty {
            fn poll_read_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
            fn poll_read_uninit_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [std::mem::MaybeUninit<u8>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read_uninit(cx, buf)
            }
            fn poll_read_vectored_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read_vectored(cx, bufs)
            }
            fn poll_write_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }
            fn poll_write_vectored_ref(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write_vectored(cx, bufs)
            }
            fn shutdown_write(&self) -> std::io::Result<()> {
                self.io.shutdown(std::net::Shutdown::Write)
            }
        }

        /// Reads wait in the stream's read slot (the last task to poll is
        /// woken). Cancel-safe: `Pending` means nothing was read.
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read_vectored(cx, bufs)
            }
        }

        /// Writes never raise SIGPIPE; `poll_close` shuts the write side
        /// down (the peer reads end of file); `poll_flush` has nothing to do.
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }
            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write_vectored(cx, bufs)
            }
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.io.shutdown(std::net::Shutdown::Write))
            }
        }

        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(&*self.io)
            }
        }
    };
}

pub(crate) use impl_stream;
