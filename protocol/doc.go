// Package protocol defines offpay's wire messages, their canonical encoding,
// the bytes every signature covers, and the checks a verifier applies.
//
// Every message is a CBOR array in the deterministic encoding of RFC 8949
// section 4.2.1 (see spec/SPEC.md). Decoders accept exactly one byte string
// per message: they decode, re-encode and compare, so any non-minimal
// integer, indefinite length, map, tag or trailing byte is refused.
package protocol
