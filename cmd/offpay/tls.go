package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/offpay/offpay/ledgerclient"
)

// Files of a ledger's data folder for TLS.
const (
	selfSignedCertFile = "tls-self-signed.pem" // ledger serve --tls-self-signed: certificate, reused across restarts
	selfSignedKeyFile  = "tls-self-signed.key" // its private key (0600)
	servedCertFile     = "ledger.pem"          // the certificate being served: administrator commands trust it
)

// tlsOptions say how ledger serve speaks TLS.
type tlsOptions struct {
	certFile, keyFile string // an operator's certificate and key (PEM)
	selfSigned        bool   // a development certificate of its own, in the data folder
}

func (o tlsOptions) on() bool { return o.certFile != "" || o.selfSigned }

// serverTLS returns the TLS configuration of a ledger serving from dir on
// listen, and the PEM of its certificate chain.
func serverTLS(dir, listen string, o tlsOptions) (*tls.Config, []byte, error) {
	var certPEM, keyPEM []byte
	var err error
	switch {
	case o.certFile != "":
		if o.keyFile == "" {
			return nil, nil, usageErrorf("--tls-cert needs --tls-key")
		}
		if certPEM, err = os.ReadFile(o.certFile); err == nil {
			keyPEM, err = os.ReadFile(o.keyFile)
		}
	default:
		certPEM, keyPEM, err = selfSigned(dir, listen)
	}
	if err != nil {
		return nil, nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, usageErrorf("TLS certificate and key: %v", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, certPEM, nil
}

// selfSigned loads the data folder's development certificate, or makes
// one: ECDSA P-256, valid a year, for localhost, the loopback addresses,
// this host's name and the listen address's host.
func selfSigned(dir, listen string) (certPEM, keyPEM []byte, err error) {
	cp, kp := filepath.Join(dir, selfSignedCertFile), filepath.Join(dir, selfSignedKeyFile)
	certPEM, cerr := os.ReadFile(cp)
	keyPEM, kerr := os.ReadFile(kp)
	if cerr == nil && kerr == nil {
		if b, _ := pem.Decode(certPEM); b != nil {
			if c, err := x509.ParseCertificate(b.Bytes); err == nil && time.Until(c.NotAfter) > 30*24*time.Hour {
				return certPEM, keyPEM, nil
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "offpay ledger (self-signed)"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if ip == nil {
			tmpl.DNSNames = append(tmpl.DNSNames, host)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	if err := os.WriteFile(kp, keyPEM, 0o600); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(cp, certPEM); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

// httpClient is an HTTP client that trusts the system's roots and the
// certificates in caPEM (a ledger's self-signed certificate, or a private
// CA), with timeout per attempt.
func httpClient(caPEM []byte, timeout time.Duration) (*http.Client, error) {
	if len(caPEM) == 0 {
		return &http.Client{Timeout: timeout}, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, usageErrorf("no PEM certificate in the ledger's CA file")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: timeout, Transport: tr}, nil
}

// servedCert is the certificate a ledger in dir serves (ledger.pem), if
// any: administrator commands on the same host trust it.
func servedCert(dir string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, servedCertFile))
	if err != nil {
		return nil
	}
	return b
}

// plainRemoteListen reports whether plain HTTP on listen would be
// reachable from other hosts (any address but a loopback one).
func plainRemoteListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" {
		return true
	}
	return ledgerclient.PlainRemote(&url.URL{Scheme: "http", Host: net.JoinHostPort(host, "1")})
}

// ownAddress reports whether rawURL's host is an IP address of one of this
// host's interfaces: traffic to it is delivered locally.
func ownAddress(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// dialURL is the URL clients on this host use for a listener at addr:
// an unspecified address (0.0.0.0, ::) becomes the loopback one, which a
// self-signed certificate names.
func dialURL(scheme string, addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func noTLSError(listen string) error {
	return usageErrorf("plain HTTP on %s, a non-loopback address, would carry the administrator token and enrolments in the clear: "+
		"use --tls-cert FILE --tls-key FILE or --tls-self-signed, or --insecure behind a TLS-terminating proxy", listen)
}
