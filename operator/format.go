// This file is how operator commands write their answers: aligned text for people, or
// one JSON document for scripts (--json), with the same facts in both.

package operator

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Format is how an operator command writes its answer.
type Format int

// The formats.
const (
	Text Format = iota // aligned lines for people
	JSON               // one indented JSON document, snake_case keys, RFC 3339 times in UTC
)

// write writes v as JSON, or calls text with a tabwriter that is flushed afterwards.
func (f Format) write(w io.Writer, v any, text func(tw *tabwriter.Writer)) error {
	if f == JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

// stamp formats t for text output: UTC, to the second.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// age formats how long ago t was, for text output.
func age(now, t time.Time) string { return now.Sub(t).Round(time.Second).String() }

// utc returns t in UTC for JSON output, nil for nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// parseName returns the value of known named s, or an error that names what (a state,
// an outcome) and lists the known values.
func parseName[T ~string](what, s string, known []T) (T, error) {
	if i := slices.Index(known, T(s)); i >= 0 {
		return known[i], nil
	}
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown %s %q: want %s", what, s, strings.Join(names, ", "))
}
