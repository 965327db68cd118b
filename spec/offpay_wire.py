"""offpay wire format, written from SPEC.md: strict CBOR, message schemas and rules,
signing inputs, identifiers and signature verification (sections 2-7). Used by verify.py;
see its docstring."""

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


class Refused(Exception):
    """A refusal with one error class of SPEC.md section 13 or 14."""

    def __init__(self, cls, detail=""):
        super().__init__(cls + (": " + detail if detail else ""))
        self.cls = cls


# ---------------------------------------------------------------- CBOR (SPEC 2, 4)

MAX_DEPTH, MAX_ARRAY, MAX_MAP = 8, 100000, 16


def parse_item(data, pos, depth):
    """Parses one well-formed item (SPEC 4 step 6); returns (item, next pos).
    Items are tuples: (major, value); text keeps its raw bytes."""
    if depth > MAX_DEPTH:
        raise Refused("malformed", "nesting")
    if pos >= len(data):
        raise Refused("malformed", "truncated")
    ib = data[pos]
    major, ai = ib >> 5, ib & 31
    pos += 1
    if major == 7:
        n = {24: 1, 25: 2, 26: 4, 27: 8}.get(ai, 0)
        if ai in (28, 29, 30, 31):
            raise Refused("malformed", "reserved or break")
        if pos + n > len(data):
            raise Refused("malformed", "truncated")
        return (7, data[pos - 1:pos + n]), pos + n
    if ai == 31:
        raise Refused("malformed", "indefinite length")
    if ai in (28, 29, 30):
        raise Refused("malformed", "reserved additional information")
    if ai < 24:
        arg = ai
    else:
        n = 1 << (ai - 24)
        if pos + n > len(data):
            raise Refused("malformed", "truncated")
        arg = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    if major in (0, 1):
        return (major, arg), pos
    if major in (2, 3):
        if pos + arg > len(data):
            raise Refused("malformed", "truncated")
        return (major, bytes(data[pos:pos + arg])), pos + arg
    if major == 6:
        raise Refused("malformed", "tag")
    if major == 4:
        if arg > MAX_ARRAY:
            raise Refused("oversize", "array")
        out = []
        for _ in range(arg):
            item, pos = parse_item(data, pos, depth + 1)
            out.append(item)
        return (4, out), pos
    if arg > MAX_MAP:
        raise Refused("malformed", "map")
    out = []
    for _ in range(2 * arg):
        item, pos = parse_item(data, pos, depth + 1)
        out.append(item)
    return (5, out), pos


def parse_whole(data):
    item, pos = parse_item(data, 0, 1)
    if pos != len(data):
        raise Refused("trailing_bytes")
    return item


def head(major, arg):
    if arg < 24:
        return bytes([major << 5 | arg])
    for ai, n in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * n):
            return bytes([major << 5 | ai]) + arg.to_bytes(n, "big")
    raise ValueError(arg)


def encode(item):
    """The core deterministic encoding of a shape-checked item (SPEC 2)."""
    major, v = item
    if major == 0:
        return head(0, v)
    if major in (2, 3):
        return head(major, len(v)) + v
    if major == 4:
        return head(4, len(v)) + b"".join(encode(x) for x in v)
    raise ValueError("not an offpay item")


# ---------------------------------------------------------------- schemas (SPEC 7)

U8, U64, B16, B32, BYTES, TEXT = "u8", "u64", "b16", "b32", "bytes", "text"
REF = "ref"  # a payment's field 6: a 16-byte request nonce, or a refund's 32-byte sale PaymentID (SPEC 7.5.1)
LIMITS = ("tuple", [U64] * 8)
CERT = ("msg", "certificate")
LOAD = ("msg", "load")
REVLIST = ("msg", "revocation_list")
ENTRY = ("msg", "log_entry")
PAYMENT = ("msg", "payment")

FIELDS = {
    "certificate": [("version", U8), ("role", U8), ("serial", U64), ("issuer", B16), ("key_alg", U8),
                    ("key", BYTES), ("not_before", U64), ("not_after", U64), ("account", TEXT),
                    ("class", U8), ("currency", TEXT), ("limits", LIMITS), ("name", TEXT),
                    ("sig_alg", U8), ("sig", BYTES)],
    "revocation_list": [("version", U8), ("number", U64), ("issued", U64), ("signer", B16),
                        ("revoked", ("list", B16)), ("sig_alg", U8), ("sig", BYTES)],
    "load": [("version", U8), ("device", B16), ("seq", U64), ("amount", U64), ("currency", TEXT),
             ("time", U64), ("signer", B16), ("sig_alg", U8), ("sig", BYTES)],
    "payment_request": [("version", U8), ("payee", CERT), ("amount", U64), ("currency", TEXT),
                        ("nonce", B16), ("expiry", U64), ("name", TEXT), ("channel_key", BYTES),
                        ("pairing", BYTES), ("address", BYTES), ("sig_alg", U8), ("sig", BYTES)],
    "payment": [("version", U8), ("payer", B16), ("payee", B16), ("amount", U64), ("currency", TEXT),
                ("counter", U64), ("ref", REF), ("time", U64), ("hops", U64), ("sig_alg", U8), ("sig", BYTES)],
    "payment_bundle": [("payment", PAYMENT), ("cert", CERT)],
    "receipt": [("version", U8), ("payment", B32), ("payee", B16), ("counter", U64), ("time", U64),
                ("sig_alg", U8), ("sig", BYTES)],
    "redeem": [("version", U8), ("device", B16), ("counter", U64), ("amount", U64), ("currency", TEXT),
               ("time", U64), ("sig_alg", U8), ("sig", BYTES)],
    "log_entry": [("version", U8), ("device", B16), ("counter", U64), ("prev", B32), ("kind", U8),
                  ("time", U64), ("body", BYTES), ("sig_alg", U8), ("sig", BYTES)],
    "sync_upload": [("version", U8), ("device", B16), ("time", U64), ("entries", ("list", ENTRY)),
                    ("sig_alg", U8), ("sig", BYTES)],
    "sync_result": [("version", U8), ("device", B16), ("acked", U64), ("time", U64),
                    ("statuses", ("list", ("tuple", [B32, U8]))), ("missing", ("list", U64)),
                    ("loads", ("list", LOAD)), ("swept", U64), ("rev_list", REVLIST),
                    ("cert", ("list", CERT)), ("signer", B16),
                    ("sig_alg", U8), ("sig", BYTES)],
    "enrolment_request": [("version", U8), ("key_alg", U8), ("key", BYTES), ("account", TEXT),
                          ("class", U8), ("time", U64), ("sig_alg", U8), ("sig", BYTES)],
    "reserve_request": [("version", U8), ("device", B16), ("request_id", B16), ("amount", U64),
                        ("currency", TEXT), ("time", U64), ("sig_alg", U8), ("sig", BYTES)],
    "sync_applied": [("version", U8), ("device", B16), ("result", B32), ("time", U64), ("swept", U64)],
    "attestation": [("version", U8), ("key_alg", U8), ("key", BYTES), ("class", U8), ("maker", B16),
                    ("made", U64), ("sig_alg", U8), ("sig", BYTES)],
    "attested_enrolment": [("request", ("msg", "enrolment_request")), ("attestation", ("msg", "attestation"))],
    "online_payment": [("version", U8), ("payer", B16), ("request", ("msg", "payment_request")), ("amount", U64),
                       ("currency", TEXT), ("time", U64), ("sig_alg", U8), ("sig", BYTES)],
    "online_receipt": [("version", U8), ("payment", B32), ("payer", B16), ("payee", B16), ("nonce", B16),
                       ("amount", U64), ("currency", TEXT), ("time", U64), ("signer", B16),
                       ("sig_alg", U8), ("sig", BYTES)],
}
TYPES = {1: "certificate", 2: "revocation_list", 3: "load", 4: "payment_request", 5: "payment",
         6: "payment_bundle", 7: "receipt", 8: "redeem", 9: "log_entry", 10: "sync_upload",
         11: "sync_result", 12: "enrolment_request", 13: "reserve_request",
         14: "sync_applied", 15: "attestation", 16: "attested_enrolment", 17: "online_payment",
         18: "online_receipt"}
NUMBER = {v: k for k, v in TYPES.items()}
LIMIT = {"certificate": 288, "revocation_list": 1700144, "load": 192, "payment_request": 640,
         "payment": 192, "payment_bundle": 464, "receipt": 160, "redeem": 160, "log_entry": 640,
         "sync_upload": 6410128, "sync_result": 2522890, "enrolment_request": 192, "reserve_request": 192,
         "sync_applied": 96, "attestation": 192, "attested_enrolment": 385, "online_payment": 768,
         "online_receipt": 224}
CONTEXT = {"certificate": "certificate", "revocation_list": "revocation-list", "load": "load",
           "payment_request": "payment-request", "payment": "payment", "receipt": "receipt",
           "redeem": "redeem", "log_entry": "log-entry", "sync_upload": "sync-upload",
           "sync_result": "sync-result", "enrolment_request": "enrolment-request",
           "reserve_request": "reserve-request", "attestation": "attestation",
           "online_payment": "online-payment", "online_receipt": "online-receipt"}


class Msg(dict):
    """A shape-checked message: field name -> value, plus its type and item."""

    def __init__(self, kind, item, values):
        super().__init__(values)
        self.kind, self.item = kind, item


def shape(item, t):
    """SPEC 4 step 7: returns the Python value of item for field type t."""
    major, v = item
    if t in (U8, U64):
        if major != 0 or (t == U8 and v > 255):
            raise Refused("malformed", "not a " + t)
        return v
    if t in (B16, B32, BYTES):
        if major != 2 or (t == B16 and len(v) != 16) or (t == B32 and len(v) != 32):
            raise Refused("malformed", "not a " + t)
        return v
    if t == REF:
        if major != 2 or len(v) not in (16, 32) or v == bytes(32):
            raise Refused("malformed", "ref is neither a nonce nor a sale's PaymentID")
        return v
    if t == TEXT:
        if major != 3:
            raise Refused("malformed", "not text")
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("malformed", "invalid UTF-8")
    if major != 4:
        raise Refused("malformed", "not an array")
    if t[0] == "list":
        return [shape(x, t[1]) for x in v]
    if t[0] == "tuple":
        if len(v) != len(t[1]):
            raise Refused("malformed", "tuple length")
        return [shape(x, u) for x, u in zip(v, t[1])]
    fields = FIELDS[t[1]]
    if len(v) != len(fields):
        raise Refused("malformed", "element count")
    return Msg(t[1], item, {name: shape(x, ft) for (name, ft), x in zip(fields, v)})


def decode(kind, data):
    """SPEC 4 steps 4-9 for a message of a known type."""
    if len(data) > LIMIT[kind]:
        raise Refused("oversize")
    try:
        item = parse_whole(data)
    except Refused:
        item = None
    if item is not None and item[0] == 4 and item[1]:           # step 5: version peek
        first = item[1][0]
        if kind in ("payment_bundle", "attested_enrolment"):
            first = first[1][0] if first[0] == 4 and first[1] else None
        if first is not None and first[0] == 0 and first[1] != 1:
            raise Refused("unknown_version")
    if not data:
        raise Refused("malformed", "empty")
    item = parse_whole(data)                                      # step 6
    msg = shape(item, ("msg", kind))                              # step 7
    if encode(item) != data:                                      # step 8
        raise Refused("non_canonical")
    RULES[kind](msg)                                              # step 9
    return msg


def open_envelope(env, want=None):
    """SPEC 4 steps 1-3."""
    if not env:
        raise Refused("malformed", "empty envelope")
    kind = TYPES.get(env[0])
    if kind is None or (want is not None and kind != want):
        raise Refused("unknown_type")
    return decode(kind, env[1:])


# ---------------------------------------------------------------- field rules (SPEC 7)

MAX_AMOUNT = (1 << 63) - 1


def version(m):
    if m["version"] != 1:
        raise Refused("unknown_version")


def sig_rule(m):
    if m["sig_alg"] not in (1, 2):
        raise Refused("unknown_algorithm")
    if len(m["sig"]) != 64:
        raise Refused("bad_field", "signature length")


def currency(c):
    if not 3 <= len(c) <= 8 or any(not ("A" <= ch <= "Z" or "0" <= ch <= "9") for ch in c):
        raise Refused("bad_field", "currency code")


def amount(a, zero_ok=False):
    if a > MAX_AMOUNT:
        raise Refused("bad_amount", "above 2^63-1")
    if a == 0 and not zero_ok:
        raise Refused("bad_amount", "zero")


def account(a):
    if not 1 <= len(a.encode()) <= 16:
        raise Refused("bad_field", "account")


def certificate_rules(m):
    version(m)
    if m["role"] not in (1, 2, 3):
        raise Refused("bad_field", "role")
    check_key(m["key_alg"], m["key"])
    if m["not_after"] <= m["not_before"]:
        raise Refused("bad_field", "validity")
    sig_rule(m)
    if m["role"] != 3:
        if m["account"] or m["class"] or m["currency"] or any(m["limits"]) or m["name"]:
            raise Refused("bad_field", "device fields")
        return
    account(m["account"])
    if m["class"] not in (1, 2, 3):
        raise Refused("bad_field", "class")
    currency(m["currency"])
    if m["name"]:
        cert_name(m["name"])
    for i in (0, 1, 3):
        amount(m["limits"][i], zero_ok=True)


def cert_name(n):
    """A merchant's certified name (SPEC 7.1): 1-24 bytes, no edge space, no control or bidi character."""
    if not 1 <= len(n.encode()) <= 24:
        raise Refused("bad_field", "name length")
    if n[0] == " " or n[-1] == " ":
        raise Refused("bad_field", "name space")
    for ch in n:
        c = ord(ch)
        if c < 0x20 or 0x7F <= c <= 0x9F or c in (0x200E, 0x200F) or 0x2028 <= c <= 0x202E or 0x2066 <= c <= 0x2069:
            raise Refused("bad_field", "name control character")


def revocation_list_rules(m):
    version(m)
    if len(m["revoked"]) > 100000:
        raise Refused("oversize")
    if any(a >= b for a, b in zip(m["revoked"], m["revoked"][1:])):
        raise Refused("non_canonical", "revoked order")
    sig_rule(m)


def load_rules(m):
    version(m)
    if m["seq"] == 0:
        raise Refused("bad_field", "seq")
    amount(m["amount"])
    currency(m["currency"])
    sig_rule(m)


def payment_request_rules(m):
    version(m)
    certificate_rules(m["payee"])
    if m["payee"]["role"] != 3:
        raise Refused("bad_field", "payee role")
    amount(m["amount"], zero_ok=True)
    currency(m["currency"])
    if len(m["name"].encode()) > 32:
        raise Refused("bad_field", "name")
    if m["name"] and m["name"] != m["payee"]["name"]:
        raise Refused("bad_field", "name not the certified one")
    ck, pairing = m["channel_key"], m["pairing"]
    if len(ck) == 32:
        check_channel_key(ck)
    if (len(ck) == 0 and pairing) or (len(ck) == 32 and len(pairing) != 32) or len(ck) not in (0, 32):
        raise Refused("bad_field", "channel")
    addr = m["address"]
    if addr:
        # kind 1: TCP/IPv4 (4-byte address, 2-byte port), 2: TCP/IPv6 (16, 2), 3: Bluetooth LE (6)
        want = {1: 7, 2: 19, 3: 7}.get(addr[0])
        if len(ck) == 0 or want is None or len(addr) != want:
            raise Refused("bad_field", "channel address")
        if addr[0] in (1, 2) and addr[-2:] == b"\x00\x00":
            raise Refused("bad_field", "channel address port 0")
        if addr[0] == 2 and addr[1:13] == b"\x00" * 10 + b"\xff\xff":
            raise Refused("bad_field", "IPv4-mapped channel address")
    sig_rule(m)


def payment_rules(m):
    version(m)
    amount(m["amount"])
    currency(m["currency"])
    if m["counter"] == 0:
        raise Refused("bad_field", "counter")
    if m["hops"] == 0:
        raise Refused("bad_field", "hops")
    if is_refund(m) and m["hops"] != 1:
        raise Refused("bad_field", "a refund's hops is 1")
    sig_rule(m)


def is_refund(payment):
    """SPEC 7.5.1: a payment whose ref names a sale (32 bytes)."""
    return len(payment["ref"]) == 32


def bundle_rules(m):
    payment_rules(m["payment"])
    certificate_rules(m["cert"])
    if m["cert"]["role"] != 3:
        raise Refused("bad_field", "payer role")
    if is_refund(m["payment"]) and not m["cert"]["name"]:
        raise Refused("bad_field", "a refund from a device that is not a merchant's")


def receipt_rules(m):
    version(m)
    if m["counter"] == 0:
        raise Refused("bad_field", "counter")
    sig_rule(m)


def redeem_rules(m):
    version(m)
    if m["counter"] == 0:
        raise Refused("bad_field", "counter")
    amount(m["amount"])
    currency(m["currency"])
    sig_rule(m)


def log_entry_rules(m):
    version(m)
    if m["counter"] == 0:
        raise Refused("bad_field", "counter")
    if m["kind"] not in range(1, 7):
        raise Refused("bad_field", "kind")
    if m["counter"] == 1 and any(m["prev"]):
        raise Refused("bad_log_chain", "first prev")
    sig_rule(m)


def sync_upload_rules(m):
    version(m)
    if len(m["entries"]) > 10000:
        raise Refused("oversize")
    prev = None
    for e in m["entries"]:
        log_entry_rules(e)
        if e["device"] != m["device"]:
            raise Refused("bad_field", "entry device")
        if len(encode(e.item)) > 640:
            raise Refused("oversize", "entry")
        if prev is not None and e["counter"] != prev + 1:
            raise Refused("bad_log_chain", "counters")
        prev = e["counter"]
    sig_rule(m)


def sync_result_rules(m):
    version(m)
    if len(m["statuses"]) > 20000 or len(m["missing"]) > 10000 or len(m["loads"]) > 64:
        raise Refused("oversize")
    for ld in m["loads"]:
        load_rules(ld)
    amount(m["swept"], zero_ok=True)
    revocation_list_rules(m["rev_list"])
    if len(m["cert"]) > 1:
        raise Refused("oversize", "more than one renewed certificate")
    for c in m["cert"]:
        certificate_rules(c)
        if c["role"] != 3:
            raise Refused("bad_field", "renewal role")
        if cert_id(c) != m["device"]:
            raise Refused("bad_field", "renewal for another device")
    sig_rule(m)


def enrolment_rules(m):
    version(m)
    check_key(m["key_alg"], m["key"], certifiable=True)
    account(m["account"])
    if m["class"] not in (1, 2, 3):
        raise Refused("bad_field", "class")
    sig_rule(m)


def attestation_rules(m):
    version(m)
    check_key(m["key_alg"], m["key"], certifiable=True)
    if m["class"] not in (2, 3):
        raise Refused("bad_field", "attested class")
    sig_rule(m)


def attested_enrolment_rules(m):
    r, a = m["request"], m["attestation"]
    enrolment_rules(r)
    attestation_rules(a)
    if (a["key_alg"], a["key"]) != (r["key_alg"], r["key"]):
        raise Refused("bad_field", "attestation of another key")
    if a["class"] != r["class"]:
        raise Refused("bad_field", "class differs from the attestation's")


def sync_applied_rules(m):
    version(m)
    amount(m["swept"], zero_ok=True)


def reserve_rules(m):
    version(m)
    amount(m["amount"])
    currency(m["currency"])
    sig_rule(m)


def online_payment_rules(m):
    version(m)
    payment_request_rules(m["request"])
    amount(m["amount"])
    currency(m["currency"])
    sig_rule(m)


def online_receipt_rules(m):
    version(m)
    amount(m["amount"])
    currency(m["currency"])
    sig_rule(m)


RULES = {"certificate": certificate_rules, "revocation_list": revocation_list_rules, "load": load_rules,
         "payment_request": payment_request_rules, "payment": payment_rules,
         "payment_bundle": bundle_rules, "receipt": receipt_rules, "redeem": redeem_rules,
         "log_entry": log_entry_rules, "sync_upload": sync_upload_rules,
         "sync_result": sync_result_rules, "enrolment_request": enrolment_rules,
         "reserve_request": reserve_rules, "sync_applied": sync_applied_rules,
         "attestation": attestation_rules, "attested_enrolment": attested_enrolment_rules,
         "online_payment": online_payment_rules, "online_receipt": online_receipt_rules}


# ---------------------------------------------------------------- identifiers (SPEC 5.1, 6)

def signing_input(m):
    item = (4, m.item[1][:-1] + [(2, b"")])
    return b"offpay/1/" + CONTEXT[m.kind].encode() + b"\x00" + encode(item)


def key_id(alg, key):
    return hashlib.sha256(bytes([alg]) + key).digest()[:16]


def cert_id(c):
    return key_id(c["key_alg"], c["key"])


# ---------------------------------------------------------------- signatures (SPEC 5)

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def ed_add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def ed_mul(s, pt):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = ed_add(q, pt)
        pt = ed_add(pt, pt)
        s >>= 1
    return q


def ed_decode_zip215(b):
    """SPEC 5.3 step 2: non-canonical y and negative zero accepted."""
    y = (int.from_bytes(b, "little") & ((1 << 255) - 1)) % P
    sign = b[31] >> 7
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if (v * x * x - u) % P != 0:
        x = x * SQRT_M1 % P
        if (v * x * x - u) % P != 0:
            return None
    if x & 1:
        x = P - x
    if sign:
        x = (P - x) % P
    return (x, y, 1, x * y % P)


B = ed_decode_zip215((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def ed_is_identity(pt):
    x, y, z, _ = pt
    return x % P == 0 and (y - z) % P == 0


def verify_ed25519(key, msg, sig):
    s = int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    a, r = ed_decode_zip215(key), ed_decode_zip215(sig[:32])
    if a is None or r is None:
        return False
    k = int.from_bytes(hashlib.sha512(sig[:32] + key + msg).digest(), "little") % L
    neg = lambda pt: ((P - pt[0]) % P, pt[1], pt[2], (P - pt[3]) % P)  # noqa: E731
    diff = ed_add(ed_add(ed_mul(s, B), neg(r)), neg(ed_mul(k, a)))
    return ed_is_identity(ed_mul(8, diff))


P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def p256_key(key):
    if len(key) != 33 or key[0] not in (2, 3):
        raise Refused("bad_key", "p-256 key length or form")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except ValueError:
        raise Refused("bad_key", "not on the curve")


def ed_key_point(key):
    """SPEC 5.2 step 2: an Ed25519 key is 32 bytes canonically encoding a point that is not
    of small order."""
    if len(key) != 32:
        raise Refused("bad_key", "ed25519 key length")
    pt = ed_decode_zip215(key)
    if pt is None:
        raise Refused("bad_key", "not a point")
    y = int.from_bytes(key, "little") & ((1 << 255) - 1)
    if y >= P or (pt[0] == 0 and key[31] >> 7):
        raise Refused("bad_key", "non-canonical encoding")
    if ed_is_identity(ed_mul(8, pt)):
        raise Refused("bad_key", "small order")
    return pt


def check_key(alg, key, certifiable=False):
    """certifiable: also in the prime-order subgroup (SPEC 7.12, EnrolmentRequest)."""
    if alg == 1:
        pt = ed_key_point(key)
        if certifiable and not ed_is_identity(ed_mul(L, pt)):
            raise Refused("bad_key", "not in the prime-order subgroup")
    elif alg == 2:
        p256_key(key)
    else:
        raise Refused("unknown_algorithm")


_X25519_PROBE = x25519.X25519PrivateKey.from_private_bytes(b"\x5a" * 32)


def check_channel_key(key):
    """SPEC 7.4: an X25519 key of low order makes every shared secret zero (RFC 7748 6.1)."""
    try:
        _X25519_PROBE.exchange(x25519.X25519PublicKey.from_public_bytes(key))
    except ValueError:
        raise Refused("bad_key", "low-order channel key")


def verify_signature(alg, key, msg, sig):
    """SPEC 5.2: raw verification, in order."""
    check_key(alg, key)
    if len(sig) != 64:
        raise Refused("bad_signature", "length")
    if alg == 1:
        if not verify_ed25519(key, msg, sig):
            raise Refused("bad_signature")
        return
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if s > (P256_N - 1) // 2:
        raise Refused("bad_signature", "high s")
    if not (0 < r < P256_N and 0 < s < P256_N):
        raise Refused("bad_signature")
    try:
        p256_key(key).verify(encode_dss_signature(r, s), msg, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused("bad_signature")


def verify_by(m, cert, id_field=None):
    """SPEC 7.14."""
    if m["sig_alg"] != cert["key_alg"] or (id_field and m[id_field] != cert_id(cert)):
        raise Refused("bad_signature", "algorithm or signer")
    verify_signature(cert["key_alg"], cert["key"], signing_input(m), m["sig"])
