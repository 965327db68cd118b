package protocol_test

import (
	"net/netip"
	"testing"

	"github.com/offpay/offpay/protocol"
)

// TestTCPAddressRoundTrip: TCP endpoints encode to the channel address
// kinds (IPv4-mapped IPv6 as IPv4), decode back, and print as people write
// them; what cannot travel is refused.
func TestTCPAddressRoundTrip(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7:8421":          "192.0.2.7:8421",
		"[::ffff:192.0.2.7]:8421": "192.0.2.7:8421",
		"[2001:db8::7]:443":       "[2001:db8::7]:443",
	} {
		a, err := protocol.TCPAddress(netip.MustParseAddrPort(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		ap, ok := protocol.TCPAddressOf(a)
		if !ok || ap.String() != want || protocol.AddressString(a) != want {
			t.Fatalf("%s: %x decodes to %v %v, prints %q", in, a, ap, ok, protocol.AddressString(a))
		}
	}
	for _, in := range []string{"192.0.2.7:0", "[fe80::1%eth0]:8421"} {
		if a, err := protocol.TCPAddress(netip.MustParseAddrPort(in)); err == nil {
			t.Fatalf("%s encoded as %x", in, a)
		}
	}
	ble := []byte{protocol.AddrBLE, 0xC0, 0xFF, 0xEE, 0, 0, 1}
	if _, ok := protocol.TCPAddressOf(ble); ok || protocol.AddressString(ble) != "ble:C0:FF:EE:00:00:01" {
		t.Fatalf("BLE address prints %q", protocol.AddressString(ble))
	}
}
