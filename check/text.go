package check

import "github.com/seqwatch/seqwatch/internal/text"

// SanitizeBlock strips terminal control sequences, control characters
// other than newline and tab, bidi overrides and invalid UTF-8 from
// untrusted text, keeping its lines (text.Block).
func SanitizeBlock(s string) string { return text.Block(s) }
