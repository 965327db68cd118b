package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/vse"
)

const (
	newPINEnv     = "OFFPAY_NEW_PIN"     // wallet pin, wallet unlock: the new PIN (else asked twice)
	unlockCodeEnv = "OFFPAY_UNLOCK_CODE" // wallet unlock: the unlock code (else --code, or asked)
)

func init() {
	register("wallet",
		command{"pin", "change the wallet's PIN (--new-code: a new unlock code too)", walletPIN},
		command{"unlock", "set a new PIN with the unlock code shown at init (after too many wrong PINs)", walletUnlock},
	)
}

// readSecret asks for a secret on stderr and reads one line, without echo
// when stdin is a terminal.
func readSecret(e *env, prompt string) (string, error) {
	fmt.Fprint(e.stderr, prompt)
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return strings.TrimSpace(string(b)), err
	}
	return readLine(e.stdin)
}

// readLine reads one line, a byte at a time: nothing beyond it is taken
// from r, so the next read gets the next line.
func readLine(r io.Reader) (string, error) {
	var b []byte
	var c [1]byte
	for {
		n, err := r.Read(c[:])
		if n == 1 {
			if c[0] == '\n' {
				return strings.TrimSpace(string(b)), nil
			}
			b = append(b, c[0])
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(b) > 0 {
				return strings.TrimSpace(string(b)), nil
			}
			return strings.TrimSpace(string(b)), err
		}
	}
}

// readNewPIN is a new PIN: from the environment variable name if set (for
// scripts), else asked twice, without echo on a terminal.
func readNewPIN(e *env, name string) (string, error) {
	if p := e.getenv(name); p != "" {
		return p, nil
	}
	a, err := readSecret(e, "New PIN: ")
	if a == "" {
		if err != nil {
			return "", usageErrorf("no new PIN: set %s or type it", name)
		}
		return "", usageErrorf("empty PIN")
	}
	b, _ := readSecret(e, "The same PIN again: ")
	if a != b {
		return "", usageErrorf("the two PINs differ: nothing was changed")
	}
	return a, nil
}

// showUnlockCode prints a wallet's unlock code, which is shown once.
func showUnlockCode(e *env, dir, code string) {
	fmt.Fprintf(e.stdout, "unlock code: %s\n", code)
	say(e, "  Write the unlock code down and keep it apart from this device: it is shown only now.\n"+
		"  After %d wrong PINs the wallet locks; offpay wallet unlock --dir %s sets a new PIN with it.\n", 5, dir)
}

func walletPIN(e *env, args []string) error {
	fs := newFlags(e, "wallet pin", "--dir DIR [--new-code]")
	dir := fs.String("dir", "", "the wallet's folder")
	newCode := fs.Bool("new-code", false, "also make a new unlock code (the old one stops working)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("wallet pin", pos); err != nil {
		return err
	}
	w, err := openWallet(e, *dir) // with the current PIN
	if err != nil {
		return err
	}
	v, ok := w.SE().(se.PINChanger) // the virtual SE, or the card (CHANGE REFERENCE DATA)
	if !ok {
		return fmt.Errorf("this wallet's secure element cannot change its PIN here")
	}
	pin, err := readNewPIN(e, newPINEnv)
	if err != nil {
		return err
	}
	code, err := v.ChangePIN(pin)
	if err != nil {
		return err
	}
	if *newCode && code == "" {
		if code, err = v.NewUnlockCode(); err != nil {
			return fmt.Errorf("the PIN is changed, but no new unlock code was made: %w", err)
		}
	}
	fmt.Fprintln(e.stdout, "PIN changed")
	if code != "" {
		showUnlockCode(e, *dir, code)
	}
	return nil
}

func walletUnlock(e *env, args []string) error {
	fs := newFlags(e, "wallet unlock", "--dir DIR [--code CODE]")
	dir := fs.String("dir", "", "the wallet's folder")
	codeFlag := fs.String("code", "", "the unlock code shown at init (or set "+unlockCodeEnv+", or type it)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("wallet unlock", pos); err != nil {
		return err
	}
	cfg, err := loadConfig(*dir)
	if err != nil {
		return err
	}
	code := *codeFlag
	if code == "" {
		code = e.getenv(unlockCodeEnv)
	}
	if code == "" {
		if code, _ = readSecret(e, "Unlock code: "); code == "" {
			return usageErrorf("no unlock code: give --code, set %s or type it", unlockCodeEnv)
		}
	}
	pin, err := readNewPIN(e, newPINEnv)
	if err != nil {
		return err
	}
	if err := resetPIN(*dir, cfg, code, pin); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "new PIN set; the wallet is unlocked")
	return nil
}

// resetPIN sets pin with the unlock code on the wallet's SE: its card's
// (RESET RETRY COUNTER, spec/card/CARD.md) if it was made on one, else
// the virtual SE's in its folder.
func resetPIN(dir string, cfg walletConfig, code, pin string) error {
	if cfg.Card != "" {
		k, err := connectCard(cfg.Card)
		if err != nil {
			return err
		}
		_, err = card.Unlock(k, code, pin)
		return err
	}
	_, err := vse.ResetPIN(filepath.Join(dir, walletSEDir), code, pin, nil)
	return err
}
