//! SCTP common header (RFC 9260 §3.1) and chunk walking; CRC32c checksum (RFC 3309).
//!
//! [`Packet::new_checked`] checks the 12-byte common header; chunks are read through
//! [`Packet::chunks`], which stops at the first chunk that does not fit. No accessor panics
//! after the check. The checksum is CRC32c over the whole packet with the checksum field
//! zeroed, stored least-significant byte first (RFC 9260 appendix A sample code), so a
//! port rewrite needs a full [`Packet::fill_checksum`] (there is no incremental form).

use crate::{Error, Result, checksum};

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const VERIFICATION_TAG: Field = 4..8;
    pub const CHECKSUM: Field = 8..12;
}

/// Length of the SCTP common header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;
/// Length of a chunk header (type, flags, length).
pub const CHUNK_HEADER_LEN: usize = 4;

/// Chunk types used by the IPVS SCTP state machine.
pub mod chunk_type {
    /// Payload data.
    pub const DATA: u8 = 0;
    /// Initiation.
    pub const INIT: u8 = 1;
    /// Initiation acknowledgement.
    pub const INIT_ACK: u8 = 2;
    /// Selective acknowledgement.
    pub const SACK: u8 = 3;
    /// Heartbeat request.
    pub const HEARTBEAT: u8 = 4;
    /// Heartbeat acknowledgement.
    pub const HEARTBEAT_ACK: u8 = 5;
    /// Abort.
    pub const ABORT: u8 = 6;
    /// Shutdown.
    pub const SHUTDOWN: u8 = 7;
    /// Shutdown acknowledgement.
    pub const SHUTDOWN_ACK: u8 = 8;
    /// Operation error.
    pub const ERROR: u8 = 9;
    /// State cookie.
    pub const COOKIE_ECHO: u8 = 10;
    /// Cookie acknowledgement.
    pub const COOKIE_ACK: u8 = 11;
    /// Shutdown complete.
    pub const SHUTDOWN_COMPLETE: u8 = 14;
}

/// A view of an SCTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

/// One chunk: its type, flags and value (without header and padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Chunk type (see [`chunk_type`]).
    pub chunk_type: u8,
    /// Chunk flags.
    pub flags: u8,
    /// Chunk value: `length - 4` bytes after the chunk header.
    pub value: &'a [u8],
}

/// Iterator over the chunks of a packet; ends at the first truncated or malformed chunk
/// ([`Chunks::malformed`] then tells).
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    rest: &'a [u8],
    malformed: bool,
}

impl Chunks<'_> {
    /// True if iteration stopped at bytes that were not a whole chunk.
    #[inline]
    pub fn malformed(&self) -> bool {
        self.malformed
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Chunk<'a>;

    #[inline]
    fn next(&mut self) -> Option<Chunk<'a>> {
        let [t, f, l0, l1, ..] = *self.rest else {
            self.malformed |= !self.rest.is_empty();
            self.rest = &[];
            return None;
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if len < CHUNK_HEADER_LEN || len > self.rest.len() {
            self.malformed = true;
            self.rest = &[];
            return None;
        }
        let value = &self.rest[CHUNK_HEADER_LEN..len];
        // Chunks are padded to 4 bytes; the last one's padding may be absent.
        let padded = len.next_multiple_of(4).min(self.rest.len());
        self.rest = &self.rest[padded..];
        Some(Chunk {
            chunk_type: t,
            flags: f,
            value,
        })
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the buffer holds the common header.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Returns the underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[0], d[1]])
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[2], d[3]])
    }

    /// Verification tag.
    #[inline]
    pub fn verification_tag(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[4], d[5], d[6], d[7]])
    }

    /// The CRC32c value in the checksum field (decoded from its little-endian bytes).
    #[inline]
    pub fn checksum(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_le_bytes([d[8], d[9], d[10], d[11]])
    }

    /// Chunk bytes after the common header.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    /// Iterates over the chunks.
    #[inline]
    pub fn chunks(&self) -> Chunks<'_> {
        Chunks {
            rest: self.payload(),
            malformed: false,
        }
    }

    /// Type of the first chunk, if there is a whole one.
    #[inline]
    pub fn first_chunk_type(&self) -> Option<u8> {
        self.chunks().next().map(|c| c.chunk_type)
    }

    /// CRC32c over the packet as if the checksum field were zero.
    #[inline]
    pub fn compute_checksum(&self) -> u32 {
        let d = self.buffer.as_ref();
        let crc = checksum::crc32c_update(!0, &d[..field::CHECKSUM.start]);
        let crc = checksum::crc32c_update(crc, &[0; 4]);
        !checksum::crc32c_update(crc, &d[HEADER_LEN..])
    }

    /// True if the CRC32c checksum verifies.
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        self.compute_checksum() == self.checksum()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port (recompute the checksum afterwards).
    #[inline]
    pub fn set_src_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::SRC_PORT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the destination port (recompute the checksum afterwards).
    #[inline]
    pub fn set_dst_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::DST_PORT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the verification tag.
    #[inline]
    pub fn set_verification_tag(&mut self, v: u32) {
        self.buffer.as_mut()[field::VERIFICATION_TAG].copy_from_slice(&v.to_be_bytes());
    }

    /// Stores a CRC32c value in the checksum field (little-endian bytes).
    #[inline]
    pub fn set_checksum(&mut self, v: u32) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_le_bytes());
    }

    /// Recomputes and stores the CRC32c checksum.
    #[inline]
    pub fn fill_checksum(&mut self) {
        let c = self.compute_checksum();
        self.set_checksum(c);
    }

    /// Mutable chunk bytes.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// An INIT (5000 -> 80, tag 0x12345678, TSN 0xdeadbeef, one "supported address types:
    /// IPv4" parameter), built by hand from RFC 9260 §3.3.2; its checksum bytes were
    /// computed with an independent bit-at-a-time CRC32c and stored LSB first.
    static INIT: [u8; 40] = [
        0x13, 0x88, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x30, 0x69, 0x7f, 0x82, 0x01, 0x00, 0x00,
        0x1a, 0x12, 0x34, 0x56, 0x78, 0x00, 0x01, 0xa0, 0x00, 0x00, 0x0a, 0xff, 0xff, 0xde, 0xad,
        0xbe, 0xef, 0x00, 0x0c, 0x00, 0x06, 0x00, 0x05, 0x00, 0x00,
    ];

    #[test]
    fn init_fields_and_checksum() {
        let p = Packet::new_checked(&INIT[..]).unwrap();
        assert_eq!(
            (p.src_port(), p.dst_port(), p.verification_tag()),
            (5000, 80, 0)
        );
        assert_eq!(p.checksum(), 0x827f_6930);
        assert!(p.verify_checksum());
        assert_eq!(p.first_chunk_type(), Some(chunk_type::INIT));
        let mut chunks = p.chunks();
        let c = chunks.next().unwrap();
        assert_eq!(
            (c.chunk_type, c.flags, c.value.len()),
            (chunk_type::INIT, 0, 22)
        );
        assert_eq!(&c.value[..4], &[0x12, 0x34, 0x56, 0x78]);
        assert!(chunks.next().is_none());
        assert!(!chunks.malformed());
    }

    #[test]
    fn rewrite_needs_and_gets_full_recompute() {
        let mut b = INIT;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_dst_port(8080);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        p.set_dst_port(80);
        p.fill_checksum();
        assert_eq!(b, INIT);
        b[20] ^= 1;
        assert!(!Packet::new_checked(&b[..]).unwrap().verify_checksum());
    }

    #[test]
    fn chunk_walk_stops_at_bad_chunk() {
        let mut b = INIT.to_vec();
        // Append a COOKIE_ACK, then a chunk claiming more bytes than remain.
        b.extend_from_slice(&[chunk_type::COOKIE_ACK, 0, 0, 4]);
        b.extend_from_slice(&[chunk_type::DATA, 3, 0, 200, 0, 0]);
        let p = Packet::new_checked(&b[..]).unwrap();
        let mut it = p.chunks();
        let types: Vec<u8> = it.by_ref().map(|c| c.chunk_type).collect();
        assert_eq!(types, [chunk_type::INIT, chunk_type::COOKIE_ACK]);
        assert!(it.malformed());
        // A length below 4 is malformed too, and a trailing fragment of a header.
        let mut z = INIT[..12].to_vec();
        z.extend_from_slice(&[chunk_type::ABORT, 0, 0, 2]);
        let p = Packet::new_checked(&z[..]).unwrap();
        assert_eq!(p.first_chunk_type(), None);
        let p = Packet::new_checked(&INIT[..14]).unwrap();
        let mut it = p.chunks();
        assert!(it.next().is_none() && it.malformed());
    }

    #[test]
    fn truncated_prefixes_rejected() {
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&INIT[..n]), Err(Error::Truncated));
        }
        for n in HEADER_LEN..INIT.len() {
            let p = Packet::new_checked(&INIT[..n]).unwrap();
            assert!(!p.verify_checksum());
            assert!(p.chunks().count() <= 1);
        }
    }
}
