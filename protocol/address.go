package protocol

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// A channel address (PaymentRequest.Address) says where the payee's
// channel listens: one kind byte, then the address in binary, so that a
// request carrying it still fits its QR code (SPEC.md section 7.4).
const (
	AddrTCP4 byte = 1 // TCP: IPv4 address (4 bytes), port (2, big-endian); 7 bytes in all
	AddrTCP6 byte = 2 // TCP: IPv6 address (16 bytes), port (2, big-endian); 19 bytes
	AddrBLE  byte = 3 // Bluetooth LE: the device address (6 bytes, as written most significant first); 7 bytes
)

// MaxAddressSize is the size of the longest channel address.
const MaxAddressSize = 19

func checkAddress(a []byte) error {
	want := map[byte]int{AddrTCP4: 7, AddrTCP6: 19, AddrBLE: 7}[a[0]]
	switch {
	case want == 0:
		return errf(ClassBadField, "channel address of unknown kind %d", a[0])
	case len(a) != want:
		return errf(ClassBadField, "channel address of kind %d is %d bytes, want %d", a[0], len(a), want)
	case a[0] != AddrBLE && binary.BigEndian.Uint16(a[len(a)-2:]) == 0:
		return errf(ClassBadField, "channel address with port 0")
	case a[0] == AddrTCP6 && netip.AddrFrom16([16]byte(a[1:17])).Is4In6():
		return errf(ClassBadField, "IPv4-mapped IPv6 channel address: use kind %d", AddrTCP4)
	}
	return nil
}

// TCPAddress encodes a TCP endpoint as a channel address (IPv4 as kind
// AddrTCP4, IPv4-mapped IPv6 included). A zone cannot travel; the port
// must not be 0.
func TCPAddress(ap netip.AddrPort) ([]byte, error) {
	ip := ap.Addr().Unmap()
	switch {
	case !ip.IsValid() || ap.Port() == 0:
		return nil, fmt.Errorf("protocol: %v is not an address and port", ap)
	case ip.Zone() != "":
		return nil, fmt.Errorf("protocol: %v has a zone, which a channel address cannot carry", ap)
	case ip.Is4():
		b := ip.As4()
		return binary.BigEndian.AppendUint16(append([]byte{AddrTCP4}, b[:]...), ap.Port()), nil
	}
	b := ip.As16()
	return binary.BigEndian.AppendUint16(append([]byte{AddrTCP6}, b[:]...), ap.Port()), nil
}

// TCPAddressOf returns the TCP endpoint of a channel address, if it is
// one (of a valid request).
func TCPAddressOf(a []byte) (netip.AddrPort, bool) {
	switch {
	case len(a) == 7 && a[0] == AddrTCP4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[1:5])), binary.BigEndian.Uint16(a[5:])), true
	case len(a) == 19 && a[0] == AddrTCP6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[1:17])), binary.BigEndian.Uint16(a[17:])), true
	}
	return netip.AddrPort{}, false
}

// AddressString is a channel address as a person reads it: "192.0.2.7:8421",
// "[2001:db8::7]:8421", "ble:C0:FF:EE:00:00:01"; "" for none.
func AddressString(a []byte) string {
	if ap, ok := TCPAddressOf(a); ok {
		return ap.String()
	}
	if len(a) == 7 && a[0] == AddrBLE {
		return fmt.Sprintf("ble:%02X:%02X:%02X:%02X:%02X:%02X", a[1], a[2], a[3], a[4], a[5], a[6])
	}
	if len(a) == 0 {
		return ""
	}
	return fmt.Sprintf("address of kind %d", a[0])
}
