//! Encryption at rest ("sealing") of channel credentials, scenario secrets
//! and personal data (SPEC §7), with a [`Keyring`] from the environment.
//!
//! A sealed value is a self-describing string:
//!
//! ```text
//! sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>
//! ```
//!
//! - The cipher is XChaCha20-Poly1305 (an AEAD) with a random 24-byte nonce
//!   per value: no nonce bookkeeping, safe for any number of values.
//! - The key id is 8 hex digits of SHA-256 over the key, so a reader knows
//!   which key of the ring opens a value, and `comops rotate-key` knows which
//!   values still use an old one.
//! - The associated data is the value's *place* (e.g.
//!   `bot_channels.config_json:bot_shop/telegram`): a ciphertext copied into
//!   another row or column does not open there.
//!
//! Keys come from `COMOPS_DATA_KEY` (32 bytes, base64 as printed by `comops
//! keygen`, or 64 hex digits) and, for reading only, `COMOPS_DATA_KEY_PREVIOUS`
//! (comma-separated). Without a key values are stored as they are (a
//! one-time warning says so) and [`Keyring::open`] passes plaintext through,
//! which is also how rows written before a key was set are read until
//! `comops rotate-key` seals them.
//!
//! Values looked up by equality (a WhatsApp number, an email address) cannot
//! be found by their ciphertext, so they also get a *blind index*
//! ([`Keyring::blind_index`]): a keyed HMAC of the normalized value, under a
//! key derived from each data key. Lookups try the index under every key of
//! the ring, so a rotation in progress loses no match.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The prefix of every sealed value (and of nothing else we store).
pub const PREFIX: &str = "sealed:v1:";
/// The environment variable holding the current key.
pub const KEY_ENV: &str = "COMOPS_DATA_KEY";
/// The environment variable holding previous keys (comma-separated).
pub const PREVIOUS_ENV: &str = "COMOPS_DATA_KEY_PREVIOUS";

const NONCE_LEN: usize = 24;

/// Why a value could not be sealed or opened. Never carries the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a data key is malformed: {0}")]
    BadKey(String),
    /// The value is sealed but no key is configured.
    #[error("the value is sealed and no data key is configured (set {KEY_ENV})")]
    NoKey,
    /// Sealed with a key that is neither the current nor a previous one.
    #[error("the value is sealed with key {0}, which is not configured (add it to {PREVIOUS_ENV})")]
    UnknownKey(String),
    /// Wrong place, tampered or truncated.
    #[error("a sealed value does not open (tampered, or moved from another row)")]
    Corrupt,
}

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
    index_key: [u8; 32],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        let id = hex::encode(&digest[..4]);
        // The blind-index key is derived from (not equal to) the data key.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes).expect("any key length");
        mac.update(b"comops blind index v1");
        let index_key = mac.finalize().into_bytes().into();
        Key { id, cipher: XChaCha20Poly1305::new(bytes.into()), index_key }
    }
}

/// The current key (for sealing) and previous keys (for opening only).
/// Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: Arc<Vec<Key>>,
    has_current: bool,
}

impl Keyring {
    /// No key: values are stored as given.
    pub fn plaintext() -> Self {
        Self::default()
    }

    /// A ring from key strings (base64 or hex of 32 bytes): `current` seals,
    /// all open.
    pub fn new(current: Option<&str>, previous: &[&str]) -> Result<Self, SealError> {
        let mut keys = Vec::new();
        if let Some(current) = current {
            keys.push(Key::new(&parse_key(current)?));
        }
        for raw in previous {
            let key = Key::new(&parse_key(raw)?);
            if !keys.iter().any(|k| k.id == key.id) {
                keys.push(key);
            }
        }
        if current.is_none() && !keys.is_empty() {
            return Err(SealError::BadKey(format!("{PREVIOUS_ENV} is set without {KEY_ENV}")));
        }
        Ok(Keyring { keys: Arc::new(keys), has_current: current.is_some() })
    }

    /// The ring `COMOPS_DATA_KEY` and `COMOPS_DATA_KEY_PREVIOUS` describe
    /// (empty variables count as unset).
    pub fn from_env() -> Result<Self, SealError> {
        let current = std::env::var(KEY_ENV).ok().filter(|v| !v.trim().is_empty());
        let previous = std::env::var(PREVIOUS_ENV).unwrap_or_default();
        let previous: Vec<&str> = previous.split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
        Self::new(current.as_deref().map(str::trim), &previous)
    }

    /// Whether values are sealed when written.
    pub fn is_enabled(&self) -> bool {
        self.has_current
    }

    /// The current key's id (`None` without a key).
    pub fn current_id(&self) -> Option<&str> {
        self.has_current.then(|| self.keys[0].id.as_str())
    }

    /// Whether a key of the ring has this id (current or previous).
    pub fn has_key(&self, id: &str) -> bool {
        self.keys.iter().any(|k| k.id == id)
    }

    /// Seals `value` for `place` with the current key; without a key returns
    /// it unchanged.
    pub fn seal(&self, place: &str, value: &str) -> String {
        let Some(key) = self.has_current.then(|| &self.keys[0]) else {
            return value.to_string();
        };
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: value.as_bytes(), aad: place.as_bytes() })
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", key.id, URL_SAFE_NO_PAD.encode(blob))
    }

    /// Opens a value stored at `place`: a sealed one with whichever key of
    /// the ring sealed it, anything else (written without a key) as is.
    pub fn open(&self, place: &str, stored: &str) -> Result<String, SealError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let (id, body) = rest.split_once(':').ok_or(SealError::Corrupt)?;
        if self.keys.is_empty() {
            return Err(SealError::NoKey);
        }
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| SealError::UnknownKey(id.to_string()))?;
        let blob = URL_SAFE_NO_PAD.decode(body).map_err(|_| SealError::Corrupt)?;
        if blob.len() < NONCE_LEN {
            return Err(SealError::Corrupt);
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: place.as_bytes() })
            .map_err(|_| SealError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| SealError::Corrupt)
    }

    /// Whether `stored` should be written again: plaintext while a key is
    /// set, or sealed with a key other than the current one.
    pub fn needs_reseal(&self, stored: &str) -> bool {
        match (self.current_id(), stored.strip_prefix(PREFIX)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(current), Some(rest)) => rest.split_once(':').map(|(id, _)| id) != Some(current),
        }
    }

    /// The blind index of `value` (kind, e.g. `whatsapp`, then the
    /// normalized value) under the current key; without a key, the
    /// normalized value itself (nothing is secret then anyway).
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        let normalized = normalize(value);
        match self.has_current.then(|| &self.keys[0]) {
            Some(key) => index_with(key, kind, &normalized),
            None => normalized,
        }
    }

    /// Every form a stored index of `value` may have while a rotation is in
    /// progress: under each key of the ring, and the plain normalized value
    /// (rows written before any key). Current key first.
    pub fn blind_indexes(&self, kind: &str, value: &str) -> Vec<String> {
        let normalized = normalize(value);
        let mut all: Vec<String> = self.keys.iter().map(|key| index_with(key, kind, &normalized)).collect();
        all.push(normalized);
        all
    }
}

fn index_with(key: &Key, kind: &str, normalized: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.index_key).expect("any key length");
    mac.update(kind.as_bytes());
    mac.update(&[0]);
    mac.update(normalized.as_bytes());
    format!("bi1:{}", hex::encode(&mac.finalize().into_bytes()[..16]))
}

/// Addresses compare without surrounding spaces and case (email); phone
/// numbers without `+`, spaces, dashes or parentheses.
pub fn normalize(value: &str) -> String {
    let value = value.trim();
    if value.contains('@') {
        value.to_lowercase()
    } else if value.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
        value.chars().filter(char::is_ascii_digit).collect()
    } else {
        value.to_string()
    }
}

/// A new random key, base64 (what `comops keygen` prints).
pub fn generate_key() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    STANDARD.encode(key)
}

fn parse_key(raw: &str) -> Result<[u8; 32], SealError> {
    let raw = raw.trim();
    let bytes = if raw.len() == 64 && raw.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(raw).map_err(|_| SealError::BadKey("not hex".into()))?
    } else {
        STANDARD
            .decode(raw)
            .or_else(|_| URL_SAFE_NO_PAD.decode(raw))
            .map_err(|_| SealError::BadKey("expected 32 bytes as base64 (comops keygen) or 64 hex digits".into()))?
    };
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| SealError::BadKey(format!("expected 32 bytes, got {}", b.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(current: &str, previous: &[&str]) -> Keyring {
        Keyring::new(Some(current), previous).unwrap()
    }

    #[test]
    fn round_trip_and_format() {
        let key = generate_key();
        let ring = ring(&key, &[]);
        let sealed = ring.seal("bot_channels.config_json:bot_shop/telegram", "123:ABC");
        assert!(sealed.starts_with(PREFIX), "{sealed}");
        assert!(!sealed.contains("123:ABC"));
        assert_eq!(sealed.split(':').nth(2), ring.current_id());
        assert_eq!(ring.open("bot_channels.config_json:bot_shop/telegram", &sealed).unwrap(), "123:ABC");
        // Two seals of one value differ (random nonce).
        assert_ne!(sealed, ring.seal("bot_channels.config_json:bot_shop/telegram", "123:ABC"));
    }

    #[test]
    fn keys_parse_as_base64_or_hex() {
        let hex_key = "00".repeat(32);
        let from_hex = ring(&hex_key, &[]);
        let from_b64 = ring(&STANDARD.encode([0u8; 32]), &[]);
        assert_eq!(from_hex.current_id(), from_b64.current_id());
        assert!(matches!(Keyring::new(Some("short"), &[]), Err(SealError::BadKey(_))));
        assert!(matches!(Keyring::new(Some(&STANDARD.encode([0u8; 16])), &[]), Err(SealError::BadKey(_))));
        assert!(matches!(Keyring::new(None, &[&hex_key]), Err(SealError::BadKey(_))));
    }

    #[test]
    fn wrong_key_is_refused() {
        let sealed = ring(&generate_key(), &[]).seal("p", "secret");
        assert!(matches!(ring(&generate_key(), &[]).open("p", &sealed), Err(SealError::UnknownKey(_))));
        assert_eq!(Keyring::plaintext().open("p", &sealed), Err(SealError::NoKey));
    }

    #[test]
    fn tampered_ciphertext_is_refused() {
        let ring = ring(&generate_key(), &[]);
        let sealed = ring.seal("p", "secret");
        let (head, body) = sealed.rsplit_once(':').unwrap();
        let mut blob = URL_SAFE_NO_PAD.decode(body).unwrap();
        let last = blob.len() - 1;
        blob[last] ^= 1;
        let tampered = format!("{head}:{}", URL_SAFE_NO_PAD.encode(&blob));
        assert_eq!(ring.open("p", &tampered), Err(SealError::Corrupt));
        assert_eq!(ring.open("p", &format!("{head}:AAAA")), Err(SealError::Corrupt));
        assert_eq!(ring.open("p", "sealed:v1:nocolon"), Err(SealError::Corrupt));
    }

    #[test]
    fn a_value_moved_to_another_row_is_refused() {
        let ring = ring(&generate_key(), &[]);
        let sealed = ring.seal("bot_channels.config_json:bot_shop/telegram", "{\"token\":\"1\"}");
        assert_eq!(ring.open("bot_channels.config_json:bot_rehau/telegram", &sealed), Err(SealError::Corrupt));
    }

    #[test]
    fn rotation_reads_old_values_and_reseals_them() {
        let old = generate_key();
        let new = generate_key();
        let before = ring(&old, &[]);
        let sealed_old = before.seal("p", "secret");
        let after = ring(&new, &[&old]);
        assert!(after.needs_reseal(&sealed_old));
        assert_eq!(after.open("p", &sealed_old).unwrap(), "secret");
        let resealed = after.seal("p", &after.open("p", &sealed_old).unwrap());
        assert!(!after.needs_reseal(&resealed));
        assert!(after.needs_reseal("plaintext"));
        // Once the old key is dropped, only the resealed value opens.
        let only_new = ring(&new, &[]);
        assert_eq!(only_new.open("p", &resealed).unwrap(), "secret");
        assert!(matches!(only_new.open("p", &sealed_old), Err(SealError::UnknownKey(_))));
    }

    #[test]
    fn without_a_key_values_pass_through() {
        let ring = Keyring::plaintext();
        assert!(!ring.is_enabled());
        assert_eq!(ring.seal("p", "secret"), "secret");
        assert_eq!(ring.open("p", "secret").unwrap(), "secret");
        assert!(!ring.needs_reseal("secret"));
        assert_eq!(ring.blind_index("whatsapp", "+7 916 123-45-67"), "79161234567");
    }

    #[test]
    fn blind_index_is_keyed_normalized_and_survives_rotation() {
        let old = generate_key();
        let new = generate_key();
        let before = ring(&old, &[]);
        let index = before.blind_index("email", " Anna@Example.com");
        assert_eq!(index, before.blind_index("email", "anna@example.com"));
        assert!(!index.contains("anna"));
        assert_ne!(index, before.blind_index("whatsapp", "anna@example.com"), "the kind is part of the index");
        assert_ne!(index, ring(&new, &[]).blind_index("email", "anna@example.com"), "keyed");
        let during = ring(&new, &[&old]);
        let candidates = during.blind_indexes("email", "anna@example.com");
        assert_eq!(candidates[0], during.blind_index("email", "anna@example.com"));
        assert!(candidates.contains(&index), "rows indexed under the old key are still found");
        assert!(candidates.contains(&"anna@example.com".to_string()), "and rows from before any key");
    }
}
