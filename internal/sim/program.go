package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// op is what one step does.
type op uint8

const (
	opEnrol        op = iota + 1 // create Dev's SE (for a clone: copy Peer's) and enrol it
	opDeposit                    // Dev is a person: deposit Amount
	opWithdraw                   // Dev is a person: withdraw Amount, at most the balance (-1: all of it)
	opReserve                    // account to purse
	opPay                        // Dev pays Peer offline; Mode says what reaches whom; Counter forces a forged counter
	opRedeem                     // purse to account (at the next sync)
	opSync                       // upload the log, apply the answer
	opAdvance                    // the clock moves Amount seconds
	opLose                       // Dev is lost for good (reported lost at the drain)
	opAssess                     // the ledger's overdue assessments (when it has them)
	opSnapshot                   // copy Dev's SE state aside
	opRollback                   // restore Dev's SE state from its snapshot
	opReplayUpload               // send an upload the ledger already applied again (Amount picks which)
	opReplayBundle               // show an accepted payment to its payee again, and to another (Amount picks which)
	opRefund                     // Dev (a merchant's device) refunds Amount of its latest sale from Peer; Mode as for pay
	opCheckpoint                 // the ledger's database is copied aside (regress.go)
	opRegress                    // the ledger loses every commit since the last checkpoint: its database goes back to that copy
	opOnline                     // Dev pays Peer's request online, from its account (online.go); Mode says how
	opReplayOnline               // an online payment the ledger made is sent again: as is, for another amount, for Peer (Amount picks which)
	opRevoke                     // Dev is reported lost and revoked (its owner, an attacker, keeps it)
	// opGap only appears in attack plans: the generator places the plan's
	// next step Amount thousandths of the run later (merge). It never runs.
	opGap
)

var opNames = map[op]string{opEnrol: "enrol", opDeposit: "deposit", opWithdraw: "withdraw", opReserve: "reserve",
	opPay: "pay", opRedeem: "redeem", opSync: "sync", opAdvance: "advance", opLose: "lose", opAssess: "assess",
	opSnapshot: "snapshot", opRollback: "rollback", opReplayUpload: "replay-upload", opReplayBundle: "replay-bundle", opRefund: "refund",
	opCheckpoint: "checkpoint", opRegress: "regress", opOnline: "online", opReplayOnline: "replay-online", opRevoke: "revoke"}

func (o op) String() string { return opNames[o] }

// mode is how far a payment's messages travel.
type mode uint8

const (
	delivered   mode = iota // payment to the payee, receipt back to the payer
	lostPayment             // the payment never reaches the payee (torn)
	lostReceipt             // the payee accepts; the receipt never reaches the payer (torn)
	// Online payments (opOnline):
	retried        // the same signed online payment is sent twice (a lost answer, a double tap)
	bothWays       // paid online, then the same request paid from the purse by the payer's SE (a modified wallet)
	foreignRequest // Dev, a forger, signs a request naming Peer's certificate with its own key, and pays it online
)

// Step is one action of a program. Steps never hold randomness of their
// own: executing a step list is deterministic, so any subset of it can be
// replayed (the shrinker drops steps and devices this way).
type Step struct {
	Op      op
	Dev     int    // device (person for deposit and withdraw)
	Peer    int    // payee of a payment, source of a clone
	Amount  int64  // minor units; seconds for advance; a selector for replays
	Mode    mode   // for pay
	Counter uint64 // for a forged payment: its counter (0: the next one in the forger's log)
	Attack  int    // 1 + index of the attack that emitted it; 0 for honest traffic
}

// PersonSpec is an account holder.
type PersonSpec struct {
	Name     string // the ledger account
	Merchant bool
	Attacker bool
}

// DeviceSpec is a device: a virtual SE, a clone of another device's SE,
// or a forger holding an extracted key.
type DeviceSpec struct {
	Owner   int
	CloneOf int  // -1, or the device whose SE state this one copies at enrolment
	Forged  bool // the attacker holds the key and signs what it likes (ledgertest)
	Lose    bool // the generator plans to lose it
}

// AttackSpec is one attack drawn from the catalogue.
type AttackSpec struct {
	Kind    string
	Devices []int // the attacker's devices
	Victims []int // honest devices it targets
}

// Program is everything one seed generated: the people, devices, attacks
// and steps. The drain (drain.go) follows the steps.
type Program struct {
	Seed    uint64
	Config  Config
	People  []PersonSpec
	Devices []DeviceSpec
	Attacks []AttackSpec
	Steps   []Step
	// plant, when set (tests), runs after each step's own checks: a test
	// plants a failure with it to see the shrinker at work.
	plant func(*world)
	// tick, when set, runs after every step (progress of long runs).
	tick func()
}

func (p *Program) dev(i int) string {
	d := p.Devices[i]
	s := "d" + strconv.Itoa(i)
	switch {
	case d.Forged:
		s += "(forger)"
	case d.CloneOf >= 0:
		s += fmt.Sprintf("(clone of d%d)", d.CloneOf)
	}
	return s
}

func (p *Program) who(i int) string { return p.People[i].Name }

// Describe says what step i does, in words.
func (p *Program) Describe(i int) string {
	s := p.Steps[i]
	var b strings.Builder
	fmt.Fprintf(&b, "%4d  ", i)
	switch s.Op {
	case opDeposit, opWithdraw:
		amt := money(s.Amount)
		if s.Amount < 0 {
			amt = "everything"
		}
		fmt.Fprintf(&b, "%s %s %s", s.Op, p.who(s.Dev), amt)
	case opPay:
		fmt.Fprintf(&b, "pay %s -> %s %s", p.dev(s.Dev), p.dev(s.Peer), money(s.Amount))
		switch s.Mode {
		case lostPayment:
			b.WriteString(" (payment lost)")
		case lostReceipt:
			b.WriteString(" (receipt lost)")
		}
		if s.Counter > 0 {
			fmt.Fprintf(&b, " at counter %d", s.Counter)
		}
	case opRefund:
		fmt.Fprintf(&b, "refund %s -> %s %s of its sale", p.dev(s.Dev), p.dev(s.Peer), money(s.Amount))
		switch s.Mode {
		case lostPayment:
			b.WriteString(" (refund lost)")
		case lostReceipt:
			b.WriteString(" (receipt lost)")
		}
	case opOnline:
		fmt.Fprintf(&b, "online %s -> %s %s", p.dev(s.Dev), p.dev(s.Peer), money(s.Amount))
		switch s.Mode {
		case retried:
			b.WriteString(" (sent twice)")
		case bothWays:
			b.WriteString(" (then paid offline too)")
		case foreignRequest:
			b.WriteString(" (request signed by the payer, naming the payee)")
		}
	case opReplayOnline:
		fmt.Fprintf(&b, "replay-online #%d (other payee %s)", s.Amount, p.dev(s.Peer))
	case opReserve, opRedeem:
		fmt.Fprintf(&b, "%s %s %s", s.Op, p.dev(s.Dev), money(s.Amount))
	case opAdvance:
		fmt.Fprintf(&b, "advance %s", duration(s.Amount))
	case opAssess:
		b.WriteString("assess")
	case opCheckpoint:
		b.WriteString("checkpoint (the ledger's database copied aside)")
	case opRegress:
		b.WriteString("regress (the ledger loses every commit since its checkpoint)")
	case opReplayUpload, opReplayBundle:
		fmt.Fprintf(&b, "%s #%d", s.Op, s.Amount)
	default:
		fmt.Fprintf(&b, "%s %s", s.Op, p.dev(s.Dev))
	}
	if s.Attack > 0 {
		fmt.Fprintf(&b, "   [attack %d: %s]", s.Attack-1, p.Attacks[s.Attack-1].Kind)
	}
	return b.String()
}

// touches lists the devices and people a step involves (for shrinking by
// device): a step whose device is dropped is dropped with it.
func (p *Program) touches(s Step) []int {
	switch s.Op {
	case opDeposit, opWithdraw:
		return nil
	case opPay, opEnrol, opRefund, opOnline:
		if s.Op == opEnrol && p.Devices[s.Dev].CloneOf < 0 {
			return []int{s.Dev}
		}
		return []int{s.Dev, s.Peer}
	case opAdvance, opAssess, opReplayUpload, opReplayBundle, opCheckpoint, opRegress:
		return nil
	case opReplayOnline:
		return []int{s.Peer}
	}
	return []int{s.Dev}
}

func money(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

func duration(secs int64) string {
	switch {
	case secs%86400 == 0:
		return fmt.Sprintf("%dd", secs/86400)
	case secs >= 86400:
		return fmt.Sprintf("%dd%dh", secs/86400, secs%86400/3600)
	case secs%3600 == 0:
		return fmt.Sprintf("%dh", secs/3600)
	}
	return fmt.Sprintf("%dm", secs/60)
}

// FormatSteps writes a step subset compactly: "0-4,7,9-12".
func FormatSteps(keep []int) string {
	var parts []string
	for i := 0; i < len(keep); {
		j := i
		for j+1 < len(keep) && keep[j+1] == keep[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", keep[i], keep[j]))
		} else {
			parts = append(parts, strconv.Itoa(keep[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// ParseSteps reads what FormatSteps writes.
func ParseSteps(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || (len(out) > 0 && a <= out[len(out)-1]) {
			return nil, fmt.Errorf("steps %q: want increasing indices like 0-4,7,9-12", s)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}
