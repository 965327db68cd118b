package protocol

import "crypto/sha256"

// Signature contexts. The signing input of a message is its context, one
// zero byte, then the canonical encoding of the message with its signature
// field replaced by the empty byte string.
const (
	CtxCertificate = "offpay/1/certificate"
	CtxRevList     = "offpay/1/revocation-list"
	CtxLoad        = "offpay/1/load"
	CtxRequest     = "offpay/1/payment-request"
	CtxPayment     = "offpay/1/payment"
	CtxReceipt     = "offpay/1/receipt"
	CtxRedeem      = "offpay/1/redeem"
	CtxLogEntry    = "offpay/1/log-entry"
	CtxSyncResult  = "offpay/1/sync-result"
	CtxSyncUpload  = "offpay/1/sync-upload"
	CtxEnrolment   = "offpay/1/enrolment-request"
	CtxReserve     = "offpay/1/reserve-request"
)

func signingInput(ctx string, body []byte) []byte {
	out := make([]byte, 0, len(ctx)+1+len(body))
	out = append(out, ctx...)
	out = append(out, 0)
	return append(out, body...)
}

func sign(s Signer, alg *Alg, sig *[]byte, input func() []byte) error {
	*alg = s.Alg()
	*sig = []byte{}
	out, err := s.Sign(input())
	if err != nil {
		return err
	}
	*sig = out
	return nil
}

// SigningInput returns the bytes the certificate's signature covers.
func (c *Certificate) SigningInput() []byte {
	x := *c
	x.Sig = []byte{}
	return signingInput(CtxCertificate, encode(&x))
}

// Sign signs c with s (the issuer's key; a root signs itself).
func (c *Certificate) Sign(s Signer) error { return sign(s, &c.SigAlg, &c.Sig, c.SigningInput) }

// SigningInput returns the bytes the list's signature covers.
func (r *RevocationList) SigningInput() []byte {
	x := *r
	x.Sig = []byte{}
	return signingInput(CtxRevList, encode(&x))
}

// Sign signs r with s.
func (r *RevocationList) Sign(s Signer) error { return sign(s, &r.SigAlg, &r.Sig, r.SigningInput) }

// SigningInput returns the bytes the load's signature covers.
func (l *Load) SigningInput() []byte {
	x := *l
	x.Sig = []byte{}
	return signingInput(CtxLoad, encode(&x))
}

// Sign signs l with s.
func (l *Load) Sign(s Signer) error { return sign(s, &l.SigAlg, &l.Sig, l.SigningInput) }

// SigningInput returns the bytes the request's signature covers.
func (r *PaymentRequest) SigningInput() []byte {
	x := *r
	x.Sig = []byte{}
	return signingInput(CtxRequest, encode(&x))
}

// Sign signs r with s.
func (r *PaymentRequest) Sign(s Signer) error { return sign(s, &r.SigAlg, &r.Sig, r.SigningInput) }

// SigningInput returns the bytes the payment's signature covers.
func (p *Payment) SigningInput() []byte {
	x := *p
	x.Sig = []byte{}
	return signingInput(CtxPayment, encode(&x))
}

// Sign signs p with s.
func (p *Payment) Sign(s Signer) error { return sign(s, &p.SigAlg, &p.Sig, p.SigningInput) }

// ID is the payment's identity: SHA-256 of its signing input. It excludes
// the signature, so a second valid signature of the same payment (possible
// under ZIP-215 for a malicious signer) names the same payment.
func (p *Payment) ID() Hash { return sha256.Sum256(p.SigningInput()) }

// ID of a SyncResult: SHA-256 of its signing input. A SyncApplied names the
// result it records by this ID.
func (r *SyncResult) ID() Hash { return sha256.Sum256(r.SigningInput()) }

// SigningInput returns the bytes the receipt's signature covers.
func (r *Receipt) SigningInput() []byte {
	x := *r
	x.Sig = []byte{}
	return signingInput(CtxReceipt, encode(&x))
}

// Sign signs r with s.
func (r *Receipt) Sign(s Signer) error { return sign(s, &r.SigAlg, &r.Sig, r.SigningInput) }

// SigningInput returns the bytes the redeem's signature covers.
func (r *Redeem) SigningInput() []byte {
	x := *r
	x.Sig = []byte{}
	return signingInput(CtxRedeem, encode(&x))
}

// Sign signs r with s.
func (r *Redeem) Sign(s Signer) error { return sign(s, &r.SigAlg, &r.Sig, r.SigningInput) }

// SigningInput returns the bytes the entry's signature covers.
func (e *LogEntry) SigningInput() []byte {
	x := *e
	x.Sig = []byte{}
	return signingInput(CtxLogEntry, encode(&x))
}

// Sign signs e with s.
func (e *LogEntry) Sign(s Signer) error { return sign(s, &e.SigAlg, &e.Sig, e.SigningInput) }

// Hash is the entry's link in the chain: SHA-256 of its signing input.
// Two entries of one device with the same counter and different hashes,
// both validly signed, prove equivocation.
func (e *LogEntry) Hash() Hash { return sha256.Sum256(e.SigningInput()) }

// SigningInput returns the bytes the result's signature covers.
func (r *SyncResult) SigningInput() []byte {
	x := *r
	x.Sig = []byte{}
	return signingInput(CtxSyncResult, encode(&x))
}

// Sign signs r with s.
func (r *SyncResult) Sign(s Signer) error { return sign(s, &r.SigAlg, &r.Sig, r.SigningInput) }

// VerifyWith checks c's signature under (alg, key).
func (c *Certificate) VerifyWith(alg Alg, key []byte) error {
	if c.SigAlg != alg {
		return errf(ClassBadSignature, "certificate signed with %v, issuer key is %v", c.SigAlg, alg)
	}
	return VerifySignature(alg, key, c.SigningInput(), c.Sig)
}

// ID is the KeyID of the certified key (a device's ID).
func (c *Certificate) ID() KeyID { return ComputeKeyID(c.KeyAlg, c.Key) }

// Verify checks that p names the payer certificate's device and is signed by its key.
func (p *Payment) Verify(payer *Certificate) error {
	if p.SigAlg != payer.KeyAlg || p.Payer != payer.ID() {
		return errf(ClassBadSignature, "payment not signed by this payer")
	}
	return VerifySignature(payer.KeyAlg, payer.Key, p.SigningInput(), p.Sig)
}

// Verify checks that r names the payee certificate's device and is signed by its key.
func (r *Receipt) Verify(payee *Certificate) error {
	if r.SigAlg != payee.KeyAlg || r.Payee != payee.ID() {
		return errf(ClassBadSignature, "receipt not signed by this payee")
	}
	return VerifySignature(payee.KeyAlg, payee.Key, r.SigningInput(), r.Sig)
}

// Verify checks r's signature against the payee certificate it carries.
func (r *PaymentRequest) Verify() error {
	if r.SigAlg != r.Payee.KeyAlg {
		return errf(ClassBadSignature, "request algorithm %v, payee key %v", r.SigAlg, r.Payee.KeyAlg)
	}
	return VerifySignature(r.Payee.KeyAlg, r.Payee.Key, r.SigningInput(), r.Sig)
}

// Verify checks that e names the certificate's device and is signed by its key.
func (e *LogEntry) Verify(dev *Certificate) error {
	if e.SigAlg != dev.KeyAlg || e.Device != dev.ID() {
		return errf(ClassBadSignature, "log entry not signed by this device")
	}
	return VerifySignature(dev.KeyAlg, dev.Key, e.SigningInput(), e.Sig)
}

// Verify checks that r names the certificate's device and is signed by its key.
func (r *Redeem) Verify(dev *Certificate) error {
	if r.SigAlg != dev.KeyAlg || r.Device != dev.ID() {
		return errf(ClassBadSignature, "redeem not signed by this device")
	}
	return VerifySignature(dev.KeyAlg, dev.Key, r.SigningInput(), r.Sig)
}

// Verify checks l's signature against the issuer certificate's key.
func (l *Load) Verify(issuer *Certificate) error {
	if l.SigAlg != issuer.KeyAlg || l.Signer != issuer.ID() {
		return errf(ClassBadSignature, "load not signed by this issuer")
	}
	return VerifySignature(issuer.KeyAlg, issuer.Key, l.SigningInput(), l.Sig)
}

// Verify checks r's signature against the issuer certificate's key.
func (r *RevocationList) Verify(issuer *Certificate) error {
	if r.SigAlg != issuer.KeyAlg || r.Signer != issuer.ID() {
		return errf(ClassBadSignature, "revocation list not signed by this issuer")
	}
	return VerifySignature(issuer.KeyAlg, issuer.Key, r.SigningInput(), r.Sig)
}

// Verify checks r's signature against the issuer certificate's key.
func (r *SyncResult) Verify(issuer *Certificate) error {
	if r.SigAlg != issuer.KeyAlg || r.Signer != issuer.ID() {
		return errf(ClassBadSignature, "sync result not signed by this issuer")
	}
	return VerifySignature(issuer.KeyAlg, issuer.Key, r.SigningInput(), r.Sig)
}

// SigningInput returns the bytes the upload's signature covers.
func (u *SyncUpload) SigningInput() []byte {
	x := *u
	x.Sig = []byte{}
	return signingInput(CtxSyncUpload, encode(&x))
}

// Sign signs u with s (the device's SE key).
func (u *SyncUpload) Sign(s Signer) error { return sign(s, &u.SigAlg, &u.Sig, u.SigningInput) }

// Verify checks u's signature against the device certificate's key.
func (u *SyncUpload) Verify(dev *Certificate) error {
	if u.SigAlg != dev.KeyAlg || u.Device != dev.ID() {
		return errf(ClassBadSignature, "upload not signed by this device")
	}
	return VerifySignature(dev.KeyAlg, dev.Key, u.SigningInput(), u.Sig)
}

// SigningInput returns the bytes the request's signature covers.
func (r *EnrolmentRequest) SigningInput() []byte {
	x := *r
	x.Sig = []byte{}
	return signingInput(CtxEnrolment, encode(&x))
}

// Sign signs r with s, the key being enrolled.
func (r *EnrolmentRequest) Sign(s Signer) error { return sign(s, &r.SigAlg, &r.Sig, r.SigningInput) }

// Verify checks that r is signed by the key it names.
func (r *EnrolmentRequest) Verify() error {
	if r.SigAlg != r.KeyAlg {
		return errf(ClassBadSignature, "enrolment request algorithm %v, key %v", r.SigAlg, r.KeyAlg)
	}
	return VerifySignature(r.KeyAlg, r.Key, r.SigningInput(), r.Sig)
}

// ID is the KeyID of the key being enrolled.
func (r *EnrolmentRequest) ID() KeyID { return ComputeKeyID(r.KeyAlg, r.Key) }

// SigningInput returns the bytes the request's signature covers.
func (r *ReserveRequest) SigningInput() []byte {
	x := *r
	x.Sig = []byte{}
	return signingInput(CtxReserve, encode(&x))
}

// Sign signs r with s (the device's SE key).
func (r *ReserveRequest) Sign(s Signer) error { return sign(s, &r.SigAlg, &r.Sig, r.SigningInput) }

// Verify checks r's signature against the device certificate's key.
func (r *ReserveRequest) Verify(dev *Certificate) error {
	if r.SigAlg != dev.KeyAlg || r.Device != dev.ID() {
		return errf(ClassBadSignature, "reserve request not signed by this device")
	}
	return VerifySignature(dev.KeyAlg, dev.Key, r.SigningInput(), r.Sig)
}
