package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/pcsc"
	"github.com/offpay/offpay/transport/nfc"
)

// cardPINEnv is the customer's card PIN as the terminal's PIN pad gives
// it (pos run --nfc).
const cardPINEnv = "OFFPAY_CARD_PIN"

// posNFC is pos run --nfc READER: each payment is a tap of the payer's
// card on the terminal's reader (a contactless reader is a PC/SC reader),
// the terminal driving the card's APDUs (transport/nfc). The amount is
// --amount, or one line of standard input per customer.
func posNFC(e *env, w *openedWallet, risk *posRisk, reader string, amount uint64, count int, timeout time.Duration) error {
	pin := e.getenv(cardPINEnv)
	if pin == "" {
		return usageErrorf("--nfc: the customer's card PIN comes from %s (the terminal's PIN pad)", cardPINEnv)
	}
	pc, err := pcsc.New()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	term := &nfc.Terminal{Payee: w.Wallet, Check: func(b *protocol.PaymentBundle) error { return risk.check(w.Wallet, b, time.Now()) }}
	lines := bufio.NewScanner(e.stdin)
	fmt.Fprintf(e.stdout, "POS terminal, account %s, taking cards on %q\n", w.cfg.Account, reader)
	for n := 0; count == 0 || n < count; {
		amt := amount
		if amt == 0 {
			fmt.Fprintf(e.stdout, "amount for payment %d?\n", n+1)
			if !lines.Scan() {
				return nil
			}
			if amt, err = w.amountArg(lines.Text()); err != nil {
				fmt.Fprintf(e.stdout, "%s\n", message(err))
				continue
			}
		}
		fmt.Fprintf(e.stdout, "tap the card for %s (payment %d)\n", w.fmt(amt), n+1)
		k, err := awaitCard(ctx, pc, reader)
		if err != nil {
			fmt.Fprintln(e.stdout, "terminal stopped")
			return nil
		}
		cnt := &nfc.Counter{T: k}
		t0 := time.Now()
		c, err := card.Open(cnt, pin)
		var res *nfc.Result
		if err == nil {
			res, err = term.Tap(c, amt)
		}
		took := time.Since(t0)
		switch {
		case errors.Is(err, nfc.ErrNoPayment):
			fmt.Fprintf(e.stdout, "the card left before paying: nothing taken; tap again\n")
		case err != nil:
			fmt.Fprintf(e.stdout, "payment %d refused: %s\n", n+1, tapMessage(err))
		default:
			n++
			note := ""
			if res.Torn {
				note = "; the card left before its receipt: it gets it at its next tap here, or settles at sync"
			}
			if res.Delivered > 0 {
				note += fmt.Sprintf("; %d receipt(s) of an earlier torn tap given to the card", res.Delivered)
			}
			fmt.Fprintf(e.stdout, "paid %s by card, payment %s (tap %d ms, %d APDUs, %d bytes to the card, %d from it%s)\n",
				w.fmt(res.Amount), res.Payment, took.Milliseconds(), cnt.APDUs.Load(), cnt.Sent.Load(), cnt.Received.Load(), note)
			posUpload(ctx, e, w, risk, false)
		}
		k.Close()
		if count != 0 && n >= count {
			return nil
		}
		if err := awaitRemoval(ctx, pc, reader); err != nil {
			fmt.Fprintln(e.stdout, "terminal stopped")
			return nil
		}
	}
	return nil
}

func tapMessage(err error) string {
	if se.CodeOf(err) == se.CodeBadPIN {
		return "wrong PIN: " + err.Error()
	}
	return message(err)
}

// awaitCard waits for a card in reader.
func awaitCard(ctx context.Context, pc *pcsc.Context, reader string) (*pcsc.Card, error) {
	for {
		if k, err := pc.Connect(reader); err == nil {
			return k, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// awaitRemoval waits until no card is in reader: the next tap is another.
func awaitRemoval(ctx context.Context, pc *pcsc.Context, reader string) error {
	for {
		k, err := pc.Connect(reader)
		if err != nil {
			return nil
		}
		k.Close()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
