package sim

import (
	"context"
	"reflect"
	"runtime"
	"sync"
	"time"
)

// CurveOptions configure Curves.
type CurveOptions struct {
	Devices  int                   // honest devices in each run
	Days     int                   // days of traffic in each run (default 5)
	Seed     uint64                // every run's seed (default 1): the runs differ only in the swept value
	Workers  int                   // runs at a time (default GOMAXPROCS)
	Progress func(done, total int) // steps run, of all runs
}

// Point is one run of a sweep: the loss at one value of one dimension,
// the others at their defaults.
type Point struct {
	Dimension  string  `json:"dimension"`
	Value      float64 `json:"value"`
	Devices    int     `json:"devices"`
	Attacks    int     `json:"attacks"`
	TrueLoss   int64   `json:"true_loss_minor"`
	Recorded   int64   `json:"recorded_loss_minor"` // Losses + Unassessed
	Bound      int64   `json:"bound_minor"`
	Violations int     `json:"violations"`
	Seconds    float64 `json:"seconds"`
}

// Dimension is a swept parameter. Apply sets value into a configuration;
// Supported says whether this ledger has the parameter at all.
type Dimension struct {
	Name      string // file stem
	Label     string // axis label
	Values    []float64
	Default   float64
	Apply     func(c *Config, v float64)
	Supported func() bool
}

// curveKinds are the attacks of the loss curves: the threats the policy's
// limits are there to bound (clones and forgers spending what they do not
// have), not the bookkeeping holes, whose losses do not follow the limits.
var curveKinds = []string{"clone-same", "clone-distinct", "keyx-overspend-silent", "keyx-spree"}

// Dimensions are the sweeps of the loss curves. The hop limit is swept
// only when the ledger's limits have one (hops.go).
func Dimensions() []Dimension {
	yes := func() bool { return true }
	return []Dimension{
		{"per_payment", "per-payment limit (EUR)", []float64{25, 50, 100, 200, 400}, 100, func(c *Config, v float64) {
			l := &c.Policy.Person
			l.PerPayment = uint64(v * 100)
			l.Holding = max(l.Holding, l.PerPayment)
			l.MaxOfflineValue = max(l.MaxOfflineValue, l.PerPayment)
		}, yes},
		{"offline_days", "days offline before the purse stops paying", []float64{1, 2, 4, 7, 14}, 7, func(c *Config, v float64) {
			c.Policy.Person.MaxOfflineDays = uint64(v)
		}, yes},
		{"attacker_share", "attackers per 100 honest devices", []float64{0.5, 1, 2, 5}, 1, func(c *Config, v float64) {
			c.Attacks = max(1, int(v*float64(c.Devices)/100+0.5))
		}, yes},
		{"max_hops", "hop limit (payments a received value may pass through offline)", []float64{1, 2, 3, 5}, 0, func(c *Config, v float64) {
			c.MaxHops = uint64(v)
		}, HopsSupported},
	}
}

// curveConfig is the configuration of every curve run before its swept
// value is applied.
func curveConfig(base Config, o CurveOptions) Config {
	c := base
	c.Devices, c.Days, c.Kinds, c.SkipKnown, c.KeepGoing = o.Devices, o.Days, curveKinds, false, true
	c.LoseShare = 0  // lost phones leave payments pending (hole 4): not a loss the limits bound
	c.Regress = 0    // the ledger going back in time is the operator's failure, not one the limits bound
	c.CheckEvery = 0 // the ledger-wide checks run at the end; every step would scan every device
	for _, d := range Dimensions() {
		if d.Supported() && d.Default != 0 {
			d.Apply(&c, d.Default)
		}
	}
	return c
}

// Curves runs every point of every supported dimension and returns the
// points in dimension order, and the names of the dimensions skipped.
// Runs that share a configuration (each dimension's default) run once.
func Curves(ctx context.Context, base Config, o CurveOptions) ([]Point, []string, error) {
	if o.Days <= 0 {
		o.Days = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	var points []Point
	var cfgs []Config
	var skipped []string
	for _, d := range Dimensions() {
		if !d.Supported() {
			skipped = append(skipped, d.Name)
			continue
		}
		for _, v := range d.Values {
			c := curveConfig(base, o)
			d.Apply(&c, v)
			points = append(points, Point{Dimension: d.Name, Value: v, Devices: c.Devices, Attacks: c.Attacks})
			cfgs = append(cfgs, c)
		}
	}
	// One run per distinct configuration.
	same := make([]int, len(cfgs))
	var jobs []int
	for i := range cfgs {
		same[i] = i
		for _, j := range jobs {
			if sameConfig(cfgs[i], cfgs[j]) {
				same[i] = j
				break
			}
		}
		if same[i] == i {
			jobs = append(jobs, i)
		}
	}
	progs := make([]*Program, len(cfgs))
	total := 0
	for _, i := range jobs {
		p, err := Generate(o.Seed, cfgs[i])
		if err != nil {
			return nil, nil, err
		}
		progs[i] = p
		total += len(p.Steps)
	}
	var mu sync.Mutex
	var firstErr error
	done := 0
	tick := func() {
		mu.Lock()
		done++
		if o.Progress != nil && (done%100 == 0 || done == total) {
			o.Progress(done, total)
		}
		mu.Unlock()
	}
	sem := make(chan struct{}, o.Workers)
	var wg sync.WaitGroup
	for _, i := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			start := time.Now()
			progs[i].tick = tick
			r, err := RunProgram(ctx, progs[i], nil)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			pt := &points[i]
			pt.Seconds = time.Since(start).Seconds()
			pt.Violations = len(r.Violations)
			if f := r.Final; f != nil {
				pt.TrueLoss, pt.Recorded, pt.Bound = f.TrueLoss, f.Losses+f.Unassessed, f.Bound
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	for i := range points {
		if j := same[i]; j != i {
			d, v := points[i].Dimension, points[i].Value
			points[i] = points[j]
			points[i].Dimension, points[i].Value = d, v
		}
	}
	return points, skipped, nil
}

func sameConfig(a, b Config) bool {
	return reflect.DeepEqual(a.Policy, b.Policy) && a.Attacks == b.Attacks && a.MaxHops == b.MaxHops && a.Devices == b.Devices && a.Days == b.Days
}
