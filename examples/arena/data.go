package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

// Rating is a dataset item's rating.
type Rating struct {
	Score int `json:"score"`
	Count int `json:"count"`
}

// Item is one entry of HttpArena's dataset.json.
type Item struct {
	ID       int      `json:"id"`
	Name     string   `json:"name"`
	Category string   `json:"category"`
	Price    int      `json:"price"`
	Quantity int      `json:"quantity"`
	Active   bool     `json:"active"`
	Tags     []string `json:"tags"`
	Rating   Rating   `json:"rating"`
}

// Data is what the endpoints serve: the dataset for /json and the files
// for /static.
type Data struct {
	Items  []Item
	Static fs.FS // the files under /static/, with their .br/.gz siblings
	// Source says where it came from, for the log.
	Source string

	root *os.Root // the static folder when read from disk
}

// Close releases the static folder, if one is open.
func (d *Data) Close() error {
	if d.root != nil {
		return d.root.Close()
	}
	return nil
}

// LoadData reads a folder in HttpArena's data/ layout: dir/dataset.json
// and dir/static/ (read from disk on every request, through os.Root: no
// symlink leaves it).
func LoadData(dir string) (*Data, error) {
	b, err := os.ReadFile(filepath.Join(dir, "dataset.json"))
	if err != nil {
		return nil, err
	}
	var items []Item
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("dataset.json: %w", err)
	}
	if len(items) == 0 {
		return nil, errors.New("dataset.json: no items")
	}
	root, err := os.OpenRoot(filepath.Join(dir, "static"))
	if err != nil {
		return nil, err
	}
	return &Data{Items: items, Static: root.FS(), Source: dir, root: root}, nil
}

// GenerateData makes, in memory, a dataset of the shape HttpArena's has
// (50 items, integer prices) and a small static set: text files with
// their .br and .gz siblings, and a binary one without.
func GenerateData() (*Data, error) {
	static, err := generateStatic()
	if err != nil {
		return nil, err
	}
	return &Data{Items: generateItems(50), Static: static, Source: "generated in memory"}, nil
}

func generateItems(n int) []Item {
	adjectives := []string{"Alpha", "Pro", "Ultra", "Nano", "Prime", "Core", "Flex", "Edge", "Swift", "Nova"}
	nouns := []string{"Widget", "Gadget", "Module", "Sensor", "Driver", "Relay", "Switch", "Valve", "Gear", "Link"}
	categories := []string{"electronics", "tools", "books", "clothing", "sports", "toys", "home", "garden", "office", "auto"}
	tagPool := []string{"fast", "new", "popular", "sale", "limited", "premium", "eco", "compact", "heavy-duty", "wireless"}
	items := make([]Item, n)
	for i := range items {
		tags := make([]string, 1+i%4)
		for j := range tags {
			tags[j] = tagPool[(i*3+j)%len(tagPool)]
		}
		items[i] = Item{
			ID:       i + 1,
			Name:     adjectives[i%len(adjectives)] + " " + nouns[(i*7)%len(nouns)],
			Category: categories[i%len(categories)],
			Price:    2 + (i*73+11)%495,
			Quantity: 1 + (i*31)%100,
			Active:   i%3 != 0,
			Tags:     tags,
			Rating:   Rating{Score: 1 + (i*47)%50, Count: 10 + (i*53)%500},
		}
	}
	return items
}

// generateStatic is a few files of the kinds the arena serves; every text
// file gets .br and .gz siblings, as HttpArena's data/static/ has.
func generateStatic() (fstest.MapFS, error) {
	repeat := func(line string, n int) []byte { return []byte(strings.Repeat(line, n)) }
	files := map[string][]byte{
		"reset.css":     repeat("html, body { margin: 0; padding: 0; box-sizing: border-box; }\n", 120),
		"app.js":        repeat("export function render(el, state) { el.textContent = JSON.stringify(state); }\n", 200),
		"index.html":    repeat("<section class=\"card\"><h2>kahttp</h2><p>arena</p></section>\n", 80),
		"logo.svg":      repeat("<circle cx=\"12\" cy=\"12\" r=\"10\" fill=\"#08c\"/>\n", 60),
		"manifest.json": []byte(`{"name":"kahttp arena","short_name":"arena","start_url":"/","display":"standalone","icons":[` + strings.Repeat(`{"src":"/static/logo.svg","sizes":"any","type":"image/svg+xml"},`, 30) + `{"src":"/static/logo.svg"}]}`),
	}
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: body, Mode: 0o444}
		var br, gz bytes.Buffer
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		gw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		for _, w := range []io.WriteCloser{bw, gw} {
			if _, err := w.Write(body); err != nil {
				return nil, err
			}
			if err := w.Close(); err != nil {
				return nil, err
			}
		}
		fsys[name+".br"] = &fstest.MapFile{Data: br.Bytes(), Mode: 0o444}
		fsys[name+".gz"] = &fstest.MapFile{Data: gz.Bytes(), Mode: 0o444}
	}
	// A binary file: no siblings, served as it is whatever the client accepts.
	img := make([]byte, 4096)
	copy(img, "RIFF\x00\x10\x00\x00WEBPVP8 ")
	for i := 20; i < len(img); i++ {
		img[i] = byte(i*131 + i>>3)
	}
	fsys["hero.webp"] = &fstest.MapFile{Data: img, Mode: 0o444}
	return fsys, nil
}
