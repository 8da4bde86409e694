// This file is the abuse limit of the public endpoints: a token bucket
// (golang.org/x/time/rate) per client address and class of endpoint, in a bounded LRU.
// The limit is per api process (see docs/security.md).

package api

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// DefaultRateLimits is each class's limit per client address, as RATE_LIMITS reads it:
// a person signs up once (ten a minute leave room for a shared address, and bound email
// probes to 600 an hour); the front end calls generate-paid once after checkout (a
// burst of 100 takes a page that retries in parallel); status is one indexed read,
// polled every few seconds by each person behind the address.
const DefaultRateLimits = "signup=10/1m:10,generate=10/1s:100,status=20/1s:200"

// maxClients is how many client addresses each class remembers; past it the least
// recently seen is forgotten (its bucket starts full again when it comes back).
const maxClients = 1 << 15

// Rate is one class's limit: Events per Period, in bursts of up to Burst. Zero Events
// turns the class's limit off.
type Rate struct {
	Events int
	Period time.Duration
	Burst  int
}

// RateLimits is the limit of each class of public endpoint: signup (POST
// /api/blueprint/subscribers), generate (POST /api/blueprint/generate-paid) and status
// (GET /api/blueprint/status). The webhooks and the JWT-authenticated usage endpoints
// have none.
type RateLimits map[string]Rate

// ParseRateLimits reads "class=N/PERIOD[:BURST],..." (burst defaults to N) or
// "class=off" over DefaultRateLimits; "off" alone turns every limit off, and "" is the
// defaults.
func ParseRateLimits(s string) (RateLimits, error) {
	out := RateLimits{}
	for _, item := range strings.Split(DefaultRateLimits, ",") {
		name, spec, _ := strings.Cut(item, "=")
		out[name], _ = parseRate(spec)
	}
	s = strings.TrimSpace(s)
	if s == "off" {
		for name := range out {
			out[name] = Rate{}
		}
		return out, nil
	}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, spec, ok := strings.Cut(item, "=")
		if _, known := out[name]; !ok || !known {
			return nil, fmt.Errorf("%q: want class=N/PERIOD[:BURST] or class=off, class one of signup, generate, status", item)
		}
		r, err := parseRate(spec)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		out[name] = r
	}
	return out, nil
}

func parseRate(spec string) (Rate, error) {
	if spec == "off" {
		return Rate{}, nil
	}
	bad := fmt.Errorf("want N/PERIOD[:BURST] such as 10/1m:20, or off")
	rateSpec, burst, hasBurst := strings.Cut(spec, ":")
	n, period, ok := strings.Cut(rateSpec, "/")
	if !ok {
		return Rate{}, bad
	}
	var r Rate
	var err error
	if r.Events, err = strconv.Atoi(n); err != nil || r.Events < 1 {
		return Rate{}, bad
	}
	if r.Period, err = time.ParseDuration(period); err != nil || r.Period <= 0 {
		return Rate{}, bad
	}
	r.Burst = r.Events
	if hasBurst {
		if r.Burst, err = strconv.Atoi(burst); err != nil || r.Burst < 1 {
			return Rate{}, bad
		}
	}
	return r, nil
}

// limit returns the middleware that holds each client address to class's rate, and
// answers 429 with Retry-After past it.
func (s *Server) limit(class string) gin.HandlerFunc {
	r := s.cfg.RateLimits[class]
	if r.Events == 0 {
		return func(c *gin.Context) { c.Next() }
	}
	clients, _ := lru.New[string, *rate.Limiter](maxClients) // errors only for a size <= 0
	every := rate.Every(r.Period / time.Duration(r.Events))
	return func(c *gin.Context) {
		key := clientKey(c.ClientIP())
		lim, ok := clients.Get(key)
		if !ok {
			lim = rate.NewLimiter(every, r.Burst)
			if prev, found, _ := clients.PeekOrAdd(key, lim); found {
				lim = prev
			}
		}
		// AllowN takes a token exactly as a reservation without delay would, and leaves
		// the bucket as it is when it refuses; only a refusal reserves, to learn the wait,
		// and cancels.
		now := time.Now()
		if !lim.AllowN(now, 1) {
			res := lim.ReserveN(now, 1)
			if wait := res.DelayFrom(now); wait > 0 {
				res.CancelAt(now)
				secs := strconv.Itoa(int(math.Ceil(wait.Seconds())))
				c.Header("Retry-After", secs)
				renderError(c, &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
					Message: "too many requests from this address; retry in " + secs + " s"})
				return
			}
		}
		c.Next()
	}
}

// clientKey is what a client is limited by: its IPv4 address, or its IPv6 /64 (one
// subscriber's home network or host usually has a whole /64).
func clientKey(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is4() {
		// netip takes only dotted quads without leading zeros: addr is already in the form
		// To4().String() gives below.
		return addr
	}
	ip := net.ParseIP(addr)
	switch {
	case ip == nil:
		return addr
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
