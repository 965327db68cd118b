package soundtest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/offpay/offpay/transport/sound"
)

// Point is the frame error rate of one mode at one signal-to-noise ratio.
type Point struct {
	Mode     sound.Mode
	SNR      float64 // dB, over the whole band at the sample rate
	Trials   int
	Failures int // decoding failed with a typed error
	Wrong    int // decoding returned bytes other than those sent: must stay 0
}

// FER is the share of frames not delivered.
func (p Point) FER() float64 { return float64(p.Failures+p.Wrong) / float64(p.Trials) }

// MeasureFER sends trials random payloads of size bytes in mode through ch with white
// noise at each SNR (ch's other impairments kept; its seed varied) and counts the
// frames lost. Every trial goes through a PCM16 WAV file, as the command line's does.
func MeasureFER(mode sound.Mode, size int, snrs []float64, trials int, ch Channel) ([]Point, error) {
	var pts []Point
	for _, snr := range snrs {
		pt := Point{Mode: mode, SNR: snr, Trials: trials}
		type result struct {
			failed, wrong bool
			err           error
		}
		results := make([]result, trials)
		var wg sync.WaitGroup
		next := make(chan int)
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := range next {
					results[i].failed, results[i].wrong, results[i].err = trial(mode, size, snr, i, ch)
				}
			})
		}
		for i := range trials {
			next <- i
		}
		close(next)
		wg.Wait()
		for _, r := range results {
			if r.err != nil {
				return nil, r.err
			}
			if r.failed {
				pt.Failures++
			}
			if r.wrong {
				pt.Wrong++
			}
		}
		pts = append(pts, pt)
	}
	return pts, nil
}

// trial sends one random payload (its seed i) through ch at snr.
func trial(mode sound.Mode, size int, snr float64, i int, ch Channel) (failed, wrong bool, err error) {
	r := rand.New(rand.NewPCG(uint64(i), uint64(size)))
	p := make([]byte, size)
	for j := range p {
		p[j] = byte(r.Uint32())
	}
	x, err := sound.Encode(p, mode, sound.DefaultRate)
	if err != nil {
		return false, false, err
	}
	c := ch
	c.Noise, c.SNR, c.Seed = true, snr, uint64(i)<<16|uint64(int(snr*10)&0xFFFF)
	if c.Lead == 0 {
		c.Lead = 500 * time.Millisecond
	}
	y, rate := c.Apply(x, sound.DefaultRate)
	var w bytes.Buffer
	if err := sound.WriteWAV(&w, y, rate); err != nil {
		return false, false, err
	}
	got, _, err := sound.DecodeWAV(w.Bytes())
	switch {
	case err != nil && sound.IsDecodeError(err):
		return true, false, nil
	case err != nil:
		return false, false, err
	}
	return false, !bytes.Equal(got, p), nil
}

// Table is the points as a Markdown table, one row per SNR, one column per mode.
func Table(pts []Point) string {
	var modes []sound.Mode
	var snrs []float64
	cell := map[sound.Mode]map[float64]Point{}
	for _, p := range pts {
		if cell[p.Mode] == nil {
			cell[p.Mode] = map[float64]Point{}
			modes = append(modes, p.Mode)
		}
		if !slices.Contains(snrs, p.SNR) {
			snrs = append(snrs, p.SNR)
		}
		cell[p.Mode][p.SNR] = p
	}
	slices.Sort(snrs)
	var b strings.Builder
	b.WriteString("| SNR (dB) |")
	for _, m := range modes {
		fmt.Fprintf(&b, " FER %s |", m)
	}
	b.WriteString("\n|---:|")
	for range modes {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, s := range snrs {
		fmt.Fprintf(&b, "| %g |", s)
		for _, m := range modes {
			p, ok := cell[m][s]
			if !ok {
				b.WriteString(" |")
				continue
			}
			fmt.Fprintf(&b, " %.2f (%d/%d) |", p.FER(), p.Failures+p.Wrong, p.Trials)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// WriteFER writes the points as fer.csv, fer.md (Table), fer.png and fer.svg in dir:
// the frame error rate of each mode against the SNR, drawn as internal/sim draws its
// curves (gonum/plot).
func WriteFER(dir, title string, pts []Point) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var rows [][]string
	rows = append(rows, []string{"mode", "snr_db", "trials", "failures", "wrong", "fer"})
	for _, p := range pts {
		rows = append(rows, []string{p.Mode.String(), strconv.FormatFloat(p.SNR, 'g', -1, 64), strconv.Itoa(p.Trials),
			strconv.Itoa(p.Failures), strconv.Itoa(p.Wrong), strconv.FormatFloat(p.FER(), 'f', 3, 64)})
	}
	var c bytes.Buffer
	w := csv.NewWriter(&c)
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	files := []string{filepath.Join(dir, "fer.csv"), filepath.Join(dir, "fer.md")}
	if err := os.WriteFile(files[0], c.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(files[1], []byte(Table(pts)), 0o644); err != nil {
		return nil, err
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "SNR over the whole band (dB)"
	p.Y.Label.Text = "frame error rate"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = true
	var args []any
	byMode := map[sound.Mode]plotter.XYs{}
	var order []sound.Mode
	for _, pt := range pts {
		if _, ok := byMode[pt.Mode]; !ok {
			order = append(order, pt.Mode)
		}
		byMode[pt.Mode] = append(byMode[pt.Mode], plotter.XY{X: pt.SNR, Y: pt.FER()})
	}
	for _, m := range order {
		args = append(args, m.String(), byMode[m])
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, err
	}
	p.Add(plotter.NewGrid())
	for _, ext := range []string{"png", "svg"} {
		f := filepath.Join(dir, "fer."+ext)
		if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, f); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}
