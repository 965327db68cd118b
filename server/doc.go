// Package server is the ledger's HTTP API: device endpoints that carry signed protocol messages, administrator endpoints in JSON, and operations endpoints.
//
// Routes (openapi.yaml, served at /openapi.yaml, is the full contract):
//
//	POST /v1/enrol                           EnrolmentRequest -> [device cert, issuer cert, root cert, revocation list]  (admin token)
//	POST /v1/reserve                         ReserveRequest -> Load
//	POST /v1/sync                            SyncUpload -> SyncResult
//	POST /v1/online-payments                 OnlinePayment -> OnlineReceipt
//	GET  /v1/online-payments/{payee}/{nonce} -> OnlineReceipt  (the payee's lookup; hex KeyID and nonce)
//	POST /v1/online-receipts                 OnlineReceipt -> {"restored": bool}  (a receipt this ledger signed, re-entering a payment it lost in a restore)
//	GET  /v1/revocation-list                 -> RevocationList
//	GET  /v1/trust                           -> [root cert, issuer cert]
//	POST /v1/admin/accounts                  {"name","merchant"} -> Account (201)
//	GET  /v1/admin/accounts/{name}           -> Account
//	POST /v1/admin/accounts/{name}/deposit   {"amount_minor","ref"} -> Account
//	POST /v1/admin/accounts/{name}/withdraw  {"amount_minor","ref"} -> Account
//	POST /v1/admin/accounts/{name}/reenter-withdrawal {"amount_minor","ref"} -> Account  (a withdrawal the bank paid out, which a restore took)
//	GET  /v1/admin/accounts/{name}/statement -> {"account","lines"}
//	POST /v1/admin/devices/{id}/revoke       {"reason"} -> 204
//	GET  /v1/admin/report                    -> Report
//	GET  /v1/admin/outbox?state&account&kind&key&from&to&after&limit -> {"notifications","next"}  (Options.Outbox)
//	POST /v1/admin/outbox/resend             {"key"} or {"from","to",...} -> {"resent"}  (Options.Outbox)
//	GET  /healthz, /metrics, /openapi.yaml
//
// Device requests and answers are protocol envelopes (application/offpay+cbor);
// several messages travel as a CBOR array of envelopes
// (application/offpay-set+cbor). Device requests are authenticated by the
// secure element's signature inside the message. The server checks it on
// the request's bytes, before decoding, with the key the ledger certified
// (protocol.PeekDeviceSignature, Ledger.DeviceCertificate; a ledger with
// VerifyDeviceSignature, ledger.Service, checks it itself and then does
// not verify a sync upload's signature a second time), and charges
// each request to exactly one identity (SPEC.md section 18.3): a request
// that authenticates to its device; its body, until then, to the client
// address, before a byte is read; a forgery to the address's forgery
// bucket; a wrong administrator token to the address's token bucket.
// Neither of the last two ever refuses a request that authenticates, and a
// replayed request gets its stored answer at no cost (replay.go). The
// client address comes from X-Forwarded-For only behind a trusted proxy
// (Options.TrustedProxies). Administrator JSON is read strictly
// (strictjson.go). Errors are JSON with a stable code mapped to a status
// in one table (errors.go), Go's own refusals included when served on
// Listener; internal failures are logged and shown as "internal error",
// so no database text reaches a client.
//
// The handler speaks plain HTTP. The administrator token travels in a
// header, so anywhere but loopback serve it behind TLS (a terminating proxy,
// or http.Server.ListenAndServeTLS on HTTPServer's result). Device messages
// need no confidentiality for their integrity (they are signed), but a
// payment history is personal data: TLS there too.
package server
