package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/offpay/offpay/wallet"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/applet"
	"github.com/offpay/offpay/se/card/attest"
	"github.com/offpay/offpay/se/card/pcsc"
	"github.com/offpay/offpay/se/card/vicc"
	"github.com/offpay/offpay/se/vse"
)

func init() {
	register("card",
		command{"emulate", "a virtual smart card: the virtual SE behind the card's APDUs, in a PC/SC virtual reader (vpcd)", cardEmulate},
	)
}

// cardEmulate is the card process: it plugs the virtual SE in --se into
// vpcd's reader slot at --reader and answers pcscd until the reader goes
// away or the process is stopped (the card taken out).
func cardEmulate(e *env, args []string) error {
	fs := newFlags(e, "card emulate", "--se DIR [--new] [--reader HOST:PORT]")
	dir := fs.String("se", "", "the virtual SE's folder (the card's memory)")
	isNew := fs.Bool("new", false, "make a new SE in --se first, with the PIN from "+pinEnv+" or asked twice, and show its unlock code")
	testAtt := fs.Bool("test-attestation", false, "with --new: attest the card's key as class 2 (card) with the TEST manufacturer key, which a ledger trusts only under a test policy")
	reader := fs.String("reader", fmt.Sprintf("127.0.0.1:%d", vicc.DefaultPort), "vpcd's slot to plug into (its first slot listens on 35963, the second on 35964)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("card emulate", pos); err != nil {
		return err
	}
	if *dir == "" {
		return usageErrorf("--se DIR is required")
	}
	var opts *vse.Options
	if testSEOptions != nil && e.getenv(testFastKDFEnv) != "" {
		opts = testSEOptions(&vse.Options{})
	}
	if *isNew {
		if _, err := os.Stat(filepath.Join(*dir, vse.StateFile)); err == nil {
			return usageErrorf("%s already holds a secure element (run without --new)", *dir)
		}
		pin, err := readNewPIN(e, pinEnv)
		if err != nil {
			return err
		}
		if n := utf8.RuneCountInString(pin); n < ledger.DefaultMinPIN {
			return usageErrorf("the PIN must have at least %d characters (it has %d)", ledger.DefaultMinPIN, n)
		}
		v, err := vse.Create(*dir, pin, opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "card made in %s, device %s\n", *dir, v.ID())
		if *testAtt {
			alg, key := v.PublicKey()
			a, err := attest.Make(attest.TestManufacturer(), alg, key, protocol.SESmartCard, uint64(time.Now().Unix()))
			if err != nil {
				return err
			}
			if err := attest.Write(*dir, a); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "its key attested as class 2 by the TEST manufacturer (trusted only by a test policy)\n")
		}
		showUnlockCode(e, *dir, v.UnlockCode())
	} else if *testAtt {
		return usageErrorf("--test-attestation is given at manufacture: with --new only")
	} else if _, err := os.Stat(filepath.Join(*dir, vse.StateFile)); err != nil {
		return usageErrorf("no secure element in %s (--new makes one)", *dir)
	}
	conn, err := vicc.Dial(*reader, 15*time.Second)
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() { <-stop; conn.Close() }()
	say(e, "card in the reader at %s\n", *reader)
	return vicc.Serve(conn, applet.New(*dir, opts))
}

// openCard connects to the card in PC/SC reader and logs in with pin,
// waiting up to 10 s for a card to be there.
func openCard(reader, pin string) (se.SE, error) {
	k, err := connectCard(reader)
	if err != nil {
		return nil, err
	}
	return card.Open(k, pin)
}

// connectCard connects to the card in PC/SC reader, waiting up to 10 s
// for a card to be there.
func connectCard(reader string) (*pcsc.Card, error) {
	ctx, err := pcsc.New()
	if err != nil {
		return nil, err
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		k, err := ctx.Connect(reader)
		if err == nil {
			return k, nil
		}
		if time.Now().After(end) || !(errors.Is(err, pcsc.ErrNoCard) || pcsc.Gone(err)) {
			return nil, fmt.Errorf("no card in reader %q: %w", reader, err)
		}
	}
}

// openSE is the wallet's SE: its card if it was made on one (wallet init
// --card), else the virtual SE in its folder.
func openSE(dir string, cfg walletConfig, pin string) (se.SE, error) {
	if cfg.Card != "" {
		return openCard(cfg.Card, pin)
	}
	return vse.Open(filepath.Join(dir, walletSEDir), pin, nil)
}

// walletInitCard is wallet init --card: the SE is the card in reader,
// made with its PIN before (card emulate --new, or the card's issuer); the
// wallet's folder holds its history and config.json only.
func walletInitCard(e *env, dir, reader string, cfg walletConfig, led clientLedger) error {
	pin, err := readPIN(e)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := led.c.Health(ctx); err != nil {
		return err
	}
	s, err := openCard(reader, pin)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	w, err := wallet.Open(s, dir, &wallet.Options{Ledger: led})
	if err != nil {
		return err
	}
	if err := w.Enrol(ctx, cfg.Account); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, walletConfigFile), b, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wallet created in %s for account %s, device %s on the card in %q\n", dir, cfg.Account, s.Certificate().ID(), reader)
	return nil
}
