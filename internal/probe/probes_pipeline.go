package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

var errEndedEarly = errors.New("a close-delimited response ended the connection")

// Pipelining and the POST + stray CRLF habit.

// pipelineTag marks request i of an n-request pipeline; servers that echo
// the request target let the probe check the order exactly.
func pipelineTag(n, i int) string { return fmt.Sprintf("p%d-%d", n, i) }

// pipelinePath alternates the target (with a counter in the query) and a
// path that should not exist, so that the statuses alternate too.
func pipelinePath(base string, n, i int) string {
	if i%2 == 0 {
		return withQuery(base, pipelineTag(n, i))
	}
	return "/kaprobe-not-found/" + pipelineTag(n, i)
}

// markerIndex returns j when body carries request j's tag, else -1.
func markerIndex(body []byte, n int) int {
	for j := n - 1; j >= 0; j-- {
		if bytes.Contains(body, []byte(pipelineTag(n, j))) {
			return j
		}
	}
	return -1
}

func probePipeline(n int) probeFunc {
	return func(ctx context.Context, p *prober) Row {
		row := Row{Sent: fmt.Sprintf("%d× GET HTTP/1.1 in one write (alternating %s?kaprobe=… and a 404 path)", n, p.t.path)}
		// The pipeline gets one -timeout; what is left of the probe's limit
		// is for the reference requests that tell the order.
		pctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
		defer cancel()
		s, err := p.dial(pctx, &row)
		if err != nil {
			return row
		}
		defer s.close()
		var buf []byte
		for i := 0; i < n; i++ {
			buf = append(buf, request("GET", pipelinePath(p.t.path, n, i), "HTTP/1.1", p.t.host)...)
		}
		if err := s.send(pctx, buf); err != nil {
			row.fail("write", err)
			return row
		}
		var readErr error
		announced := false
		for i := 0; i < n; i++ {
			resp, err := s.read(pctx, "GET")
			if err != nil {
				readErr = err
				break
			}
			row.record(resp)
			if closes, ann := closesAfter(resp); closes {
				announced = ann
				if i < n-1 {
					readErr = errEndedEarly
				}
				break
			}
		}
		s.close()
		got := len(row.responses)
		if got == 0 {
			row.fail("pipeline", readErr)
			return row
		}
		ord := checkOrder(row.responses, n, func() [2]*Response {
			return [2]*Response{p.reference(ctx, pipelinePath(p.t.path, n, 0)), p.reference(ctx, pipelinePath(p.t.path, n, 1))}
		})
		if ord.bad >= 0 {
			if ord.rejected {
				row.set(LevelWarn, fmt.Sprintf("response %d of %d is a %d where the request alone gets %s: the pipeline broke there",
					ord.bad+1, n, row.responses[ord.bad].StatusCode, ord.alone), CodePipelineRejected)
			} else {
				row.set(LevelWarn, fmt.Sprintf("response %d does not match request %d (%s): answers out of order", ord.bad+1, ord.bad+1, ord.how),
					CodePipelineOutOfOrder)
			}
			return row
		}
		order := "in order"
		if !ord.verified {
			order = "order not checkable: " + ord.why
		}
		if got < n {
			if announced {
				row.set(LevelOK, fmt.Sprintf("answered %d of %d (%s), then closed with notice (Connection: close)", got, n, order),
					CodePipelineLimited, CodeCloseHeaderSent)
				return row
			}
			code, phrase := classify(readErr)
			if errors.Is(readErr, errEndedEarly) {
				code, phrase = CodeClosed, "a close-delimited response ended the connection"
			}
			row.set(LevelWarn, fmt.Sprintf("only %d of %d answered (%s), then %s", got, n, order, phrase), CodePipelinePartial, code)
			row.Error = readErr.Error()
			return row
		}
		if ord.verified {
			row.set(LevelOK, fmt.Sprintf("all %d answered, in order (%s)", n, ord.how), CodePipelineOK)
		} else {
			row.set(LevelOK, fmt.Sprintf("all %d answered (%s)", n, order), CodePipelineUnverified)
		}
		return row
	}
}

// reference asks for path alone, on a connection of its own, and returns
// the response, or nil when there is none.
func (p *prober) reference(ctx context.Context, path string) *Response {
	s, err := dial(ctx, p.t, p.o)
	if err != nil {
		return nil
	}
	defer s.close()
	resp, err := s.roundTrip(ctx, "GET", request("GET", path, "HTTP/1.1", p.t.host, "Connection: close"))
	if err != nil {
		return nil
	}
	return resp
}

// orderCheck is what the responses of a pipeline tell about its order.
type orderCheck struct {
	verified bool   // the order could be checked (and, with bad < 0, holds)
	how      string // the signal that told it
	why      string // when not verified: why not
	bad      int    // the first response that does not fit its request; -1 if none
	rejected bool   // ...because it is a 400 or 5xx where the request alone is not
	alone    string // ...the status the request alone gets
}

// checkOrder checks that each response fits its request. The exact signal
// is a response that echoes its request's tag. Without it, the two kinds of
// request (the target, the not-found path) must be told apart by their
// answers: refs (called at most once) asks each kind alone, and a response
// fits when it looks like its own kind's answer. What looks alike is
// compared at the coarsest level that differs between the kinds: the
// status; else the body (length and bytes). When the two kinds get the same
// answer — a server that answers 200 "hello" on every path — the order
// cannot be told, and the probe says so instead of accusing the server.
func checkOrder(resps []*Response, n int, refs func() [2]*Response) orderCheck {
	res := orderCheck{bad: -1}
	unmarked := false
	for i, resp := range resps {
		j := markerIndex(resp.Body, n)
		if j < 0 {
			unmarked = true
			continue
		}
		res.verified, res.how = true, "the responses echo their request"
		if j != i {
			res.bad = i
			res.how = fmt.Sprintf("it echoes request %d", j+1)
			return res
		}
	}
	if !unmarked {
		return res
	}
	ref := refs()
	var same func(a, b *Response) bool
	switch {
	case ref[0] == nil || ref[1] == nil:
		res.why = "the requests alone got no answer to compare with"
	case ref[0].StatusCode != ref[1].StatusCode:
		same = func(a, b *Response) bool { return a.StatusCode == b.StatusCode }
		res.how = fmt.Sprintf("statuses: %d for the target, %d for the 404 path", ref[0].StatusCode, ref[1].StatusCode)
	case !sameBody(ref[0], ref[1]):
		same = func(a, b *Response) bool { return a.StatusCode == b.StatusCode && sameBody(a, b) }
		res.how = "bodies: the target and the 404 path get different ones"
	default:
		res.why = fmt.Sprintf("the target and the 404 path get the same answer (%d, %d-byte body)", ref[0].StatusCode, ref[0].BodyLen)
	}
	for i, resp := range resps {
		if markerIndex(resp.Body, n) >= 0 {
			continue
		}
		own := ref[i%2]
		if st := resp.StatusCode; (st == 400 || st >= 500) && own != nil && own.StatusCode != st {
			res.bad, res.rejected, res.alone = i, true, fmt.Sprint(own.StatusCode)
			return res
		}
		if same == nil {
			continue
		}
		switch {
		case same(resp, own):
			res.verified = true
		case same(resp, ref[1-i%2]):
			res.verified, res.bad = true, i
			res.how = fmt.Sprintf("it is the answer %s gets alone; %s", [2]string{"the target", "the 404 path"}[1-i%2], res.how)
			return res
		default:
			// Neither kind's answer: the server answers a request
			// differently each time. Nothing to tell from it.
		}
	}
	if !res.verified && res.why == "" {
		res.why = "no response looks like one kind's answer alone"
	}
	return res
}

// sameBody reports whether a and b have the same body, as far as it was kept.
func sameBody(a, b *Response) bool {
	return a.BodyLen == b.BodyLen && bytes.Equal(a.Body, b.Body)
}

func probePostCRLF(ctx context.Context, p *prober) Row {
	body := "kaprobe"
	row := Row{Sent: fmt.Sprintf("POST %s HTTP/1.1 (%d-byte body) + stray CRLF, then GET %s on the same connection", p.o.PathPost, len(body), p.t.path)}
	s, err := p.dial(ctx, &row)
	if err != nil {
		return row
	}
	defer s.close()
	post := request("POST", p.o.PathPost, "HTTP/1.1", p.t.host,
		"Content-Type: text/plain", fmt.Sprintf("Content-Length: %d", len(body)))
	post = append(post, body+"\r\n"...)
	resp, err := s.roundTrip(ctx, "POST", post)
	if err != nil {
		row.fail("POST", err)
		row.Codes = append([]Code{CodeCRLFPostFail}, row.Codes...)
		return row
	}
	row.record(resp)
	if closes, announced := closesAfter(resp); closes {
		c := CodeCloseHeaderMissing
		if announced {
			c = CodeCloseHeaderSent
		}
		row.set(LevelWarn, "the server ended the connection after the POST response; the request after the CRLF could not be sent", CodeCRLFClosed, c)
		return row
	}
	resp2, err := s.roundTrip(ctx, "GET", request("GET", withQuery(p.t.path, "after-crlf"), "HTTP/1.1", p.t.host))
	if err != nil {
		if isClosed(err) {
			row.set(LevelWarn, "the server closed the connection instead of answering the request after the stray CRLF", CodeCRLFClosed)
			row.Error = err.Error()
			return row
		}
		row.fail("request after the CRLF", err)
		return row
	}
	row.record(resp2)
	if resp2.StatusCode == 400 {
		row.set(LevelWarn, "the stray CRLF made the server answer 400 Bad Request to the next request", CodeCRLF400)
		return row
	}
	row.set(LevelOK, fmt.Sprintf("stray CRLF tolerated: the next request was answered %d", resp2.StatusCode), CodeCRLFOK)
	return row
}
