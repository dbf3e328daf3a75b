# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""An independent codec of the signer protocol (docs/signer-protocol.md),
for the tests: it shares no code with src/ca_wire.c.

Frame: magic CA 5E, version 1, type, id (u64), length (u32), payload,
CRC-32 (IEEE, zlib.crc32) of everything before it; all big-endian.
Payload: TLVs, tag u8, length u16, value.
"""

import struct
import zlib

MAGIC = b"\xca\x5e"
VERSION = 1
HEADER = 16
TRAILER = 4
MAX_PAYLOAD = 65536

HELLO, HEARTBEAT, SIGN, REVOKE, CRL = 0x01, 0x02, 0x03, 0x04, 0x05
HELLO_OK, HEARTBEAT_OK, CERT, REVOKED, CRL_SIG = 0x81, 0x82, 0x83, 0x84, 0x85
NAK, STOP = 0x7E, 0x7F

TYPE_NAMES = {v: k for k, v in dict(
    HELLO=HELLO, HEARTBEAT=HEARTBEAT, SIGN=SIGN, REVOKE=REVOKE, CRL=CRL,
    HELLO_OK=HELLO_OK, HEARTBEAT_OK=HEARTBEAT_OK, CERT=CERT, REVOKED=REVOKED,
    CRL_SIG=CRL_SIG, NAK=NAK, STOP=STOP).items()}

T_CA, T_PROFILE, T_CN, T_EMAIL, T_SAN_EMAIL, T_SAN_DNS = 1, 2, 3, 4, 5, 6
T_SPKI, T_DAYS, T_MD = 7, 8, 9
T_ORG_O, T_ORG_OU, T_ORG_L, T_ORG_ST, T_ORG_C = 10, 11, 12, 13, 14
T_CERT, T_SERIAL, T_TIME, T_REASON, T_CRL_NUMBER = 20, 21, 22, 23, 24
T_THIS_UPDATE, T_NEXT_UPDATE, T_TBS_SHA256, T_SIGNATURE = 25, 26, 27, 28
T_TEXT, T_COUNT = 29, 30
# OpenPGP key signing (protocol revision 1.1)
PGPSIGN, PGPKEY = 0x06, 0x86
TYPE_NAMES.update({PGPSIGN: "PGPSIGN", PGPKEY: "PGPKEY"})
T_PGP_KEY, T_PGP_FPR, T_PGP_UID, T_PGP_NAME, T_PGP_EMAIL = 31, 32, 33, 34, 35
# CRL_SIG: signerd still hashes the CRL, ask again (revision 1.2)
T_PENDING = 36


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def encode(mtype, mid, payload=b"", version=VERSION):
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("payload too large")
    head = MAGIC + struct.pack(">BBQI", version, mtype, mid, len(payload))
    body = head + payload
    return body + struct.pack(">I", crc32(body))


def tlv(tag, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    if len(value) > 0xFFFF:
        raise ValueError("TLV value too large")
    return struct.pack(">BH", tag, len(value)) + value


def tlvs(*pairs):
    """tlvs((tag, value), ...) -> payload bytes; int values need a size:
    (tag, value, nbytes)"""
    out = b""
    for p in pairs:
        if len(p) == 3:
            out += tlv(p[0], p[1].to_bytes(p[2], "big", signed=p[1] < 0))
        else:
            out += tlv(p[0], p[1])
    return out


def parse_tlvs(payload):
    """-> list of (tag, value); ValueError on truncation"""
    out = []
    i = 0
    while i < len(payload):
        if len(payload) - i < 3:
            raise ValueError("truncated TLV header")
        tag, n = struct.unpack(">BH", payload[i:i + 3])
        if len(payload) - i - 3 < n:
            raise ValueError("TLV overruns payload")
        out.append((tag, payload[i + 3:i + 3 + n]))
        i += 3 + n
    return out


class Frame:
    def __init__(self, mtype, mid, payload):
        self.type = mtype
        self.id = mid
        self.payload = payload
        self.tlvs = parse_tlvs(payload)

    def get(self, tag):
        for t, v in self.tlvs:
            if t == tag:
                return v
        return None

    def all(self, tag):
        return [v for t, v in self.tlvs if t == tag]

    def uint(self, tag):
        v = self.get(tag)
        return None if v is None else int.from_bytes(v, "big")

    def int(self, tag):
        v = self.get(tag)
        return None if v is None else int.from_bytes(v, "big", signed=True)

    def text(self, tag):
        v = self.get(tag)
        return None if v is None else v.decode("utf-8")

    @property
    def name(self):
        return TYPE_NAMES.get(self.type, hex(self.type))

    def __repr__(self):
        return f"<Frame {self.name} id={self.id} {len(self.payload)} bytes>"


class Decoder:
    """Stream decoder: feed(bytes) -> list of Frame or the string "damaged"."""

    def __init__(self):
        self.buf = bytearray()
        self.garbage = 0
        self.damaged = 0

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            i = self.buf.find(MAGIC)
            if i < 0:
                keep = 1 if self.buf.endswith(MAGIC[:1]) else 0
                self.garbage += len(self.buf) - keep
                del self.buf[:len(self.buf) - keep]
                return out
            self.garbage += i
            del self.buf[:i]
            if len(self.buf) < HEADER:
                return out
            version, mtype, mid, n = struct.unpack(">BBQI", self.buf[2:HEADER])
            if version != VERSION or n > MAX_PAYLOAD:
                self._damage(out)
                continue
            if len(self.buf) < HEADER + n + TRAILER:
                return out
            body = bytes(self.buf[:HEADER + n])
            (crc,) = struct.unpack(">I", self.buf[HEADER + n:HEADER + n + TRAILER])
            if crc != crc32(body):
                self._damage(out)
                continue
            del self.buf[:HEADER + n + TRAILER]
            out.append(Frame(mtype, mid, body[HEADER:]))

    def _damage(self, out):
        del self.buf[:2]
        self.garbage += 2
        self.damaged += 1
        out.append("damaged")
