// Package docs holds no code: its tests check the documentation, README.md
// and docs/*.md, against the repository (every relative link and #anchor
// resolves). It imports nothing of seqwatch.
package docs
