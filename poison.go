package kahttp

// poisonByte is what Config.PoisonViews writes over a released request's
// bytes: a view kept past its handler reads as "#####", whatever part of
// the request it was.
const poisonByte = '#'

// poisonViews overwrites every byte r's views point into: the raw request
// (method, target, header fields, body) and the arena of decoded values.
func (r *Request) poisonViews() {
	poisonBytes(r.buf)
	poisonBytes(r.arena[:cap(r.arena)])
}

func poisonBytes(b []byte) {
	for i := range b {
		b[i] = poisonByte
	}
}
