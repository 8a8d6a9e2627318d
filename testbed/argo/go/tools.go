//go:build tools

// The program bench's Argo comparison runs; the build tag keeps it in go.mod through go mod tidy.
package tools

import _ "github.com/argoproj/argo-workflows/v3/cmd/workflow-controller"
