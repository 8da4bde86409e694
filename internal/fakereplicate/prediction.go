package fakereplicate

import (
	"crypto/rand"
	"strconv"
	"strings"
	"time"
)

// prediction is the fake's record of one prediction.
type prediction struct {
	id, model, version string
	input              map[string]any
	status             string // starting, processing, succeeded, failed, canceled
	outputs            int    // number of output files
	single             bool   // output is one URL string, not a list (flux-1.1-pro)
	errText            string
	createdAt          time.Time
	startedAt          time.Time
	completedAt        time.Time
	dataRemoved        bool
	base               string // public base URL for outputs and urls
}

func (p *prediction) final() bool {
	return p.status == "succeeded" || p.status == "failed" || p.status == "canceled"
}

// json renders p as Replicate does.
func (p *prediction) json() map[string]any {
	get := p.base + "/v1/predictions/" + p.id
	m := map[string]any{
		"id": p.id, "model": p.model, "version": p.version, "input": p.input,
		"output": nil, "error": nil, "logs": "", "status": p.status, "source": "api",
		"data_removed": p.dataRemoved, "created_at": stamp(p.createdAt),
		"started_at": nil, "completed_at": nil,
		"urls": map[string]string{
			"get": get, "cancel": get + "/cancel", "web": "https://replicate.com/p/" + p.id,
			"stream": p.base + "/stream/" + p.id,
		},
	}
	if !p.startedAt.IsZero() {
		m["started_at"] = stamp(p.startedAt)
		m["logs"] = "Using seed: 42\n"
	}
	if p.final() {
		m["completed_at"] = stamp(p.completedAt)
		m["metrics"] = map[string]any{
			"predict_time": p.completedAt.Sub(p.startedAtOr()).Seconds(),
			"total_time":   p.completedAt.Sub(p.createdAt).Seconds(),
		}
	}
	if p.errText != "" {
		m["error"] = p.errText
	}
	if p.status == "succeeded" && !p.dataRemoved {
		urls := make([]string, p.outputs)
		for i := range urls {
			urls[i] = p.base + "/files/" + p.id + "/out-" + strconv.Itoa(i) + ".png"
		}
		if p.single && len(urls) > 0 {
			m["output"] = urls[0]
		} else {
			m["output"] = urls
		}
	}
	return m
}

func (p *prediction) startedAtOr() time.Time {
	if p.startedAt.IsZero() {
		return p.createdAt
	}
	return p.startedAt
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// newID returns an id shaped like Replicate's: 26 lowercase letters and digits.
func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 26)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}
