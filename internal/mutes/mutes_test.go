package mutes_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/mutes"
	"github.com/seqwatch/seqwatch/internal/web"
	"github.com/seqwatch/seqwatch/state"
)

func TestNewRefusesWhatTheRequestGetsWrong(t *testing.T) {
	cfg, err := config.Parse("seqwatch.yaml", []byte("name: shop\napp: /srv/shop\nmute_max: 2h\nchannels:\n  - name: console\n    console: {}\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ac := cfg.TopLevel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		r       mutes.Request
		refusal string // "" for a mute made
	}{
		{"a mute within mute_max", mutes.Request{For: 2 * time.Hour, Reason: "deploy 42", By: "cli"}, ""},
		{"its own name", mutes.Request{Name: "shop", For: time.Minute}, ""},
		{"another application's name", mutes.Request{Name: "blog", For: time.Minute}, `watches "shop", not "blog"`},
		{"no duration", mutes.Request{}, "must be positive"},
		{"a negative duration", mutes.Request{For: -time.Minute}, "must be positive"},
		{"longer than mute_max", mutes.Request{For: 2*time.Hour + time.Second}, "longer than mute_max (2h0m0s)"},
		{"a reason too long", mutes.Request{For: time.Minute, Reason: strings.Repeat("é", mutes.MaxReason+1)}, "501 characters long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mutes.New(ac, "seqwatch.yaml", tt.r, now)
			if tt.refusal == "" {
				if err != nil {
					t.Fatal(err)
				}
				want := state.Mute{ID: m.ID, Reason: tt.r.Reason, Start: now, End: now.Add(tt.r.For), By: tt.r.By}
				if m != want || !strings.HasPrefix(m.ID, "mut_") {
					t.Errorf("mute = %+v, want %+v", m, want)
				}
				return
			}
			var in *web.InputError
			if !errors.As(err, &in) || !strings.Contains(in.Msg, tt.refusal) {
				t.Errorf("error = %v, want a *web.InputError saying %q", err, tt.refusal)
			}
		})
	}
}

func TestListAtShowsTheMutesAndWindowsInForce(t *testing.T) {
	cfg, err := config.Parse("seqwatch.yaml", []byte("name: shop\napp: /srv/shop\nchannels:\n  - name: console\n    console: {}\nmaintenance:\n  - schedule: \"0 3 * * *\"\n    duration: 2h\n    reason: backups\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ws, err := cfg.Windows()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 1, 4, 0, 0, 0, time.Local)
	st := state.New()
	st.Mutes = []state.Mute{
		{ID: "mut_ended", Start: now.Add(-2 * time.Hour), End: now.Add(-time.Hour)},
		{ID: "mut_on", Start: now.Add(-time.Minute), End: now.Add(time.Hour), Reason: "deploy"},
	}
	l := mutes.ListAt(st, ws, now)
	var ids []string
	for _, m := range l.Mutes {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, " ") != "mut_on maintenance[0]" {
		t.Errorf("mutes in force = %q, want mut_on and maintenance[0]", ids)
	}
	if len(l.Maintenance) != 1 || !l.Maintenance[0].Active || l.Maintenance[0].Duration != "2h0m0s" || !l.Maintenance[0].NextStart.Equal(now.Add(23*time.Hour)) {
		t.Errorf("maintenance = %+v", l.Maintenance)
	}
}
