module github.com/kahttp/kahttp/bench

go 1.25.0

require (
	github.com/kahttp/kahttp v0.0.0
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasthttp v1.74.0
)

replace github.com/kahttp/kahttp => ../
