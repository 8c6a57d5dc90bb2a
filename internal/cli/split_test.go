package cli

import (
	"slices"
	"testing"
)

func TestSplitTakesTheOperandsWhereverTheyAre(t *testing.T) {
	valued := map[string]bool{"config": true, "channel": true}
	tests := []struct {
		name            string
		args            []string
		flags, operands []string
	}{
		{"operands first", []string{"evt_1", "evt_2", "--config", "s.yaml"}, []string{"--config", "s.yaml"}, []string{"evt_1", "evt_2"}},
		{"between flags", []string{"--config", "s.yaml", "evt_1", "--json", "-channel", "hook"}, []string{"--config", "s.yaml", "--json", "-channel", "hook"}, []string{"evt_1"}},
		{"a flag's value that looks like an operand stays its value", []string{"--channel", "all", "all"}, []string{"--channel", "all"}, []string{"all"}},
		{"a valued flag last without its value", []string{"all", "--config"}, []string{"--config"}, []string{"all"}},
		{"--config=FILE is one argument", []string{"--config=s.yaml", "all"}, []string{"--config=s.yaml"}, []string{"all"}},
		{"after -- everything is an operand", []string{"--json", "--", "--config", "-"}, []string{"--json"}, []string{"--config", "-"}},
		{"a lone - is an operand", []string{"-"}, nil, []string{"-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flags, operands := Split(tc.args, valued)
			if !slices.Equal(flags, tc.flags) || !slices.Equal(operands, tc.operands) {
				t.Errorf("Split(%q) = %q, %q; want %q, %q", tc.args, flags, operands, tc.flags, tc.operands)
			}
		})
	}
}
