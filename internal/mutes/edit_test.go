package mutes_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/mutes"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/state"
)

// shopEditor is the configuration of one application "shop" with a
// nightly maintenance window, and the editor of its state file, which
// does not exist yet.
func shopEditor(t *testing.T) (*config.App, *statestore.Editor, string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "seqwatch.yaml")
	yaml := "name: shop\napp: " + dir + "\nstate:\n  path: " + filepath.Join(dir, "state.json") +
		"\nchannels:\n  - name: console\n    console: {}\nmaintenance:\n  - schedule: \"0 3 * * *\"\n    duration: 2h\n    reason: backups\n"
	cfg, err := config.Parse(cfgPath, []byte(yaml), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ac, err := mutes.Target(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	ed, err := statestore.OpenEditor(t.Context(), ac)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ed.Close)
	return ac, ed, cfgPath
}

// A mute added, listed and removed through the state file, as seqwatch
// mute and unmute do it beside a running daemon.
func TestAddListAndRemoveAMuteThroughTheState(t *testing.T) {
	ac, ed, cfgPath := shopEditor(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.Local)

	l, err := mutes.Listed(t.Context(), ed, ac, now)
	if err != nil || len(l.Mutes) != 0 || len(l.Maintenance) != 1 || l.Maintenance[0].Active {
		t.Fatalf("before any mute: %+v, %v", l, err)
	}
	if !ed.Missing() {
		t.Fatal("listing the mutes started a state file")
	}
	if _, err := mutes.Remove(t.Context(), ed, nil, true, cfgPath, now); err == nil || !strings.Contains(err.Error(), "no mutes: there is no state file at ") {
		t.Fatalf("unmute without a state: %v", err)
	}

	m, err := mutes.Add(t.Context(), ed, ac, cfgPath, mutes.Request{For: 15 * time.Minute, Reason: "deploy 42", By: "cli"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !m.End.Equal(now.Add(15*time.Minute)) || m.Reason != "deploy 42" || !strings.HasPrefix(m.ID, "mut_") {
		t.Errorf("mute %+v", m)
	}
	if _, err := mutes.Add(t.Context(), ed, ac, cfgPath, mutes.Request{Name: "blog", For: time.Minute}, now); err == nil || !strings.Contains(err.Error(), `watches "shop", not "blog"`) {
		t.Errorf("a mute of another application: %v", err)
	}
	l, err = mutes.Listed(t.Context(), ed, ac, now)
	if err != nil || len(l.Mutes) != 1 || l.Mutes[0].ID != m.ID {
		t.Fatalf("after mute: %+v, %v", l.Mutes, err)
	}

	for _, tc := range []struct{ id, want string }{
		{"maintenance[0]", "maintenance[0] is a maintenance window of " + cfgPath + ", not a mute"},
		{"mut_nope", "no mute mut_nope (it may have ended already): seqwatch mute --list --config " + cfgPath},
	} {
		if _, err := mutes.Remove(t.Context(), ed, []string{tc.id}, false, cfgPath, now); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "(nothing was changed)") {
			t.Errorf("unmute %s: %v, want %q", tc.id, err, tc.want)
		}
	}
	removed, err := mutes.Remove(t.Context(), ed, []string{m.ID}, false, cfgPath, now)
	if err != nil || len(removed) != 1 || removed[0].ID != m.ID {
		t.Fatalf("unmute: %+v, %v", removed, err)
	}
	if l, err = mutes.Listed(t.Context(), ed, ac, now); err != nil || len(l.Mutes) != 0 {
		t.Errorf("after unmute: %+v, %v", l.Mutes, err)
	}
}

// An expired mute is dropped as the next one is added.
func TestAddDropsTheMutesThatEnded(t *testing.T) {
	ac, ed, cfgPath := shopEditor(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.Local)
	if _, err := mutes.Add(t.Context(), ed, ac, cfgPath, mutes.Request{For: time.Minute}, now); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	m, err := mutes.Add(t.Context(), ed, ac, cfgPath, mutes.Request{For: time.Minute}, later)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := ed.EditMutes(t.Context(), func(st *state.State) error {
		for _, x := range st.Mutes {
			ids = append(ids, x.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != m.ID {
		t.Errorf("mutes kept %q, want only %s", ids, m.ID)
	}
}

func TestTargetPicksTheNamedApplicationOfApps(t *testing.T) {
	cfg, err := config.Parse("seqwatch.yaml", []byte("apps:\n  - name: shop\n    app: /srv/shop\n  - name: blog\n    app: /srv/blog\nchannels:\n  - name: console\n    console: {}\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if ac, err := mutes.Target(cfg, "blog"); err != nil || ac.DisplayName() != "blog" {
		t.Errorf("blog: %v, %v", ac, err)
	}
	if _, err := mutes.Target(cfg, ""); err == nil || !strings.Contains(err.Error(), "pick one with --name") {
		t.Errorf("no name with two applications: %v", err)
	}
}
