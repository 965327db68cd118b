#!/usr/bin/env python3
"""An independent offpay verifier, written from SPEC.md and the vectors alone.

It exists to show that the specification is enough to implement a verifier in
another language, and to keep it so: it runs every vector in spec/vectors and
reports any result that differs from the vector's "expect".

    python3 spec/verify.py [spec/vectors]

Needs Python 3.9+ and the `cryptography` package (for ECDSA P-256, the
P-256 curve arithmetic, and X25519 for the channel key check). Ed25519 is verified under the ZIP-215 rule of SPEC.md
section 5.3 with plain integer arithmetic: no common Python library offers
that rule. This is a conformance tool, slow and not constant-time: never use it
to verify payments.
"""

import glob
import hashlib
import json
import os
import sys

sys.dont_write_bytecode = True  # keep spec/ free of __pycache__

from offpay_wire import (  # noqa: E402 (after dont_write_bytecode)
    MAX_AMOUNT, Refused, cert_id, certificate_rules, is_refund, key_id, open_envelope, revocation_list_rules,
    signing_input, verify_by, verify_signature)


# ---------------------------------------------------------------- PKI (SPEC 8) and checks (SPEC 10)

class Trust:
    def __init__(self):
        self.roots, self.issuers = {}, {}

    def pin(self, c):
        certificate_rules(c)
        if c["role"] != 1 or c["issuer"] != cert_id(c):
            raise Refused("untrusted_chain", "not a self-signed root")
        verify_by(c, c)
        self.roots[cert_id(c)] = c

    def add_issuer(self, c):
        certificate_rules(c)
        if c["role"] != 2:
            raise Refused("bad_field", "not an issuer")
        root = self.roots.get(c["issuer"])
        if root is None:
            raise Refused("untrusted_chain")
        verify_by(c, root)
        self.issuers[cert_id(c)] = c

    def verify_device(self, c, now, rl):
        certificate_rules(c)
        if c["role"] != 3:
            raise Refused("bad_field", "not a device")
        iss = self.issuers.get(c["issuer"])
        if iss is None:
            raise Refused("untrusted_chain")
        verify_by(c, iss)
        for x in (c, iss, self.roots[iss["issuer"]]):
            if now < x["not_before"]:
                raise Refused("not_yet_valid")
            if now >= x["not_after"]:
                raise Refused("expired")
        if rl is not None and (cert_id(c) in rl["revoked"] or cert_id(iss) in rl["revoked"]):
            raise Refused("revoked")

    def accept_list(self, rl):
        revocation_list_rules(rl)
        signer = self.issuers.get(rl["signer"]) or self.roots.get(rl["signer"])
        if signer is None:
            raise Refused("untrusted_chain")
        verify_by(rl, signer, "signer")


def check_bundle(b, trust, rl, self_id, purse_currency, max_age, now):
    """SPEC 10 steps 2-9 (step 1, decoding, is done)."""
    if rl is None:
        raise Refused("stale_revocation_list", "none")
    if now > rl["issued"] and now - rl["issued"] > max_age:
        raise Refused("stale_revocation_list")
    cert, p = b["cert"], b["payment"]
    trust.verify_device(cert, now, rl)
    if p["payer"] != cert_id(cert):
        raise Refused("bad_field", "payer")
    verify_by(p, cert)
    if p["payee"] != self_id:
        raise Refused("wrong_payee")
    if p["currency"] != cert["currency"] or p["currency"] != purse_currency:
        raise Refused("currency_mismatch")
    if not is_refund(p) and p["amount"] > cert["limits"][1]:  # a refund is bounded by its sale (SPEC 10)
        raise Refused("limit_exceeded")
    if p["hops"] - 1 > cert["limits"][6]:
        raise Refused("limit_exceeded", "hops")


# ---------------------------------------------------------------- amounts (SPEC 14)

# ISO 4217 exponents of the codes this tool knows (a wallet carries the full table).
EXPONENTS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3}


def parse_amount(s):
    num, sep, code = s.partition(" ")
    if not sep or not code or any(ch.isspace() for ch in code):
        raise Refused("malformed_amount")
    whole, dot, frac = num.partition(".")
    digits = "0123456789"
    if not whole or any(ch not in digits for ch in whole) or (dot and (not frac or any(ch not in digits for ch in frac))):
        raise Refused("malformed_amount")
    if len(whole) > 1 and whole[0] == "0":
        raise Refused("malformed_amount", "leading zero")
    if code not in EXPONENTS:
        raise Refused("unknown_currency")
    exp = EXPONENTS[code]
    if len(frac) > exp:
        raise Refused("too_many_decimals")
    if len(whole) + len(frac) > 19:
        raise Refused("amount_overflow")
    minor = int(whole + frac + "0" * (exp - len(frac)))
    if minor > MAX_AMOUNT:
        raise Refused("amount_overflow")
    return minor, code


# ---------------------------------------------------------------- QR text (transport/qr/FORMAT.md)

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def qr_decode_text(s):
    s = s.strip(" \t\r\n")  # ASCII whitespace only: str.strip() would also take U+00A0
    if len(s.encode("utf-8")) > 4296:
        raise Refused("qr_too_large")
    if not s.startswith("OP1:"):
        raise Refused("qr_not_offpay")
    body = s[4:]
    if not body or len(body) % 3 == 1 or any(ch not in B45 for ch in body):
        raise Refused("qr_corrupt")
    out = bytearray()
    for i in range(0, len(body), 3):
        group = [B45.index(ch) for ch in body[i:i + 3]]
        n = sum(d * 45 ** k for k, d in enumerate(group))
        if n > (0xFFFF if len(group) == 3 else 0xFF):
            raise Refused("qr_corrupt")
        out += n.to_bytes(2 if len(group) == 3 else 1, "big")
    return bytes(out)


# ---------------------------------------------------------------- running vectors (README.md)

def cert_input(h):
    return open_envelope(bytes.fromhex(h), "certificate")


def trust_of(inp):
    t = Trust()
    for h in inp.get("roots_hex", []):
        t.pin(cert_input(h))
    for h in inp.get("issuers_hex", []):
        t.add_issuer(cert_input(h))
    return t


def rev_list(inp, trust):
    if "revocation_list_hex" not in inp:
        return None
    rl = open_envelope(bytes.fromhex(inp["revocation_list_hex"]), "revocation_list")
    trust.accept_list(rl)
    return rl


def check_attestation(a, makers):
    """SPEC 7.16: a trusted, unrevoked maker of the class, and its signature."""
    for mk in makers:
        key = bytes.fromhex(mk["key_hex"])
        if key_id(mk["key_alg"], key) != a["maker"]:
            continue
        if mk.get("revoked"):
            raise Refused("revoked")
        if a["class"] not in mk["classes"]:
            raise Refused("untrusted_chain", "maker not trusted for the class")
        return verify_by(a, {"key_alg": mk["key_alg"], "key": key})
    raise Refused("untrusted_chain", "maker not trusted")


def check_message(v, m):
    inp, kind = v["input"], v["message_type"]
    if kind == "certificate":
        if m["role"] == 1:
            return Trust().pin(m)
        t = trust_of(inp)
        if m["role"] == 2:
            return t.add_issuer(m)
        return t.verify_device(m, inp["now"], rev_list(inp, t))
    if kind == "revocation_list":
        return trust_of(inp).accept_list(m)
    if kind == "payment_bundle":
        t = trust_of(inp)
        pv = inp["payee"]
        return check_bundle(m, t, rev_list(inp, t), bytes.fromhex(pv["self_key_id_hex"]), pv["currency"],
                            pv["max_revocation_list_age"], inp["now"])
    if kind == "payment_request":
        return verify_by(m, m["payee"])
    if kind == "enrolment_request":
        return verify_by(m, {"key_alg": m["key_alg"], "key": m["key"]})
    if kind == "attestation":
        return check_attestation(m, inp.get("manufacturers", []))
    if kind == "attested_enrolment":
        r = m["request"]
        verify_by(r, {"key_alg": r["key_alg"], "key": r["key"]})
        return check_attestation(m["attestation"], inp.get("manufacturers", []))
    if kind == "online_payment":
        verify_by(m["request"], m["request"]["payee"])  # the request as its payee signed it (SPEC 7.18)
    if kind == "sync_applied":
        return None  # unsigned: the sync log entry that carries it is signed (SPEC 7.14)
    signer = cert_input(inp["signer_cert_hex"])
    id_field = {"load": "signer", "sync_result": "signer", "sync_upload": "device",
                "reserve_request": "device", "payment": "payer", "receipt": "payee",
                "redeem": "device", "log_entry": "device", "online_payment": "payer",
                "online_receipt": "signer"}.get(kind)
    return verify_by(m, signer, id_field)


def check_output(v, m):
    out = v.get("output") or {}
    got = {}
    target = m["payment"] if v["message_type"] == "payment_bundle" else m
    if "signing_input_hex" in out:
        got["signing_input_hex"] = signing_input(target).hex()
    if "key_id_hex" in out:
        got["key_id_hex"] = cert_id(m).hex()
    if "payment_id_hex" in out:  # a payment's, a bundle's payment's, an online payment's
        got["payment_id_hex"] = hashlib.sha256(signing_input(target)).hexdigest()
    if "entry_hash_hex" in out:
        got["entry_hash_hex"] = hashlib.sha256(signing_input(m)).hexdigest()
    return [k for k in got if got[k] != out[k]]


def run(v):
    """Returns (class or "valid", list of wrong outputs)."""
    inp, kind = v["input"], v["message_type"]
    try:
        if kind in ("ed25519", "ecdsa_p256"):
            verify_signature(1 if kind == "ed25519" else 2, bytes.fromhex(inp["pubkey_hex"]),
                             bytes.fromhex(inp["msg_hex"]), bytes.fromhex(inp["sig_hex"]))
            return "valid", []
        if kind == "amount":
            minor, code = parse_amount(inp["text"])
            out = v.get("output") or {}
            return "valid", [k for k, g in (("minor", minor), ("currency", code)) if out.get(k) != g]
        if kind == "qr_text":
            env = qr_decode_text(inp["text"])
            return "valid", [] if env.hex() == (v.get("output") or {}).get("envelope_hex") else ["envelope_hex"]
        env = bytes.fromhex(inp.get("envelope_hex", ""))
        if kind == "envelope":
            open_envelope(env)
            return "valid", []
        m = open_envelope(env, kind)
        check_message(v, m)
        return "valid", check_output(v, m)
    except Refused as e:
        return e.cls, []


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors")
    files = sorted(glob.glob(os.path.join(root, "*.json")))
    if not files:
        sys.exit("no vectors in " + root)
    bad = 0
    for f in files:
        with open(f) as fh:
            v = json.load(fh)
        got, wrong = run(v)
        if got != v["expect"] or wrong:
            bad += 1
            print("FAIL %s: got %s, want %s%s" % (v["name"], got, v["expect"],
                                                   ", wrong output " + ",".join(wrong) if wrong else ""))
    print("%d vectors, %d failed" % (len(files), bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
