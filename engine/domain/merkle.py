"""Merkle trees as in RFC 9162 (Certificate Transparency 2.0), section 2.1.

The transparency log appends one leaf per case event. A signed checkpoint commits to the first
`size` leaves through their Merkle tree hash (MTH); an inclusion proof shows that one leaf is
among them, a consistency proof that a bigger tree extends a smaller one (nothing was rewritten,
only appended). Pure code: the hashes of subtrees come from a `HashSource` (in memory here, the
database's stored nodes in engine.persistence), so proofs cost O(log n) subtree reads.

Hashing (RFC 9162 2.1.1): a leaf is SHA-256(0x00 || data), an inner node SHA-256(0x01 || left
|| right); the tree of n > 1 leaves splits at k, the largest power of two smaller than n.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # the MTH of the empty tree


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def event_leaf(case_id: int, seq: int, event_hash: str, state_hash: str) -> bytes:
    """The leaf data of one case event (hash it with `leaf_hash`)."""
    return f"lianban-event\n{case_id}\n{seq}\n{event_hash}\n{state_hash}\n".encode()


def split_point(n: int) -> int:
    """k: the largest power of two smaller than n (n >= 2)."""
    if n < 2:
        raise ValueError(f"no split for {n} leaves")
    return 1 << ((n - 1).bit_length() - 1)


class HashSource(Protocol):
    def subtree(self, start: int, end: int) -> bytes:
        """The Merkle tree hash MTH of leaves[start:end] (start < end)."""
        ...


class MemorySource:
    """Leaf hashes held in memory; subtree hashes are computed once and remembered."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.leaf_hashes = list(leaf_hashes)
        self._memo: dict[tuple[int, int], bytes] = {}

    def __len__(self) -> int:
        return len(self.leaf_hashes)

    def subtree(self, start: int, end: int) -> bytes:
        if not 0 <= start <= end <= len(self.leaf_hashes):
            raise ValueError(f"no subtree [{start}, {end}) in {len(self.leaf_hashes)} leaves")
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.leaf_hashes[start]
        key = (start, end)
        found = self._memo.get(key)
        if found is None:
            k = split_point(n)
            found = node_hash(self.subtree(start, start + k), self.subtree(start + k, end))
            self._memo[key] = found
        return found


def complete_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The complete subtrees whose hashes, folded from the right, give MTH(leaves[start:end]).

    For a range the RFC's recursion reaches (start is a multiple of a power of two at least
    end - start), MTH(leaves[start:end]) = node(h0, node(h1, ... node(h_{m-2}, h_{m-1}))) with
    h_i the hash of the complete subtree (level, idx) = leaves [idx*2^level, (idx+1)*2^level),
    listed left to right here. A stored-nodes source can answer `subtree` with this.
    """
    if not 0 <= start < end:
        raise ValueError(f"bad range [{start}, {end})")
    parts: list[tuple[int, int]] = []
    while start < end:
        n = end - start
        # the biggest aligned complete subtree starting at `start` that fits in the range
        level = n.bit_length() - 1
        while start % (1 << level):
            level -= 1
        parts.append((level, start >> level))
        start += 1 << level
    return parts


def root(source: HashSource, size: int) -> bytes:
    """The Merkle tree hash of the first `size` leaves (EMPTY_ROOT for 0)."""
    if size < 0:
        raise ValueError(f"bad tree size {size}")
    if size == 0:
        return EMPTY_ROOT
    return source.subtree(0, size)


def inclusion_proof(index: int, size: int, source: HashSource) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 2.1.3.1: the sibling hashes from the leaf up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    top_down: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            top_down.append(source.subtree(start + k, end))
            end = start + k
        else:
            top_down.append(source.subtree(start, start + k))
            start += k
    top_down.reverse()
    return top_down


def consistency_proof(old: int, new: int, source: HashSource) -> list[bytes]:
    """PROOF(old, D[new]) of RFC 9162 2.1.4.1; empty when old == new or old == 0."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new} leaves")
    if old == 0 or old == new:
        return []
    top_down: list[bytes] = []
    start, end = 0, new
    whole = True  # SUBPROOF's b: the old tree is still a prefix of [start, end) from 0
    while True:
        if old == end:
            if not whole:
                top_down.append(source.subtree(start, end))
            break
        k = split_point(end - start)
        if old - start <= k:
            top_down.append(source.subtree(start + k, end))
            end = start + k
        else:
            top_down.append(source.subtree(start, start + k))
            start += k
            whole = False
    top_down.reverse()
    return top_down


def _hashes_ok(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does `proof` show leaf `index` with `leaf_hash` in the tree `root`?"""
    if not 0 <= index < size:
        return False
    if not _hashes_ok(leaf_hash, root, *proof):
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: does `proof` show the tree `new_root` extends the tree `old_root`?

    Equal sizes need an empty proof and equal roots; the empty tree (old == 0, root EMPTY_ROOT)
    is extended by every tree, with an empty proof.
    """
    if not 0 <= old <= new:
        return False
    if not _hashes_ok(old_root, new_root, *proof):
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: the old tree is itself a node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
