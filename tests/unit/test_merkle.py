"""RFC 9162 Merkle trees: roots, inclusion and consistency proofs, against an independent
recursive implementation (written straight from the RFC's definitions) and the Certificate
Transparency test vectors."""

from __future__ import annotations

import hashlib

import pytest

from engine.domain.merkle import (
    EMPTY_ROOT,
    MemorySource,
    complete_subtrees,
    consistency_proof,
    event_leaf,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# --- an independent reference: RFC 9162 2.1.1, 2.1.3.1, 2.1.4.1 read literally, over leaf data


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = _k(len(d))
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def data(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


def source(d: list[bytes]) -> MemorySource:
    return MemorySource([leaf_hash(x) for x in d])


def flipped(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


# --- Certificate Transparency test data (certificate-transparency repo, merkle tree tests)

CT_LEAVES = [
    bytes.fromhex(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
CT_CONSISTENCY = {
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def test_ct_vectors() -> None:
    src = source(CT_LEAVES)
    assert root(src, 0) == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for size, expected in CT_ROOTS.items():
        assert root(src, size).hex() == expected
    for (old, new), expected_proof in CT_CONSISTENCY.items():
        proof = consistency_proof(old, new, src)
        assert [p.hex() for p in proof] == expected_proof
        old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
        assert verify_consistency(old, new, old_root, new_root, proof)


def test_hash_primitives() -> None:
    assert leaf_hash(b"x") == _h(b"\x00x")
    assert node_hash(b"a" * 32, b"b" * 32) == _h(b"\x01" + b"a" * 32 + b"b" * 32)
    assert (
        event_leaf(7, 3, "ab" * 32, "cd" * 32)
        == f"lianban-event\n7\n3\n{'ab' * 32}\n{'cd' * 32}\n".encode()
    )


def test_every_inclusion_proof_up_to_64() -> None:
    big = source(data(65))  # data(n) is a prefix of data(65)
    for n in range(1, 65):
        d = data(n)
        src = source(d)
        r = root(src, n)
        assert r == ref_mth(d)
        for i in range(n):
            proof = inclusion_proof(i, n, src)
            assert proof == ref_path(i, d)
            leaf = leaf_hash(d[i])
            assert verify_inclusion(i, n, leaf, proof, r)
            # another leaf, another index, another root, another size: refused
            assert not verify_inclusion(i, n, leaf_hash(b"other"), proof, r)
            assert not verify_inclusion(i, n, leaf, proof, flipped(r))
            # the size is bound by the root (signed with it), not by the proof alone: the
            # proof must fail against any other size's true root
            for other in {n - 1, n + 1} - {0}:
                other_root = root(big, other)
                assert not verify_inclusion(i, other, leaf, proof, other_root)
            for j in range(n):
                if j != i:
                    assert not verify_inclusion(j, n, leaf, proof, r)
            # every tampered, dropped or added proof element: refused
            for t in range(len(proof)):
                bad = list(proof)
                bad[t] = flipped(bad[t])
                assert not verify_inclusion(i, n, leaf, bad, r)
            if proof:
                assert not verify_inclusion(i, n, leaf, proof[:-1], r)
            assert not verify_inclusion(i, n, leaf, [*proof, r], r)


def test_every_consistency_proof_up_to_40() -> None:
    for n in range(1, 41):
        d = data(n)
        src = source(d)
        new_root = root(src, n)
        for m in range(0, n + 1):
            old_root = root(src, m)
            assert old_root == ref_mth(d[:m])
            proof = consistency_proof(m, n, src)
            if 0 < m:
                assert proof == ref_proof(m, d)
            else:
                assert proof == []
            assert verify_consistency(m, n, old_root, new_root, proof)
            # wrong roots
            assert not verify_consistency(m, n, flipped(old_root), new_root, proof)
            if m > 0:  # the empty tree is extended by every tree
                assert not verify_consistency(m, n, old_root, flipped(new_root), proof)
            # tampered, dropped, added elements
            for t in range(len(proof)):
                bad = list(proof)
                bad[t] = flipped(bad[t])
                assert not verify_consistency(m, n, old_root, new_root, bad)
            if proof:
                assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
            assert not verify_consistency(m, n, old_root, new_root, [*proof, new_root])
            # the same proof claimed for other sizes (with those sizes' true roots); an empty
            # proof rightly shows 0 -> n and n -> n
            for m2 in range(1, n + 1):
                if m2 != m and proof:
                    assert not verify_consistency(m2, n, root(src, m2), new_root, proof)
            if m < n:
                assert not verify_consistency(n, m, new_root, old_root, proof)


def test_a_rewritten_history_is_not_consistent() -> None:
    d = data(20)
    changed = list(d)
    changed[5] = b"rewritten"
    old_src, new_src = source(d[:11]), source(changed)
    proof = consistency_proof(11, 20, new_src)
    assert not verify_consistency(11, 20, root(old_src, 11), root(new_src, 20), proof)


def test_sizes_zero_one_and_equal() -> None:
    src = source(data(1))
    assert inclusion_proof(0, 1, src) == []
    assert verify_inclusion(0, 1, src.leaf_hashes[0], [], root(src, 1))
    assert consistency_proof(1, 1, src) == []
    assert verify_consistency(1, 1, root(src, 1), root(src, 1), [])
    assert not verify_consistency(1, 1, root(src, 1), root(src, 1), [root(src, 1)])
    assert not verify_consistency(1, 1, root(src, 1), EMPTY_ROOT, [])
    assert consistency_proof(0, 0, src) == []
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 1, EMPTY_ROOT, root(src, 1), [])
    assert not verify_consistency(0, 1, flipped(EMPTY_ROOT), root(src, 1), [])


def test_bad_input() -> None:
    src = source(data(5))
    for index, size in [(5, 5), (0, 0), (-1, 5), (6, 5)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, src)
        assert not verify_inclusion(index, size, src.leaf_hashes[0], [], root(src, 5))
    with pytest.raises(ValueError):
        consistency_proof(4, 3, src)
    with pytest.raises(ValueError):
        consistency_proof(-1, 3, src)
    with pytest.raises(ValueError):
        root(src, -1)
    with pytest.raises(ValueError):
        src.subtree(0, 6)
    # hashes of the wrong length never verify
    r = root(src, 5)
    proof = inclusion_proof(2, 5, src)
    assert not verify_inclusion(2, 5, src.leaf_hashes[2], [*proof[:-1], proof[-1][:31]], r)
    assert not verify_inclusion(2, 5, src.leaf_hashes[2][:31], proof, r)


class RecordingSource:
    def __init__(self, inner: MemorySource) -> None:
        self.inner = inner
        self.asked: set[tuple[int, int]] = set()

    def subtree(self, start: int, end: int) -> bytes:
        self.asked.add((start, end))
        return self.inner.subtree(start, end)


def test_complete_subtrees_answer_every_range_the_proofs_ask_for() -> None:
    """A source built on stored complete subtrees (level, idx) gives the same hashes."""
    for n in range(1, 41):
        src = source(data(n))
        rec = RecordingSource(src)
        root(rec, n)
        for i in range(n):
            inclusion_proof(i, n, rec)
        for m in range(n + 1):
            consistency_proof(m, n, rec)
        for start, end in rec.asked:
            parts = complete_subtrees(start, end)
            hashes = [src.subtree(idx << level, (idx + 1) << level) for level, idx in parts]
            folded = hashes[-1]
            for h in reversed(hashes[:-1]):
                folded = node_hash(h, folded)
            assert folded == src.subtree(start, end), (start, end)
