package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// If-None-Match matches by weak comparison, in a list or with the wildcard.
func TestETagMatches(t *testing.T) {
	t.Parallel()
	const etag = `"abc"`
	for header, want := range map[string]bool{
		``:                   false,
		`"abc"`:              true,
		`W/"abc"`:            true,
		`"x", "abc"`:         true,
		`"x",W/"abc" ,"y"`:   true,
		`*`:                  true,
		` * `:                true,
		`"x"`:                false,
		`"x",,`:              false,
		`abc`:                false,
		`"abc`:               false,
		`w/"abc"`:            false,
		`"x", W/"abcd", "y"`: false,
	} {
		require.Equal(t, want, etagMatches(header, etag), "If-None-Match: %s", header)
	}
}
