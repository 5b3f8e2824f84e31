package ingress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sfjira/sfjira/internal/catalog"
	"github.com/sfjira/sfjira/internal/config"
	"github.com/sfjira/sfjira/internal/salesforce"
)

// Defaults for Ingress.Limits fields left zero.
const (
	defaultMaxBody      = 5 << 20
	defaultReplayWindow = 15 * time.Minute
	defaultRate         = 500
	defaultBurst        = 5000
	// futureSkew is how far a delivery's timestamp may run ahead of this clock.
	futureSkew = 5 * time.Minute
)

func (in *Ingress) limits() config.WebhookLimits {
	l := in.Limits
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = defaultMaxBody
	}
	if l.ReplayWindow <= 0 {
		l.ReplayWindow = defaultReplayWindow
	}
	if l.RatePerSecond <= 0 {
		l.RatePerSecond = defaultRate
	}
	if l.Burst <= 0 {
		l.Burst = defaultBurst
	}
	return l
}

func (in *Ingress) now() time.Time {
	if in.Now != nil {
		return in.Now()
	}
	return time.Now()
}

// limiterSet keeps one token bucket per receiver and source address.
type limiterSet struct {
	mu       sync.Mutex
	buckets  map[string]*bucket
	lastScan time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// allow reports whether a request from remote to receiver fits the per-source rate.
func (in *Ingress) allow(receiver string, r *http.Request) bool {
	l := in.limits()
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	key := receiver + "|" + host
	now := in.now()
	in.rl.mu.Lock()
	defer in.rl.mu.Unlock()
	if in.rl.buckets == nil {
		in.rl.buckets = map[string]*bucket{}
	}
	if now.Sub(in.rl.lastScan) > time.Minute { // forget idle sources so the map stays small
		for k, b := range in.rl.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(in.rl.buckets, k)
			}
		}
		in.rl.lastScan = now
	}
	b := in.rl.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.RatePerSecond), l.Burst)}
		in.rl.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// readBody reads at most the configured body size; ok=false means the response was written
// (413 for an oversized body, 400 for a broken one).
func (in *Ingress) readBody(w http.ResponseWriter, r *http.Request, receiver string) ([]byte, bool) {
	l := in.limits()
	if r.ContentLength > l.MaxBodyBytes {
		in.reject(w, receiver, "too_large", http.StatusRequestEntityTooLarge, catalog.WebhookTooLarge, "delivery larger than "+strconv.FormatInt(l.MaxBodyBytes, 10)+" bytes (security.webhooks.max_body_bytes)")
		return nil, false
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, l.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			in.reject(w, receiver, "too_large", http.StatusRequestEntityTooLarge, catalog.WebhookTooLarge, "delivery larger than "+strconv.FormatInt(l.MaxBodyBytes, 10)+" bytes (security.webhooks.max_body_bytes)")
			return nil, false
		}
		in.reject(w, receiver, "malformed", http.StatusBadRequest, catalog.WebhookMalformed, "cannot read body")
		return nil, false
	}
	return body, true
}

// reject answers a delivery that starts nothing: the status tells the sender whether to retry
// (429 and 503 do, 4xx do not), and the catalog code is in the header and the body.
func (in *Ingress) reject(w http.ResponseWriter, receiver, reason string, status int, code catalog.Code, msg string) {
	in.Acts.Metrics.IngressRejected(receiver, reason)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set(ErrorCodeHeader, string(code))
	if receiver == "salesforce" {
		// Outbound Messages expect a SOAP answer either way.
		writeSOAP(w, status, code, salesforce.OutboundAck(false))
		return
	}
	http.Error(w, string(code)+": "+msg, status)
}

// claim records a delivery id; false means it was seen within the replay window. Without a
// store (benchmarks) every delivery is new.
func (in *Ingress) claim(ctx context.Context, source, id string) (bool, error) {
	if id == "" || in.Acts.Store == nil {
		return true, nil
	}
	in.maybePrune(ctx)
	return in.Acts.Store.ClaimDelivery(ctx, source, id)
}

func (in *Ingress) release(source, id string) {
	if id == "" || in.Acts.Store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = in.Acts.Store.ReleaseDelivery(ctx, source, id)
}

// maybePrune drops expired delivery ids at most once a minute.
func (in *Ingress) maybePrune(ctx context.Context) {
	now := in.now()
	in.pruneMu.Lock()
	due := now.Sub(in.lastPrune) > time.Minute
	if due {
		in.lastPrune = now
	}
	in.pruneMu.Unlock()
	if due {
		_, _ = in.Acts.Store.PruneDeliveries(ctx, 2*in.limits().ReplayWindow)
	}
}
