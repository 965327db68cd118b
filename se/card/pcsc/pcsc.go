//go:build cgo

package pcsc

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

// pcsc-lite's types on Linux: DWORD is unsigned long, LONG long, contexts
// and handles LONG (winscard.h, pcsclite.h). Declared here so that no
// header is needed to build.
typedef long LONG_;
typedef unsigned long DWORD_;
typedef struct { DWORD_ dwProtocol; DWORD_ cbPciLength; } IO_REQUEST_;

typedef LONG_ (*establish_f)(DWORD_, const void *, const void *, LONG_ *);
typedef LONG_ (*release_f)(LONG_);
typedef LONG_ (*list_f)(LONG_, const char *, char *, DWORD_ *);
typedef LONG_ (*connect_f)(LONG_, const char *, DWORD_, DWORD_, LONG_ *, DWORD_ *);
typedef LONG_ (*reconnect_f)(LONG_, DWORD_, DWORD_, DWORD_, DWORD_ *);
typedef LONG_ (*disconnect_f)(LONG_, DWORD_);
typedef LONG_ (*transmit_f)(LONG_, const IO_REQUEST_ *, const unsigned char *, DWORD_, IO_REQUEST_ *, unsigned char *, DWORD_ *);
typedef const char *(*stringify_f)(LONG_);

static void *lib;
static establish_f p_establish;
static release_f p_release;
static list_f p_list;
static connect_f p_connect;
static reconnect_f p_reconnect;
static disconnect_f p_disconnect;
static transmit_f p_transmit;
static stringify_f p_stringify;

static int pcsc_load(void) {
	if (lib) return 0;
	void *h = dlopen("libpcsclite.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) return -1;
	p_establish = (establish_f)dlsym(h, "SCardEstablishContext");
	p_release = (release_f)dlsym(h, "SCardReleaseContext");
	p_list = (list_f)dlsym(h, "SCardListReaders");
	p_connect = (connect_f)dlsym(h, "SCardConnect");
	p_reconnect = (reconnect_f)dlsym(h, "SCardReconnect");
	p_disconnect = (disconnect_f)dlsym(h, "SCardDisconnect");
	p_transmit = (transmit_f)dlsym(h, "SCardTransmit");
	p_stringify = (stringify_f)dlsym(h, "pcsc_stringify_error");
	if (!p_establish || !p_release || !p_list || !p_connect || !p_reconnect || !p_disconnect || !p_transmit || !p_stringify) {
		dlclose(h);
		return -2;
	}
	lib = h;
	return 0;
}

static LONG_ pcsc_establish(LONG_ *ctx) { return p_establish(2, NULL, NULL, ctx); } // SCARD_SCOPE_SYSTEM
static LONG_ pcsc_release(LONG_ ctx) { return p_release(ctx); }
static LONG_ pcsc_list(LONG_ ctx, char *buf, DWORD_ *n) { return p_list(ctx, NULL, buf, n); }
static LONG_ pcsc_connect(LONG_ ctx, const char *r, LONG_ *h, DWORD_ *proto) { return p_connect(ctx, r, 2, 3, h, proto); } // shared, T=0 or T=1
static LONG_ pcsc_reconnect(LONG_ h, DWORD_ *proto) { return p_reconnect(h, 2, 3, 0, proto); } // leave the card as it is
static LONG_ pcsc_disconnect(LONG_ h, DWORD_ how) { return p_disconnect(h, how); }
static LONG_ pcsc_transmit(LONG_ h, DWORD_ proto, const unsigned char *in, DWORD_ n, unsigned char *out, DWORD_ *m) {
	IO_REQUEST_ pci = { proto, sizeof(IO_REQUEST_) };
	return p_transmit(h, &pci, in, n, NULL, out, m);
}
static const char *pcsc_text(LONG_ rv) { return p_stringify(rv); }
*/
import "C"

import (
	"strings"
	"sync"
	"unsafe"
)

var loadOnce sync.Once
var loadErr error

func load() error {
	loadOnce.Do(func() {
		if C.pcsc_load() != 0 {
			loadErr = ErrUnavailable
		}
	})
	return loadErr
}

func check(op string, rv C.LONG_) error {
	if rv == 0 {
		return nil
	}
	return &Error{Op: op, Code: uint32(rv), Text: C.GoString(C.pcsc_text(rv))}
}

// Context is a connection to the pcscd daemon (SCardEstablishContext).
type Context struct {
	ctx C.LONG_
}

// New establishes a context with the daemon (the socket PCSCLITE_CSOCK_NAME
// names, /run/pcscd/pcscd.comm by default).
func New() (*Context, error) {
	if err := load(); err != nil {
		return nil, err
	}
	var ctx C.LONG_
	if err := check("SCardEstablishContext", C.pcsc_establish(&ctx)); err != nil {
		return nil, err
	}
	return &Context{ctx: ctx}, nil
}

// Close releases the context.
func (c *Context) Close() error { return check("SCardReleaseContext", C.pcsc_release(c.ctx)) }

// Readers lists the readers the daemon knows.
func (c *Context) Readers() ([]string, error) {
	var n C.DWORD_
	if err := check("SCardListReaders", C.pcsc_list(c.ctx, nil, &n)); err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if err := check("SCardListReaders", C.pcsc_list(c.ctx, (*C.char)(unsafe.Pointer(&buf[0])), &n)); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range strings.Split(string(buf[:n]), "\x00") {
		if r != "" {
			out = append(out, r)
		}
	}
	return out, nil
}

// Card is a connection to the card in one reader (shared mode).
type Card struct {
	mu     sync.Mutex
	ctx    *Context
	reader string
	h      C.LONG_
	proto  C.DWORD_
	open   bool
}

// Connect connects to the card in reader.
func (c *Context) Connect(reader string) (*Card, error) {
	k := &Card{ctx: c, reader: reader}
	if err := k.connect(); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Card) connect() error {
	r := C.CString(k.reader)
	defer C.free(unsafe.Pointer(r))
	var h C.LONG_
	var proto C.DWORD_
	if err := check("SCardConnect", C.pcsc_connect(k.ctx.ctx, r, &h, &proto)); err != nil {
		return err
	}
	k.h, k.proto, k.open = h, proto, true
	return nil
}

// Reader is the reader's name.
func (k *Card) Reader() string { return k.reader }

// Reconnect connects again after the card was reset or taken out and put
// back: a new handle if the old one is gone.
func (k *Card) Reconnect() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.open {
		var proto C.DWORD_
		err := check("SCardReconnect", C.pcsc_reconnect(k.h, &proto))
		if err == nil {
			k.proto = proto
			return nil
		}
		C.pcsc_disconnect(k.h, 0)
		k.open = false
	}
	return k.connect()
}

// maxRecv is pcsc-lite's MAX_BUFFER_SIZE_EXTENDED.
const maxRecv = 4 + 3 + (1 << 16) + 3 + 2

// Transmit sends one command APDU and returns the response APDU.
func (k *Card) Transmit(cmd []byte) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(cmd) == 0 {
		return nil, &Error{Op: "SCardTransmit", Code: 0x80100004, Text: "empty command"} // SCARD_E_INVALID_PARAMETER
	}
	out := make([]byte, maxRecv)
	n := C.DWORD_(len(out))
	in := C.CBytes(cmd)
	defer C.free(in)
	rv := C.pcsc_transmit(k.h, k.proto, (*C.uchar)(in), C.DWORD_(len(cmd)), (*C.uchar)(unsafe.Pointer(&out[0])), &n)
	if err := check("SCardTransmit", rv); err != nil {
		return nil, err
	}
	return out[:n], nil
}

// Close disconnects, leaving the card powered (SCARD_LEAVE_CARD).
func (k *Card) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.open {
		return nil
	}
	k.open = false
	return check("SCardDisconnect", C.pcsc_disconnect(k.h, 0))
}
