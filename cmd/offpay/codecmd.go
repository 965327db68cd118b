package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offpay/offpay/transport/qr"
)

func init() {
	register("ledger",
		command{"code issue", "issue a one-time enrolment code for an account (administrator)", ledgerCodeIssue},
		command{"code list", "list the enrolment codes and their states (administrator)", ledgerCodeList},
		command{"code cancel", "cancel an open enrolment code (administrator)", ledgerCodeCancel},
	)
}

// ledgerCodeIssue issues a one-time enrolment code: a device enrols with
// it (wallet init --code, or --code-in the QR image, which also carries the
// ledger's URL), and never holds the administrator's token.
func ledgerCodeIssue(e *env, args []string) error {
	fs := newFlags(e, "ledger code issue", "--data DIR ACCOUNT [--ttl 24h] [--out FILE.png] [--json]")
	data := fs.String("data", "", "the ledger's data folder")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the code is valid (a minute to 30 days)")
	out := fs.String("out", "", "write the code and the ledger's URL as a QR code PNG")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ledger code issue needs one ACCOUNT")
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	code, err := c.IssueCode(context.Background(), pos[0], *ttl)
	if err != nil {
		return err
	}
	u, _ := os.ReadFile(filepath.Join(*data, ledgerURLFile))
	if *out != "" {
		img, err := qr.PNG(qr.EncodeEnrol(code.Account, code.Code, strings.TrimSpace(string(u))), qr.M, 8)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(*out, img); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(e.stdout, code)
	}
	fmt.Fprintf(e.stdout, "enrolment code for account %s: %s\n", code.Account, code.Code)
	fmt.Fprintf(e.stdout, "valid until %s, once (id %s)\n", code.ExpiresAt.Format(time.RFC3339), code.ID)
	if *out != "" {
		fmt.Fprintf(e.stdout, "QR code (with the ledger's URL) in %s: offpay wallet init --dir DIR --code-in %s\n", *out, *out)
	} else {
		fmt.Fprintf(e.stdout, "enrol with: offpay wallet init --dir DIR --ledger %s --account %s --code %s\n", strings.TrimSpace(string(u)), code.Account, code.Code)
	}
	return nil
}

func ledgerCodeList(e *env, args []string) error {
	fs := newFlags(e, "ledger code list", "--data DIR [--json]")
	data := fs.String("data", "", "the ledger's data folder")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	codes, err := c.Codes(context.Background())
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, codes)
	}
	for _, k := range codes {
		line := fmt.Sprintf("%s  %-16s %-9s until %s", k.ID, k.Account, k.Status, k.ExpiresAt.Format(time.RFC3339))
		if k.UsedBy != "" {
			line += "  by device " + k.UsedBy
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}

func ledgerCodeCancel(e *env, args []string) error {
	fs := newFlags(e, "ledger code cancel", "--data DIR ID")
	data := fs.String("data", "", "the ledger's data folder")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ledger code cancel needs one ID (as ledger code list shows it)")
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	if err := c.CancelCode(context.Background(), pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "code %s cancelled\n", pos[0])
	return nil
}

// readEnrolCode reads an enrolment code's QR image or text form (qr.EncodeEnrol).
func readEnrolCode(e *env, path string) (account, code, ledgerURL string, err error) {
	var b []byte
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(e.stdin, 1<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", "", "", &inputError{err}
	}
	text := string(b)
	if isImage(b) {
		if text, err = qr.DecodeImage(bytes.NewReader(b)); err != nil {
			return "", "", "", &inputError{err}
		}
	}
	account, code, ledgerURL, err = qr.DecodeEnrol(text)
	if err != nil {
		return "", "", "", &inputError{fmt.Errorf("%s is not an enrolment code (offpay ledger code issue --out): %w", path, err)}
	}
	return account, code, ledgerURL, nil
}
