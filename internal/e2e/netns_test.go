//go:build chaos

package e2e

// This file is the chaos scenarios' network namespace: a worker runs in a namespace of
// the test's own, joined to this machine by a veth pair with addresses of a private range
// used only by that pair, and nftables rules inside the namespace drop its packets (a
// frozen network) or cut it off for good (its host vanished: no FIN, no RST, no answer to
// a keepalive ever again). Nothing leaves the machine. It needs root, ip (iproute2) and
// nft (Debian's nftables), which `make chaos` installs when missing (internal/dev/netfault.sh).

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// netns is one network namespace and its veth pair: host is this machine's end (where
// PostgreSQL and the provider's proxy listen for the namespace), peer the namespace's.
type netns struct {
	name, host, peer, peerLink string
}

// lastNetns numbers the namespaces of this test binary.
var lastNetns atomic.Uint32

// newNetns creates a namespace with a veth pair to this machine, in 10.213.0.0/16 (a /30
// chosen from this process's id and a counter, so that parallel test binaries do not
// collide), removed when t ends.
func newNetns(t testing.TB) *netns {
	t.Helper()
	n := int(lastNetns.Add(1))
	idx := (os.Getpid()*8 + n) % 16384
	base := fmt.Sprintf("10.213.%d.", idx>>6)
	ns := &netns{name: fmt.Sprintf("photogen-e2e-%d-%d", os.Getpid(), n), host: base + fmt.Sprint((idx&63)*4+1),
		peer: base + fmt.Sprint((idx&63)*4+2), peerLink: fmt.Sprintf("pgp%d", idx)}
	hostLink := fmt.Sprintf("pgh%d", idx)
	run(t, "", "ip", "netns", "add", ns.name)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", ns.name).Run()
		_ = exec.Command("ip", "link", "del", hostLink).Run()
	})
	run(t, "", "ip", "link", "add", hostLink, "type", "veth", "peer", "name", ns.peerLink, "netns", ns.name)
	run(t, "", "ip", "addr", "add", ns.host+"/30", "dev", hostLink)
	run(t, "", "ip", "link", "set", hostLink, "up")
	run(t, "", "ip", "-n", ns.name, "addr", "add", ns.peer+"/30", "dev", ns.peerLink)
	run(t, "", "ip", "-n", ns.name, "link", "set", ns.peerLink, "up")
	run(t, "", "ip", "-n", ns.name, "link", "set", "lo", "up")
	// The rest of the test range through this pair: the fake's file URLs name the host end of
	// the namespace whose worker created the prediction, and another worker may fetch them.
	// Those are this machine's own addresses, delivered locally: nothing is forwarded.
	run(t, "", "ip", "-n", ns.name, "route", "add", "10.213.0.0/16", "via", ns.host)
	return ns
}

// prefix is the command that runs a program inside the namespace.
func (ns *netns) prefix() []string { return []string{"ip", "netns", "exec", ns.name} }

// Cut drops every packet in and out of the namespace's link, closing nothing: its
// connections freeze, and a process that exits meanwhile tells no one.
func (ns *netns) Cut(t testing.TB) {
	t.Helper()
	rules := fmt.Sprintf(`table inet photogen_fault {
	chain in { type filter hook input priority 0; policy accept; iifname %q drop; }
	chain out { type filter hook output priority 0; policy accept; oifname %q drop; }
}
`, ns.peerLink, ns.peerLink)
	run(t, rules, "ip", "netns", "exec", ns.name, "nft", "-f", "-")
}

// Mend removes Cut's rules: packets pass again (and TCP's retransmissions get through).
func (ns *netns) Mend(t testing.TB) {
	t.Helper()
	run(t, "", "ip", "netns", "exec", ns.name, "nft", "delete", "table", "inet", "photogen_fault")
}

// run runs a command with stdin and fails t with its output if it fails.
func run(t testing.TB, stdin, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
}
