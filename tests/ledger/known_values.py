#!/usr/bin/env python3
"""Computes, independently of kmchain, the expected values pasted into tests/ledger/*_test.cpp.

Python 3 standard library (hashlib, struct) for every hash; the `cryptography` package only for
the Ed25519 public keys and signatures. Run: python3 tests/ledger/known_values.py
The layouts are written out from the header comments of src/ledger/*.h, not from the code.
"""
import hashlib
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def counting(first, n):
    return bytes((first + i) & 0xFF for i in range(n))


def sha256(b):
    return hashlib.sha256(b).digest()


def mth(d):
    """RFC 6962 section 2.1 Merkle Tree Hash."""
    n = len(d)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def tx(op, node, set_id, commitment_first, key_first):
    return struct.pack(">BII", op, node, set_id) + counting(commitment_first, 32) + counting(key_first, 16)


def seed(i):
    return bytes([i + 1]) * 32


def public_key(i):
    return Ed25519PrivateKey.from_private_bytes(seed(i)).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(i, message):
    return Ed25519PrivateKey.from_private_bytes(seed(i)).sign(message)


# merkle_test.cpp: the Certificate Transparency reference inputs, then leaves bytes([i]).
ct = [bytes.fromhex(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                 "606162636465666768696a6b6c6d6e6f"]]
for n in range(9):
    print("ct root", n, mth(ct[:n]).hex())
for n in [9, 13, 16, 17, 31, 33, 64]:
    print("root of bytes([i]) for i <", n, mth([bytes([i]) for i in range(n)]).hex())

# transaction_test.cpp
t1 = tx(1, 0x01020304, 0x05060708, 0x10, 0x30)
t2 = tx(2, 0x0A0B0C0D, 0x01000002, 0x40, 0x60)
t3 = tx(3, 0xFFFFFFFE, 0xFF000001, 0x80, 0xA0)
print("tx", t1.hex())
print("tx hash", sha256(b"kmchain/v1/tx" + t1).hex())

# genesis_test.cpp: "kmchain-test", 1700000000000 ms, four validators of power 1.
name = b"kmchain-test"
genesis = struct.pack(">BB", 1, len(name)) + name + struct.pack(">QH", 1700000000000, 4)
for i in range(4):
    genesis += struct.pack(">H", i) + public_key(i) + struct.pack(">Q", 1)
chain_id = sha256(b"kmchain/v1/genesis" + genesis)
print("genesis", genesis.hex())
print("chain id", chain_id.hex())

# signed_transaction_test.cpp: the three samples signed by gateways 1, 2 and 3 for the
# genesis above; the leave carries the consent of the device whose code key has seed 0x42 * 32.
device_seed = bytes([0x42]) * 32
device = Ed25519PrivateKey.from_private_bytes(device_seed)
device_public = device.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)


def envelope(submitter, body, consent):
    signed = struct.pack(">BH", 1, submitter) + body
    signed += (b"\x01" + consent) if consent else b"\x00"
    return signed + sign(submitter, b"kmchain/v1/submission" + chain_id + signed)


consent = device.sign(b"kmchain/v1/leave" + chain_id + t2[1:5])
s1 = envelope(1, t1, None)
s2 = envelope(2, t2, consent)
s3 = envelope(3, t3, None)
print("device public key", device_public.hex())
print("leave consent", consent.hex())
print("signed tx 1", s1.hex())
print("signed tx 2", s2.hex())
print("signed tx hash 1", sha256(b"kmchain/v1/tx" + s1).hex())

# block_test.cpp (version 2): height 7, previous a0.., state c0.., proposer 3, 1700000000000 ms,
# over the three signed samples.
root = mth([s1, s2, s3])
header = (struct.pack(">BQ", 2, 7) + counting(0xA0, 32) + root + counting(0xC0, 32) +
          struct.pack(">HQ", 3, 1700000000000))
block_hash = sha256(b"kmchain/v1/block" + header)
print("transactions root", root.hex())
print("header", header.hex())
print("block hash", block_hash.hex())

# vote_test.cpp: validator 1's precommit for the sample block at height 7, round 2.
vote = b"kmchain/v1/vote" + chain_id + struct.pack(">BQIB", 2, 7, 2, 1) + block_hash + struct.pack(">H", 1)
print("vote sign bytes", vote.hex())
print("vote signature", sign(1, vote).hex())

# proposal_test.cpp: validator 3 proposes the sample block at height 7, round 2, valid round 1.
proposal = (b"kmchain/v1/proposal" + chain_id + struct.pack(">QII", 7, 2, 1) + block_hash +
            struct.pack(">H", 3))
print("proposal sign bytes", proposal.hex())
print("proposal signature", sign(3, proposal).hex())
