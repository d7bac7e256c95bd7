package commands

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"

	"github.com/tracer-dev/tracer/tracefs"
)

// usdtRow is one USDT probe site in `tracer list -u`, text and JSON.
type usdtRow struct {
	Kind      string `json:"kind"` // "usdt"
	Name      string `json:"name"` // PROVIDER:NAME, as usdt:BINARY:PROVIDER:NAME takes it
	Provider  string `json:"provider"`
	Probe     string `json:"probe"`
	Offset    uint64 `json:"offset"`
	Semaphore uint64 `json:"semaphore_offset,omitempty"`
	Args      string `json:"args"`
}

// matchUSDT returns the USDT probe sites of bin whose PROVIDER:NAME or
// NAME matches the glob pat ("" matches all).
func matchUSDT(bin, pat string) ([]usdtRow, error) {
	probes, err := tracefs.ReadUSDT(bin)
	if err != nil {
		return nil, err
	}
	var out []usdtRow
	for _, p := range probes {
		if pat != "" {
			a, _ := path.Match(pat, p.FullName())
			b, _ := path.Match(pat, p.Name)
			if !a && !b {
				continue
			}
		}
		out = append(out, usdtRow{"usdt", p.FullName(), p.Provider, p.Name, p.Offset, p.SemaphoreOffset, p.Args})
	}
	// By name, as the symbols are; sites of one probe by offset.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Offset < out[j].Offset
	})
	return out, nil
}

// printUSDT prints the USDT table below the symbols (a blank line between
// when both have rows).
func printUSDT(w io.Writer, rows []usdtRow, after bool) {
	if len(rows) == 0 {
		return
	}
	if after {
		fmt.Fprintln(w)
	}
	t := newTable(w, []string{"USDT", "OFFSET", "SEMAPHORE", "ARGS"})
	for _, r := range rows {
		sem := "-"
		if r.Semaphore != 0 {
			sem = "0x" + strconv.FormatUint(r.Semaphore, 16)
		}
		t.Append([]string{r.Name, "0x" + strconv.FormatUint(r.Offset, 16), sem, r.Args})
	}
	t.Render()
}
