package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Row is one figure: metric,store,n,value,unit,ratio_to_limit. Ratio is
// NaN where a comparison with the verification limit means nothing.
type Row struct {
	Metric string
	Store  string
	N      int
	Value  float64
	Unit   string
	Ratio  float64
}

// Header is the CSV header.
var Header = []string{"metric", "store", "n", "value", "unit", "ratio_to_limit"}

func (r Row) fields() []string {
	n, ratio := "", ""
	if r.N > 0 {
		n = strconv.Itoa(r.N)
	}
	if !math.IsNaN(r.Ratio) {
		ratio = strconv.FormatFloat(r.Ratio, 'f', 2, 64)
	}
	return []string{r.Metric, r.Store, n, formatValue(r.Value), r.Unit, ratio}
}

func formatValue(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// WriteCSV writes rows with the header.
func WriteCSV(w io.Writer, rows []Row) error {
	c := csv.NewWriter(w)
	if err := c.Write(Header); err != nil {
		return err
	}
	for _, r := range rows {
		if err := c.Write(r.fields()); err != nil {
			return err
		}
	}
	c.Flush()
	return c.Error()
}

// WriteMarkdown writes rows as a Markdown table, after the machine line
// and any notes.
func WriteMarkdown(w io.Writer, rows []Row, machine string, notes []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s\n\n", machine)
	for _, n := range notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| " + strings.Join(Header, " | ") + " |\n")
	b.WriteString("|---|---|--:|--:|---|--:|\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r.fields(), " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteText writes rows as an aligned plain-text table.
func WriteText(w io.Writer, rows []Row) error {
	all := [][]string{Header}
	for _, r := range rows {
		all = append(all, r.fields())
	}
	width := make([]int, len(Header))
	for _, f := range all {
		for i, s := range f {
			width[i] = max(width[i], len(s))
		}
	}
	var b strings.Builder
	for _, f := range all {
		for i, s := range f {
			if i == 2 || i == 3 || i == 5 {
				fmt.Fprintf(&b, "%*s  ", width[i], s)
			} else {
				fmt.Fprintf(&b, "%-*s  ", width[i], s)
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Machine describes this machine: cores, CPU model, load average.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	s := fmt.Sprintf("%d cores (GOMAXPROCS %d), %s, %s/%s", runtime.NumCPU(), runtime.GOMAXPROCS(0), model, runtime.GOOS, runtime.GOARCH)
	if l := LoadAvg(); l != "" {
		s += ", load average " + l
	}
	return s
}

// LoadAvg is the 1, 5 and 15 minute load averages, or "" off Linux.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
