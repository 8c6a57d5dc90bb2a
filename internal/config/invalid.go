package config

import (
	"context"
	"fmt"
	"strings"
)

// InvalidError is a configuration file with problems: Validate's, each
// with its line.
type InvalidError struct {
	Path     string
	Problems []string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%s has %d problem(s):\n  %s", e.Path, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// LoadValid is Load, and an *InvalidError when the file has problems.
func LoadValid(ctx context.Context, path string) (*Config, error) {
	cfg, err := Load(ctx, path)
	if err != nil {
		return nil, err
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, &InvalidError{Path: path, Problems: problems}
	}
	return cfg, nil
}
