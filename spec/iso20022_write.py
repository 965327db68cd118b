#!/usr/bin/env python3
"""A second writer of offpay's ISO 20022 messages, written from spec/iso20022.md alone
(standard library only): for every vector in the folder given, it writes the document from
the vector's input and compares it byte for byte with the expected XML, or checks that the
input is refused for the reason the vector names.

    python3 spec/iso20022_write.py iso20022/testdata/vectors
"""
import hashlib, json, os, re, sys
from datetime import datetime, timezone

# The exponents of the currencies the vectors use (offpay's table, currency.go).
EXPONENTS = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3, "BHD": 3, "CLF": 4}
MAX_MINOR = 999_999_999_999_999_999
NS = "urn:iso:std:iso:20022:tech:xsd:"


class Refused(Exception):
    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


# --- values -------------------------------------------------------------------------------

def currency(code):
    if not re.fullmatch(r"[A-Z]{3}", code or "") or code not in EXPONENTS or EXPONENTS[code] > 5:
        raise Refused("currency", code)
    return EXPONENTS[code]


def decimal(minor, code):
    exp = currency(code)
    if minor < 0:
        raise Refused("negative", minor)
    if minor > MAX_MINOR:
        raise Refused("amount_too_large", minor)
    s = str(minor)
    if exp == 0:
        return s
    s = s.rjust(exp + 1, "0")
    return s[:-exp] + "." + s[-exp:]


def signed(minor, code):
    if minor < -MAX_MINOR:
        raise Refused("amount_too_large", minor)
    return decimal(abs(minor), code), ("DBIT" if minor < 0 else "CRDT")


def text(s, maximum):
    if not s or len(s) > maximum or any(ord(c) < 0x20 and c not in "\t\n\r" or c in "\ufffe\uffff" for c in s):
        raise Refused("field", s)
    return s


def when(s):
    """An RFC 3339 time of the JSON; None for Go's zero time (year 1)."""
    if s is None or s.startswith("0001-01-01"):
        return None
    s = s.replace("Z", "+00:00")
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)", s)
    frac = (m.group(2) or ".0")[1:7].ljust(6, "0")
    return datetime.fromisoformat(m.group(1) + "." + frac + m.group(3)).astimezone(timezone.utc)


def date_time(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+00:00"


def date(t):
    return t.strftime("%Y-%m-%d")


# --- XML: elements as (name, attrs, text or children), written as Go's encoding/xml does ----

def esc(s):
    out = []
    for c in s:
        out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;",
                    "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"}.get(c, c))
    return "".join(out)


def E(name, content, **attrs):
    return (name, attrs, content)


def write(el, depth=0):
    name, attrs, content = el
    pad = "  " * depth
    a = "".join(f' {k}="{esc(v)}"' for k, v in attrs.items())
    if isinstance(content, str):
        return f"{pad}<{name}{a}>{esc(content)}</{name}>"
    inner = "\n".join(write(c, depth + 1) for c in content if c is not None)
    return f"{pad}<{name}{a}>\n{inner}\n{pad}</{name}>"


def document(message, root):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' +
            write(E("Document", [root], xmlns=NS + message)) + "\n").encode()


def amt(name, value, code):
    return E(name, value, Ccy=code)


def agent(name, a):
    i, nm = text(a["id"], 35), a.get("name")
    bic = re.fullmatch(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?", i)
    lei = re.fullmatch(r"[A-Z0-9]{18}[0-9]{2}", i)
    ids = [E("BICFI", i)] if bic else [E("LEI", i)] if lei else []
    if nm:
        ids.append(E("Nm", text(nm, 140)))
    if not bic and not lei:
        ids.append(E("Othr", [E("Id", i)]))
    return E(name, [E("FinInstnId", ids)])


# --- section 2: a clearing cycle ------------------------------------------------------------

def check_cycle(c):
    currency(c["currency"])
    text(c["id"], 24)
    if when(c.get("time")) is None:
        raise Refused("field", "no time")
    agent("x", c["scheme"]), agent("x", c["settlement_agent"])
    net, total = {}, 0
    for p in c["positions"]:
        pid = p["provider"]["id"]
        agent("x", p["provider"])
        if pid in net or pid == c["settlement_agent"]["id"]:
            raise Refused("field", pid)
        if abs(p["net_minor"]) > MAX_MINOR:
            raise Refused("amount_too_large", pid)
        net[pid] = 0
        total += p["net_minor"]
    if total != 0:
        raise Refused("unbalanced", total)
    for o in c.get("obligations") or []:
        if o["from"] not in net or o["to"] not in net or o["from"] == o["to"] or not 0 < o["amount_minor"] <= MAX_MINOR:
            raise Refused("obligations", o)
        net[o["from"]] -= o["amount_minor"]
        net[o["to"]] += o["amount_minor"]
    for p in c["positions"]:
        if net[p["provider"]["id"]] != p["net_minor"]:
            raise Refused("obligations", p)


def pacs009(c):
    check_cycle(c)
    code, t = c["currency"], when(c["time"])
    sa = c["settlement_agent"]
    txs, total = [], 0
    order = [p for p in c["positions"] if p["net_minor"] < 0] + [p for p in c["positions"] if p["net_minor"] > 0]
    for p in order:
        a = abs(p["net_minor"])
        total += a
        if total > MAX_MINOR:
            raise Refused("amount_too_large", "total")
        dbtr, cdtr = (p["provider"], sa) if p["net_minor"] < 0 else (sa, p["provider"])
        txs.append(E("CdtTrfTxInf", [
            E("PmtId", [E("InstrId", str(len(txs) + 1)), E("EndToEndId", c["id"])]),
            amt("IntrBkSttlmAmt", decimal(a, code), code),
            agent("Dbtr", dbtr), agent("Cdtr", cdtr),
            E("RmtInf", [E("Ustrd", f"offpay clearing cycle {c['id']}: net position of {p['provider']['id']}")])]))
    if not txs:
        raise Refused("nothing_to_settle")
    hdr = E("GrpHdr", [E("MsgId", c["id"]), E("CreDtTm", date_time(t)), E("NbOfTxs", str(len(txs))),
                       amt("TtlIntrBkSttlmAmt", decimal(total, code), code), E("IntrBkSttlmDt", date(t)),
                       E("SttlmInf", [E("SttlmMtd", "INDA")]),
                       agent("InstgAgt", c["scheme"]), agent("InstdAgt", sa)])
    return document("pacs.009.001.09", E("FICdtTrf", [hdr] + txs))


def statement_of_cycle(c, provider):
    check_cycle(c)
    ids = [p["provider"]["id"] for p in c["positions"]]
    if provider not in ids:
        raise Refused("field", provider)
    s = {"msg_id": f"{c['id']}/S{ids.index(provider) + 1}", "id": c["id"], "account": provider,
         "currency": c["currency"], "created": c["time"], "opening_date": c["time"], "opening_minor": 0, "entries": []}
    for i, o in enumerate(c.get("obligations") or []):
        e = {"ref": str(i + 1), "status": "BOOK", "booking_date": c["time"], "value_date": c["time"], "code": "obligation"}
        if o["to"] == provider:
            e.update(amount_minor=o["amount_minor"], info="owed by " + o["from"])
        elif o["from"] == provider:
            e.update(amount_minor=-o["amount_minor"], info="owed to " + o["to"])
        else:
            continue
        s["entries"].append(e)
    return s


# --- sections 3 and 4: statements and notifications -----------------------------------------

def entry(e, code):
    value, ind = signed(e["amount_minor"], code)
    if e.get("status") not in ("BOOK", "INFO", "PDNG"):
        raise Refused("field", e.get("status"))
    text(e.get("code"), 35)
    for k, m in (("ref", 35), ("servicer_ref", 35), ("info", 500)):
        if e.get(k):
            text(e[k], m)
    kids = [E("NtryRef", e["ref"]) if e.get("ref") else None, amt("Amt", value, code), E("CdtDbtInd", ind),
            E("Sts", [E("Cd", e["status"])])]
    for k, n in (("booking_date", "BookgDt"), ("value_date", "ValDt")):
        t = when(e.get(k))
        if t:
            kids.append(E(n, [E("Dt", date(t))]))
    if e.get("servicer_ref"):
        kids.append(E("AcctSvcrRef", e["servicer_ref"]))
    kids.append(E("BkTxCd", [E("Prtry", [E("Cd", e["code"]), E("Issr", "offpay")])]))
    txs, total, every = [], 0, True
    for t in e.get("transactions") or []:
        tk = []
        if t.get("end_to_end_id"):
            tk.append(E("Refs", [E("EndToEndId", text(t["end_to_end_id"], 35))]))
        if t.get("info"):
            text(t["info"], 500)
        if t.get("amount_minor") is None:
            every = False
        else:
            tk += [amt("Amt", decimal(t["amount_minor"], code), code), E("CdtDbtInd", ind)]
            total += t["amount_minor"]
        if t.get("info"):
            tk.append(E("AddtlTxInf", t["info"]))
        txs.append(E("TxDtls", tk))
    if txs and every and total != abs(e["amount_minor"]):
        raise Refused("field", "transactions do not sum to the entry")
    if txs:
        kids.append(E("NtryDtls", txs))
    if e.get("info"):
        kids.append(E("AddtlNtryInf", e["info"]))
    return E("Ntry", kids)


def report(name, r, code, extra_before_acct=(), balances=(), trailer=()):
    text(r["msg_id"], 35), text(r["id"], 35), text(r["account"], 34)
    created = when(r.get("created"))
    if created is None:
        raise Refused("field", "no creation time")
    entries = [entry(e, code) for e in r.get("entries") or []]
    kids = [E("Id", r["id"]), *extra_before_acct, E("CreDtTm", date_time(created)),
            E("Acct", [E("Id", [E("Othr", [E("Id", r["account"])])]), E("Ccy", code)]),
            *balances, *entries, *trailer]
    return E("GrpHdr", [E("MsgId", r["msg_id"]), E("CreDtTm", date_time(created))]), E(name, kids)


def camt053(s):
    code = s["currency"]
    currency(code)
    report("Stmt", s, code)  # the checks, in order
    closing = s["opening_minor"] + sum(e["amount_minor"] for e in s["entries"] if e["status"] == "BOOK")
    if when(s.get("opening_date")) is None:
        raise Refused("field", "no opening date")
    bals = []
    for cd, bal, t in (("OPBD", s["opening_minor"], s["opening_date"]), ("CLBD", closing, s["created"])):
        value, ind = signed(bal, code)
        bals.append(E("Bal", [E("Tp", [E("CdOrPrtry", [E("Cd", cd)])]), amt("Amt", value, code),
                              E("CdtDbtInd", ind), E("Dt", [E("Dt", date(when(t)))])]))
    hdr, stmt = report("Stmt", s, code, balances=bals)
    return document("camt.053.001.08", E("BkToCstmrStmt", [hdr, stmt]))


def camt054(n):
    code = n["currency"]
    currency(code)
    if not n.get("entries"):
        raise Refused("field", "no entry")
    seq = n.get("seq_nb") or 0
    if not 0 <= seq <= MAX_MINOR:
        raise Refused("field", seq)
    if n.get("info"):
        text(n["info"], 500)
    hdr, ntf = report("Ntfctn", n, code, extra_before_acct=[E("ElctrncSeqNb", str(seq))] if seq else [],
                      trailer=[E("AddtlNtfctnInf", n["info"])] if n.get("info") else [])
    return document("camt.054.001.08", E("BkToCstmrDbtCdtNtfctn", [hdr, ntf]))


def build(v):
    m = v["message"]
    if m == "pacs.009.001.09":
        return pacs009(v["cycle"])
    if m == "camt.053.001.08":
        return camt053(statement_of_cycle(v["cycle"], v["provider"]) if v.get("cycle") else v["statement"])
    if m == "camt.054.001.08":
        return camt054(v["notification"])
    raise ValueError("unknown message " + m)


def main(folder):
    wrong = count = 0
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".json"):
            continue
        count += 1
        v = json.load(open(os.path.join(folder, f)))
        try:
            got, reason = build(v), None
        except Refused as e:
            got, reason = None, e.reason
        if v.get("error"):
            ok = reason == v["error"]
        else:
            ok = got == open(os.path.join(folder, f[:-5] + ".xml"), "rb").read()
        if not ok:
            wrong += 1
            print(f"WRONG {f}: refused {reason}" if got is None else f"WRONG {f}:\n{got.decode()}")
    print(f"{count} vectors, {wrong} wrong")
    return 1 if wrong or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
