#!/usr/bin/env python3
"""Verify an offpay webhook delivery (SPEC.md section 19.5), and check the vectors.

A bank's receiver does what `verify` does before it decodes the body:

    python3 spec/webhook/verify.py [spec/webhook/vectors.json]

runs every vector of spec/webhook/vectors.json and reports any result that
differs from its "expect". Standard library only.
"""

import hashlib
import hmac
import json
import sys

V2_CONTEXT = b"offpay-webhook-v2"


class Refused(Exception):
    def __init__(self, cls, why=""):
        super().__init__(f"{cls}: {why}")
        self.cls = cls


def verify(secret, headers, body, now, tolerance=300):
    """Accept a delivery or raise Refused(no_signature | bad_signature | stale_signature).

    secret and body are bytes; headers a dict (names as sent); now the
    receiver's clock in unix seconds.
    """
    h = {k.lower(): v for k, v in headers.items()}
    ts, v2 = None, []
    for part in h.get("offpay-signature", "").split(","):
        k, sep, v = part.strip().partition("=")
        if not sep:
            raise Refused("no_signature", f"element {part!r}")
        if k == "t":
            if ts is not None:
                raise Refused("no_signature", "two timestamps")
            ts = v
        elif k in ("v1", "v2"):
            try:
                mac = bytes.fromhex(v)
            except ValueError:
                mac = b""
            if len(mac) != 32:
                raise Refused("no_signature", f"{k} is not a hex SHA-256 MAC")
            if k == "v2":
                v2.append(mac)
        # other schemes are ignored
    if ts is None or not (ts.isascii() and ts.isdigit()):
        raise Refused("no_signature", "no or bad t")
    if not v2:
        raise Refused("no_signature", "no v2")
    key, event = h.get("offpay-idempotency-key"), h.get("offpay-event")
    if key is None or event is None:
        raise Refused("no_signature", "no idempotency key or event header")
    m = hmac.new(secret, digestmod=hashlib.sha256)
    for part in (V2_CONTEXT, ts.encode(), key.encode(), event.encode()):
        m.update(part + b"\n")
    m.update(body)
    want = m.digest()
    if not any([hmac.compare_digest(want, c) for c in v2]):  # every candidate compared
        raise Refused("bad_signature")
    if abs(now - int(ts)) > tolerance:
        raise Refused("stale_signature", f"{now - int(ts)} s off")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "spec/webhook/vectors.json"
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)["vectors"]
    bad = 0
    for v in vectors:
        try:
            verify(v["secret"].encode(), v["headers"], v["body"].encode(), v["now"], v["tolerance_seconds"])
            got = "valid"
        except Refused as e:
            got = e.cls
        if got != v["expect"]:
            bad += 1
            print(f"{v['name']}: {got}, want {v['expect']}")
    print(f"{len(vectors)} vectors, {bad} wrong")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
