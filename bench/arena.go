package main

// `bench -arena`: HttpArena's HTTP/1.1 profiles (github.com/MDA2AV/HttpArena,
// scripts/lib/profiles.sh and the requests/ they send) against
// examples/arena, HttpArena's own go-fasthttp entry and the same contract
// on net/http, in one run, servers interleaved in every round, as the
// matrix is measured. The request mixes are HttpArena's; the connection
// counts are scaled to a small machine (HttpArena runs 512 to 16,384).

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
)

// arenaKahttp is examples/arena's name in the reports and rounds.
const arenaKahttp = "kahttp-arena"

// arenaStatic is HttpArena's static set (data/static at 28606baf): the
// files its static profile rotates through, with their sizes. Text files
// have .br and .gz siblings there.
var arenaStatic = []struct {
	name string
	size int
}{
	{"reset.css", 8192}, {"layout.css", 25600}, {"theme.css", 18432}, {"components.css", 204800},
	{"utilities.css", 61440}, {"analytics.js", 12288}, {"helpers.js", 22528}, {"app.js", 204800},
	{"vendor.js", 307200}, {"router.js", 35840}, {"header.html", 122880}, {"footer.html", 56320},
	{"regular.woff2", 18432}, {"bold.woff2", 22528}, {"logo.svg", 15344}, {"icon-sprite.svg", 71680},
	{"hero.webp", 46080}, {"thumb1.webp", 8192}, {"thumb2.webp", 6144}, {"manifest.json", 2883},
}

// arenaText says whether a static file is text (compressible, with
// precompressed siblings) rather than an image or a font.
func arenaText(name string) bool {
	return !strings.HasSuffix(name, ".woff2") && !strings.HasSuffix(name, ".webp")
}

// arenaCases are HttpArena's HTTP/1.1 profiles that need no database.
func arenaCases() []Case {
	baseline := []Request{
		{Method: "GET", Path: "/baseline11?a=13&b=42", ExpectLen: 2},                                     // get.raw: 55
		{Method: "POST", Path: "/baseline11?a=13&b=42", Body: []byte("20"), ExpectLen: 2},                // post_cl.raw: 75
		{Method: "POST", Path: "/baseline11?a=13&b=42", Body: []byte("20"), Chunked: true, ExpectLen: 2}, // post_chunked.raw
	}
	var js, jsComp []Request
	for _, q := range []string{"1?m=3", "5?m=7", "10?m=2", "15?m=5", "25?m=4", "40?m=8", "50?m=6"} {
		js = append(js, Request{Method: "GET", Path: "/json/" + q, ExpectLen: -1})
	}
	for _, q := range []string{"25?m=4", "40?m=8", "50?m=6"} {
		jsComp = append(jsComp, Request{Method: "GET", Path: "/json/" + q, Header: []string{"Accept-Encoding: gzip, br"}, ExpectLen: -1})
	}
	var uploads []Request
	for _, n := range []int{512_000, 2 << 20, 10 << 20, 20 << 20} { // upload-500k … upload-20m.raw
		body := make([]byte, n)
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		uploads = append(uploads, Request{Method: "POST", Path: "/upload", Body: body, ExpectLen: int64(len(strconv.Itoa(n)))})
	}
	var static []Request
	for _, f := range arenaStatic {
		static = append(static, Request{Method: "GET", Path: "/static/" + f.name,
			Header: []string{"Accept-Encoding: br;q=1, gzip;q=0.8"}, ExpectLen: -1})
	}
	return []Case{
		{Scenario: "arena-baseline", Variant: "c64", Desc: "GET, POST with Content-Length and POST chunked to /baseline11, rotated; 64 connections",
			Spec: LoadSpec{Conns: 64, Requests: baseline}},
		{Scenario: "arena-pipelined", Variant: "p16-c64", Desc: "GET /pipeline, 16 requests per write; 64 connections",
			Spec: LoadSpec{Conns: 64, Pipeline: 16, Requests: []Request{{Method: "GET", Path: "/pipeline", ExpectLen: 2}}}},
		{Scenario: "arena-limited-conn", Variant: "c64", Desc: "the baseline mix, 10 requests per connection; 64 connections",
			Spec: LoadSpec{Conns: 64, ReqPerConn: 10, Requests: baseline}},
		{Scenario: "arena-json", Variant: "c64", Desc: "GET /json/{1..50}?m=, 25 requests per connection; 64 connections",
			Spec: LoadSpec{Conns: 64, ReqPerConn: 25, Requests: js}},
		{Scenario: "arena-json-comp", Variant: "c64", Desc: "GET /json/{25,40,50} with Accept-Encoding: gzip, br; 25 per connection; 64 connections",
			Spec: LoadSpec{Conns: 64, ReqPerConn: 25, Requests: jsComp}},
		{Scenario: "arena-upload", Variant: "c16", Desc: "POST /upload of 500 KB, 2, 10 and 20 MiB, 5 per connection; 16 connections",
			Spec: LoadSpec{Conns: 16, ReqPerConn: 5, Requests: uploads}},
		{Scenario: "arena-static", Variant: "c64", Desc: "GET of the 20 static files with Accept-Encoding: br;q=1, gzip;q=0.8, 200 per connection; 64 connections",
			Spec: LoadSpec{Conns: 64, ReqPerConn: 200, Requests: static}},
	}
}

// genArenaData writes a data folder of HttpArena's layout and shapes into
// dir: dataset.json (50 items) and static/ (the 20 files of arenaStatic,
// text ones with .br and .gz siblings). Deterministic.
func genArenaData(dir string) error {
	rng := rand.New(rand.NewPCG(2026, 12))
	words := []string{"Alpha", "Pro", "Core", "Ultra", "Smart", "Eco", "Prime", "Nano", "Max", "Flex"}
	things := []string{"Widget", "Valve", "Relay", "Sensor", "Gauge", "Drill", "Lamp", "Cable", "Switch", "Pump"}
	cats := []string{"electronics", "tools", "home", "garden", "sports", "toys"}
	tagSet := []string{"sale", "heavy-duty", "popular", "fast", "new", "wireless", "eco", "premium"}
	items := make([]arenaItem, 50)
	for i := range items {
		tags := make([]string, 1+rng.IntN(4))
		for j := range tags {
			tags[j] = tagSet[rng.IntN(len(tagSet))]
		}
		items[i] = arenaItem{ID: i + 1, Name: words[rng.IntN(len(words))] + " " + things[rng.IntN(len(things))],
			Category: cats[rng.IntN(len(cats))], Price: 1 + rng.IntN(500), Quantity: rng.IntN(100), Active: rng.IntN(4) != 0,
			Tags: tags, Rating: arenaRating{Score: rng.IntN(51), Count: rng.IntN(1000)}}
	}
	ds, err := json.MarshalIndent(items, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "static"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "dataset.json"), ds, 0o644); err != nil {
		return err
	}
	vocab := strings.Fields("function return const let var if else for while class extends import export default " +
		"color margin padding display flex grid border width height div span section header footer main nav " +
		"button input form label value true false null this that window document element style script")
	for _, f := range arenaStatic {
		body := make([]byte, 0, f.size)
		if arenaText(f.name) {
			for len(body) < f.size {
				body = append(body, vocab[rng.IntN(len(vocab))]...)
				body = append(body, " ;\n"[rng.IntN(3)])
			}
			body = body[:f.size]
		} else {
			for range f.size {
				body = append(body, byte(rng.Uint32()))
			}
		}
		path := filepath.Join(dir, "static", f.name)
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return err
		}
		if !arenaText(f.name) {
			continue
		}
		var gz, br bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		bw := brotli.NewWriterLevel(&br, 9) // 11 takes seconds for 1.2 MB; 9 is within a few percent
		_, _ = bw.Write(body)
		_ = bw.Close()
		if err := os.WriteFile(path+".gz", gz.Bytes(), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(path+".br", br.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// buildArena builds examples/arena from the kahttp module this bench
// replaces it with, into dir.
func buildArena(dir string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/kahttp/kahttp").Output()
	if err != nil {
		return "", fmt.Errorf("locating the kahttp module: %w", err)
	}
	root := strings.TrimSpace(string(out))
	bin := filepath.Join(dir, "arena")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/arena")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building examples/arena: %w", err)
	}
	return bin, nil
}

func arenaMain(o *options) error {
	if o.duration == 0 {
		o.duration = 1500 * time.Millisecond
	}
	if o.warmup == 0 {
		o.warmup = 400 * time.Millisecond
	}
	if o.rounds < 1 {
		return errors.New("-rounds must be >= 1")
	}
	pin, err := setupPinning(o) // may re-execute this program: before any work
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "kahttp-arena-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	data := o.arenaData
	if data == "" {
		data = filepath.Join(tmp, "data")
		if err := genArenaData(data); err != nil {
			return err
		}
	}
	bin, err := buildArena(tmp)
	if err != nil {
		return err
	}
	cases := arenaCases()
	if o.scenarios != "" {
		var keep []Case
		for _, c := range cases {
			for _, s := range strings.Split(o.scenarios, ",") {
				if s = strings.TrimSpace(s); s == c.Scenario || s == c.Name() || "arena-"+s == c.Scenario {
					keep = append(keep, c)
					break
				}
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("-scenario %q names no arena profile", o.scenarios)
		}
		cases = keep
	}
	names := []string{arenaKahttp, "arena-fasthttp", "arena-nethttp"}
	start := time.Now()
	machine := describeMachine()
	fmt.Println("machine:", machine.String())
	fmt.Println("pinning:", pin.String())
	fmt.Println("data:", data)
	procs := map[string]*serverProc{}
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	addr, err := freePort()
	if err != nil {
		return err
	}
	tlsAddr, err := freePort()
	if err != nil {
		return err
	}
	args := []string{"-addr", addr, "-tls-addr", tlsAddr, "-data", data}
	if o.arenaCache > 0 {
		args = append(args, "-static-cache", strconv.FormatInt(o.arenaCache, 10))
	}
	if procs[arenaKahttp], err = startCommand(arenaKahttp, addr, pin, bin, args, false); err != nil {
		return err
	}
	for _, n := range names[1:] {
		if procs[n], err = startServerArgs(n, pin, "-arena-data", data); err != nil {
			return err
		}
	}
	for _, n := range names {
		fmt.Printf("  %-14s pid %-7d %s\n", n, procs[n].Pid, procs[n].Info)
	}
	run := &Run{
		Date:       time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Command:    o.commandStr,
		Machine:    machine,
		Pinning:    pin.String(),
		Loadgen:    "builtin",
		Servers:    names,
		ServerCPUs: len(pin.Server),
		Baseline:   "arena-fasthttp",
		Settings: fmt.Sprintf("%d rounds x %v per server per profile, warm-up %v, servers interleaved in each round, runs with other load > %.0f%% of a core measured again up to %d times (quietest kept)",
			o.rounds, o.duration, o.warmup, o.noisyPct, o.retries),
		Labels: map[string]string{arenaKahttp: "kahttp (examples/arena)", "arena-fasthttp": "fasthttp (HttpArena's go-fasthttp)", "arena-nethttp": "net/http"},
	}
	for i := range cases {
		c := &cases[i]
		cr := &CaseResult{Name: c.Name(), Scenario: c.Scenario, Desc: c.Desc, Conns: c.Spec.Conns,
			Reconnects: c.Spec.ReqPerConn > 0, Rounds: map[string][]Sample{}}
		runTimed(o, c, names, procs, pin.CPUs(), cr)
		run.Cases = append(run.Cases, cr)
	}
	run.Elapsed = time.Since(start).Round(time.Second).String()
	md := arenaMarkdown(run)
	fmt.Println()
	fmt.Println(md)
	return writeResult(o.outDir, "arena.md", md)
}

// arenaMarkdown is the run's report: the matrix's table, with ratios to
// fasthttp, and the goal of the issue that asked for it.
func arenaMarkdown(run *Run) string {
	var b strings.Builder
	b.WriteString("# HttpArena's HTTP/1.1 profiles: kahttp, fasthttp, net/http\n\n")
	run.writeMeta(&b)
	b.WriteString("\n")
	run.writeTables(&b, "##")
	b.WriteString("\n## Goal: kahttp's CPU per request at or below fasthttp's on every profile\n\n")
	b.WriteString("| profile | kahttp ÷ fasthttp (CPU/req) | met |\n|---|--:|---|\n")
	for _, c := range run.Cases {
		x, ok := pairRatio(c, arenaKahttp, "arena-fasthttp", mCPU)
		if !ok {
			fmt.Fprintf(&b, "| %s | n/a | no |\n", c.Name)
			continue
		}
		met := "yes"
		if x > 1 {
			met = "no"
		}
		fmt.Fprintf(&b, "| %s | %.2f× | %s |\n", c.Name, x, met)
	}
	return b.String()
}
