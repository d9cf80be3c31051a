package main

import (
	"fmt"
	"math"
	"strings"
)

var serverColors = map[string]string{
	"kahttp-inline": "#1f6fb4",
	"kahttp-pool":   "#6baed6",
	"nethttp":       "#8c8c8c",
	"fasthttp":      "#f28e2b",
	"gnet-floor":    "#4e9f3d",
}

var extraColors = []string{"#59a14f", "#e15759", "#b07aa1", "#9c755f", "#edc948"}

func colorFor(i int, name string) string {
	if c, ok := serverColors[name]; ok {
		return c
	}
	return extraColors[i%len(extraColors)]
}

func xmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}

// SVG draws the ratios to the baseline as grouped horizontal bars: left
// panel req/s (higher is better), right panel server CPU per request (lower
// is better), where the idle case shows RSS per connection instead. Written
// by hand: no chart library.
func (run *Run) SVG() string {
	const (
		labelW  = 170.0
		panelW  = 360.0
		gapW    = 40.0
		barH    = 11.0
		barGap  = 2.0
		grpGap  = 12.0
		top     = 104.0
		bottomM = 30.0
		valueW  = 46.0 // room for the value text after a bar
	)
	servers := run.Servers
	nS := float64(len(servers))
	grpH := nS*(barH+barGap) - barGap
	height := top + float64(len(run.Cases))*(grpH+grpGap) + bottomM
	width := labelW + 2*panelW + gapW + 20

	ratios := make([][2][]float64, len(run.Cases)) // [case][panel][server]
	maxR := [2]float64{1.2, 1.2}
	for ci, c := range run.Cases {
		rows := c.Rows(servers, run.Baseline)
		for p := 0; p < 2; p++ {
			ratios[ci][p] = make([]float64, len(rows))
		}
		for si, r := range rows {
			left, right := r.RPSx, r.CPUx
			if c.Idle {
				left, right = math.NaN(), r.RSSx
			}
			ratios[ci][0][si], ratios[ci][1][si] = left, right
			for p, v := range []float64{left, right} {
				if !math.IsNaN(v) && !math.IsInf(v, 0) && v > maxR[p] {
					maxR[p] = v
				}
			}
		}
	}
	for p := range maxR {
		maxR[p] = math.Min(maxR[p]*1.05, 10)
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="Helvetica,Arial,sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="15" font-weight="bold">kahttp bench: ratios to %s measured in the same round, median over rounds</text>`+"\n", xmlEscape(run.Baseline))
	fmt.Fprintf(&b, `<text x="10" y="36" fill="#444">%s · %s</text>`+"\n", xmlEscape(run.Date), xmlEscape(run.Command))
	fmt.Fprintf(&b, `<text x="10" y="50" fill="#444">%s</text>`+"\n", xmlEscape(run.Machine.String()))
	// legend
	lx := 10.0
	for i, n := range servers {
		l := run.label(n)
		fmt.Fprintf(&b, `<rect x="%.0f" y="58" width="12" height="12" fill="%s"/><text x="%.0f" y="68">%s</text>`+"\n", lx, colorFor(i, n), lx+16, xmlEscape(l))
		lx += 26 + 7*float64(len(l))
	}
	titles := [2]string{"requests/s ÷ " + run.Baseline + " (higher is better)", "server CPU per request ÷ " + run.Baseline + " (lower is better)"}
	for p := 0; p < 2; p++ {
		x0 := labelW + float64(p)*(panelW+gapW)
		fmt.Fprintf(&b, `<text x="%.0f" y="92" font-weight="bold">%s</text>`+"\n", x0, xmlEscape(titles[p]))
		scale := (panelW - valueW) / maxR[p]
		// grid at 0.5 steps (1 steps when the scale is wide), 1.0 dashed
		step := 0.5
		if maxR[p] > 4 {
			step = 1
		}
		for g := 0.0; g <= maxR[p]+1e-9; g += step {
			gx := x0 + g*scale
			style := `stroke="#e3e3e3"`
			if g == 1 {
				style = `stroke="#333" stroke-dasharray="4,3"`
			}
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" %s/>`+"\n", gx, top-6, gx, height-bottomM+4, style)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#666">%g</text>`+"\n", gx, height-bottomM+16, g)
		}
		for ci := range run.Cases {
			gy := top + float64(ci)*(grpH+grpGap)
			for si, n := range servers {
				v := ratios[ci][p][si]
				y := gy + float64(si)*(barH+barGap)
				if math.IsNaN(v) || math.IsInf(v, 0) {
					if p == 0 && run.Cases[ci].Idle && si == 0 {
						fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#888">memory case: RSS per connection, right</text>`+"\n", x0+4, y+barH)
					}
					continue
				}
				w := math.Min(v, maxR[p]) * scale
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s"><title>%s %s: %.2f×</title></rect>`+"\n",
					x0, y, math.Max(w, 1), barH, colorFor(si, n), xmlEscape(run.Cases[ci].Name), xmlEscape(n), v)
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" fill="#333">%.2f</text>`+"\n", x0+w+3, y+barH-2, v)
			}
		}
	}
	for ci, c := range run.Cases {
		gy := top + float64(ci)*(grpH+grpGap)
		label := c.Name
		if c.Idle {
			label += " (RSS/conn)"
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end" font-weight="bold">%s</text>`+"\n", labelW-10, gy+grpH/2+4, xmlEscape(label))
	}
	b.WriteString("</svg>\n")
	return b.String()
}
