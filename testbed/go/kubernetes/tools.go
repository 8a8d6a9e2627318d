//go:build tools

// The four programs the testbed builds; the build tag keeps them (and so their
// dependencies) in go.mod through `go mod tidy` without making this a program.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
