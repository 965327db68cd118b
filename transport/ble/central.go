//go:build ble

package ble

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/offpay/offpay/transport/link"
	"tinygo.org/x/bluetooth"
)

// DialConfig configures the payer's side.
type DialConfig struct {
	// LocalName, when set, selects the peripheral advertising a name with this prefix.
	LocalName string
	// Interval asks for this connection interval (default 15 ms).
	Interval time.Duration
	// WithResponse uses acknowledged writes: slower, but flow-controlled end to end.
	WithResponse bool
}

// Dial scans for an offpay peripheral, connects to it and returns the link. It takes over
// the adapter's connect handler.
func Dial(ctx context.Context, adapter *bluetooth.Adapter, cfg DialConfig) (link.Conn, error) {
	if err := adapter.Enable(); err != nil {
		return nil, fmt.Errorf("ble: enable adapter: %w", err)
	}
	addr, err := scan(ctx, adapter, cfg.LocalName)
	if err != nil {
		return nil, err
	}
	interval := cfg.Interval
	if interval == 0 {
		interval = 15 * time.Millisecond
	}
	dev, err := adapter.Connect(addr, bluetooth.ConnectionParams{
		MinInterval: bluetooth.NewDuration(interval),
		MaxInterval: bluetooth.NewDuration(interval),
	})
	if err != nil {
		return nil, fmt.Errorf("ble: connect: %w", err)
	}
	c, err := open(dev, cfg.WithResponse)
	if err != nil {
		_ = dev.Disconnect()
		return nil, err
	}
	adapter.SetConnectHandler(func(d bluetooth.Device, connected bool) {
		if !connected && d.Address.MAC == addr.MAC {
			c.fail(link.ErrDisconnected)
		}
	})
	return c, nil
}

func scan(ctx context.Context, adapter *bluetooth.Adapter, name string) (bluetooth.Address, error) {
	found := make(chan bluetooth.Address, 1)
	done := make(chan error, 1)
	go func() {
		done <- adapter.Scan(func(a *bluetooth.Adapter, r bluetooth.ScanResult) {
			if !r.HasServiceUUID(ServiceUUID) || !strings.HasPrefix(r.LocalName(), name) {
				return
			}
			select {
			case found <- r.Address:
				_ = a.StopScan()
			default:
			}
		})
	}()
	select {
	case addr := <-found:
		<-done
		return addr, nil
	case err := <-done:
		return bluetooth.Address{}, fmt.Errorf("ble: scan: %w", err)
	case <-ctx.Done():
		_ = adapter.StopScan()
		<-done
		return bluetooth.Address{}, ctx.Err()
	}
}

func open(dev bluetooth.Device, withResponse bool) (*conn, error) {
	svcs, err := dev.DiscoverServices([]bluetooth.UUID{ServiceUUID})
	if err != nil || len(svcs) == 0 {
		return nil, fmt.Errorf("ble: offpay service not found: %v", err)
	}
	chars, err := svcs[0].DiscoverCharacteristics([]bluetooth.UUID{RXUUID, TXUUID})
	if err != nil || len(chars) != 2 {
		return nil, fmt.Errorf("ble: offpay characteristics not found: %v", err)
	}
	rx, tx := chars[0], chars[1]
	if rx.UUID() != RXUUID {
		rx, tx = tx, rx
	}
	mtu := DefaultATTMTU
	if m, err := rx.GetMTU(); err == nil && m >= link.MinATTMTU {
		mtu = int(m)
	}
	write := func(b []byte) error { _, err := rx.WriteWithoutResponse(b); return err }
	if withResponse {
		write = func(b []byte) error { _, err := rx.Write(b); return err }
	}
	c := newConn(mtu, write, func() { _ = tx.EnableNotifications(nil); _ = dev.Disconnect() })
	if err := tx.EnableNotifications(c.deliver); err != nil {
		return nil, fmt.Errorf("ble: enable notifications: %w", err)
	}
	return c, nil
}
