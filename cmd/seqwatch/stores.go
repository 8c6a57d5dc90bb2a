package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/seqwatch/seqwatch/internal/daemon"
	"github.com/seqwatch/seqwatch/state"
)

// stores opens each application's state store: a state file per
// application by default, or one shared PostgreSQL database
// (state.postgres).
type stores struct {
	files map[string]*state.FileStore
}

// openStores opens the state of every application of cfg. A state file
// that another seqwatch holds, or that is corrupt, is an error naming it.
func openStores(ctx context.Context, cfg *Config, logger *slog.Logger) (*stores, error) {
	s := &stores{files: map[string]*state.FileStore{}}
	for _, ac := range cfg.Applications() {
		fs, err := state.Open(statePathOf(ac))
		if err != nil {
			s.close()
			return nil, err
		}
		s.files[ac.appName()] = fs
	}
	return s, nil
}

// forApp is the store of one application of the configuration.
func (s *stores) forApp(ac *Config) daemon.Store { return s.files[ac.appName()] }

// where says where an application's state is kept, for logs.
func (s *stores) where(ac *Config) string { return statePathOf(ac) }

func (s *stores) close() {
	var errs []error
	for _, fs := range s.files {
		errs = append(errs, fs.Close())
	}
	_ = errors.Join(errs...)
}
