package loadtest

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/server"
)

// The floor of the herd: the same devices, uploads and client as Herd,
// against a server that does only what any ledger must do for a sync and
// keeps nothing. It reads the request, finds the device's certificate in
// a map filled beforehand, decodes the upload and each entry's body,
// verifies the upload's signature, every other party's signature (the
// payer's in a receive, the payee's receipt in a confirm) and every
// load's in one batch shared with the uploads arriving at the same time
// (protocol.Pool, as the ledger does), and answers with a signed sync result acknowledging
// the whole log. The ledger does all of this and more (its checks, the
// database, the answer's statuses), verifying the upload's signature on
// its own before decoding (who sent it) rather than in the batch. So the
// floor's syncs/s bound what any store could reach on this machine with
// these clients, measured in the same run as the herd.

// floorServer answers POST /v1/sync as the floor.
type floorServer struct {
	certs  map[protocol.KeyID]*protocol.Certificate
	issuer *protocol.Certificate
	signer protocol.Signer
	rev    protocol.RevocationList
	pool   protocol.Pool
}

func (f *floorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(1+protocol.MaxSize(protocol.TypeSyncUpload))))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := f.sync(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b := protocol.Seal(res)
	w.Header().Set("Content-Type", server.ContentType)
	_, _ = w.Write(b)
}

func (f *floorServer) sync(body []byte) (*protocol.SyncResult, error) {
	ds, ok := protocol.PeekDeviceSignature(body)
	if !ok {
		return nil, errFloor("not a signed request")
	}
	dev := f.certs[ds.Device]
	if dev == nil {
		return nil, errFloor("unknown device")
	}
	var up protocol.SyncUpload
	if err := protocol.OpenAs(body, &up); err != nil {
		return nil, err
	}
	b := make([]protocol.Check, 0, 1+len(up.Entries))
	add := func(alg protocol.Alg, key, msg, sig []byte) {
		b = append(b, protocol.Check{Alg: alg, Key: key, Msg: msg, Sig: sig})
	}
	add(dev.KeyAlg, dev.Key, ds.Input, ds.Sig)
	for i := range up.Entries {
		e := &up.Entries[i]
		switch e.Kind {
		case protocol.EntryLoad:
			var l protocol.Load
			if err := protocol.Unmarshal(e.Body, &l); err != nil {
				return nil, err
			}
			add(f.issuer.KeyAlg, f.issuer.Key, l.SigningInput(), l.Sig)
		case protocol.EntryReceive:
			var pb protocol.PaymentBundle
			if err := protocol.Unmarshal(e.Body, &pb); err != nil {
				return nil, err
			}
			payer := f.certs[pb.Payment.Payer]
			if payer == nil {
				return nil, errFloor("unknown payer")
			}
			add(payer.KeyAlg, payer.Key, pb.Payment.SigningInput(), pb.Payment.Sig)
		case protocol.EntryConfirm:
			var rc protocol.Receipt
			if err := protocol.Unmarshal(e.Body, &rc); err != nil {
				return nil, err
			}
			payee := f.certs[rc.Payee]
			if payee == nil {
				return nil, errFloor("unknown payee")
			}
			add(payee.KeyAlg, payee.Key, protocol.SigningInputFromEncoding(protocol.CtxReceipt, e.Body, rc.Sig), rc.Sig)
		case protocol.EntryPay:
			var p protocol.Payment
			if err := protocol.Unmarshal(e.Body, &p); err != nil {
				return nil, err
			}
		}
	}
	for _, err := range f.pool.Verify(b) {
		if err != nil {
			return nil, err
		}
	}
	res := &protocol.SyncResult{Version: protocol.Version, Device: up.Device, Acked: lastEntry(&up),
		Time: uint64(time.Now().Unix()), RevList: f.rev, Signer: f.issuer.ID()}
	if err := res.Sign(f.signer); err != nil {
		return nil, err
	}
	return res, nil
}

type errFloor string

func (e errFloor) Error() string { return "floor: " + string(e) }

// newFloor is the floor for the devices of ups, enrolled on l: their
// certificates and the ledger's keys and revocation list are read
// beforehand.
func newFloor(ctx context.Context, l *running, ups []*protocol.SyncUpload) (*floorServer, error) {
	_, issuer := l.svc.Trust()
	rl, err := l.svc.RevocationList(ctx)
	if err != nil {
		return nil, err
	}
	f := &floorServer{certs: map[protocol.KeyID]*protocol.Certificate{}, issuer: issuer, signer: l.svc.IssuerSigner(), rev: *rl}
	for _, up := range ups {
		c, err := l.svc.DeviceCertificate(ctx, up.Device)
		if err != nil {
			return nil, err
		}
		f.certs[up.Device] = c
	}
	return f, nil
}

// startFloor serves the floor for the devices of ups, enrolled on l, on
// a loopback port, and returns a client for it made as start makes the
// herd's, and a function that stops it.
func startFloor(ctx context.Context, l *running, ups []*protocol.SyncUpload, conns int) (*ledgerclient.Client, func(), error) {
	f, err := newFloor(ctx, l, ups)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/sync", f)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	stop := func() {
		tr.CloseIdleConnections()
		srv.Close()
	}
	c, err := ledgerclient.New("http://"+ln.Addr().String(), ledgerclient.Options{
		HTTPClient: &http.Client{Transport: tr, Timeout: time.Minute}, Retries: -1})
	if err != nil {
		stop()
		return nil, nil, err
	}
	return c, stop, nil
}
