// Package archtest checks the package map in docs/architecture.md against the code:
// every package is on the map, and imports only what its row allows. It also keeps
// each dependency with a known advisory at or above its fixed version.
package archtest
