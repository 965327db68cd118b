package recoverytest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/sqlite"
)

// tmpfs mounts a tmpfs of size ("4m") on a new folder, or skips the test
// where that cannot be done (not root, no mount namespace).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): the disk-full case is not exercised", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	return dir
}

// archiveHistory is a SQLite ledger at path with rounds of settled
// payments (alice and carol paying bob, each round an hour, every
// notification delivered), its clock then past the retention: all of it
// archivable. It returns the service, its store and the clock.
type archiveHistory struct {
	start   time.Time
	svc     *ledger.Service
	st      *sqlite.Store
	now     time.Time
	a, b, c *ledgertest.Device
	keys    *ledger.Keys
}

func newArchiveHistory(t *testing.T, path string, start time.Time, rounds, per int) *archiveHistory {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := ledger.Init(filepath.Join(t.TempDir(), "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &archiveHistory{st: st, start: start, now: start, keys: keys}
	h.svc = ledger.New(st, keys, ledger.Options{Clock: func() time.Time { return h.now }})
	for _, name := range []string{"alice", "bob", "carol"} {
		if _, err := h.svc.CreateAccount(ctx, name, false); err != nil {
			t.Fatal(err)
		}
	}
	h.a, h.b, h.c = ledgertest.NewDevice("fd-a", "EUR"), ledgertest.NewDevice("fd-b", "EUR"), ledgertest.NewDevice("fd-c", "EUR")
	for d, acct := range map[*ledgertest.Device]string{h.a: "alice", h.b: "bob", h.c: "carol"} {
		d.Time = uint64(h.now.Unix())
		if _, err := h.svc.Deposit(ctx, acct, 1_000_000, "d-"+acct); err != nil {
			t.Fatal(err)
		}
		en, err := h.svc.Enrol(ctx, d.Enrolment(acct))
		if err != nil {
			t.Fatal(err)
		}
		d.Cert = en.Device
	}
	for _, d := range []*ledgertest.Device{h.a, h.c} {
		l, err := h.svc.Reserve(ctx, d.Reserve(50000, 1))
		if err != nil {
			t.Fatal(err)
		}
		d.ApplyLoad(l)
	}
	for range rounds {
		h.round(t, per)
	}
	h.deliver(t)
	h.now = h.now.Add(ledger.MinRetention + time.Hour)
	return h
}

// round: alice and carol each pay bob per times (1 minor unit each, so
// that their purses last), everyone syncs, an hour passes.
func (h *archiveHistory) round(t *testing.T, per int) {
	t.Helper()
	for _, d := range []*ledgertest.Device{h.a, h.b, h.c} {
		d.Time = max(d.Time, uint64(h.now.Unix()))
	}
	for range per {
		h.b.Receive(h.a.Pay(h.b.ID, 1))
		h.b.Receive(h.c.Pay(h.b.ID, 1))
	}
	for _, d := range []*ledgertest.Device{h.a, h.c, h.b} {
		if err := h.sync(d); err != nil {
			t.Fatal(err)
		}
	}
	h.now = h.now.Add(time.Hour)
}

func (h *archiveHistory) sync(d *ledgertest.Device) error {
	res, err := h.svc.Sync(context.Background(), d.UploadAll())
	if err != nil {
		return err
	}
	d.ApplySync(res)
	return nil
}

// deliver marks every notification delivered, as the bank would.
func (h *archiveHistory) deliver(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for {
		ns, err := h.svc.ClaimNotifications(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) == 0 {
			return
		}
		for _, n := range ns {
			if err := h.svc.MarkDelivered(ctx, n.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// lookups is what a person can ask the ledger: the report (devices'
// last contact apart), each account and its statement, each account's
// devices, the console's activity chart, the outbox.
type lookups struct {
	Report     ledger.Report
	Accounts   []*ledger.Account
	Statements [][]ledger.StatementLine
	Devices    [][]ledger.DeviceSummary
	Activity   *ledger.Activity
	Outbox     []ledger.Notification
}

func (h *archiveHistory) look(t *testing.T) lookups {
	t.Helper()
	ctx := context.Background()
	var l lookups
	r, err := h.svc.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ConservationOK {
		t.Fatalf("report does not hold: %+v", r)
	}
	l.Report = *r
	for _, name := range []string{"alice", "bob", "carol"} {
		a, err := h.svc.Account(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := h.svc.Statement(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		d, err := h.svc.DeviceList(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		l.Accounts, l.Statements, l.Devices = append(l.Accounts, a), append(l.Statements, s), append(l.Devices, d)
	}
	day := h.start.Truncate(24 * time.Hour)
	if l.Activity, err = h.svc.Activity(ctx, day, day.Add(48*time.Hour), time.Hour); err != nil {
		t.Fatal(err)
	}
	q := ledger.OutboxQuery{Limit: 1000}
	for {
		p, err := h.svc.Outbox(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		l.Outbox = append(l.Outbox, p.Notifications...)
		if q.After = p.Next; p.Next == "" {
			break
		}
	}
	return l
}

// archivedTables are the tables archiving moves rows between, with their
// keys.
var archivedTables = map[string]string{"payments": "payer, counter", "entries": "device, counter", "lines": "account, seq", "outbox": "id"}

// dump is every row of the hot and archive tables of the database at
// path, as text, read with a connection of its own.
func dump(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][]string{}
	for table, key := range archivedTables {
		// The archive's columns, in its order (a hot table's added
		// columns come last in it).
		rows, err := db.Query(`SELECT * FROM ` + table + `_archive LIMIT 0`)
		if err != nil {
			t.Fatal(err)
		}
		names, _ := rows.Columns()
		rows.Close()
		for _, tb := range []string{table, table + "_archive"} {
			rows, err := db.Query(`SELECT ` + strings.Join(names, ", ") + ` FROM ` + tb + ` ORDER BY ` + key)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for i, v := range vals {
					if b, ok := v.([]byte); ok && len(b) > 40 {
						vals[i] = fmt.Sprintf("%d bytes %x", len(b), sha256.Sum256(b))
					}
				}
				out[tb] = append(out[tb], fmt.Sprintf("%v", vals))
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// whole fails unless every row of d is in exactly one of its hot table and
// its archive, and they hold together the rows of was.
func whole(t *testing.T, d, was map[string][]string) {
	t.Helper()
	for table := range archivedTables {
		seen := map[string]int{}
		for _, r := range d[table] {
			seen[r]++
		}
		for _, r := range d[table+"_archive"] {
			seen[r]++
		}
		var all []string
		for r, n := range seen {
			if n != 1 {
				t.Fatalf("%s: row %s is %d times in the table and its archive", table, r, n)
			}
			all = append(all, r)
		}
		want := append(append([]string(nil), was[table]...), was[table+"_archive"]...)
		if len(all) != len(want) {
			t.Fatalf("%s: %d rows in the table and its archive, were %d", table, len(all), len(want))
		}
		for _, r := range want {
			if seen[r] != 1 {
				t.Fatalf("%s: row %s lost", table, r)
			}
		}
	}
}

// TestArchiveOnAFullDisk ("fail the operator's machine"): a SQLite
// ledger with settled history is archived on a file system (a tmpfs)
// that fills up during the run. Archiving stops with the storage's
// EUNAVAILABLE error, after some transactions committed whole and the
// one that failed left nothing: every row is in its hot table or its
// archive, once, and the report, statements, accounts, devices, activity
// chart and outbox answer as before. With space freed, the run again
// completes, with exactly the tables of a run that never failed, and
// uploads settle as before.
func TestArchiveOnAFullDisk(t *testing.T) {
	// The room left when the run starts (SQLite reuses its WAL file after
	// a checkpoint, so even none lets some transactions commit): the run
	// stops at different batches of payments and entries; 512 KiB lets
	// this run complete.
	for _, room := range []int64{0, 64 << 10, 192 << 10, 384 << 10} {
		t.Run(fmt.Sprintf("room-%dKiB", room>>10), func(t *testing.T) { archiveOnAFullDisk(t, room) })
	}
}

func archiveOnAFullDisk(t *testing.T, room int64) {
	dir := tmpfs(t, "8m")
	ctx := context.Background()
	path := filepath.Join(dir, ledgerDB)
	h := newArchiveHistory(t, path, time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), 6, 150)
	before := h.look(t)
	if before.Report.Settled != 6*150*2 {
		t.Fatalf("settled %d", before.Report.Settled)
	}
	// The same ledger, elsewhere: archived on a disk that does not fill.
	cleanPath := filepath.Join(t.TempDir(), "clean.db")
	if err := h.st.Backup(ctx, cleanPath); err != nil {
		t.Fatal(err)
	}
	was := dump(t, path)
	cut := h.now.Add(-ledger.MinRetention)
	const batch = 100

	filler := fill(t, dir)
	fi, err := os.Stat(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filler, fi.Size()-room); err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.Archive(ctx, cut, batch, nil)
	if offpay.ErrorCode(err) != offpay.EUNAVAILABLE || !strings.Contains(err.Error(), "storage unavailable") {
		t.Fatalf("archive on a disk filling up: %v", err)
	}
	if res == nil || room > 0 && res.Transactions == 0 {
		t.Fatalf("the disk was full before the first transaction (%+v): make the room left larger", res)
	}
	t.Logf("disk full after %d transactions: moved %v; %v", res.Transactions, res.Moved, err)
	// Nothing half moved: what is archived is what the committed
	// transactions moved, every row once.
	got, err := h.svc.Archived(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sameCounts(got, res.Moved) {
		t.Fatalf("archived %v, the committed transactions moved %v", got, res.Moved)
	}
	whole(t, dump(t, path), was)
	if now := h.look(t); !reflect.DeepEqual(now, before) {
		t.Fatalf("ledger answers differently on a full disk after a failed archive:\n%+v\nwas\n%+v", now, before)
	}
	if _, err := h.svc.Archive(ctx, cut, batch, nil); offpay.ErrorCode(err) != offpay.EUNAVAILABLE {
		t.Fatalf("archive again on the full disk: %v", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Ready(ctx); err != nil {
		t.Fatalf("ready once space is freed: %v", err)
	}
	if _, err := h.svc.Archive(ctx, cut, batch, nil); err != nil {
		t.Fatalf("archive once space is freed: %v", err)
	}
	after := dump(t, path)
	whole(t, after, was)
	if now := h.look(t); !reflect.DeepEqual(now, before) {
		t.Fatalf("ledger answers differently after the archive completed:\n%+v\nwas\n%+v", now, before)
	}

	// The run that never failed, on the copy.
	cst, err := sqlite.Open(ctx, cleanPath)
	if err != nil {
		t.Fatal(err)
	}
	defer cst.Close()
	clean := ledger.New(cst, h.keys, ledger.Options{Clock: func() time.Time { return h.now }})
	if _, err := clean.Archive(ctx, cut, batch, nil); err != nil {
		t.Fatal(err)
	}
	if want := dump(t, cleanPath); !reflect.DeepEqual(after, want) {
		for tb := range want {
			if !reflect.DeepEqual(after[tb], want[tb]) {
				t.Errorf("%s: %d rows after the failed and completed run, %d after a run that never failed", tb, len(after[tb]), len(want[tb]))
			}
		}
		t.FailNow()
	}
	if len(after["payments"]) != 0 || len(after["payments_archive"]) != 6*150*2 {
		t.Fatalf("payments hot %d, archived %d", len(after["payments"]), len(after["payments_archive"]))
	}

	// Uploads settle as before.
	h.round(t, 50)
	r, err := h.svc.Report(ctx)
	if err != nil || !r.ConservationOK || r.Settled != before.Report.Settled+100 {
		t.Fatalf("after uploads past the archive: %+v %v", r, err)
	}
}

// sameCounts: got (every archive table's rows) and moved (by the tables
// a run reached) agree, a table the run did not reach holding none.
func sameCounts(got, moved map[string]int64) bool {
	for k, v := range moved {
		if got[k] != v {
			return false
		}
	}
	for k, v := range got {
		if moved[k] != v {
			return false
		}
	}
	return true
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// offpayBinary builds the offpay command once.
func offpayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "offpay-recoverytest-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "offpay")
		if out, err := exec.Command("go", "build", "-o", binary, "github.com/offpay/offpay/cmd/offpay").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// TestArchiveCommandOnAFullDisk: `offpay ledger archive` on a ledger
// whose disk fills during the run (the ledger serving beside it) says
// what happened and what to do (not "nothing was changed": the batches
// before the one that failed stay archived), exits 1, and run again once
// space is freed it completes; the ledger answers as before throughout.
func TestArchiveCommandOnAFullDisk(t *testing.T) {
	dir := tmpfs(t, "8m")
	// The history ten days ago: the command archives by the real clock.
	h := newArchiveHistory(t, filepath.Join(dir, ledgerDB), time.Now().Add(-10*24*time.Hour).Truncate(time.Hour), 6, 150)
	before := h.look(t)
	bin := offpayBinary(t)
	filler := fill(t, dir)
	fi, err := os.Stat(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filler, fi.Size()-64<<10); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "ledger", "archive", "--data", dir, "--retain", "3", "--batch", "100")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("archive command on a full disk: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	t.Logf("on a full disk:\nstdout: %sstderr: %s", stdout.String(), stderr.String())
	for _, want := range []string{"archive stopped", "disk is full", "stays archived", "free space and run it again"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the message does not say %q: %s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "nothing was changed") {
		t.Errorf("the message says nothing was changed, though %s", stdout.String())
	}
	if now := h.look(t); !reflect.DeepEqual(now, before) {
		t.Fatalf("ledger answers differently after the command failed:\n%+v\nwas\n%+v", now, before)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "ledger", "archive", "--data", dir, "--retain", "3", "--batch", "100").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "archived settled history before") {
		t.Fatalf("archive command once space is freed: %v\n%s", err, out)
	}
	t.Logf("once space is freed: %s", out)
	if now := h.look(t); !reflect.DeepEqual(now, before) {
		t.Fatalf("ledger answers differently after the command completed:\n%+v\nwas\n%+v", now, before)
	}
	if got, err := h.svc.Archived(context.Background()); err != nil || got[ledger.ArchivePayments] != 6*150*2 {
		t.Fatalf("archived %v %v", got, err)
	}
}
