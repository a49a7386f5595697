//! Values longer than one blob, split over several entries.
//!
//! Windows Credential Manager refuses blobs over 2,560 bytes, and an Entra
//! refresh token can come close (1,524 measured, and they grow). So a value
//! is stored as:
//!
//! - `key`: the header `OW1:NNN;` (`NNN` = how many entries, zero-padded)
//!   followed by the first `max_blob - HEADER_LEN` bytes;
//! - `key#1`, `key#2`, …: the next `max_blob` bytes each.
//!
//! Tail entries are written before the head, so the head's count only ever
//! names entries that exist; entries past the count (left by a longer value
//! or an interrupted delete) are removed on every set and delete.

use zeroize::{Zeroize, Zeroizing};

use super::StoreError;
use crate::platform::secret::Secret;

/// Bytes of the header at the start of the head entry.
pub const HEADER_LEN: usize = 8;
/// Most entries one value may use (three digits in the header).
pub const MAX_PARTS: usize = 999;
const MAGIC: &[u8] = b"OW1:";

/// The low-level entries chunking works over.
pub(crate) trait Blobs {
    fn raw_get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError>;
    fn raw_set(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError>;
    /// `Ok(false)` when there was nothing to delete.
    fn raw_delete(&self, name: &str) -> Result<bool, StoreError>;
}

/// `key` for part 0, `key#i` after.
pub(crate) fn part_name(key: &str, i: usize) -> String {
    if i == 0 {
        key.to_string()
    } else {
        format!("{key}#{i}")
    }
}

/// How many entries a value of `len` bytes needs.
pub(crate) fn parts_for(len: usize, max_blob: usize) -> usize {
    let head = max_blob - HEADER_LEN;
    if len <= head {
        1
    } else {
        1 + (len - head).div_ceil(max_blob)
    }
}

fn parse_header(head: &[u8]) -> Result<usize, StoreError> {
    let bad = || StoreError::Corrupt("not written by this wizard".into());
    if head.len() < HEADER_LEN || !head.starts_with(MAGIC) || head[HEADER_LEN - 1] != b';' {
        return Err(bad());
    }
    let digits = &head[MAGIC.len()..HEADER_LEN - 1];
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let n = digits
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    if n == 0 { Err(bad()) } else { Ok(n) }
}

pub(crate) fn set(
    blobs: &impl Blobs,
    max_blob: usize,
    key: &str,
    value: &Secret,
) -> Result<(), StoreError> {
    let bytes = value.expose().as_bytes();
    let parts = parts_for(bytes.len(), max_blob);
    if parts > MAX_PARTS {
        return Err(StoreError::TooLong { bytes: bytes.len() });
    }
    // The old count, to remove what a longer value left behind.
    let old = match blobs.raw_get(key)? {
        Some(head) => parse_header(&head).unwrap_or(1),
        None => 0,
    };
    let head_len = bytes.len().min(max_blob - HEADER_LEN);
    for i in 1..parts {
        let start = head_len + (i - 1) * max_blob;
        let end = (start + max_blob).min(bytes.len());
        blobs.raw_set(&part_name(key, i), &bytes[start..end])?;
    }
    let mut head = Zeroizing::new(Vec::with_capacity(HEADER_LEN + head_len));
    head.extend_from_slice(format!("OW1:{parts:03};").as_bytes());
    head.extend_from_slice(&bytes[..head_len]);
    blobs.raw_set(key, &head)?;
    sweep(blobs, key, parts, old).map(|_| ())
}

/// Deletes `key#from`, `key#from+1`, … up to `known` and then until an
/// entry is missing; whether any was there.
fn sweep(blobs: &impl Blobs, key: &str, from: usize, known: usize) -> Result<bool, StoreError> {
    let mut i = from.max(1);
    let mut any = false;
    loop {
        let deleted = blobs.raw_delete(&part_name(key, i))?;
        if !deleted && i >= known {
            return Ok(any);
        }
        any |= deleted;
        i += 1;
    }
}

pub(crate) fn get(blobs: &impl Blobs, key: &str) -> Result<Option<Secret>, StoreError> {
    let Some(head) = blobs.raw_get(key)? else {
        return Ok(None);
    };
    let parts = parse_header(&head)?;
    let mut chunks = Vec::with_capacity(parts);
    chunks.push(head);
    for i in 1..parts {
        match blobs.raw_get(&part_name(key, i))? {
            Some(chunk) => chunks.push(chunk),
            None => return Err(StoreError::Corrupt("a part is missing".into())),
        }
    }
    // Exact capacity: no reallocation leaves copies behind.
    let total = chunks.iter().map(|c| c.len()).sum::<usize>() - HEADER_LEN;
    let mut joined = Vec::with_capacity(total);
    joined.extend_from_slice(&chunks[0][HEADER_LEN..]);
    for chunk in &chunks[1..] {
        joined.extend_from_slice(chunk);
    }
    match String::from_utf8(joined) {
        Ok(text) => Ok(Some(Secret::new(text))),
        Err(e) => {
            e.into_bytes().zeroize();
            Err(StoreError::Corrupt("not text".into()))
        }
    }
}

/// Removes the head and every part, whatever state they are in: a head
/// that cannot be read or parsed (bad header, not text, a part missing)
/// is removed too, and the parts are swept until one is missing. `true`
/// when anything was there.
pub(crate) fn delete(blobs: &impl Blobs, key: &str) -> Result<bool, StoreError> {
    let known = match blobs.raw_get(key) {
        Ok(Some(head)) => parse_header(&head).unwrap_or(1),
        Ok(None) | Err(_) => 1,
    };
    let head = blobs.raw_delete(key)?;
    let parts = sweep(blobs, key, 1, known)?;
    Ok(head || parts)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use keyring_core::api::CredentialStoreApi;

    use super::super::{CredentialStore, KeyringStore, MAX_BLOB, SERVICE};
    use super::*;

    /// The names holding a value in the mock, with their blob lengths.
    fn stored(m: &keyring_core::mock::Store) -> Vec<(String, usize)> {
        let spec = std::collections::HashMap::from([("service", SERVICE)]);
        let mut out: Vec<(String, usize)> = m
            .search(&spec)
            .unwrap()
            .into_iter()
            .filter_map(|e| {
                let len = e.get_secret().ok()?.len();
                Some((e.get_specifiers()?.1, len))
            })
            .collect();
        out.sort();
        out
    }

    fn store() -> (Arc<keyring_core::mock::Store>, KeyringStore) {
        let m = keyring_core::mock::Store::new().unwrap();
        (m.clone(), KeyringStore::new(m, MAX_BLOB))
    }

    fn value(len: usize) -> Secret {
        // Varying content so a misplaced chunk would not round-trip.
        Secret::new(
            (b'a'..=b'z')
                .cycle()
                .take(len)
                .map(char::from)
                .collect::<String>(),
        )
    }

    #[test]
    fn the_mock_keeps_entries_across_builds() {
        // The tests below rely on this: a second `build` of the same name
        // sees what the first one stored.
        let (m, s) = store();
        s.set("k", &value(5)).unwrap();
        assert_eq!(stored(&m), [("k".to_string(), HEADER_LEN + 5)]);
    }

    #[test]
    fn a_value_filling_exactly_one_blob_uses_one_entry() {
        let (m, s) = store();
        let v = value(MAX_BLOB - HEADER_LEN);
        s.set("k", &v).unwrap();
        assert_eq!(stored(&m), [("k".to_string(), MAX_BLOB)]);
        assert_eq!(s.get("k").unwrap().unwrap(), v);
    }

    #[test]
    fn one_byte_over_the_limit_uses_two_entries() {
        let (m, s) = store();
        let v = value(MAX_BLOB - HEADER_LEN + 1);
        s.set("k", &v).unwrap();
        assert_eq!(
            stored(&m),
            [("k".to_string(), MAX_BLOB), ("k#1".to_string(), 1)]
        );
        assert_eq!(s.get("k").unwrap().unwrap(), v);
    }

    #[test]
    fn long_values_span_many_entries_none_over_the_limit() {
        let (m, s) = store();
        let v = value(3 * MAX_BLOB);
        s.set("k", &v).unwrap();
        let names = stored(&m);
        assert_eq!(names.len(), parts_for(3 * MAX_BLOB, MAX_BLOB));
        assert_eq!(names.len(), 4);
        assert!(names.iter().all(|(_, len)| *len <= MAX_BLOB), "{names:?}");
        assert_eq!(s.get("k").unwrap().unwrap(), v);
    }

    #[test]
    fn multibyte_text_split_inside_a_character_round_trips() {
        let (_, s) = store();
        // 3-byte characters: some chunk boundary falls inside one.
        let v = Secret::new("€".repeat(MAX_BLOB));
        s.set("k", &v).unwrap();
        assert_eq!(s.get("k").unwrap().unwrap(), v);
    }

    #[test]
    fn a_shorter_value_removes_the_stale_parts() {
        let (m, s) = store();
        s.set("k", &value(3 * MAX_BLOB)).unwrap();
        s.set("k", &value(MAX_BLOB)).unwrap();
        assert_eq!(
            stored(&m).iter().map(|n| n.0.as_str()).collect::<Vec<_>>(),
            ["k", "k#1"]
        );
        s.set("k", &value(10)).unwrap();
        assert_eq!(stored(&m), [("k".to_string(), HEADER_LEN + 10)]);
        assert_eq!(s.get("k").unwrap().unwrap(), value(10));
    }

    #[test]
    fn orphan_parts_beyond_the_header_are_swept() {
        // An interrupted delete removed the head but not the tail.
        let (m, s) = store();
        s.set("k", &value(3 * MAX_BLOB)).unwrap();
        m.build(SERVICE, "k", None)
            .unwrap()
            .delete_credential()
            .unwrap();
        assert_eq!(s.get("k").unwrap(), None);
        s.set("k", &value(4)).unwrap();
        assert_eq!(stored(&m).len(), 1);
    }

    #[test]
    fn delete_removes_every_part_and_absent_is_fine() {
        let (m, s) = store();
        s.set("k", &value(2 * MAX_BLOB)).unwrap();
        s.set("other", &value(4)).unwrap();
        assert!(s.delete("k").unwrap());
        assert_eq!(stored(&m), [("other".to_string(), HEADER_LEN + 4)]);
        assert_eq!(s.get("k").unwrap(), None);
        assert!(!s.delete("k").unwrap());
        assert!(!s.delete("never").unwrap());
    }

    #[test]
    fn damaged_entries_are_deleted_whole() {
        let (m, s) = store();
        let raw = |name: &str, bytes: &[u8]| {
            m.build(SERVICE, name, None)
                .unwrap()
                .set_secret(bytes)
                .unwrap();
        };
        // Not this wizard's header.
        raw("foreign", b"plain-token-value");
        // A good header over bytes that are not UTF-8.
        raw("binary", b"OW1:001;\xff\xfe");
        // Three parts announced, the middle one gone.
        s.set("gap", &value(2 * MAX_BLOB)).unwrap();
        m.build(SERVICE, "gap#1", None)
            .unwrap()
            .delete_credential()
            .unwrap();
        // Only a tail left by an interrupted delete.
        raw("tail#1", b"rest");
        for key in ["foreign", "binary", "gap", "tail"] {
            assert!(s.get(key).is_err() || key == "tail", "{key}");
            assert!(s.delete(key).unwrap(), "{key}: something was removed");
        }
        assert!(stored(&m).is_empty(), "{:?}", stored(&m));
    }

    #[test]
    fn foreign_or_incomplete_entries_are_reported_as_damaged() {
        let (m, s) = store();
        m.build(SERVICE, "foreign", None)
            .unwrap()
            .set_secret(b"plain-token-value")
            .unwrap();
        let err = s.get("foreign").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
        assert!(!err.to_string().contains("plain-token"));

        s.set("k", &value(2 * MAX_BLOB)).unwrap();
        m.build(SERVICE, "k#2", None)
            .unwrap()
            .delete_credential()
            .unwrap();
        assert_eq!(
            s.get("k").unwrap_err(),
            StoreError::Corrupt("a part is missing".into())
        );
    }

    #[test]
    fn too_many_parts_is_refused_before_writing() {
        let m = keyring_core::mock::Store::new().unwrap();
        let s = KeyringStore::new(m.clone(), 16);
        let len = (16 - HEADER_LEN) + (MAX_PARTS - 1) * 16;
        assert_eq!(parts_for(len, 16), MAX_PARTS);
        assert_eq!(parts_for(len + 1, 16), MAX_PARTS + 1);
        let err = s.set("k", &value(len + 1)).unwrap_err();
        assert_eq!(err, StoreError::TooLong { bytes: len + 1 });
        assert!(stored(&m).is_empty());
    }

    #[test]
    fn headers_are_strict() {
        assert_eq!(parse_header(b"OW1:012;rest").unwrap(), 12);
        for bad in [&b"OW1:000;"[..], b"OW1:1x2;", b"OW1:012", b"XX1:001;"] {
            assert!(parse_header(bad).is_err(), "{bad:?}");
        }
    }
}
