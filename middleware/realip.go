package middleware

import (
	"net"
	"net/netip"
	"strings"

	"github.com/kahttp/kahttp"
)

// RealIP sets Request.RemoteAddr to the client's address when the request
// came through trusted proxies (their addresses, "10.1.2.3", or networks,
// "10.0.0.0/8"): from Forwarded's for= (RFC 7239), else X-Forwarded-For,
// walking from the right past the trusted proxies' own entries to the
// first address they vouch for. From any other peer both fields are
// ignored: a client cannot claim another address. It panics on an entry
// that is neither an address nor a network (a mistake to find at start).
func RealIP(trusted ...string) kahttp.Middleware {
	var nets []netip.Prefix
	for _, t := range trusted {
		p, err := netip.ParsePrefix(t)
		if err != nil {
			a, aerr := netip.ParseAddr(t)
			if aerr != nil {
				panic("middleware.RealIP: " + t + " is neither an address nor a network")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		nets = append(nets, p.Masked())
	}
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range nets {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			if peer, ok := addrOf(r.RemoteAddr()); ok && isTrusted(peer) {
				if client, ok := forwardedClient(r, isTrusted); ok {
					r.SetRemoteAddr(&net.TCPAddr{IP: client.AsSlice(), Zone: client.Zone()})
				}
			}
			next.Serve(w, r)
		})
	}
}

func addrOf(a net.Addr) (netip.Addr, bool) {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(ta.IP)
		return ip.Unmap(), ok
	}
	if a == nil {
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap(), err == nil
}

// forwardedClient is the rightmost address of the proxies' chain that is
// not a trusted proxy's own, from Forwarded or else X-Forwarded-For.
func forwardedClient(r *kahttp.Request, isTrusted func(netip.Addr) bool) (netip.Addr, bool) {
	var hops []string
	if f := r.Header("Forwarded"); f != "" {
		for elem := range strings.SplitSeq(f, ",") {
			for pair := range strings.SplitSeq(elem, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
				if strings.EqualFold(k, "for") {
					hops = append(hops, forwardedNode(v))
				}
			}
		}
	} else if x := r.Header("X-Forwarded-For"); x != "" {
		for h := range strings.SplitSeq(x, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	var client netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // an address the chain cannot vouch for: stop at what came before it
		}
		client = a.Unmap()
		if !isTrusted(client) {
			return client, true
		}
	}
	return client, client.IsValid()
}

// forwardedNode is the address of a Forwarded node: for=192.0.2.60,
// for="[2001:db8::17]:4711", for="192.0.2.60:80".
func forwardedNode(v string) string {
	v = strings.Trim(v, `"`)
	if strings.HasPrefix(v, "[") {
		if i := strings.IndexByte(v, ']'); i > 0 {
			return v[1:i]
		}
	}
	if i := strings.LastIndexByte(v, ':'); i >= 0 && strings.Count(v, ":") == 1 {
		return v[:i]
	}
	return v
}
