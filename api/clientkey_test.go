package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// An IPv6 client is limited by its /64, which it usually has whole: rotating addresses
// within it does not escape the limit.
func TestClientKey(t *testing.T) {
	t.Parallel()
	require.Equal(t, "192.0.2.7", clientKey("192.0.2.7"))
	require.Equal(t, "192.0.2.7", clientKey("::ffff:192.0.2.7"))
	require.Equal(t, "192.0.2.07", clientKey("192.0.2.07"), "not an address: the key is the text")
	require.Equal(t, "fe80::1%eth0", clientKey("fe80::1%eth0"), "not an address for net.ParseIP: the key is the text")
	require.Equal(t, "2001:db8:1:2::/64", clientKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"))
	require.Equal(t, clientKey("2001:db8:1:2::1"), clientKey("2001:db8:1:2:ffff::9"))
	require.NotEqual(t, clientKey("2001:db8:1:2::1"), clientKey("2001:db8:1:3::1"))
}
