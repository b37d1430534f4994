"""RFC 6962 / RFC 9162 tree hashing and proofs, against the published certificate-transparency vectors."""

import pytest

from ledger import merkle

# The leaf inputs and expected values of the certificate-transparency reference tests
# (also transparency-dev/merkle testonly): roots for sizes 0..8, two inclusion and four consistency proofs.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (0, 1, []),
]  # fmt: skip
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


def build_store(leaves):
    """Every complete node of the tree over `leaves`, as the sequencer would have stored them."""
    store = {}
    frontier = merkle.Frontier()
    for i, data in enumerate(leaves):
        leaf = merkle.leaf_hash(data)
        store[(0, i)] = leaf
        for level, index, digest in frontier.append(leaf):
            store[(level, index)] = digest
    return store, frontier


def fetcher(store):
    return lambda wanted: {node: store[node] for node in wanted if node in store}


def hexes(items):
    return [x.hex() for x in items]


@pytest.mark.parametrize("size", range(9))
def test_it_computes_the_published_root_for_each_size(size):
    store, frontier = build_store(LEAVES[:size])
    assert frontier.root().hex() == ROOTS[size]
    assert merkle.subtree_root(size, fetcher(store)).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_it_builds_and_verifies_the_published_inclusion_proofs(index, size, expected):
    store, _ = build_store(LEAVES[:size])
    proof = merkle.inclusion_proof(index, size, fetcher(store))
    assert hexes(proof) == expected
    merkle.verify_inclusion(index, size, merkle.leaf_hash(LEAVES[index]), proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY)
def test_it_builds_and_verifies_the_published_consistency_proofs(old, new, expected):
    store, _ = build_store(LEAVES[:new])
    proof = merkle.consistency_proof(old, new, fetcher(store))
    assert hexes(proof) == expected
    merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def test_it_proves_every_leaf_and_every_size_pair_up_to_forty():
    leaves = [f"leaf {i}".encode() for i in range(40)]
    store, _ = build_store(leaves)
    fetch = fetcher(store)
    roots = [merkle.root_of(merkle.leaf_hash(x) for x in leaves[:n]) for n in range(41)]
    for new in range(41):
        for index in range(new):
            proof = merkle.inclusion_proof(index, new, fetch)
            merkle.verify_inclusion(index, new, merkle.leaf_hash(leaves[index]), proof, roots[new])
        for old in range(new + 1):
            proof = merkle.consistency_proof(old, new, fetch)
            merkle.verify_consistency(old, new, roots[old], roots[new], proof)


def test_it_rejects_a_proof_with_one_flipped_bit():
    store, _ = build_store(LEAVES)
    proof = merkle.inclusion_proof(5, 8, fetcher(store))
    proof[1] = bytes([proof[1][0] ^ 1]) + proof[1][1:]
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(5, 8, merkle.leaf_hash(LEAVES[5]), proof, bytes.fromhex(ROOTS[8]))


def test_it_rejects_an_inclusion_proof_for_another_leaf_or_size():
    store, _ = build_store(LEAVES)
    proof = merkle.inclusion_proof(5, 8, fetcher(store))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(4, 8, merkle.leaf_hash(LEAVES[5]), proof, bytes.fromhex(ROOTS[8]))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(5, 7, merkle.leaf_hash(LEAVES[5]), proof, bytes.fromhex(ROOTS[7]))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(8, 8, merkle.leaf_hash(LEAVES[5]), proof, bytes.fromhex(ROOTS[8]))


def test_it_rejects_consistency_with_a_forked_history():
    store, _ = build_store(LEAVES)
    proof = merkle.consistency_proof(6, 8, fetcher(store))
    forked_old_root = merkle.root_of(merkle.leaf_hash(x) for x in [*LEAVES[:5], b"rewritten"])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(6, 8, forked_old_root, bytes.fromhex(ROOTS[8]), proof)


def test_it_handles_edge_sizes_empty_one_and_equal():
    store, _ = build_store(LEAVES[:4])
    fetch = fetcher(store)
    assert merkle.consistency_proof(0, 4, fetch) == []
    assert merkle.consistency_proof(4, 4, fetch) == []
    merkle.verify_consistency(0, 4, merkle.EMPTY_ROOT, bytes.fromhex(ROOTS[4]), [])
    merkle.verify_consistency(4, 4, bytes.fromhex(ROOTS[4]), bytes.fromhex(ROOTS[4]), [])
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(4, 4, bytes.fromhex(ROOTS[4]), bytes.fromhex(ROOTS[3]), [])
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(5, 4, fetch)
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(0, 0, fetch)


def test_it_reads_only_logarithmically_many_nodes_for_a_proof():
    asked = []
    store, _ = build_store([str(i).encode() for i in range(1000)])

    def counting(wanted):
        asked.append(len(wanted))
        return fetcher(store)(wanted)

    merkle.inclusion_proof(777, 1000, counting)
    merkle.consistency_proof(333, 1000, counting)
    assert asked[0] <= 2 * 10 and asked[1] <= 2 * 10  # log2(1000) ~ 10, right edge folds add at most as many


def test_it_names_the_missing_nodes_when_the_store_lacks_them():
    store, _ = build_store(LEAVES)
    del store[(1, 1)]
    with pytest.raises(merkle.ProofError, match="lacks nodes"):
        merkle.inclusion_proof(0, 8, fetcher(store))
