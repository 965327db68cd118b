// Package ble is the Bluetooth LE GATT link (tinygo.org/x/bluetooth) under an offpay
// channel; it needs the build tag ble (go build -tags ble).
package ble
