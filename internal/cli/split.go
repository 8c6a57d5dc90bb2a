package cli

import "strings"

// Split separates the flags of a command that also takes operands (ids,
// channel names) from those operands, which may come before, between or
// after the flags: the flag package stops at the first operand. valued
// names the flags that take a value as the next argument; after "--"
// everything is an operand.
func Split(args []string, valued map[string]bool) (flags, operands []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			operands = append(operands, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if valued[name] && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, operands
}
