//go:build ble

package ble

import (
	"context"
	"fmt"
	"sync"

	"github.com/offpay/offpay/transport/link"
	"tinygo.org/x/bluetooth"
)

// PeripheralConfig configures the payee's side.
type PeripheralConfig struct {
	// LocalName is advertised so that a payer picks this payee among several, for
	// example a short form of the pairing ID shown in the QR code.
	LocalName string
	// ATTMTU is the MTU to assume: BlueZ does not tell a GATT server the negotiated
	// value (default DefaultATTMTU, which every central supports).
	ATTMTU int
}

// Peripheral is the payee's end: it advertises the offpay service and serves one central
// at a time. It takes over the adapter's connect handler.
type Peripheral struct {
	adapter *bluetooth.Adapter
	adv     *bluetooth.Advertisement
	tx      bluetooth.Characteristic
	mtu     int

	mu      sync.Mutex
	current *conn
	conns   chan *conn
}

// Listen enables the adapter, registers the offpay service and starts advertising.
func Listen(adapter *bluetooth.Adapter, cfg PeripheralConfig) (*Peripheral, error) {
	if err := adapter.Enable(); err != nil {
		return nil, fmt.Errorf("ble: enable adapter: %w", err)
	}
	p := &Peripheral{adapter: adapter, mtu: cfg.ATTMTU, conns: make(chan *conn, 1)}
	if p.mtu == 0 {
		p.mtu = DefaultATTMTU
	}
	adapter.SetConnectHandler(func(_ bluetooth.Device, connected bool) {
		if !connected {
			p.drop()
		}
	})
	err := adapter.AddService(&bluetooth.Service{
		UUID: ServiceUUID,
		Characteristics: []bluetooth.CharacteristicConfig{
			{
				UUID:       RXUUID,
				Flags:      bluetooth.CharacteristicWritePermission | bluetooth.CharacteristicWriteWithoutResponsePermission,
				WriteEvent: func(_ bluetooth.Connection, _ int, value []byte) { p.received(value) },
			},
			{
				Handle: &p.tx,
				UUID:   TXUUID,
				Flags:  bluetooth.CharacteristicNotifyPermission | bluetooth.CharacteristicReadPermission,
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("ble: add service: %w", err)
	}
	p.adv = adapter.DefaultAdvertisement()
	err = p.adv.Configure(bluetooth.AdvertisementOptions{LocalName: cfg.LocalName, ServiceUUIDs: []bluetooth.UUID{ServiceUUID}})
	if err != nil {
		return nil, fmt.Errorf("ble: configure advertisement: %w", err)
	}
	if err := p.adv.Start(); err != nil {
		return nil, fmt.Errorf("ble: start advertising: %w", err)
	}
	return p, nil
}

// received handles a write from the central; the first write of a connection opens it.
func (p *Peripheral) received(v []byte) {
	p.mu.Lock()
	c := p.current
	if c == nil {
		c = newConn(p.mtu, func(b []byte) error { _, err := p.tx.Write(b); return err }, p.forget)
		p.current = c
		select {
		case p.conns <- c:
		default: // nobody accepting and one already waiting: refuse this one
			p.current = nil
			p.mu.Unlock()
			return
		}
	}
	p.mu.Unlock()
	c.deliver(v)
}

func (p *Peripheral) forget() {
	p.mu.Lock()
	p.current = nil
	p.mu.Unlock()
}

func (p *Peripheral) drop() {
	p.mu.Lock()
	c := p.current
	p.mu.Unlock()
	if c != nil {
		c.fail(link.ErrDisconnected)
	}
}

// Accept waits for a central to write its first frame and returns the link to it.
func (p *Peripheral) Accept(ctx context.Context) (link.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops advertising and drops the current link.
func (p *Peripheral) Close() error {
	p.drop()
	return p.adv.Stop()
}
