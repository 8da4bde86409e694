// This file reads GET /api/blueprint/events, the server-sent event stream, as the page
// does: with the access token in the Authorization header and Last-Event-ID to resume.

package demo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Event is one block of an event stream: an event (Name, ID, Data) or a comment.
type Event struct {
	Name    string
	ID      string
	Data    string
	Comment string // the text of a comment line (": ping" gives "ping"), when the block is one
}

// EventStream is an open event stream. Close it when done.
type EventStream struct {
	Response *http.Response
	r        *bufio.Reader
}

// Events opens the subscriber's event stream, resuming after lastID when it is above 0.
// An answer other than 200 is returned as a Response and a nil stream.
func (c *Client) Events(ctx context.Context, token string, lastID int) (*EventStream, Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/api/blueprint/events", nil)
	if err != nil {
		return nil, Response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	if lastID > 0 {
		req.Header.Set("Last-Event-ID", strconv.Itoa(lastID))
	}
	hc := http.Client{} // no overall timeout: a stream lasts; ctx ends it
	if c.HTTP != nil {
		hc.Transport = c.HTTP.Transport
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, Response{}, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return nil, Response{Status: resp.StatusCode, Body: b, Header: resp.Header}, err
	}
	return &EventStream{Response: resp, r: bufio.NewReader(resp.Body)}, Response{Status: resp.StatusCode, Header: resp.Header}, nil
}

// Next returns the next event or comment; io.EOF when the server ended the stream.
func (s *EventStream) Next() (Event, error) {
	var ev Event
	seen := false
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			if err == io.EOF && (seen || line != "") {
				return ev, io.ErrUnexpectedEOF
			}
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if seen {
				return ev, nil
			}
			continue
		}
		seen = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			ev.Comment = value
		case "event":
			ev.Name = value
		case "id":
			ev.ID = value
		case "data":
			if ev.Data != "" {
				ev.Data += "\n"
			}
			ev.Data += value
		default:
			return ev, fmt.Errorf("event stream: unknown field %q", field)
		}
	}
}

// Close closes the stream.
func (s *EventStream) Close() error { return s.Response.Body.Close() }
