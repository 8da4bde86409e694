// The status cache's bookkeeping, step by step where requests cannot order it: a read
// that began before a change is not kept after the change's notice, nor one that began
// before the listener (re)connected; nothing is served while it is away; evictions keep
// the index right.

package api

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestStatusCacheRefusesAReadThatBeganBeforeAChange(t *testing.T) {
	c := newStatusCache(2)
	key, id := [32]byte{1}, uuid.New()
	_, v, ok := c.get(key)
	require.False(t, ok)
	c.put(v, key, statusAnswer{id: id, body: []byte("0")})
	require.Zero(t, c.len(), "not listening yet: nothing kept")

	c.Listening(true)
	_, v, _ = c.get(key)
	c.Changed(id) // the change's notice arrives while the read is under way
	c.put(v, key, statusAnswer{id: id, body: []byte("old")})
	_, _, ok = c.get(key)
	require.False(t, ok, "a read that began before a change is not kept")

	_, v, _ = c.get(key)
	c.Changed(uuid.New()) // someone else's change does not matter
	c.put(v, key, statusAnswer{id: id, body: []byte("new")})
	a, _, ok := c.get(key)
	require.True(t, ok)
	require.Equal(t, "new", string(a.body))

	c.Changed(id)
	_, _, ok = c.get(key)
	require.False(t, ok, "dropped at its change")

	_, v, _ = c.get(key)
	c.Listening(false)
	c.Listening(true)
	c.put(v, key, statusAnswer{id: id})
	require.Zero(t, c.len(), "a read that began before a reconnection is not kept")

	_, v, _ = c.get(key)
	c.put(v, key, statusAnswer{id: id})
	c.Listening(false)
	_, _, ok = c.get(key)
	require.False(t, ok, "nothing served while the listener is away")
	require.Zero(t, c.len())
}

func TestStatusCacheForgetsWhatItCannotCheck(t *testing.T) {
	c := newStatusCache(2)
	c.Listening(true)
	key, id := [32]byte{1}, uuid.New()
	_, v, _ := c.get(key)
	for range recentChanges {
		c.Changed(uuid.New())
	}
	c.put(v, key, statusAnswer{id: id})
	require.Zero(t, c.len(), "more changes than remembered: the read is not kept")

	// Evicted to make room: its subscriber's change drops nothing else.
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	for i, id := range ids {
		_, v, _ := c.get([32]byte{byte(i + 10)})
		c.put(v, [32]byte{byte(i + 10)}, statusAnswer{id: id})
	}
	require.Equal(t, 2, c.len())
	c.Changed(ids[0])
	require.Equal(t, 2, c.len())
	c.Changed(ids[2])
	require.Equal(t, 1, c.len())
	require.Nil(t, newStatusCache(-1), "-1: off")
}
