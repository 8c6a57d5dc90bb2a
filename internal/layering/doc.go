// Package layering holds no code: its test is the one place that says
// which seqwatch package may depend on which, and checks it with
// `go list -deps`. The package comments say the same in prose.
package layering
