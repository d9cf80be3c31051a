package kahttp_test

import (
	"net/http"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
)

func TestStatusConstantsMatchNetHTTP(t *testing.T) {
	cases := []struct{ ours, theirs int }{
		{kahttp.StatusContinue, http.StatusContinue}, {kahttp.StatusSwitchingProtocols, http.StatusSwitchingProtocols},
		{kahttp.StatusProcessing, http.StatusProcessing}, {kahttp.StatusEarlyHints, http.StatusEarlyHints},
		{kahttp.StatusOK, http.StatusOK}, {kahttp.StatusCreated, http.StatusCreated}, {kahttp.StatusAccepted, http.StatusAccepted},
		{kahttp.StatusNonAuthoritativeInfo, http.StatusNonAuthoritativeInfo}, {kahttp.StatusNoContent, http.StatusNoContent},
		{kahttp.StatusResetContent, http.StatusResetContent}, {kahttp.StatusPartialContent, http.StatusPartialContent},
		{kahttp.StatusMultiStatus, http.StatusMultiStatus}, {kahttp.StatusAlreadyReported, http.StatusAlreadyReported},
		{kahttp.StatusIMUsed, http.StatusIMUsed},
		{kahttp.StatusMultipleChoices, http.StatusMultipleChoices}, {kahttp.StatusMovedPermanently, http.StatusMovedPermanently},
		{kahttp.StatusFound, http.StatusFound}, {kahttp.StatusSeeOther, http.StatusSeeOther}, {kahttp.StatusNotModified, http.StatusNotModified},
		{kahttp.StatusUseProxy, http.StatusUseProxy}, {kahttp.StatusTemporaryRedirect, http.StatusTemporaryRedirect},
		{kahttp.StatusPermanentRedirect, http.StatusPermanentRedirect},
		{kahttp.StatusBadRequest, http.StatusBadRequest}, {kahttp.StatusUnauthorized, http.StatusUnauthorized},
		{kahttp.StatusPaymentRequired, http.StatusPaymentRequired}, {kahttp.StatusForbidden, http.StatusForbidden},
		{kahttp.StatusNotFound, http.StatusNotFound}, {kahttp.StatusMethodNotAllowed, http.StatusMethodNotAllowed},
		{kahttp.StatusNotAcceptable, http.StatusNotAcceptable}, {kahttp.StatusProxyAuthRequired, http.StatusProxyAuthRequired},
		{kahttp.StatusRequestTimeout, http.StatusRequestTimeout}, {kahttp.StatusConflict, http.StatusConflict},
		{kahttp.StatusGone, http.StatusGone}, {kahttp.StatusLengthRequired, http.StatusLengthRequired},
		{kahttp.StatusPreconditionFailed, http.StatusPreconditionFailed},
		{kahttp.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge}, {kahttp.StatusPayloadTooLarge, http.StatusRequestEntityTooLarge},
		{kahttp.StatusRequestURITooLong, http.StatusRequestURITooLong}, {kahttp.StatusURITooLong, http.StatusRequestURITooLong},
		{kahttp.StatusUnsupportedMediaType, http.StatusUnsupportedMediaType},
		{kahttp.StatusRequestedRangeNotSatisfiable, http.StatusRequestedRangeNotSatisfiable},
		{kahttp.StatusRangeNotSatisfiable, http.StatusRequestedRangeNotSatisfiable},
		{kahttp.StatusExpectationFailed, http.StatusExpectationFailed}, {kahttp.StatusTeapot, http.StatusTeapot},
		{kahttp.StatusMisdirectedRequest, http.StatusMisdirectedRequest}, {kahttp.StatusUnprocessableEntity, http.StatusUnprocessableEntity},
		{kahttp.StatusLocked, http.StatusLocked}, {kahttp.StatusFailedDependency, http.StatusFailedDependency},
		{kahttp.StatusTooEarly, http.StatusTooEarly}, {kahttp.StatusUpgradeRequired, http.StatusUpgradeRequired},
		{kahttp.StatusPreconditionRequired, http.StatusPreconditionRequired}, {kahttp.StatusTooManyRequests, http.StatusTooManyRequests},
		{kahttp.StatusRequestHeaderFieldsTooLarge, http.StatusRequestHeaderFieldsTooLarge},
		{kahttp.StatusHeaderFieldsTooLarge, http.StatusRequestHeaderFieldsTooLarge},
		{kahttp.StatusUnavailableForLegalReasons, http.StatusUnavailableForLegalReasons},
		{kahttp.StatusInternalServerError, http.StatusInternalServerError}, {kahttp.StatusNotImplemented, http.StatusNotImplemented},
		{kahttp.StatusBadGateway, http.StatusBadGateway}, {kahttp.StatusServiceUnavailable, http.StatusServiceUnavailable},
		{kahttp.StatusGatewayTimeout, http.StatusGatewayTimeout},
		{kahttp.StatusHTTPVersionNotSupported, http.StatusHTTPVersionNotSupported},
		{kahttp.StatusVersionNotSupported, http.StatusHTTPVersionNotSupported},
		{kahttp.StatusVariantAlsoNegotiates, http.StatusVariantAlsoNegotiates},
		{kahttp.StatusInsufficientStorage, http.StatusInsufficientStorage}, {kahttp.StatusLoopDetected, http.StatusLoopDetected},
		{kahttp.StatusNotExtended, http.StatusNotExtended},
		{kahttp.StatusNetworkAuthenticationRequired, http.StatusNetworkAuthenticationRequired},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.theirs, tc.ours)
	}
}

// Every code net/http names has a reason phrase here, and no other:
// RFC 9110's wording where it renamed one.
func TestStatusTextCoversNetHTTP(t *testing.T) {
	renamed := map[int]string{413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable", 422: "Unprocessable Content"}
	for code := 100; code < 600; code++ {
		want := http.StatusText(code)
		if r, ok := renamed[code]; ok {
			want = r
		}
		assert.Equal(t, want, kahttp.StatusText(code), "code %d", code)
	}
}
