package protocol

// DeviceSignature is what checking the sender of a device-signed request
// needs, read from its envelope without decoding it: see PeekDeviceSignature.
type DeviceSignature struct {
	Type   Type   // TypeReserve, TypeSyncUpload or TypeOnlinePayment
	Device KeyID  // the device the request names
	Input  []byte // the signing input, if the envelope is the canonical encoding of a message of Type
	Sig    []byte // the signature it carries (aliases the envelope)
}

// PeekDeviceSignature reads the device, signature and signing input of a
// ReserveRequest, SyncUpload or OnlinePayment envelope from its bytes, without decoding
// the message. A server checks with them who sent a request (up to a 6 MB
// upload) before it spends anything on it, or on the device it names.
//
// It relies on the canonical layout (SPEC.md sections 2 and 7): both
// messages are arrays whose first element is the version (a small
// unsigned integer), second the 16-byte device KeyID, and last the
// signature, a 64-byte string; the signing input is the context, a zero
// byte, and the encoding with that string made empty
// (SigningInputFromEncoding). ok is false when env does not have that
// shape; such an envelope never carries a valid signature of a device,
// and Open says what is wrong with it.
//
// The check is sound: if Input verifies under a device's key, the device
// signed exactly the canonical encoding that env holds (the signature is
// its last element), so env decodes to the message the device signed.
func PeekDeviceSignature(env []byte) (ds DeviceSignature, ok bool) {
	if len(env) < 2 {
		return ds, false
	}
	var ctx string
	var fields byte
	switch Type(env[0]) {
	case TypeReserve:
		ctx, fields = CtxReserve, 8
	case TypeSyncUpload:
		ctx, fields = CtxSyncUpload, 6
	case TypeOnlinePayment:
		ctx, fields = CtxOnlinePayment, 8
	default:
		return ds, false
	}
	enc := env[1:]
	// array head, version (< 24: one byte), byte string of 16, key id,
	// ..., signature (0x58 0x40 + 64 bytes)
	const head = 3 + len(KeyID{})
	if len(enc) < head+2+SigSize || enc[0] != 0x80|fields || enc[1] >= 24 || enc[2] != 0x40|byte(len(KeyID{})) {
		return ds, false
	}
	sig := enc[len(enc)-SigSize:]
	in := SigningInputFromEncoding(ctx, enc, sig)
	if in == nil {
		return ds, false
	}
	ds.Type = Type(env[0])
	copy(ds.Device[:], enc[3:head])
	ds.Input, ds.Sig = in, sig
	return ds, true
}
