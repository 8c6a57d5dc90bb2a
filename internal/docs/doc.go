// Package docs holds no code: its tests check the documentation, README.md
// and docs/*.md, against the repository (every relative link and #anchor
// resolves), and against what a release ships of it without the source
// (release/test.sh runs that test on the archive and the package). It
// imports nothing of seqwatch.
package docs
