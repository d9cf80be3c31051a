package probe

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Probes against fake servers that misbehave in controlled ways.

func TestRunAgainstFakes(t *testing.T) {
	type want map[string][]Code
	cases := []struct {
		name  string
		fake  fake
		opts  func(*Options)
		check want
	}{
		{
			name: "well behaved with limits",
			fake: fake{idle: 400 * time.Millisecond, maxReq: 4, announce: true, ka10: true, kaHeader: "timeout=1, max=3",
				largePath: "/large", largeBytes: 100000},
			opts: func(o *Options) { o.PathLarge = "/large" },
			check: want{
				"http11-persist":       {CodePersistent},
				"http10-close":         {CodeHTTP10Closed},
				"http10-keepalive":     {CodeKeepAliveHonoured, CodeKeepAliveEchoed, CodeKeepAliveAdvertised},
				"idle-timeout":         {CodeIdleMeasured, CodeAdvertisedMatches},
				"max-requests":         {CodeMaxMeasured, CodeAnnouncedLast, CodeAdvertisedMatches},
				"pipeline-2":           {CodePipelineOK},
				"pipeline-10":          {CodePipelineLimited},
				"post-crlf":            {CodeCRLFOK},
				"framing-http11":       {CodeFramingContentLength, CodeKeptOpen},
				"framing-http10":       {CodeFramingContentLength, CodeKeptOpen},
				"framing-http11-large": {CodeFramingChunked, CodeKeptOpen},
				"framing-http10-large": {CodeFramingCloseDelimited, CodeClosedAfter},
			},
		},
		{
			name: "closes after every response without notice",
			fake: fake{closeEach: true},
			check: want{
				"http11-persist":   {CodeClosedUnannounced, CodeCloseHeaderMissing},
				"http10-close":     {CodeHTTP10Closed},
				"http10-keepalive": {CodeKeepAliveIgnored},
				"idle-timeout":     {CodeNotPersistent},
				"max-requests":     {CodeMaxMeasured, CodeUnannouncedLast},
				"pipeline-2":       {CodePipelinePartial},
				"pipeline-10":      {CodePipelinePartial},
				"post-crlf":        {CodeCRLFClosed},
				"framing-http11":   {CodeFramingContentLength, CodeClosedAfter},
			},
		},
		{
			// python3 -m http.server: HTTP/1.0 answers with a length and no
			// Connection field, then the close. "Kept open" must be seen.
			name: "answers HTTP/1.0 and closes, without notice",
			fake: fake{http10: true, closeEach: true},
			check: want{
				"http11-persist": {CodeClosedUnannounced, CodeCloseHeaderMissing},
				"framing-http11": {CodeFramingContentLength, CodeClosedAfter},
				"framing-http10": {CodeFramingContentLength, CodeClosedAfter},
			},
		},
		{
			name: "ignores HTTP/1.0 keep-alive",
			fake: fake{ka10: false},
			check: want{
				"http11-persist":   {CodePersistent},
				"http10-keepalive": {CodeKeepAliveIgnored},
				"framing-http10":   {CodeFramingContentLength, CodeClosedAfter},
			},
		},
		{
			name: "drops all but the first request of a pipeline",
			fake: fake{pipeline: "first-only"},
			check: want{
				"http11-persist": {CodePersistent},
				"pipeline-2":     {CodePipelinePartial, CodeTimeout},
				"pipeline-10":    {CodePipelinePartial, CodeTimeout},
			},
		},
		{
			name: "answers a pipeline in reverse order",
			fake: fake{pipeline: "reverse"},
			check: want{
				"pipeline-2":  {CodePipelineOutOfOrder},
				"pipeline-10": {CodePipelineOutOfOrder},
			},
		},
		{
			// nginx with `return 200 "hello\n"`: every path gets the same
			// answer, so the order cannot be told, and is not accused.
			name: "same answer on every path, in order",
			fake: fake{answer: "hello\n"},
			check: want{
				"pipeline-2":  {CodePipelineUnverified},
				"pipeline-10": {CodePipelineUnverified},
			},
		},
		{
			name: "same answer on every path, reversed: still not checkable",
			fake: fake{answer: "hello\n", pipeline: "reverse"},
			check: want{
				"pipeline-2":  {CodePipelineUnverified},
				"pipeline-10": {CodePipelineUnverified},
			},
		},
		{
			name: "same answer on every path, closes after 5 with notice",
			fake: fake{answer: "hello\n", maxReq: 5, announce: true},
			check: want{
				"pipeline-2":  {CodePipelineUnverified},
				"pipeline-10": {CodePipelineLimited, CodeCloseHeaderSent},
			},
		},
		{
			name: "no echo, statuses differ, in order",
			fake: fake{noEcho: true},
			check: want{
				"pipeline-2":  {CodePipelineOK},
				"pipeline-10": {CodePipelineOK},
			},
		},
		{
			name: "no echo, statuses differ, reversed",
			fake: fake{noEcho: true, pipeline: "reverse"},
			check: want{
				"pipeline-2":  {CodePipelineOutOfOrder},
				"pipeline-10": {CodePipelineOutOfOrder},
			},
		},
		{
			name: "no echo, same status, bodies differ, in order",
			fake: fake{noEcho: true, notFound200: true},
			check: want{
				"pipeline-2":  {CodePipelineOK},
				"pipeline-10": {CodePipelineOK},
			},
		},
		{
			name: "no echo, same status, bodies differ, reversed",
			fake: fake{noEcho: true, notFound200: true, pipeline: "reverse"},
			check: want{
				"pipeline-2":  {CodePipelineOutOfOrder},
				"pipeline-10": {CodePipelineOutOfOrder},
			},
		},
		{
			name:  "answers 400 after a stray CRLF",
			fake:  fake{crlf: "400"},
			check: want{"post-crlf": {CodeCRLF400}, "http11-persist": {CodePersistent}},
		},
		{
			name:  "closes on a stray CRLF",
			fake:  fake{crlf: "close"},
			check: want{"post-crlf": {CodeCRLFClosed}},
		},
		{
			name: "closes after N requests without notice, advertises other values",
			fake: fake{maxReq: 3, idle: 300 * time.Millisecond, ka10: true, kaHeader: "timeout=15, max=100"},
			check: want{
				"max-requests": {CodeMaxMeasured, CodeUnannouncedLast, CodeAdvertisedDiffers},
				"idle-timeout": {CodeIdleMeasured, CodeAdvertisedDiffers},
			},
		},
		{
			name: "sends chunked to HTTP/1.0",
			fake: fake{ka10: true, chunked10: true, largePath: "/large", largeBytes: 10000},
			opts: func(o *Options) { o.PathLarge = "/large" },
			check: want{
				"framing-http10-large": {CodeFramingChunked, CodeChunkedOnHTTP10},
				"framing-http11-large": {CodeFramingChunked},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := fastOptions(tc.fake.start(t))
			if tc.opts != nil {
				tc.opts(&o)
			}
			rep := mustRun(t, o)
			for id, codes := range tc.check {
				assertCodes(t, rep, id, codes...)
			}
		})
	}
}

func TestFakeMeasurements(t *testing.T) {
	t.Parallel()
	u := fake{idle: 400 * time.Millisecond, maxReq: 4, announce: true}.start(t)
	rep := mustRun(t, fastOptions(u))

	idle := assertCodes(t, rep, "idle-timeout", CodeIdleMeasured)
	require.NotNil(t, idle.Measured)
	assert.True(t, idle.Measured.Reached)
	assertSeconds(t, 0.4, idle.Measured.Value, "measured idle timeout")

	mr := assertCodes(t, rep, "max-requests", CodeMaxMeasured)
	require.NotNil(t, mr.Measured)
	assert.Equal(t, 4.0, mr.Measured.Value)
	assert.Equal(t, []int{200, 200, 200, 200}, mr.Statuses)
	assert.Equal(t, "- ×3 → close", mr.Connection)
}

func TestIdleLongerThanMaxIdle(t *testing.T) {
	t.Parallel()
	u := fake{}.start(t)
	o := fastOptions(u)
	o.MaxIdle = 700 * time.Millisecond
	o.MaxRequests = 30
	rep := mustRun(t, o)
	idle := assertCodes(t, rep, "idle-timeout", CodeIdleLonger, CodeAdvertisedNone)
	require.NotNil(t, idle.Measured)
	assert.False(t, idle.Measured.Reached)
	assert.Equal(t, "longer than 0.70 s", idle.Measured.String())
	mr := assertCodes(t, rep, "max-requests", CodeMaxUnlimited)
	assert.Equal(t, "more than 30 requests", mr.Measured.String())
}

// A server that reads the request and never answers: every row says
// timeout, and the run ends within its bound.
func TestHangingServer(t *testing.T) {
	t.Parallel()
	u := startRaw(t, answerRaw("", "hang"))
	o := fastOptions(u)
	o.Timeout = 700 * time.Millisecond
	start := time.Now()
	rep := mustRun(t, o)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Zero(t, rep.Baseline)
	for _, r := range rep.Rows {
		assert.Equal(t, LevelError, r.Level, r.Probe)
		assert.Contains(t, []Code{CodeTimeout, CodeCRLFPostFail}, r.Codes[0], r.Probe)
		assert.Contains(t, r.Codes, CodeTimeout, r.Probe)
	}
}

func TestMisbehavingRaw(t *testing.T) {
	cases := []struct {
		name   string
		handle func(net.Conn)
		code   Code
	}{
		{"garbage", answerRaw("SSH-2.0-OpenSSH_9.6\r\n\r\n", "close"), CodeGarbage},
		{"garbage header", answerRaw("HTTP/1.1 200 OK\r\nthis is not a header\r\n\r\n", "close"), CodeGarbage},
		{"reset", answerRaw("", "reset"), CodeReset},
		{"close without answer", answerRaw("", "close"), CodeClosed},
		{"truncated", answerRaw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "close"), CodeTruncated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := mustRun(t, fastOptions(startRaw(t, tc.handle)))
			for _, id := range []string{"http11-persist", "http10-keepalive", "idle-timeout", "max-requests", "pipeline-2", "framing-http11"} {
				row := assertCodes(t, rep, id, tc.code)
				assert.Equal(t, LevelError, row.Level, id)
				assert.NotEmpty(t, row.Error, id)
			}
			assertCodes(t, rep, "post-crlf", CodeCRLFPostFail, tc.code)
		})
	}
}

func TestUnsolicitedBytes(t *testing.T) {
	t.Parallel()
	// Answers an HTTP/1.0 request, then sends more bytes instead of closing.
	u := startRaw(t, answerRaw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", "hang"))
	o := fastOptions(u)
	o.Probes = []string{"http10-close"}
	rep := mustRun(t, o)
	require.Len(t, rep.Rows, 1)
	assertCodes(t, rep, "http10-close", CodeUnsolicited)
}
