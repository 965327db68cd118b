package bank

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/iso20022"
	"github.com/offpay/offpay/iso20022/isotest"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/sqlite"
)

// camtRecv records what a receiver got, by idempotency key, after checking
// the signature over the raw body whatever its format.
type camtRecv struct {
	t     *testing.T
	clock *clock
	mu    sync.Mutex
	body  map[string][]byte
	ctype map[string]string
	srv   *httptest.Server
}

func newCamtRecv(t *testing.T, c *clock) *camtRecv {
	r := &camtRecv{t: t, clock: c, body: map[string][]byte{}, ctype: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := VerifyRequestAt(secret, req.Header, body, time.Minute, r.clock.Now()); err != nil {
			r.t.Errorf("delivery does not verify: %v", err)
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		k := req.Header.Get(IdempotencyHeader)
		r.body[k], r.ctype[k] = body, req.Header.Get("Content-Type")
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *camtRecv) drain(t *testing.T, o Outbox, c *clock) {
	t.Helper()
	w, err := NewWorker(o, Config{URL: r.srv.URL, Secret: secret, Now: c.Now, Format: FormatCamt054,
		Client: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		c.Advance(2 * time.Minute)
	}
}

// camtNote is what a bank reads of a camt.054, decoded independently of
// package iso20022's own types.
type camtNote struct {
	MsgID  string `xml:"BkToCstmrDbtCdtNtfctn>GrpHdr>MsgId"`
	Ntfctn struct {
		ID      string `xml:"Id"`
		SeqNb   int64  `xml:"ElctrncSeqNb"`
		Account string `xml:"Acct>Id>Othr>Id"`
		Ccy     string `xml:"Acct>Ccy"`
		Ntry    []struct {
			Ref    string  `xml:"NtryRef"`
			Amt    camtAmt `xml:"Amt"`
			Ind    string  `xml:"CdtDbtInd"`
			Sts    string  `xml:"Sts>Cd"`
			Booked string  `xml:"BookgDt>Dt"`
			Code   string  `xml:"BkTxCd>Prtry>Cd"`
			SvcRef string  `xml:"AcctSvcrRef"`
			Info   string  `xml:"AddtlNtryInf"`
			Txs    []struct {
				Amt  *camtAmt `xml:"Amt"`
				Info string   `xml:"AddtlTxInf"`
			} `xml:"NtryDtls>TxDtls"`
		} `xml:"Ntry"`
		Info string `xml:"AddtlNtfctnInf"`
	} `xml:"BkToCstmrDbtCdtNtfctn>Ntfctn"`
}

type camtAmt struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

func (a camtAmt) minor(t *testing.T, ind string) int64 {
	t.Helper()
	v, err := iso20022.ParseDecimal(a.Value, a.Ccy)
	if err != nil {
		t.Fatal(err)
	}
	if ind == "DBIT" {
		return -v
	}
	return v
}

// readCamt validates doc against the schema and decodes it, checking it
// names notification n.
func readCamt(t *testing.T, doc []byte, n *ledger.Notification) *camtNote {
	t.Helper()
	isotest.MustValidate(t, doc)
	var c camtNote
	if err := xml.Unmarshal(doc, &c); err != nil {
		t.Fatal(err)
	}
	if c.Ntfctn.Account != n.Stream || c.Ntfctn.SeqNb != n.Seq || c.Ntfctn.Info != n.Kind+" "+n.IdempotencyKey ||
		c.MsgID != c.Ntfctn.ID || len(c.Ntfctn.Ntry) != 1 {
		t.Fatalf("camt.054 of %s %s: account %q, seq %d, info %q, id %q, %d entries", n.Kind, n.IdempotencyKey,
			c.Ntfctn.Account, c.Ntfctn.SeqNb, c.Ntfctn.Info, c.MsgID, len(c.Ntfctn.Ntry))
	}
	if len(n.IdempotencyKey) <= 35 && c.MsgID != n.IdempotencyKey {
		t.Errorf("MsgId %q, key %q", c.MsgID, n.IdempotencyKey)
	}
	return &c
}

// TestCamt054FromRealOutbox: a ledger on SQLite, its webhook in camt.054.
// Every statement line arrives as XML that validates against the ISO schema
// and carries the same account, sequence, amount, kind, ref, balance and
// dates as the JSON body of the same notification.
func TestCamt054FromRealOutbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &clock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
	svc := ledger.New(st, keys, ledger.Options{Clock: c.Now})
	for i, name := range []string{"alice", "bob"} {
		if _, err := svc.CreateAccount(ctx, name, false); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Deposit(ctx, name, 1001+int64(i), "dep-"+name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Withdraw(ctx, "bob", 301, "a withdrawal reference longer than thirty-five characters"); err != nil {
		t.Fatal(err)
	}
	r := newCamtRecv(t, c)
	r.drain(t, svc, c)

	page, err := svc.Outbox(ctx, ledger.OutboxQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for i := range page.Notifications {
		n := &page.Notifications[i]
		got := r.body[n.IdempotencyKey]
		if got == nil {
			t.Fatalf("%s %s not delivered", n.Kind, n.IdempotencyKey)
		}
		if n.Kind != ledger.NoteAccountChanged {
			continue
		}
		lines++
		if r.ctype[n.IdempotencyKey] != "application/xml" {
			t.Errorf("%s: Content-Type %q", n.IdempotencyKey, r.ctype[n.IdempotencyKey])
		}
		js, err := Body(n)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ParseEvent(js)
		if err != nil {
			t.Fatal(err)
		}
		var line ledger.AccountChanged
		if err := json.Unmarshal(ev.Data, &line); err != nil {
			t.Fatal(err)
		}
		x := readCamt(t, got, n)
		e := x.Ntfctn.Ntry[0]
		bal, _ := iso20022.Decimal(line.Balance, "EUR")
		if x.Ntfctn.Account != ev.Account || x.Ntfctn.SeqNb != ev.EventSeq || x.Ntfctn.Ccy != line.Currency ||
			e.Amt.minor(t, e.Ind) != line.Amount || e.Ref != strconv.FormatInt(line.Seq, 10) || e.Code != line.Kind ||
			e.Sts != "BOOK" || e.Booked != line.BookingDate || !strings.Contains(e.Info, "balance after: "+bal+" EUR") ||
			(e.SvcRef != line.Ref && !strings.Contains(e.Info, "ref: "+line.Ref)) {
			t.Errorf("camt.054 %+v\ndoes not say what the JSON says: %s", x, js)
		}
	}
	if lines != 3 {
		t.Fatalf("%d statement lines, want 3", lines)
	}
}

// TestCamt054Payments: settled and expired payments as entries for
// information with each payment's amount and ID; the kinds that move no
// money, and a currency ISO cannot name, go as JSON.
func TestCamt054Payments(t *testing.T) {
	if err := offpay.RegisterCurrency(offpay.Currency{Code: "XCOMM", Exponent: 2}); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
	pay := func(id string, amount int64) ledger.SettledPayment {
		return ledger.SettledPayment{PaymentID: strings.Repeat(id, 64), Amount: amount, Currency: "EUR", Status: "settled"}
	}
	settled := ledger.SettledPayload{Account: "shop", Total: 1750, Currency: "EUR", BookingDate: "2026-12-06", ValueDate: "2026-12-06",
		Payments: []ledger.SettledPayment{pay("a", 1250), pay("b", 500)}}
	expired := ledger.SettledPayload{Account: "alice", Reason: ledger.ExpiredClaimWindow, Total: 300, Currency: "EUR",
		BookingDate: "2026-12-06", ValueDate: "2026-12-06", Payments: []ledger.SettledPayment{pay("c", 300)}}
	community := settled
	community.Currency = "XCOMM"
	notes := []struct {
		kind, key, stream string
		payload           any
		xml               bool
	}{
		{ledger.NotePaymentSettled, "payer:1:" + strings.Repeat("a", 64), "shop", settled, true},
		{ledger.NotePaymentExpired, "payer:2:" + strings.Repeat("c", 64), "alice", expired, true},
		{ledger.NoteAccountFrozen, "frozen:alice", "alice", ledger.AccountFrozen{Account: "alice", Device: "d", Reason: "lost"}, false},
		{ledger.NotePaymentSettled, "payer:3:x", "club", community, false},
	}
	o := &fakeOutbox{clock: c}
	for i, nt := range notes {
		raw, _ := json.Marshal(nt.payload)
		o.items = append(o.items, &item{n: ledger.Notification{ID: int64(i + 1), Kind: nt.kind, IdempotencyKey: nt.key,
			Stream: nt.stream, Seq: int64(i + 1), Payload: raw, CreatedAt: c.Now(), Since: c.Now()}})
	}
	r := newCamtRecv(t, c)
	r.drain(t, o, c)
	for i, nt := range notes {
		n := &o.items[i].n
		got, ctype := r.body[nt.key], r.ctype[nt.key]
		if !nt.xml {
			if ctype != "application/json" {
				t.Errorf("%s: Content-Type %q, want JSON", nt.key, ctype)
			}
			if _, err := ParseEvent(got); err != nil {
				t.Errorf("%s: %v", nt.key, err)
			}
			continue
		}
		if ctype != "application/xml" {
			t.Fatalf("%s: Content-Type %q", nt.key, ctype)
		}
		x := readCamt(t, got, n)
		p := nt.payload.(ledger.SettledPayload)
		e := x.Ntfctn.Ntry[0]
		if e.Sts != "INFO" || e.Amt.minor(t, e.Ind) != p.Total || e.Code != nt.kind || e.Info != p.Reason || len(e.Txs) != len(p.Payments) {
			t.Errorf("%s: entry %+v, payload %+v", nt.key, e, p)
			continue
		}
		for j, tx := range e.Txs {
			if tx.Amt == nil || tx.Amt.minor(t, e.Ind) != p.Payments[j].Amount || tx.Info != p.Payments[j].PaymentID {
				t.Errorf("%s: transaction %d %+v, payment %+v", nt.key, j, tx, p.Payments[j])
			}
		}
		if !strings.HasPrefix(x.MsgID, "sha256:") || len(x.MsgID) != 35 {
			t.Errorf("a key of %d characters as MsgId %q", len(nt.key), x.MsgID)
		}
	}
}

func TestWorkerRefusesUnknownFormat(t *testing.T) {
	if _, err := NewWorker(newFakeOutbox(&clock{}, 0), Config{URL: "http://127.0.0.1:1/", Secret: secret, Format: "camt.053"}); err == nil {
		t.Fatal("a worker with format camt.053")
	}
}

// BenchmarkWebhookBody compares the two body formats of one statement
// line with one payment.
func BenchmarkWebhookBody(b *testing.B) {
	raw, _ := json.Marshal(ledger.AccountChanged{Account: "shop", Seq: 7, Kind: "settle_in", Amount: 1250, Balance: 99_000,
		Currency: "EUR", Ref: "sync-42", BookingDate: "2026-12-06", ValueDate: "2026-12-06", PaymentIDs: []string{strings.Repeat("a", 64)}})
	n := &ledger.Notification{Kind: ledger.NoteAccountChanged, IdempotencyKey: "shop:7", Stream: "shop", Seq: 7, Payload: raw,
		CreatedAt: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			if _, err := Body(n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("camt.054", func(b *testing.B) {
		for b.Loop() {
			if _, ok, err := Camt054(n); err != nil || !ok {
				b.Fatal(err)
			}
		}
	})
}
