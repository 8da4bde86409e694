// This file writes server-sent events: the photo and state events of the OpenAPI
// document's /api/blueprint/events, and comments, each write under a fresh deadline.

package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"photogen/generation"
)

// photoEvent is the data of a `photo` event (PhotoEvent in the OpenAPI document).
type photoEvent struct {
	Index int    `json:"index"`
	URL   string `json:"url"`
}

// stateEvent is the data of a `state` event (StateEvent in the OpenAPI document).
type stateEvent struct {
	State        string  `json:"state"`
	TotalPhotos  int     `json:"totalPhotos"`
	TargetPhotos int     `json:"targetPhotos"`
	Error        *string `json:"error"`
	Delay        *delay  `json:"delay"`
}

// eventStream is one open stream: what it has sent, and the events not yet flushed.
type eventStream struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	buf   bytes.Buffer
	sent  int         // photos sent, or skipped by Last-Event-ID: the last photo event's id
	state *stateEvent // the last state sent; nil before the first
}

// news adds the events sub holds that the stream has not sent: each photo after the last
// sent, in order, then the state if it is not the one sent last.
func (e *eventStream) news(sub *generation.Subscriber) error {
	for i := e.sent; i < len(sub.PhotoURLs); i++ {
		if err := e.event("photo", i+1, photoEvent{Index: i + 1, URL: sub.PhotoURLs[i]}); err != nil {
			return err
		}
	}
	e.sent = max(e.sent, len(sub.PhotoURLs))
	now := stateEvent{State: string(sub.Status), TotalPhotos: len(sub.PhotoURLs), TargetPhotos: sub.TargetPhotos, Error: sub.Error, Delay: delayOf(sub)}
	if e.state != nil && sameState(*e.state, now) {
		return nil
	}
	e.state = &now
	return e.event("state", now.TotalPhotos, now)
}

func sameState(a, b stateEvent) bool {
	return a.State == b.State && a.TotalPhotos == b.TotalPhotos && a.TargetPhotos == b.TargetPhotos &&
		(a.Error == nil) == (b.Error == nil) && (a.Error == nil || *a.Error == *b.Error) &&
		(a.Delay == nil) == (b.Delay == nil) && (a.Delay == nil || *a.Delay == *b.Delay)
}

// event adds one event; its data is one line of JSON.
func (e *eventStream) event(name string, id int, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	e.buf.WriteString("event: " + name + "\nid: " + strconv.Itoa(id) + "\ndata: ")
	e.buf.Write(b)
	e.buf.WriteString("\n\n")
	return nil
}

// comment adds a comment line (": text"), which clients ignore but which keeps proxies and
// the page's silence timer from thinking the stream dead.
func (e *eventStream) comment(text string) { e.buf.WriteString(": " + text + "\n\n") }

// flush writes the events added so far and flushes them to the client, all in one write:
// every event reaches the client as soon as it is known. Before the write it pushes the
// connection's write deadline (the server's WriteTimeout would end the stream otherwise)
// to writeSlack from now.
func (e *eventStream) flush() error {
	if err := e.rc.SetWriteDeadline(time.Now().Add(writeSlack)); err != nil {
		return err
	}
	if e.buf.Len() > 0 {
		if _, err := e.w.Write(e.buf.Bytes()); err != nil {
			return err
		}
		e.buf.Reset()
	}
	return e.rc.Flush()
}
