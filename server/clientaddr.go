package server

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the address of the client that sent r: the peer's
// address, or, when the peer is one of the trusted proxies, the address
// the proxies say they received the request from. That is the right-most
// address of X-Forwarded-For that is not itself a trusted proxy: each
// proxy appends the address of its own peer, so every address to the left
// of the first untrusted one is whatever the client chose to write. ok is
// false if RemoteAddr does not parse (then raw is returned as it is).
func (s *Server) clientAddr(r *http.Request) (a netip.Addr, raw string, ok bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
			return a.Unmap(), "", true
		}
		return netip.Addr{}, r.RemoteAddr, false
	}
	a = ap.Addr().Unmap()
	if !s.trusted(a) {
		return a, "", true
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		list := hops[i]
		for list != "" {
			var hop string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				hop, list = list[j+1:], list[:j]
			} else {
				hop, list = list, ""
			}
			h, ok := parseHop(strings.TrimSpace(hop))
			if !ok {
				return a, "", true // a proxy wrote nonsense: charge the last address known
			}
			if a = h; !s.trusted(a) {
				return a, "", true
			}
		}
	}
	return a, "", true
}

// parseHop parses one X-Forwarded-For entry: an address, with or without a
// port ("192.0.2.7", "192.0.2.7:5000", "[2001:db8::1]:5000").
func parseHop(h string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientKey is the rate limit key of the client that sent r: its IPv4
// address, or its IPv6 /64 (a single subscriber usually holds a whole
// /64, so limits per IPv6 address would be limits on nobody).
func (s *Server) clientKey(r *http.Request) string {
	a, raw, ok := s.clientAddr(r)
	if !ok {
		return "ip:" + raw
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}

// clientLabel is the client address for logs.
func (s *Server) clientLabel(r *http.Request) string {
	a, raw, ok := s.clientAddr(r)
	if !ok {
		return raw
	}
	return a.String()
}
