"""Certificate Transparency primitives: Merkle proofs, tree head signatures, entry decoding."""
