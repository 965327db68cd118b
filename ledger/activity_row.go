package ledger

// ActivityRow is one interval of recorded payments (Tx.PaymentActivity):
// Bucket is its number counted from the query's start, Count and Amount
// the payments the ledger recorded in it and their value. Lag is how long
// each had been on its way, from the payment's own time (the payer SE's
// clock, unix s) to the ledger recording it: LagSum and LagMax in
// seconds, a payment dated after its recording counting 0.
type ActivityRow struct {
	Bucket int64
	Count  int64
	Amount int64
	LagSum int64
	LagMax int64
}
