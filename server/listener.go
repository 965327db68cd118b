package server

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/offpay/offpay"
)

// Listener wraps l so that the answers Go's HTTP server writes itself,
// before any handler runs, are the API's JSON errors like every other:
// 400 for a request it cannot parse (a bad request line, header or Host),
// 431 for headers above http.Server.MaxHeaderBytes, 501 for an unknown
// transfer coding, 505 for an unknown HTTP version. net/http writes those
// as text/plain in one write on the connection, with no hook to change
// them; the wrapped connection recognises exactly that write (a 4xx or
// 5xx status line followed directly by net/http's fixed
// "Content-Type: text/plain; charset=utf-8" and "Connection: close"
// headers, which its ordinary responses never send in that order) and
// writes the JSON answer instead. Serve plain HTTP on it (the TLS proxy in
// front terminates TLS): under a tls.Listener it would only see ciphertext.
func Listener(l net.Listener) net.Listener { return jsonErrListener{l} }

type jsonErrListener struct{ net.Listener }

func (l jsonErrListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jsonErrConn{Conn: c}, nil
}

type jsonErrConn struct{ net.Conn }

// goErrorHeaders are the headers net/http writes after the status line of
// its own error answers (server.go, conn.serve).
const goErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c *jsonErrConn) Write(p []byte) (int, error) {
	if b, ok := rewriteGoError(p); ok {
		if _, err := c.Conn.Write(b); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// rewriteGoError returns the JSON answer for p if p is one of net/http's
// own error answers.
func rewriteGoError(p []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if len(p) < len(proto)+3 || !bytes.HasPrefix(p, []byte(proto)) || (p[len(proto)] != '4' && p[len(proto)] != '5') {
		return nil, false
	}
	line, rest, ok := bytes.Cut(p, []byte("\r\n"))
	if !ok || !bytes.HasPrefix(rest, []byte(goErrorHeaders[2:])) {
		return nil, false
	}
	status, err := strconv.Atoi(string(line[len(proto) : len(proto)+3]))
	if err != nil {
		return nil, false
	}
	text := string(rest[len(goErrorHeaders)-2:])
	code := map[int]offpay.Code{
		http.StatusRequestHeaderFieldsTooLarge: CodeHeaderTooLarge,
		http.StatusNotImplemented:              CodeNotImplemented,
		http.StatusHTTPVersionNotSupported:     CodeHTTPVersion,
	}[status]
	if code == "" {
		code = offpay.EINVALID
	}
	// "400 Bad Request: missing required Host header" says what is wrong
	// after the status text; keep that part.
	msg := strings.TrimSpace(strings.TrimPrefix(text, strconv.Itoa(status)+" "+http.StatusText(status)))
	msg = strings.TrimSpace(strings.TrimPrefix(msg, ":"))
	if msg == "" {
		msg = strings.ToLower(http.StatusText(status))
	}
	body, _ := json.Marshal(ErrorBody{Error: ErrorDetail{Code: code, Message: "the request could not be read as HTTP: " + msg}})
	body = append(body, '\n')
	var b bytes.Buffer
	b.Write(line)
	b.WriteString("\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\nContent-Length: ")
	b.WriteString(strconv.Itoa(len(body)))
	b.WriteString("\r\n\r\n")
	b.Write(body)
	return b.Bytes(), true
}

// CloseWrite lets net/http half-close the connection after an error, as
// it does on the connection it wraps.
func (c *jsonErrConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
