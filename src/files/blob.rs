//! Git's blob id of a revision file's contents, recorded when the file is read (and kept
//! in the parse cache), so `check --base` can tell which files a git ref has unchanged
//! by comparing ids, without a second look at the working tree.

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// The id git gives a blob with these contents: SHA-1 of `blob <length>\0<bytes>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlobId(pub [u8; 20]);

impl BlobId {
    /// The id of `bytes` as a blob (as `git hash-object` computes it).
    pub fn of(bytes: &[u8]) -> Self {
        let mut h = Sha1::new();
        h.update(format!("blob {}\0", bytes.len()).as_bytes());
        h.update(bytes);
        Self(h.finalize().into())
    }

    /// The id as raw bytes (what `git2::Oid::as_bytes` gives for a SHA-1 repository).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Full lowercase hex, as git prints it.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(40);
        for b in self.0 {
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`, and the empty blob.
        assert_eq!(
            BlobId::of(b"hello\n").to_hex(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(
            BlobId::of(b"").to_hex(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
    }
}
