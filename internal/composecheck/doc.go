// Package composecheck validates compose.yaml without a container engine: `make lint`
// runs its test, which parses the file and checks what deployment relies on.
package composecheck
