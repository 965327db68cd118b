//go:build js && wasm

// Command wasm is offpay's wallet compiled to WebAssembly for the browser
// pages (web/wallet, web/pos): the same wallet, se/vse, protocol,
// transport/qr and ledgerclient packages as the command line, behind a
// small JavaScript API (globalThis.offpay, every call a Promise). The SE's
// files live in the file tree web/wallet/static/idbfs.js keeps in
// IndexedDB, which makes a rename durable before it returns, as a disk's
// fsync does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"syscall/js"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/transport/qr"
	"github.com/offpay/offpay/wallet"
)

// root holds one folder per wallet the origin keeps (the wallet page's,
// the POS page's).
const root = "/offpay"

// config is what the page remembers beside the SE, as the CLI's
// config.json.
type config struct {
	Ledger  string `json:"ledger"`
	Account string `json:"account"`
}

// app is the one open wallet of the page.
type app struct {
	name string
	cfg  config
	w    *wallet.Wallet
	v    *vse.VSE
}

var cur *app

func main() {
	api := map[string]any{}
	for name, f := range functions {
		api[name] = promise(f)
	}
	js.Global().Set("offpay", js.ValueOf(api))
	if ready := js.Global().Get("offpayReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

type fn func(args []js.Value) (any, error)

// promise runs f in a goroutine, because a call that waits for the
// network or for IndexedDB must not block the JavaScript event loop.
func promise(f fn) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		return js.Global().Get("Promise").New(js.FuncOf(func(_ js.Value, pr []js.Value) any {
			resolve, reject := pr[0], pr[1]
			go func() {
				defer func() {
					if r := recover(); r != nil {
						reject.Invoke(jsError(fmt.Errorf("internal error: %v", r)))
					}
				}()
				v, err := f(args)
				if err != nil {
					reject.Invoke(jsError(err))
					return
				}
				resolve.Invoke(v)
			}()
			return nil
		}))
	})
}

func jsError(err error) js.Value {
	e := js.Global().Get("Error").New(err.Error())
	var oe *offpay.Error
	if errors.As(err, &oe) {
		e.Set("code", string(oe.Code))
	}
	return e
}

// asJSON hands a value to JavaScript as JSON text (JSON.parse on the
// other side): amounts stay integers of minor units.
func asJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

var errLocked = errors.New("the wallet is locked: enter the PIN")

func open() (*app, error) {
	if cur == nil {
		return nil, errLocked
	}
	return cur, nil
}

// openWith opens the wallet and decodes the scanned code in args[0].
func openWith(args []js.Value) (*app, []byte, error) {
	a, err := open()
	if err != nil {
		return nil, nil, err
	}
	env, err := decode(str(args, 0))
	if err != nil {
		return nil, nil, err
	}
	return a, env, nil
}

func dirOf(name string) (string, error) {
	if name == "" || len(name) > 32 || path.Base(name) != name || name[0] == '.' {
		return "", fmt.Errorf("bad wallet name %q", name)
	}
	return path.Join(root, name), nil
}

func loadConfig(dir string) (config, error) {
	var c config
	b, err := os.ReadFile(path.Join(dir, "config.json"))
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

func ledgerFor(url, code string) (clientLedger, error) {
	c, err := ledgerclient.New(url, ledgerclient.Options{Timeout: 20 * time.Second, Retries: 1})
	if err != nil {
		return clientLedger{}, err
	}
	return clientLedger{c: c, code: code}, nil
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// amount parses what a person typed in the purse's currency.
func (a *app) amount(s string) (uint64, error) {
	st, err := a.w.Status()
	if err != nil {
		return 0, err
	}
	v, err := offpay.ParseAmountIn(s, st.Currency)
	if err != nil {
		return 0, err
	}
	if v.Currency != st.Currency || v.Minor <= 0 {
		return 0, offpay.Errorf(offpay.EINVALID, "want a positive amount in %s", st.Currency)
	}
	return uint64(v.Minor), nil
}

// decode reads an offpay text form scanned or pasted.
func decode(text string) ([]byte, error) {
	return qr.DecodeText(text)
}
