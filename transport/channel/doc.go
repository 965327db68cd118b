// Package channel opens an authenticated, encrypted channel over a link.Conn, keyed from a
// payee's pairing QR code, and carries opaque messages over it.
//
// # Handshake
//
// The channel is Noise_NKpsk0_25519_ChaChaPoly_SHA256. The payee (responder) has a static
// X25519 key; its QR code carries the public key and a one-time 32-byte pairing secret,
// the PSK. The payer (initiator) has no static key: it is anonymous at this layer, which
// keeps its device unlinkable across merchants, and its identity is proven where it
// matters, by the secure element's signature on the payment. IKpsk2 would add a static
// key for the payer and a DH per handshake for no gain here. NK gives the payer
// assurance that only the holder of the payee's static key reads its messages; the PSK
// proves to the payee that the payer saw the QR code, so a passer-by who has not seen it
// cannot connect. One who photographs the code can: connecting first spends the one-time
// secret, and the payer is then refused (ErrPairingUsed) before it pays anything. That is
// a denial of service the payee answers with a new code, not a loss
// (cmd/offpay TestPhotographedPairingIsADenialOfService). One round trip: two 48-byte Noise
// messages.
//
// The X25519 functions are crypto/ecdh's, keeping parsed keys, as noise's stock DH
// recomputes the public key on every DH.
//
// # Pairing secrets and resumption
//
// Every secret opens exactly one channel. Responder.Pair issues a secret valid for
// PairingTTL (default 5 minutes). The responder spends it when it has read a first
// handshake message that proves it (a failed or garbled attempt spends nothing); a second
// use, such as a replayed first message, gets ErrPairingUsed. Used and expired secrets are
// remembered for one more lifetime, for precise errors, then forgotten (ErrUnknownPairing).
//
// A dropped link must not need a new QR code in the middle of a payment, so every
// successful handshake yields a resumption secret on both sides (Session.Resumption):
// HKDF-SHA256 of both session keys, salted with the handshake hash. It is a pairing like
// the first, single-use and valid for ResumeWindow (default 2 minutes), and the channel
// it opens yields the next one. Only the two ends of the session know it, because it
// depends on every DH and on the PSK.
//
// Resumption gives a new channel, not the old one: nothing is replayed by this layer, and
// Session.Call does not retry. Idempotency lives above it: after a drop, the payer
// (internal/exchange.PayRetry) dials with the resumption pairing and sends the same
// payment again; the payee (internal/exchange.Payee) keeps accepting resumed sessions
// while a receipt it sent is unacknowledged, and its wallet (wallet.Wallet.AcceptRetry)
// answers with the receipt it already issued for that payment, byte for byte, crediting
// nothing more.
//
// If the link drops after the payee spent the secret but before the payer read the second
// handshake message, the payer has no resumption secret and the payee must show a new
// pairing.
//
// # Records on the link
//
// Each message is one record: a 16-byte-tagged ChaCha20-Poly1305 ciphertext whose nonce
// is the record's sequence number. A record is cut into link frames of at most the link's
// MTU (at least 5 bytes):
//
//	first frame:        kind (1) || record length (3, big endian) || data
//	continuation frame: 0x00 || data
//
// Kinds: 0x01 handshake, 0x02 data, 0x03 handshake rejection (one code byte: 1 malformed,
// 2 unknown secret, 3 used, 4 expired, 5 authentication failed, 6 responder full). The
// first handshake record is version (1 byte, 1) || pairing ID (8) || Noise message; the
// pairing ID, the first 8 bytes of SHA-256("offpay/channel/v1 pairing id" || secret),
// tells the responder which secret to use. The prologue is "offpay/channel/v1" || ID.
// Records are at most 65535 bytes (256 during the handshake); a longer one is refused
// with ErrTooLarge and its frames skipped, and a record that fails authentication is
// dropped with ErrCorrupt; neither ends the session.
package channel
