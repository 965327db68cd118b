package sim

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WriteCurves writes the points as curves.csv and, for each dimension,
// loss_<dimension>.png and .svg: the operator's true loss, the loss the
// ledger's report records and the bound, against the swept value.
func WriteCurves(dir string, points []Point) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	files := []string{filepath.Join(dir, "curves.csv")}
	if err := writeCSV(files[0], points); err != nil {
		return nil, err
	}
	for _, d := range Dimensions() {
		var pts []Point
		for _, p := range points {
			if p.Dimension == d.Name {
				pts = append(pts, p)
			}
		}
		if len(pts) == 0 {
			continue
		}
		pl, err := lossPlot(d, pts)
		if err != nil {
			return nil, err
		}
		for _, ext := range []string{"png", "svg"} {
			f := filepath.Join(dir, "loss_"+d.Name+"."+ext)
			if err := pl.Save(16*vg.Centimeter, 10*vg.Centimeter, f); err != nil {
				return nil, err
			}
			files = append(files, f)
		}
	}
	return files, nil
}

func writeCSV(path string, points []Point) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"dimension", "value", "devices", "attacks", "true_loss_minor", "recorded_loss_minor", "bound_minor", "violations", "seconds"})
	for _, p := range points {
		w.Write([]string{p.Dimension, strconv.FormatFloat(p.Value, 'g', -1, 64), strconv.Itoa(p.Devices), strconv.Itoa(p.Attacks),
			strconv.FormatInt(p.TrueLoss, 10), strconv.FormatInt(p.Recorded, 10), strconv.FormatInt(p.Bound, 10),
			strconv.Itoa(p.Violations), strconv.FormatFloat(p.Seconds, 'f', 1, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func lossPlot(d Dimension, pts []Point) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Loss against the %s (%d honest devices)", d.Label, pts[0].Devices)
	p.X.Label.Text = d.Label
	p.Y.Label.Text = "loss (EUR)"
	p.Legend.Top, p.Legend.Left = true, true
	series := func(f func(Point) int64) plotter.XYs {
		xy := make(plotter.XYs, len(pts))
		for i, pt := range pts {
			xy[i].X, xy[i].Y = pt.Value, float64(f(pt))/100
		}
		return xy
	}
	err := plotutil.AddLinePoints(p,
		"true loss", series(func(p Point) int64 { return p.TrueLoss }),
		"recorded by the ledger", series(func(p Point) int64 { return p.Recorded }),
		"bound", series(func(p Point) int64 { return p.Bound }))
	return p, err
}
