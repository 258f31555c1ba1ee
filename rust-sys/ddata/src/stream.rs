//! Events as an async stream (feature `tokio`): tokio's AsyncFd waits on the
//! system's event fd, which is readable exactly while events are queued, and
//! the queue is drained with ordinary calls on the task's thread. Nothing is
//! called back from a hidden thread.
use std::os::unix::io::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::error::{Error, Result, Status};
use crate::system::{Event, System};

struct EventFd(RawFd);

impl AsRawFd for EventFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// A `futures_core::Stream` of a system's events; it never ends on its own.
/// Also usable without futures: `while let Some(ev) = stream.next().await`.
pub struct EventStream {
    // Declared first so it is dropped (deregistered) before `sys` can close
    // the system that owns the fd.
    fd: AsyncFd<EventFd>,
    sys: System,
}

impl EventStream {
    /// Must be called inside a tokio runtime with I/O enabled. The fd stays
    /// owned by the system (never closed here); the stream keeps it open.
    pub fn new(sys: &System) -> Result<EventStream> {
        let fd = sys.event_fd()?;
        // SAFETY: the fd belongs to the system, which stays open while this
        // stream holds `sys` (closing waits for the last handle), and the
        // AsyncFd is dropped first; the fd is never closed or replaced here.
        let fd = unsafe { AsyncFd::register_with_interest(EventFd(fd), Interest::READABLE) }
            .map_err(|e| Error::new(Status::Io, format!("cannot watch the event fd: {e}")))?;
        Ok(EventStream { sys: sys.clone(), fd })
    }

    /// The next event, waiting for one.
    pub async fn next(&mut self) -> Option<Result<Event>> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Event>>> {
        loop {
            let mut guard = match self.fd.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(g)) => g,
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(Some(Err(Error::new(Status::Io, format!("event fd: {e}")))))
                }
            };
            match self.sys.next_event() {
                Ok(Some(ev)) => return Poll::Ready(Some(Ok(ev))),
                Err(e) => return Poll::Ready(Some(Err(e))),
                // Empty: clear readiness (tokio keeps it if a new edge came
                // in meanwhile) and wait for the next one.
                Ok(None) => guard.clear_ready(),
            }
        }
    }
}

impl futures_core::Stream for EventStream {
    type Item = Result<Event>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Event>>> {
        self.get_mut().poll_event(cx)
    }
}
