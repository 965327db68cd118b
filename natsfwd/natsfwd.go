// Package natsfwd carries a federation's forwarded evidence between
// provider ledgers over NATS JetStream (github.com/nats-io/nats.go): a
// Publisher moves the rows a payee's provider queued in its settlement
// transactions (ledger.Service.PendingForwards) into a stream, one
// subject per payer's provider, each message identified by its payment ID
// and a digest of its bytes (the Nats-Msg-Id header, MsgID: JetStream
// drops a second publication inside its duplicate window); a Consumer, the payer's provider, reads its
// subject through a durable consumer and settles each message
// (ledger.Service.SettleForwarded, which settles a repeated one once)
// before it acknowledges it. A provider that is down finds its messages
// waiting in the stream when it comes back. Nothing else imports NATS.
package natsfwd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// DefaultStream is the stream's default name; subjects are
// DefaultStream's lower-case prefix "offpay.forward." + provider.
const (
	DefaultStream = "OFFPAY_FORWARDS"
	subjectPrefix = "offpay.forward."
)

// Config says where the stream is.
type Config struct {
	// Stream names the JetStream stream (default DefaultStream) and
	// Prefix its subjects' prefix (default "offpay.forward."): several
	// schemes (or tests) share a server under different names.
	Stream string
	Prefix string
	// Duplicates is the stream's de-duplication window (default 24 h);
	// a repeat after it is still settled once by the ledger.
	Duplicates time.Duration
	// MaxAge keeps acknowledged messages this long for audit (default 30
	// days).
	MaxAge time.Duration
}

func (c *Config) defaults() {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Prefix == "" {
		c.Prefix = subjectPrefix
	}
	if c.Duplicates <= 0 {
		c.Duplicates = 24 * time.Hour
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 30 * 24 * time.Hour
	}
}

// Bus is a connection to the stream.
type Bus struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	cfg Config
}

// Dial connects to the NATS server at url and creates or updates the
// stream (file storage, the de-duplication window). Errors are
// EUNAVAILABLE.
func Dial(ctx context.Context, url string, cfg Config) (*Bus, error) {
	cfg.defaults()
	nc, err := nats.Connect(url, nats.Name("offpay"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, offpay.Errorf(offpay.EUNAVAILABLE, "nats %s: %v", url, err)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: cfg.Stream, Subjects: []string{cfg.Prefix + ">"},
			Storage: jetstream.FileStorage, Duplicates: cfg.Duplicates, MaxAge: cfg.MaxAge, Retention: jetstream.LimitsPolicy})
	}
	if err != nil {
		nc.Close()
		return nil, offpay.Errorf(offpay.EUNAVAILABLE, "jetstream stream %s: %v", cfg.Stream, err)
	}
	return &Bus{nc: nc, js: js, cfg: cfg}, nil
}

// Close closes the connection.
func (b *Bus) Close() { b.nc.Close() }

// DeleteStream removes the stream (tests).
func (b *Bus) DeleteStream(ctx context.Context) error { return b.js.DeleteStream(ctx, b.cfg.Stream) }

// Source is a payee's provider's queue of evidence (ledger.Service).
type Source interface {
	PendingForwards(ctx context.Context, limit int) ([]ledger.ForwardRow, error)
	MarkForwarded(ctx context.Context, ids []protocol.Hash) error
}

// Publish moves up to limit queued rows of src into the stream and marks
// those the server acknowledged; it returns how many. A crash between
// the two sends a row again: its message ID makes the server drop it.
func (b *Bus) Publish(ctx context.Context, src Source, limit int) (int, error) {
	rows, err := src.PendingForwards(ctx, limit)
	if err != nil {
		return 0, err
	}
	var done []protocol.Hash
	var perr error
	for _, r := range rows {
		msg := &nats.Msg{Subject: b.cfg.Prefix + r.Provider, Data: r.Data, Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, MsgID(r.ID, r.Data))
		if _, err := b.js.PublishMsg(ctx, msg); err != nil {
			perr = offpay.Errorf(offpay.EUNAVAILABLE, "publishing to %s: %v", msg.Subject, err)
			break
		}
		done = append(done, r.ID)
	}
	if err := src.MarkForwarded(ctx, done); err != nil {
		return 0, err
	}
	return len(done), perr
}

// MsgID is the Nats-Msg-Id of a payment's evidence: its payment ID and a
// digest of the message. The ID makes the stream drop a second
// publication of the same evidence; the digest keeps anyone who knows a
// payment's ID (its payer, to begin with) from publishing something else
// under it first so that the stream drops the genuine evidence.
func MsgID(payment protocol.Hash, data []byte) string {
	d := sha256.Sum256(data)
	return hex.EncodeToString(payment[:]) + "." + hex.EncodeToString(d[:12])
}

// Sink is a payer's provider (ledger.Service): it settles a fetched
// batch in one transaction.
type Sink interface {
	SettleForwardedBatch(ctx context.Context, data [][]byte) ([]*ledger.ForwardResult, []error)
}

// Stats counts what a Consumer did.
type Stats struct {
	Settled    int // settled now
	Duplicates int // settled before: acknowledged, nothing changed
	Refused    int // refused for good (forged, unknown payer...): terminated, left in the stream for audit
	Retried    int // the ledger was unavailable: redelivered later
}

// Consumer reads one provider's subject through a durable consumer.
type Consumer struct {
	b    *Bus
	c    jetstream.Consumer
	sink Sink
	// Refusal, if set, hears of each message refused for good.
	Refusal func(data []byte, err error)
}

// Consumer returns the durable consumer of provider (created if need be)
// delivering to sink.
func (b *Bus) Consumer(ctx context.Context, provider string, sink Sink) (*Consumer, error) {
	if err := ledger.CheckAccountName(provider); err != nil {
		return nil, err
	}
	c, err := b.js.CreateOrUpdateConsumer(ctx, b.cfg.Stream, jetstream.ConsumerConfig{Durable: "provider-" + provider,
		FilterSubject: b.cfg.Prefix + provider, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxDeliver: -1,
		DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, offpay.Errorf(offpay.EUNAVAILABLE, "consumer of %s: %v", provider, err)
	}
	return &Consumer{b: b, c: c, sink: sink}, nil
}

// Drain settles the messages waiting, up to max, waiting at most wait
// for the first batch; it returns what it did.
func (c *Consumer) Drain(ctx context.Context, max int, wait time.Duration) (Stats, error) {
	var st Stats
	for max > 0 {
		batch, err := c.c.Fetch(min(max, 256), jetstream.FetchMaxWait(wait))
		if err != nil {
			return st, offpay.Errorf(offpay.EUNAVAILABLE, "fetch: %v", err)
		}
		var msgs []jetstream.Msg
		var data [][]byte
		for m := range batch.Messages() {
			msgs, data = append(msgs, m), append(data, m.Data())
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			return st, offpay.Errorf(offpay.EUNAVAILABLE, "fetch: %v", err)
		}
		n := len(msgs)
		if n > 0 {
			res, errs := c.sink.SettleForwardedBatch(ctx, data)
			for i, m := range msgs {
				if err := c.handle(m, res[i], errs[i], &st); err != nil {
					return st, err
				}
			}
		}
		if n == 0 {
			return st, nil
		}
		max -= n
		wait = 50 * time.Millisecond
	}
	return st, nil
}

// Run settles messages as they come until ctx ends.
func (c *Consumer) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := c.Drain(ctx, 1024, time.Second); err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// handle acknowledges m as its settlement went: settled (now or before)
// acknowledged; refused for good terminated; unavailable redelivered.
func (c *Consumer) handle(m jetstream.Msg, res *ledger.ForwardResult, err error, st *Stats) error {
	switch code := offpay.ErrorCode(err); {
	case err == nil:
		if res.Duplicate {
			st.Duplicates++
		} else {
			st.Settled++
		}
		return ack(m.Ack())
	case code == offpay.EUNAVAILABLE || code == offpay.EINTERNAL:
		st.Retried++
		return ack(m.NakWithDelay(time.Second))
	default:
		st.Refused++
		if c.Refusal != nil {
			c.Refusal(m.Data(), err)
		}
		return ack(m.Term())
	}
}

func ack(err error) error {
	if err != nil {
		return offpay.Errorf(offpay.EUNAVAILABLE, "acknowledging: %v", err)
	}
	return nil
}

// String describes the stats.
func (s Stats) String() string {
	return fmt.Sprintf("settled %d, duplicates %d, refused %d, retried %d", s.Settled, s.Duplicates, s.Refused, s.Retried)
}
