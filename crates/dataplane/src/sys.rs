//! Thin wrappers over the system calls the data plane needs: mmap'ed regions, eventfd,
//! socket options. Each wrapper owns what it creates and releases it on drop.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;

use crate::error::{Error, Result};

/// A memory mapping released with munmap on drop.
#[derive(Debug)]
pub(crate) struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; moving the owner to another
// thread moves the only handle to it.
unsafe impl Send for Mmap {}

impl Mmap {
    /// An anonymous private mapping of `len` bytes, pre-faulted.
    pub(crate) fn anonymous(len: usize) -> Result<Self> {
        // SAFETY: a fresh anonymous mapping aliases nothing; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        Self::checked(p, len, "mmap(umem)")
    }

    /// A shared mapping of `len` bytes of `fd` at `offset` (AF_XDP rings).
    pub(crate) fn shared(fd: RawFd, len: usize, offset: u64) -> Result<Self> {
        // SAFETY: mapping a kernel-provided ring of an open socket; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd,
                offset as libc::off_t,
            )
        };
        Self::checked(p, len, "mmap(ring)")
    }

    fn checked(p: *mut libc::c_void, len: usize, call: &'static str) -> Result<Self> {
        if p == libc::MAP_FAILED {
            return Err(Error::last_os(call));
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or_else(|| Error::last_os(call))?;
        Ok(Mmap { ptr, len })
    }

    /// The first byte of the mapping.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: ptr/len describe a mapping we created and nobody else unmaps.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// An eventfd used to wake a thread blocked in poll().
#[derive(Debug)]
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    /// A non-blocking, close-on-exec eventfd.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: eventfd has no memory arguments; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(Error::last_os("eventfd"));
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Wake the poller.
    pub(crate) fn notify(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64. A full counter (EAGAIN) still wakes.
        unsafe {
            libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8);
        }
    }

    /// Reset the counter after a wake-up.
    pub(crate) fn drain(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64; EAGAIN (nothing pending) is fine.
        unsafe {
            libc::read(self.0.as_raw_fd(), (&mut v as *mut u64).cast(), 8);
        }
    }
}

impl AsRawFd for EventFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// setsockopt with a plain-old-data value.
pub(crate) fn setsockopt<T>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
    call: &'static str,
) -> Result<()> {
    // SAFETY: value points to a live T of the size passed; the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(Error::last_os(call));
    }
    Ok(())
}

/// getsockopt into a plain-old-data value; returns the length the kernel wrote.
pub(crate) fn getsockopt<T>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &mut T,
    call: &'static str,
) -> Result<usize> {
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: value points to a live, writable T and len holds its size.
    let rc = unsafe { libc::getsockopt(fd, level, name, (value as *mut T).cast(), &mut len) };
    if rc < 0 {
        return Err(Error::last_os(call));
    }
    Ok(len as usize)
}

/// poll() over `fds`; EINTR counts as "nothing ready".
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: fds is a live, writable slice of pollfd of the length passed.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(rc as usize)
}

/// Interface index of `name`, if it exists.
pub(crate) fn if_index(name: &str) -> Result<u32> {
    let c = std::ffi::CString::new(name).map_err(|_| Error::NoInterface(name.to_string()))?;
    // SAFETY: c is a valid NUL-terminated string for the duration of the call.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        return Err(Error::NoInterface(name.to_string()));
    }
    Ok(idx)
}
