package main

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/wallet"
)

// forgeNamedCard is w's standing card edited to claim name: what a person
// printing a card for someone else's shop would try.
func forgeNamedCard(w *wallet.Wallet, name string) ([]byte, error) {
	card, err := w.StandingRequest()
	if err != nil {
		return nil, err
	}
	var r protocol.PaymentRequest
	if err := protocol.OpenAs(card, &r); err != nil {
		return nil, err
	}
	r.Name = name
	return protocol.Seal(&r), nil
}

// The payer-presented flow and the claim window, in the demo.

// now is the demo's clock: the real time, moved on by skip, shared by the
// ledger and every wallet so that days can pass in a second.
func (d *demo) now() time.Time { return time.Now().Add(time.Duration(d.offset.Load())) }

func (d *demo) skip(by time.Duration) { d.offset.Add(int64(by)) }

// payByCard: Shop's printed card is its standing request; Alice pays it by
// showing her payment code, which Shop scans. Then a second payment code
// that Shop never scans: unclaimed, it expires and Alice gets it back.
func (d *demo) payByCard() error {
	d.say("Alice pays Shop 4.00 EUR the other way round: she scans Shop's printed card (its standing request), and Shop scans her payment code.")
	shop, alice := d.wallets["shop"], d.wallets["alice"]
	card, err := shop.StandingRequest()
	if err != nil {
		return err
	}
	if card, err = d.viaQR("card.png", card); err != nil {
		return err
	}
	bundle, err := alice.PayTo(card, 400, d.shows("Alice", demoShopName))
	if err != nil {
		return err
	}
	if bundle, err = d.viaQR("card-payment.png", bundle); err != nil {
		return err
	}
	if _, err := shop.Accept(bundle); err != nil {
		return err
	}
	_, err = shop.Accept(bundle)
	d.check(err != nil, "a photo of Alice's payment code is worth nothing the second time ("+errText(err)+")")
	_, err = d.wallets["bob"].Accept(bundle)
	d.check(err != nil, "nor to anyone but Shop ("+errText(err)+")")

	d.say("Mallory prints a card of her own and calls herself %q: her SE will not sign a request claiming a name her certificate does not carry, and a card edited to claim it is refused by Alice's phone for the claim itself, whoever signed it.", demoShopName)
	mallory := d.wallets["mallory"]
	_, err = mallory.RequestWith(se.RequestParams{Name: demoShopName}, time.Hour)
	d.check(err != nil, "Mallory's SE refuses to claim the name "+demoShopName+" ("+errText(err)+")")
	forged, err := forgeNamedCard(mallory, demoShopName)
	if err != nil {
		return err
	}
	_, err = alice.Pay(forged, 400)
	d.check(err != nil, "Alice's phone refuses a card whose claimed name is not the certified one ("+errText(err)+")")
	mcard, err := mallory.StandingRequest()
	if err != nil {
		return err
	}
	_, err = alice.PayTo(mcard, 400, d.shows("Alice", demoShopName))
	d.check(err != nil, "Mallory's own card shows her as a person, not "+demoShopName+": Alice does not pay it ("+errText(err)+")")

	d.say("Alice shows Shop a second payment code, 2.50 EUR, but the scanner never reads it and she walks away.")
	lost, err := alice.Pay(card, 250)
	if err != nil {
		return err
	}
	var b protocol.PaymentBundle
	if err := protocol.OpenAs(lost, &b); err != nil {
		return err
	}
	d.unclaimed = b.Payment.ID()
	d.detail("the 2.50 EUR left Alice's purse; nobody holds it: it waits for a claim that will not come")
	d.balances("alice")
	return nil
}

// checkUnclaimed: once Shop's log shows it synced more than the claim
// window after the lost payment, the ledger expired it and credited Alice's
// account; Alice's wallet says so after its next sync.
func (d *demo) checkUnclaimed(aliceBefore int64) {
	alice := d.wallets["alice"]
	if err := alice.Sync(d.ctx); err != nil {
		d.detail("alice sync: %s", errText(err))
	}
	state := wallet.State("")
	for _, r := range alice.History() {
		if r.Kind == wallet.KindPay && r.ID == hex.EncodeToString(d.unclaimed[:]) {
			state = r.State
		}
	}
	d.check(state == wallet.Expired, fmt.Sprintf("Alice's unclaimed 2.50 EUR expired after the %d-day claim window (her wallet says %q)", protocol.ClaimWindow/86400, state))
	acct, err := d.admin.Account(d.ctx, "alice")
	if err != nil {
		d.detail("alice account: %v", err)
		return
	}
	d.check(acct.Balance-aliceBefore == 250, fmt.Sprintf("and its value went back to her account (%s, was %s)", fmtMinor(acct.Balance, acct.Currency), fmtMinor(aliceBefore, acct.Currency)))
}
