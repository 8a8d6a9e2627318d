//go:build tools

// The program the testbed builds; the build tag keeps it in go.mod through go mod tidy.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
