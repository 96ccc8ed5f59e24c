#!/usr/bin/env python3
"""Computes, independently of kmchain, the expected values pasted into tests/enroll/*_test.cpp.

Python 3 standard library (hashlib, hmac, struct) for HKDF, HMAC and SHA-256; the `cryptography`
package only for X25519 and the Ed25519 public key. Run: python3 tests/enroll/known_values.py
The formulas are written out from the header comments of src/enroll/*.h, not from the code.
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def counting(first, n):
    return bytes((first + i) & 0xFF for i in range(n))


def sha256(b):
    return hashlib.sha256(b).digest()


def mac(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def hkdf(salt, ikm, info, length):
    """RFC 5869: an empty salt is HashLen zero bytes."""
    prk = mac(salt if salt else bytes(32), ikm)
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = mac(prk, t + info + bytes([i]))
        okm += t
        i += 1
    return okm[:length]


# Inputs shared with the C++ tests (join_test.cpp, secret_code_test.cpp, device_request_test.cpp).
CODE = counting(0x00, 32)
CREDENTIAL_ID = counting(0x10, 16)
PSK = counting(0x20, 32)
NONCE = counting(0x30, 16)
CONTEXT = counting(0x40, 32)
REPLY_PORT = 5683
GATEWAY = 3
NODE = 0x03000007
# RFC 7748 section 6.1: Alice is the device's ephemeral key, Bob the gateway's.
ALICE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
BOB = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")

# secret_code.h
seed = hkdf(b"", CODE, b"kmchain/v1/secret-code", 32)
commitment = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(*RAW)
print("commitment  ", commitment.hex())

# join.h and key_schedule.h
device = X25519PrivateKey.from_private_bytes(ALICE)
gateway = X25519PrivateKey.from_private_bytes(BOB)
device_pub = device.public_key().public_bytes(*RAW)
gateway_pub = gateway.public_key().public_bytes(*RAW)

k_hello = hkdf(b"", PSK, b"kmchain/v1/join/hello" + CONTEXT, 32)
hello_body = (struct.pack(">B", 1) + CREDENTIAL_ID + device_pub + NONCE + commitment +
              struct.pack(">H", REPLY_PORT))
hello = hello_body + mac(k_hello, hello_body)
assert len(hello) == 131
print("hello       ", hello.hex())

shared = device.exchange(X25519PublicKey.from_public_bytes(gateway_pub))
k_accept = hkdf(PSK, shared, b"kmchain/v1/join/accept" + CONTEXT + sha256(hello), 32)
accept_body = struct.pack(">BHI", 1, GATEWAY, NODE) + gateway_pub
accept = accept_body + mac(k_accept, hello + accept_body)
assert len(accept) == 71
print("accept      ", accept.hex())

node_key = hkdf(PSK, shared, b"kmchain/v1/join/node-key" + CONTEXT + sha256(hello + accept_body),
                16)
print("node key    ", node_key.hex())

# device_request.h: a catch-up from position 0x0102030405060708 with counter 9.
k_request = hkdf(b"", node_key, b"kmchain/v1/request" + CONTEXT + struct.pack(">I", NODE), 32)
print("request key ", k_request.hex())
body = struct.pack(">Q", 0x0102030405060708)
request_body = struct.pack(">BBIQH", 1, 2, NODE, 9, len(body)) + body
request = request_body + mac(k_request, request_body)[:16]
print("request     ", request.hex())

# secret_code.h: the proof of the code above for challenge 0x50..0x6f in context "chain-a/gw-3".
challenge = counting(0x50, 32)
proof = Ed25519PrivateKey.from_private_bytes(seed).sign(
    b"kmchain/v1/code-proof" + challenge + b"chain-a/gw-3")
print("proof       ", proof.hex())

# attach.h: node 0x03000007 re-attaches to gateway 3, whose identity seed is 0x60..0x7f; Alice
# is the device's ephemeral key again, Bob the gateway's; challenge 0x50..0x6f; placed at 42.
identity = Ed25519PrivateKey.from_private_bytes(counting(0x60, 32))
code_key = Ed25519PrivateKey.from_private_bytes(seed)
PLACED_AT = 42
a_hello = struct.pack(">BI", 1, NODE) + device_pub + NONCE + struct.pack(">H", REPLY_PORT)
assert len(a_hello) == 55
print("attach hello", a_hello.hex())
a_body = struct.pack(">BHI", 1, GATEWAY, NODE) + gateway_pub + challenge + struct.pack(">Q", PLACED_AT)
a_challenge = a_body + identity.sign(b"kmchain/v1/attach/challenge" + CONTEXT + a_hello + a_body)
assert len(a_challenge) == 143
print("challenge   ", sha256(a_challenge).hex(), "(sha-256)")
proof_context = CONTEXT + struct.pack(">H", GATEWAY) + sha256(a_hello + a_challenge)
a_proof = (struct.pack(">BI", 1, NODE) +
           code_key.sign(b"kmchain/v1/code-proof" + challenge + proof_context) +
           code_key.sign(b"kmchain/v1/move" + CONTEXT + struct.pack(">IHQ", NODE, GATEWAY, PLACED_AT)))
assert len(a_proof) == 133
print("attach proof", sha256(a_proof).hex(), "(sha-256)")
t2 = sha256(a_hello + a_challenge + a_proof)
a_node_key = hkdf(commitment, shared, b"kmchain/v1/attach/node-key" + CONTEXT + t2, 16)
k_done = hkdf(commitment, shared, b"kmchain/v1/attach/done" + CONTEXT + t2, 32)
done_body = struct.pack(">BHI", 1, GATEWAY, NODE)
a_done = done_body + mac(k_done, done_body)
print("attach key  ", a_node_key.hex())
print("attach done ", a_done.hex())
