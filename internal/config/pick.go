package config

import (
	"context"
	"time"
)

// LoadForReadingWithin is LoadForReading within timeout (0: ctx's own
// bound alone): a command's -t bounds the reading of its configuration
// as it bounds the reading of the application.
func LoadForReadingWithin(ctx context.Context, path string, timeout time.Duration) (*Config, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return LoadForReading(ctx, path)
}

// LoadAppForReading is the application called name (with name empty, the
// only one) of the configuration at path, read as LoadForReadingWithin
// reads it: the application status, check and wait read.
func LoadAppForReading(ctx context.Context, path, name string, timeout time.Duration) (*App, error) {
	cfg, err := LoadForReadingWithin(ctx, path, timeout)
	if err != nil {
		return nil, err
	}
	return cfg.Application(name)
}
