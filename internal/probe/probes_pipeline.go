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
		s, err := p.dial(ctx, &row)
		if err != nil {
			return row
		}
		defer s.close()
		var buf []byte
		for i := 0; i < n; i++ {
			buf = append(buf, request("GET", pipelinePath(p.t.path, n, i), "HTTP/1.1", p.t.host)...)
		}
		if err := s.send(ctx, buf); err != nil {
			row.fail("write", err)
			return row
		}
		var readErr error
		announced := false
		for i := 0; i < n; i++ {
			resp, err := s.read(ctx, "GET")
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
		got := len(row.responses)
		if got == 0 {
			row.fail("pipeline", readErr)
			return row
		}
		verified, bad := checkOrder(row.responses, n, p.baseline)
		if bad >= 0 {
			st := row.responses[bad].StatusCode
			if st == 400 || st >= 500 {
				row.set(LevelWarn, fmt.Sprintf("response %d of %d is a %d where the request alone succeeds: the pipeline broke there", bad+1, n, st),
					CodePipelineRejected)
			} else {
				row.set(LevelWarn, fmt.Sprintf("response %d does not match request %d: answers out of order", bad+1, bad+1),
					CodePipelineOutOfOrder)
			}
			return row
		}
		if got < n {
			if announced {
				row.set(LevelOK, fmt.Sprintf("answered %d of %d in order, then closed with notice (Connection: close)", got, n),
					CodePipelineLimited, CodeCloseHeaderSent)
				return row
			}
			code, phrase := classify(readErr)
			if errors.Is(readErr, errEndedEarly) {
				code, phrase = CodeClosed, "a close-delimited response ended the connection"
			}
			row.set(LevelWarn, fmt.Sprintf("only %d of %d answered, then %s", got, n, phrase), CodePipelinePartial, code)
			row.Error = readErr.Error()
			return row
		}
		if verified {
			row.set(LevelOK, fmt.Sprintf("all %d answered, in order", n), CodePipelineOK)
		} else {
			row.set(LevelOK, fmt.Sprintf("all %d answered (order not checkable: identical responses)", n), CodePipelineUnverified)
		}
		return row
	}
}

// checkOrder reports whether the order could be verified, and the index of
// the first response that does not fit its request (-1 if none). A response
// fits when it echoes its own tag, or, without tags, when its status
// follows the target / not-found alternation (when baseline, the target's
// status on its own, is a success or redirect).
func checkOrder(resps []*Response, n, baseline int) (verified bool, bad int) {
	patterned := baseline >= 200 && baseline < 400
	for i, resp := range resps {
		if j := markerIndex(resp.Body, n); j >= 0 {
			verified = true
			if j != i {
				return true, i
			}
			continue
		}
		if !patterned {
			continue
		}
		verified = true
		want := resp.StatusCode == baseline
		if i%2 == 1 {
			want = resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != 400
		}
		if !want {
			return true, i
		}
	}
	return verified, -1
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
