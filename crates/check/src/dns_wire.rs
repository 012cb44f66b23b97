//! The few bytes of DNS that DNS_CHECK needs: one query out, the header of the reply in.
//!
//! The query is keepalived's: random id, RD set, one question of class IN. The reply is
//! judged on its header only (id, QR, RCODE); answers are not parsed, as keepalived.

use rvs_kaconf::DnsType;

/// Header length.
pub const HEADER_LEN: usize = 12;

/// The numeric QTYPE.
pub fn qtype_code(t: DnsType) -> u16 {
    match t {
        DnsType::A => 1,
        DnsType::Ns => 2,
        DnsType::Cname => 5,
        DnsType::Soa => 6,
        DnsType::Mx => 15,
        DnsType::Txt => 16,
        DnsType::Aaaa => 28,
    }
}

/// Why a name cannot be put in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// A label longer than 63 bytes.
    LabelTooLong,
    /// An empty label in the middle (`a..b`).
    EmptyLabel,
    /// The encoded name is longer than 255 bytes.
    NameTooLong,
}

/// Encodes a query for `name` (`""` or `"."` is the root; a trailing dot is optional).
pub fn encode_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, NameError> {
    let mut q = Vec::with_capacity(HEADER_LEN + name.len() + 6);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QD=1, AN=NS=AR=0
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let start = q.len();
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            if label.len() > 63 {
                return Err(NameError::LabelTooLong);
            }
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
    }
    q.push(0);
    if q.len() - start > 255 {
        return Err(NameError::NameTooLong);
    }
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes()); // IN
    Ok(q)
}

/// How a received datagram relates to the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Not the answer to our query (too short, other id, not a response): keep waiting.
    Ignore,
    /// Our answer, RCODE 0.
    Ok,
    /// Our answer with this non-zero RCODE.
    Error(u8),
}

/// Classifies a datagram received after sending query `id`.
pub fn classify_reply(id: u16, msg: &[u8]) -> Reply {
    if msg.len() < HEADER_LEN || u16::from_be_bytes([msg[0], msg[1]]) != id {
        return Reply::Ignore;
    }
    let flags = u16::from_be_bytes([msg[2], msg[3]]);
    if flags & 0x8000 == 0 {
        return Reply::Ignore;
    }
    match (flags & 0x000f) as u8 {
        0 => Reply::Ok,
        rc => Reply::Error(rc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_soa_query_bytes() {
        let q = encode_query(0x1234, ".", qtype_code(DnsType::Soa)).unwrap();
        assert_eq!(q, [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1]);
        assert_eq!(encode_query(0x1234, "", 6).unwrap(), q);
    }

    #[test]
    fn name_labels() {
        let q = encode_query(1, "www.example.org.", qtype_code(DnsType::Aaaa)).unwrap();
        assert_eq!(&q[12..], b"\x03www\x07example\x03org\x00\x00\x1c\x00\x01");
        assert_eq!(encode_query(1, "a..b", 1), Err(NameError::EmptyLabel));
        assert_eq!(
            encode_query(1, &"x".repeat(64), 1),
            Err(NameError::LabelTooLong)
        );
        let long = vec!["abcdefghij"; 30].join(".");
        assert_eq!(encode_query(1, &long, 1), Err(NameError::NameTooLong));
    }

    #[test]
    fn reply_classes() {
        let mut r = [0u8; 12];
        r[0] = 0xab;
        r[1] = 0xcd;
        assert_eq!(classify_reply(0xabcd, &r), Reply::Ignore); // a query, not a reply
        r[2] = 0x81;
        r[3] = 0x80;
        assert_eq!(classify_reply(0xabcd, &r), Reply::Ok);
        assert_eq!(classify_reply(0xabce, &r), Reply::Ignore);
        r[3] = 0x83;
        assert_eq!(classify_reply(0xabcd, &r), Reply::Error(3));
        assert_eq!(classify_reply(0xabcd, &r[..11]), Reply::Ignore);
    }
}
