//! A fast tree diff for the history pass, reading git's raw tree objects.
//!
//! libgit2's `Tree` parses every entry into its own structure and its object cache
//! skips large trees, so diffing a 10,000-file directory for each of 10,000 commits
//! spends most of its time parsing the same trees twice. Here each tree object is
//! inflated once (the parent's is kept from the previous commit), entries are sliced
//! straight out of the buffer and merged in git's sort order. Only exact renames are
//! paired; a commit with unpaired adds and deletes goes back to libgit2's similarity
//! detection.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::rc::Rc;

use git2::{Odb, Oid};

/// A file-level change found by comparing two trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RawChange {
    Added { path: String, oid: Oid },
    Deleted { path: String, oid: Oid },
    Modified { path: String },
}

/// One tree object as read from the object database, with the byte offset where each
/// entry starts (and the length at the end).
pub(super) struct TreeBuf<'o> {
    obj: git2::OdbObject<'o>,
    offsets: Vec<u32>,
}

impl TreeBuf<'_> {
    fn data(&self) -> &[u8] {
        self.obj.data()
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    fn entry(&self, i: usize, oid_len: usize) -> Result<Entry<'_>, git2::Error> {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        parse_one(&self.data()[a..b], oid_len).map(|(e, _)| e)
    }
}

/// The last few trees read, so a commit's parent tree is rarely read twice and a new
/// tree's entry offsets come from its parent's.
pub(super) struct TreeCache<'o> {
    slots: VecDeque<(Oid, Rc<TreeBuf<'o>>)>,
}

const CACHE_SLOTS: usize = 8;

impl<'o> TreeCache<'o> {
    pub fn new() -> Self {
        Self {
            slots: VecDeque::with_capacity(CACHE_SLOTS),
        }
    }

    /// Reads tree `oid`; with `like` (a similar tree), only the bytes that differ from
    /// it are parsed.
    fn read(
        &mut self,
        odb: &'o Odb<'_>,
        oid: Oid,
        like: Option<&TreeBuf<'o>>,
    ) -> Result<Rc<TreeBuf<'o>>, git2::Error> {
        if let Some((_, buf)) = self.slots.iter().find(|(o, _)| *o == oid) {
            return Ok(Rc::clone(buf));
        }
        let obj = odb.read(oid)?;
        if obj.kind() != git2::ObjectType::Tree {
            return Err(git2::Error::from_str(&format!("{oid} is not a tree")));
        }
        let oid_len = oid.as_bytes().len();
        let offsets = match like.and_then(|l| offsets_like(obj.data(), l, oid_len)) {
            Some(o) => o,
            None => offsets(obj.data(), 0, obj.data().len(), oid_len)
                .ok_or_else(|| git2::Error::from_str(&format!("malformed tree object {oid}")))?,
        };
        let buf = Rc::new(TreeBuf { obj, offsets });
        if self.slots.len() == CACHE_SLOTS {
            self.slots.pop_front();
        }
        self.slots.push_back((oid, Rc::clone(&buf)));
        Ok(buf)
    }
}

struct Entry<'a> {
    name: &'a [u8],
    is_tree: bool,
    oid: &'a [u8],
}

/// One entry at the start of `buf` (`<mode> <name>\0<oid bytes>`) and its length.
fn parse_one(buf: &[u8], oid_len: usize) -> Result<(Entry<'_>, usize), git2::Error> {
    let bad = || git2::Error::from_str("malformed tree object");
    // Modes are 5 ("40000") or 6 ASCII digits.
    let sp = if buf.get(5) == Some(&b' ') { 5 } else { 6 };
    if buf.get(sp) != Some(&b' ') {
        return Err(bad());
    }
    let name_len = std::ffi::CStr::from_bytes_until_nul(&buf[sp + 1..])
        .map_err(|_| bad())?
        .to_bytes()
        .len();
    let nul = sp + 1 + name_len;
    let oid = buf.get(nul + 1..nul + 1 + oid_len).ok_or_else(bad)?;
    Ok((
        Entry {
            name: &buf[sp + 1..nul],
            is_tree: sp == 5,
            oid,
        },
        nul + 1 + oid_len,
    ))
}

/// Entry start offsets of `buf[from..to]` plus `to`; `None` if entries don't end at `to`.
fn offsets(buf: &[u8], from: usize, to: usize, oid_len: usize) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let mut i = from;
    while i < to {
        out.push(u32::try_from(i).ok()?);
        let (_, n) = parse_one(&buf[i..to], oid_len).ok()?;
        i += n;
    }
    (i == to).then(|| {
        out.push(to as u32);
        out
    })
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 256;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + CHUNK <= n && a[i..i + CHUNK] == b[i..i + CHUNK] {
        i += CHUNK;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 256;
    let n = a.len().min(b.len());
    let (la, lb) = (a.len(), b.len());
    let mut i = 0;
    while i + CHUNK <= n && a[la - i - CHUNK..la - i] == b[lb - i - CHUNK..lb - i] {
        i += CHUNK;
    }
    while i < n && a[la - i - 1] == b[lb - i - 1] {
        i += 1;
    }
    i
}

/// Entries of `a` and of `b` that differ: index ranges `a[k..ja]`, `b[k..jb]`; the
/// entries before `k` are the same in both, as are those after the ranges.
fn changed_ranges(a: &TreeBuf<'_>, b: &TreeBuf<'_>) -> (usize, usize, usize) {
    let (da, db) = (a.data(), b.data());
    let p = common_prefix(da, db);
    // Entries wholly inside the common prefix.
    let k = a.offsets[1..]
        .partition_point(|&end| end as usize <= p)
        .min(b.len());
    let start = a.offsets[k] as usize;
    let s = common_suffix(&da[start..], &db[start..]);
    let ja = k + a.offsets[k..a.len()].partition_point(|&o| (o as usize) < da.len() - s);
    let jb = k + b.offsets[k..b.len()].partition_point(|&o| (o as usize) < db.len() - s);
    (k, ja, jb)
}

/// Entry offsets of `data`, taken from the similar tree `like` outside the bytes that
/// differ; `None` when the two don't line up (then the caller parses everything).
fn offsets_like(data: &[u8], like: &TreeBuf<'_>, oid_len: usize) -> Option<Vec<u32>> {
    let ld = like.data();
    let p = common_prefix(data, ld);
    let k = like.offsets[1..].partition_point(|&end| end as usize <= p);
    let start = like.offsets[k] as usize;
    let s = common_suffix(&data[start..], &ld[start..]);
    let j = k + like.offsets[k..like.len()].partition_point(|&o| (o as usize) < ld.len() - s);
    // Offset j of `like` maps to this boundary in `data`.
    let tail = ld.len() - like.offsets[j] as usize;
    let end = data.len().checked_sub(tail)?;
    if end < start {
        return None;
    }
    let middle = offsets(data, start, end, oid_len)?;
    let shift = data.len() as i64 - ld.len() as i64;
    let mut out = Vec::with_capacity(like.offsets.len() + middle.len());
    out.extend_from_slice(&like.offsets[..k]);
    out.extend_from_slice(&middle[..middle.len() - 1]);
    out.extend(like.offsets[j..].iter().map(|&o| (o as i64 + shift) as u32));
    Some(out)
}

/// Git's tree order: names compared bytewise, a directory as if it ended in `/`.
fn order(a: &Entry<'_>, b: &Entry<'_>) -> Ordering {
    let n = a.name.len().min(b.name.len());
    match a.name[..n].cmp(&b.name[..n]) {
        Ordering::Equal => {}
        other => return other,
    }
    let end = |e: &Entry<'_>| {
        e.name
            .get(n)
            .copied()
            .unwrap_or(if e.is_tree { b'/' } else { 0 })
    };
    end(a).cmp(&end(b))
}

/// Appends the file-level changes from tree `old` to tree `new` (either may be absent)
/// to `out`, paths prefixed with `base` (which is empty or ends in `/`).
pub(super) fn diff<'o>(
    odb: &'o Odb<'_>,
    cache: &mut TreeCache<'o>,
    old: Option<Oid>,
    new: Option<Oid>,
    base: &str,
    out: &mut Vec<RawChange>,
) -> Result<(), git2::Error> {
    if old == new {
        return Ok(());
    }
    let oid_len = old.or(new).map_or(20, |o| o.as_bytes().len());
    let old_buf = old.map(|o| cache.read(odb, o, None)).transpose()?;
    let new_buf = new
        .map(|o| cache.read(odb, o, old_buf.as_deref()))
        .transpose()?;
    // Only the entries between the common prefix and suffix can differ.
    let (k, ja, jb) = match (&old_buf, &new_buf) {
        (Some(a), Some(b)) => changed_ranges(a, b),
        (Some(a), None) => (0, a.len(), 0),
        (None, Some(b)) => (0, 0, b.len()),
        (None, None) => return Ok(()),
    };
    let path = |e: &Entry<'_>| format!("{base}{}", String::from_utf8_lossy(e.name));
    let oid = |e: &Entry<'_>| Oid::from_bytes(e.oid);
    let (mut i, mut j) = (k, k);
    while i < ja || j < jb {
        let a = match (&old_buf, i < ja) {
            (Some(t), true) => Some(t.entry(i, oid_len)?),
            _ => None,
        };
        let b = match (&new_buf, j < jb) {
            (Some(t), true) => Some(t.entry(j, oid_len)?),
            _ => None,
        };
        let step = match (&a, &b) {
            (Some(a), Some(b)) => order(a, b),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match (step, a, b) {
            (Ordering::Less, Some(a), _) => {
                if a.is_tree {
                    diff(
                        odb,
                        cache,
                        Some(oid(&a)?),
                        None,
                        &format!("{}/", path(&a)),
                        out,
                    )?;
                } else {
                    out.push(RawChange::Deleted {
                        path: path(&a),
                        oid: oid(&a)?,
                    });
                }
                i += 1;
            }
            (Ordering::Greater, _, Some(b)) => {
                if b.is_tree {
                    diff(
                        odb,
                        cache,
                        None,
                        Some(oid(&b)?),
                        &format!("{}/", path(&b)),
                        out,
                    )?;
                } else {
                    out.push(RawChange::Added {
                        path: path(&b),
                        oid: oid(&b)?,
                    });
                }
                j += 1;
            }
            (Ordering::Equal, Some(a), Some(b)) => {
                if a.oid != b.oid {
                    if a.is_tree {
                        let sub = format!("{}/", path(&b));
                        diff(odb, cache, Some(oid(&a)?), Some(oid(&b)?), &sub, out)?;
                    } else {
                        out.push(RawChange::Modified { path: path(&b) });
                    }
                }
                i += 1;
                j += 1;
            }
            _ => return Err(git2::Error::from_str("tree diff out of step")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (mode, name, fill) in entries {
            out.extend_from_slice(mode.as_bytes());
            out.push(b' ');
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            out.extend_from_slice(&[*fill; 20]);
        }
        out
    }

    #[test]
    fn offsets_mark_every_entry_start_and_the_end() {
        let buf = raw(&[
            ("100644", "a.yaml", 1),
            ("40000", "old", 2),
            ("100644", "z.yaml", 0),
        ]);
        let o = offsets(&buf, 0, buf.len(), 20).expect("well formed");
        assert_eq!(o, vec![0, 34, 64, buf.len() as u32]);
        let (e, n) = parse_one(&buf[34..], 20).expect("an entry");
        assert_eq!((e.name, e.is_tree, n), (&b"old"[..], true, 30));
        assert!(offsets(&buf[..buf.len() - 1], 0, buf.len() - 1, 20).is_none());
    }

    #[test]
    fn git_orders_a_directory_as_if_its_name_ended_in_a_slash() {
        let e = |name: &'static str, is_tree| Entry {
            name: name.as_bytes(),
            is_tree,
            oid: &[],
        };
        // "a.b" < "a/" (a directory) < "a0": '.' < '/' < '0'.
        assert_eq!(order(&e("a.b", false), &e("a", true)), Ordering::Less);
        assert_eq!(order(&e("a", true), &e("a0", false)), Ordering::Less);
        assert_eq!(order(&e("a", false), &e("a.b", false)), Ordering::Less);
        assert_eq!(order(&e("a", false), &e("a", true)), Ordering::Less);
    }

    #[test]
    fn common_prefix_and_suffix_cross_chunk_boundaries() {
        let a: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut b = a.clone();
        b[700] ^= 0xff;
        assert_eq!(common_prefix(&a, &b), 700);
        assert_eq!(common_suffix(&a, &b), 299);
        assert_eq!(common_prefix(&a, &a), 1000);
        assert_eq!(common_suffix(&a[..10], &a), 0);
    }
}
