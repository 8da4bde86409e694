package fakereplicate

// This file holds the fake's record of one prediction and its JSON as Replicate renders it.

import (
	"crypto/rand"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// Prediction statuses, as Replicate spells them.
const (
	statusStarting   = "starting"
	statusProcessing = "processing"
	statusSucceeded  = "succeeded"
	statusFailed     = "failed"
	statusCanceled   = "canceled"
)

// prediction is the fake's record of one prediction. The Server's mutex guards it.
type prediction struct {
	id, model, version string
	input              map[string]any // as posted; never changed after create
	outputs            int            // number of output files
	single             bool           // output is one URL string, not a list (flux-1.1-pro)
	base               string         // public base URL of its files and urls
	status             string
	errText            string
	createdAt          time.Time
	startedAt          time.Time
	completedAt        time.Time
	dataRemoved        bool
	badOutput          bool          // its files are HTML served as image/png (Config.BadOutputRate)
	missingFile        bool          // its files answer 404 (Config.MissingFileRate)
	logsBytes          int           // its logs once final are padded to this many bytes (Config.LogsBytes)
	hook               *hook         // where to send its webhooks; nil without one
	done               chan struct{} // closed when it reaches its final status
}

func (p *prediction) final() bool {
	return p.status == statusSucceeded || p.status == statusFailed || p.status == statusCanceled
}

// render returns p as Replicate's JSON. The result shares only the immutable input.
func (p *prediction) render() map[string]any {
	get := p.base + "/v1/predictions/" + p.id
	m := map[string]any{
		"id": p.id, "model": p.model, "version": p.version, "input": p.input,
		"output": nil, "error": nil, "logs": p.logs(), "status": p.status, "source": "api",
		"data_removed": p.dataRemoved, "created_at": stamp(p.createdAt),
		"started_at": nil, "completed_at": nil,
		"urls": map[string]string{
			"get": get, "cancel": get + "/cancel",
			"web": "https://replicate.com/p/" + p.id, "stream": p.base + "/v1/stream/" + p.id,
		},
	}
	if !p.startedAt.IsZero() {
		m["started_at"] = stamp(p.startedAt)
	}
	if p.final() {
		m["completed_at"] = stamp(p.completedAt)
		predict := 0.0
		if !p.startedAt.IsZero() {
			predict = p.completedAt.Sub(p.startedAt).Seconds()
		}
		m["metrics"] = map[string]any{"predict_time": predict, "total_time": p.completedAt.Sub(p.createdAt).Seconds()}
	}
	if p.errText != "" {
		m["error"] = p.errText
	}
	if p.status == statusSucceeded && !p.dataRemoved {
		m["output"] = p.output()
	}
	return m
}

// output is the list of p's file URLs, or the first alone for a single-output model.
func (p *prediction) output() any {
	urls := make([]string, p.outputs)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/files/%s/%d.png", p.base, p.id, i)
	}
	if p.single {
		return urls[0]
	}
	return urls
}

// logs is what a flux model prints by this point of its run.
func (p *prediction) logs() string {
	if p.startedAt.IsZero() {
		return ""
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(p.id))
	logs := fmt.Sprintf("Using seed: %d\n", h.Sum32()%100000)
	const bar = "100%|██████████| 4/4 [00:00<00:00,  6.12it/s]\n"
	if p.status == statusSucceeded {
		logs += bar
	}
	if p.final() && len(logs) < p.logsBytes {
		logs += strings.Repeat(bar, (p.logsBytes-len(logs))/len(bar)+1)
	}
	return logs
}

// stamp formats t as Replicate does: RFC 3339 with nanoseconds, in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// newID returns an id shaped like Replicate's: 26 lowercase base32 characters. It uses
// crypto/rand, not the seeded source, so fakes sharing a seed never share ids.
func newID() string { return strings.ToLower(rand.Text()) }
