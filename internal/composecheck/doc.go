// Package composecheck validates compose.yaml, and the Dockerfile it builds, without a
// container engine: `make lint` runs its test, which loads the file with compose-go
// (the library Compose v2 uses) and checks what a deployment relies on.
package composecheck
