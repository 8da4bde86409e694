// Package composecheck validates compose.yaml, and the Dockerfile it builds, without a
// container engine: `make lint` runs its tests, which load the file with compose-go
// (the library Compose v2 uses) and check what a deployment relies on, and lint the
// Dockerfile with BuildKit's own linter (the checks of `docker build --check`).
package composecheck
