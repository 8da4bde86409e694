// This file reports the binary's module version and VCS revision.

package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// revision and modified are stamped by the build: the Makefile and the Dockerfile link
// with -ldflags "-X main.revision=<git rev-parse HEAD> -X main.modified=<true|false>",
// so that `photogen version` names the revision however Go's own VCS stamping is set
// (GOFLAGS=-buildvcs=false, or a build context without .git, as in the image). They are
// package variables only because -X can set nothing else; nothing assigns them.
var (
	revision string
	modified string
)

// versionString is "photogen <module version> (revision <vcs revision>[, modified])": the
// revision stamped with -ldflags, else the one Go's VCS stamping recorded, else unknown.
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	return describeVersion(info, revision, modified)
}

// describeVersion builds versionString from the build info (nil when there is none) and
// the stamped revision and modified flag (empty when the build stamped none).
func describeVersion(info *debug.BuildInfo, stampedRevision, stampedModified string) string {
	version, rev, dirty := "(devel)", "unknown", false
	if info != nil {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if stampedRevision != "" {
		rev, dirty = stampedRevision, stampedModified == "true"
	}
	if dirty {
		rev += ", modified"
	}
	return fmt.Sprintf("photogen %s (revision %s)", version, rev)
}

func versionCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the revision it was built from",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(e.stdout, versionString())
			return err
		},
	}
}
