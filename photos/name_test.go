package photos

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestObjectName(t *testing.T) {
	t.Parallel()
	secret := testSecret()
	shape := regexp.MustCompile(`^photos/[0-9a-f]{32}\.(png|jpg|webp|gif)$`)

	for ct, ext := range map[string]string{
		"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
		"IMAGE/PNG; charset=binary": ".png",
	} {
		name := ObjectName(secret, "pred-1", ct)
		require.Regexp(t, shape, name, ct)
		require.Equal(t, ext, name[len(name)-len(ext):], ct)
		require.True(t, validName(name), name)
	}

	a := ObjectName(secret, "pred-1", "image/png")
	require.Equal(t, a, ObjectName(secret, "pred-1", "image/png"), "stable for a key")
	require.NotEqual(t, a, ObjectName(secret, "pred-2", "image/png"), "differs by key")
	require.NotEqual(t, a, ObjectName([]byte("another-secret-of-32-bytes-long!"), "pred-1", "image/png"), "differs by secret")
	require.NotContains(t, a, "pred-1", "the key does not show")

	require.Equal(t, "photos/"+a[len("photos/"):len("photos/")+32], ObjectName(secret, "pred-1", "text/html"),
		"no extension for a type that cannot be stored")
}

func TestValidName(t *testing.T) {
	t.Parallel()
	good := ObjectName(testSecret(), "k", "image/webp")
	require.True(t, validName(good))
	for _, bad := range []string{
		"", "photos/", "photos", good + "/", "/" + good, "x" + good,
		"photos/0123456789abcdef0123456789abcdef",      // no extension
		"photos/0123456789ABCDEF0123456789abcdef.png",  // upper case
		"photos/0123456789abcdef0123456789abcde.png",   // 31 digits
		"photos/0123456789abcdef0123456789abcdef0.png", // 33 digits
		"photos/0123456789abcdef0123456789abcdef.html",
		"photos/../0123456789abcdef0123456789abcd.png",
		"photos/.put-0123456789abcdef0123456789.png",
	} {
		require.False(t, validName(bad), bad)
	}
}

func TestCheckBaseURL(t *testing.T) {
	t.Parallel()
	got, err := checkBaseURL("https://cdn.example.com/media/")
	require.NoError(t, err)
	require.Equal(t, "https://cdn.example.com/media", got)
	for _, bad := range []string{"", "/media", "cdn.example.com", "ftp://x/y", "https://x/y?a=b", "https://x/y#f", "http:///p"} {
		_, err := checkBaseURL(bad)
		require.Error(t, err, bad)
	}
}
