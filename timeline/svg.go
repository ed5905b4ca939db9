package timeline

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/graceful-dev/graceful/internal/plural"
)

// The SVG picture: one block per workload, one lane per container, load
// balancer and sidecar, on a shared time axis in seconds. It is written by
// hand, with fixed number formats, so that the same report gives the same
// bytes (golden tests) and the file needs nothing but a browser.
const (
	svgWidth   = 1000
	svgLabelW  = 250 // the lane labels, left of the plot
	svgPlotX   = svgLabelW + 10
	svgPlotW   = svgWidth - svgPlotX - 30
	svgLaneH   = 20
	svgLaneGap = 4
	svgHeadH   = 22
	svgFont    = "font-family=\"DejaVu Sans, Verdana, sans-serif\""

	colorDelay    = "#8fb3de"
	colorDrain    = "#7cc47c"
	colorUnknown  = "#d0d0d0"
	colorLB       = "#f0a04b"
	colorSidecar  = "#b48ead"
	colorEndpoint = "#bbbbbb"
	colorConflict = "#d62728"
	colorText     = "#222222"
)

// WriteSVG draws the report.
func (r *Report) WriteSVG(out io.Writer) error {
	w := bufio.NewWriter(out)
	end := 10
	for _, t := range r.Workloads {
		end = max(end, t.horizon())
	}
	step := tickStep(end)
	end = (end + step) / step * step // a step beyond the last event, so its marker shows whole
	x := func(sec int) float64 { return svgPlotX + float64(sec)*svgPlotW/float64(end) }

	var body strings.Builder
	y := 96 // below the title, the legend and the axis labels
	for _, t := range r.Workloads {
		y = t.drawSVG(&body, y, x)
		y += 14
	}
	height := y + 10

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`+"\n", svgWidth, height, svgWidth, height, svgFont)
	fmt.Fprintf(w, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", svgWidth, height)
	mode := "after graceful render"
	if r.Mode == ModeAsIs {
		mode = "as the input stands"
	}
	fmt.Fprintf(w, `<text x="10" y="22" font-size="15" font-weight="bold" fill="%s">Pod shutdown timelines, %s (%s, %s)</text>`+"\n", colorText, esc(mode),
		plural.Count(len(r.Workloads), "workload", "workloads"), plural.Count(r.Conflicts(), "conflict", "conflicts"))
	legend(w)
	// The axis: a tick and a faint line per step, labelled in seconds.
	for s := 0; s <= end; s += step {
		fmt.Fprintf(w, `<line x1="%.1f" y1="82" x2="%.1f" y2="%d" stroke="#eeeeee"/>`+"\n", x(s), x(s), height-10)
		fmt.Fprintf(w, `<text x="%.1f" y="78" text-anchor="middle" fill="#666666" font-size="11">%d s</text>`+"\n", x(s), s)
	}
	w.WriteString(body.String())
	w.WriteString("</svg>\n")
	return w.Flush()
}

func legend(w *bufio.Writer) {
	items := []struct{ color, label, shape string }{
		{colorEndpoint, "endpoint removal (estimate)", "rect"},
		{colorDelay, "preStop delay", "rect"},
		{colorDrain, "application drain", "rect"},
		{colorUnknown, "running, drain unknown", "rect"},
		{colorLB, "load balancer drain", "rect"},
		{colorSidecar, "Istio sidecar", "rect"},
		{"none", "grace period", "outline"},
		{colorText, "signal", "signal"},
		{colorText, "SIGKILL", "kill"},
		{colorConflict, "conflict", "rect"},
	}
	lx, ly := 10, 40
	for _, it := range items {
		width := 14 + 6*len(it.label) + 16
		if lx+width > svgWidth-10 {
			lx, ly = 10, ly+18
		}
		switch it.shape {
		case "rect":
			opacity := ""
			if it.color == colorEndpoint {
				opacity = ` fill-opacity="0.5"`
			}
			fmt.Fprintf(w, `<rect x="%d" y="%d" width="12" height="12" fill="%s"%s/>`+"\n", lx, ly, it.color, opacity)
		case "outline":
			fmt.Fprintf(w, `<rect x="%d" y="%d" width="12" height="12" fill="none" stroke="#555555" stroke-dasharray="3,2"/>`+"\n", lx, ly)
		case "signal":
			fmt.Fprintf(w, `<path d="M%d %d l6 0 l-3 6 z" fill="%s"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", lx+3, ly, it.color, lx+6, ly+6, lx+6, ly+12, it.color)
		case "kill":
			fmt.Fprintf(w, `<path d="M%d %d l10 10 M%d %d l-10 10" stroke="%s" stroke-width="2"/>`+"\n", lx+1, ly+1, lx+11, ly+1, it.color)
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", lx+16, ly+11, colorText, esc(it.label))
		lx += width
	}
}

// horizon is the last second worth drawing for the workload.
func (t *Timeline) horizon() int {
	end := max(t.GraceSeconds, t.EndSeconds)
	for _, c := range t.Containers {
		end = max(end, c.KillSeconds)
		if c.DrainSeconds != nil {
			end = max(end, c.Signal.AtSeconds+*c.DrainSeconds)
		}
	}
	if t.Sidecar != nil {
		end = max(end, t.Sidecar.ExitSeconds)
	}
	for _, lb := range t.LoadBalancers {
		end = max(end, min(lb.Seconds, axisLimit(end)))
	}
	return end
}

// axisLimit is how far past the pod's end the axis goes for a load
// balancer's drain: a longer one is clipped, with a label, so that one
// drain of an hour does not squeeze every pod into the first pixels.
func axisLimit(podEnd int) int { return podEnd + max(10, podEnd/2) }

// tickStep is a round step that gives at most about 12 ticks.
func tickStep(end int) int {
	for _, s := range []int{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600} {
		if end/s <= 12 {
			return s
		}
	}
	return (end/12 + 3599) / 3600 * 3600
}

func (t *Timeline) has(code, container string) bool {
	return slices.ContainsFunc(t.Conflicts, func(c Conflict) bool {
		return c.Code == code && (container == "" || c.Container == container)
	})
}

// drawSVG draws the workload from y down and returns the y below it.
func (t *Timeline) drawSVG(b *strings.Builder, y int, x func(int) float64) int {
	head := t.Kind + " " + t.qualifiedName()
	profile := "no profile"
	if t.Profile != "" {
		profile = "profile " + t.Profile
	}
	// One line, so that a long name pushes the rest along rather than under it.
	fmt.Fprintf(b, `<g class="workload"><text x="10" y="%d" fill="%s"><tspan font-weight="bold">%s</tspan><tspan dx="12" fill="#555555">%s; grace period %d s</tspan></text>`+"\n",
		y+14, colorText, esc(head), esc(profile), t.GraceSeconds)
	y += svgHeadH
	top := y
	lanes := len(t.Containers) + len(t.LoadBalancers)
	if t.Sidecar != nil {
		lanes++
	}
	bottom := top + lanes*(svgLaneH+svgLaneGap)
	for _, c := range t.Containers {
		t.drawContainer(b, c, y, x)
		y += svgLaneH + svgLaneGap
	}
	for _, lb := range t.LoadBalancers {
		label(b, y, "load balancer "+lb.Service)
		color, tip := colorLB, "load balancer drain: "+lb.summary()
		if t.has(CodeLBDrainShort, "") {
			color = colorConflict
		}
		switch {
		case lb.Known && lb.Seconds > t.horizon():
			// Clipped at the axis' end, and labelled with its length.
			end := t.horizon()
			bar(b, x(0), x(end), y, color, tip)
			fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="end" fill="%s">%d s ›<title>%s</title></text>`+"\n", x(end)-3, y+14, colorText, lb.Seconds, esc(tip))
		case lb.Known && lb.Seconds > 0:
			bar(b, x(0), x(lb.Seconds), y, color, tip)
		case lb.Known:
			fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="%s">drain off<title>%s</title></text>`+"\n", x(0)+3, y+14, color, esc(tip))
		case lb.Rejected:
			fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="%s">drain setting rejected: may not drain<title>%s</title></text>`+"\n", x(0)+3, y+14, colorConflict, esc(tip))
		default:
			fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="#666666">drain unknown<title>%s</title></text>`+"\n", x(0)+3, y+14, esc(tip))
		}
		y += svgLaneH + svgLaneGap
	}
	if s := t.Sidecar; s != nil {
		label(b, y, "istio-proxy ("+s.Kind+")")
		color := colorSidecar
		if t.has(CodeMeshDrainShort, "") {
			color = colorConflict
		}
		bar(b, x(0), x(s.ExitSeconds), y, color, "Istio sidecar: "+s.summary())
		y += svgLaneH + svgLaneGap
	}
	// The endpoint removal, over the lanes: it runs while they begin.
	if len(t.Services) > 0 || slices.ContainsFunc(t.Containers, func(c Container) bool { return c.Serving }) {
		fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.45"><title>endpoint removal reaches kube-proxy, ingresses and load balancers: about %d s, an estimate</title></rect>`+"\n",
			x(0), top, x(EndpointsSeconds)-x(0), bottom-top-svgLaneGap, colorEndpoint, EndpointsSeconds)
	}
	for _, c := range t.Conflicts {
		for i, line := range wrap(c.Code+" "+c.Message, 150, 3) {
			indent := 20
			if i > 0 {
				indent = 62
			}
			fmt.Fprintf(b, `<text x="%d" y="%d" fill="%s" font-size="11">%s</text>`+"\n", indent, y+12, colorConflict, esc(line))
			y += 15
		}
	}
	b.WriteString("</g>\n")
	return y
}

func label(b *strings.Builder, y int, text string) {
	text = clip(text, 38)
	fmt.Fprintf(b, `<text x="20" y="%d" fill="%s">%s</text>`+"\n", y+14, colorText, esc(text))
}

func bar(b *strings.Builder, x0, x1 float64, y int, color, tip string) {
	if x1 <= x0 {
		return
	}
	fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n", x0, y+3, x1-x0, svgLaneH-6, color, esc(tip))
}

func (t *Timeline) drawContainer(b *strings.Builder, c Container, y int, x func(int) float64) {
	label(b, y, "container "+c.Name)
	// The grace period: what the container may use, SIGKILL at its end.
	fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="none" stroke="#555555" stroke-dasharray="3,2"><title>grace period %d s (%s)</title></rect>`+"\n",
		x(0), y+1, x(t.GraceSeconds)-x(0), svgLaneH-2, t.GraceSeconds, esc(t.GraceSource))
	delay := min(c.PreStop.DelaySeconds, c.Signal.AtSeconds)
	if c.Signal.AtSeconds > 0 {
		bar(b, x(0), x(c.Signal.AtSeconds), y, colorDelay, fmt.Sprintf("preStop delay %d s: %s", delay, c.PreStop.Text))
	}
	sig := c.Signal.AtSeconds
	switch {
	case c.DrainSeconds != nil:
		end := sig + *c.DrainSeconds
		bar(b, x(sig), x(min(end, c.KillSeconds)), y, colorDrain, fmt.Sprintf("drain up to %d s (%s)", *c.DrainSeconds, c.DrainSource))
		if end > c.KillSeconds {
			bar(b, x(c.KillSeconds), x(end), y, colorConflict, fmt.Sprintf("drain cut by SIGKILL at %d s: it needs until %d s", c.KillSeconds, end))
		}
	default:
		bar(b, x(sig), x(c.KillSeconds), y, colorUnknown, "running until it exits; its drain is unknown (no profile)")
	}
	if c.PreStop.Broken != "" {
		what := "preStop hook may not run"
		if strings.HasPrefix(c.PreStop.Broken, CodeSharedPID1) {
			what = "preStop hook's signal misses the application"
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="%s" font-size="10">%s<title>%s</title></text>`+"\n", x(t.GraceSeconds/2), y+14, colorConflict, what, esc(c.PreStop.Broken))
	}
	// The signal: a marker, red when it is a conflict.
	color := colorText
	if t.has(CodeFastStop, c.Name) || t.has(CodeNoDelay, c.Name) || t.has(CodeBroken, c.Name) {
		color = colorConflict
	}
	sx := x(sig)
	sigLabel := strings.TrimPrefix(c.Signal.Name, "SIG")
	if k := c.KubeletSignal; k != nil {
		sigLabel += ", then " + strings.TrimPrefix(k.Name, "SIG") // the kubelet's, right after a hook that did not wait
	}
	fmt.Fprintf(b, `<g><path d="M%.1f %d l-4 -6 l8 0 z" fill="%s"/><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"/><text x="%.1f" y="%d" font-size="10" fill="%s">%s</text><title>%s at %d s from %s</title></g>`+"\n",
		sx, y+6, color, sx, y+6, sx, y+svgLaneH, color, sx+4, y+svgLaneH-6, color, esc(sigLabel), c.Signal.Name, sig, esc(c.Signal.Source))
	color = colorText
	if t.has(CodeGraceShort, c.Name) {
		color = colorConflict
	}
	kx := x(c.KillSeconds)
	fmt.Fprintf(b, `<path d="M%.1f %d l8 8 M%.1f %d l-8 8" stroke="%s" stroke-width="2"><title>SIGKILL at %d s</title></path>`+"\n",
		kx-4, y+6, kx+4, y+6, color, c.KillSeconds)
}

// wrap breaks s into lines of at most n runes at spaces, at most max
// lines, the last one clipped.
func wrap(s string, n, max int) []string {
	var lines []string
	words := strings.Fields(s)
	cur := ""
	for _, w := range words {
		if cur != "" && len([]rune(cur))+1+len([]rune(w)) > n {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	for i := range lines {
		lines[i] = clip(lines[i], n)
	}
	if len(lines) > max {
		lines = lines[:max]
		lines[max-1] = clip(lines[max-1]+" ...", n)
	}
	return lines
}

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func esc(s string) string { return xmlEscaper.Replace(s) }
