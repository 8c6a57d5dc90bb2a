package state

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUnmuteAndExpiry(t *testing.T) {
	mk := func(id string, end int) Mute {
		return Mute{ID: id, Start: t0, End: t0.Add(time.Duration(end) * time.Minute)}
	}
	for _, tc := range []struct {
		name    string
		ids     []string
		all     bool
		wantErr bool
		left    []string
	}{
		{name: "one by id", ids: []string{"mut_a"}, left: []string{"mut_b"}},
		{name: "all", all: true},
		{name: "an unknown id removes nothing", ids: []string{"mut_a", "mut_x"}, wantErr: true, left: []string{"mut_a", "mut_b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := New()
			st.Mutes = []Mute{mk("mut_a", 10), mk("mut_b", 20)}
			_, err := st.Unmute(tc.ids, tc.all)
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrNoMute)) {
				t.Fatalf("err = %v", err)
			}
			var left []string
			for _, m := range st.Mutes {
				left = append(left, m.ID)
			}
			if !slices.Equal(left, tc.left) {
				t.Errorf("left %q, want %q", left, tc.left)
			}
		})
	}
	st := New()
	st.Mutes = []Mute{mk("mut_a", 10), mk("mut_b", 20)}
	if ended := st.ExpireMutes(t0.Add(10 * time.Minute)); len(ended) != 1 || ended[0].ID != "mut_a" || len(st.Mutes) != 1 {
		t.Errorf("at minute 10: ended %+v, left %+v", ended, st.Mutes)
	}
}

// A mute made with EditMutes while the daemon holds the store is taken by
// the daemon's next Update, and the daemon's expiry is written back.
func TestEditMutesBesideARunningStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	// Before the daemon ever wrote the file.
	if err := EditMutes(context.Background(), path, func(st *State) error {
		st.Mutes = append(st.Mutes, Mute{ID: "mut_early", Start: t0, End: t0.Add(time.Minute)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fs, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	cur, err := fs.Load()
	if err != nil || len(cur.Mutes) != 1 || cur.Initialized {
		t.Fatalf("load after an early mute: %v, %+v", err, cur)
	}
	cur.Initialized = true
	ctx := context.Background()
	if cur, err = fs.Update(ctx, cur, func(*State) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := EditMutes(ctx, path, func(st *State) error {
		st.Mutes = append(st.Mutes, Mute{ID: "mut_deploy", Reason: "deploy 4812", Start: t0, End: t0.Add(15 * time.Minute)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	cur, err = fs.Update(ctx, cur, func(st *State) error {
		for _, m := range st.ActiveMutes(t0.Add(5 * time.Minute)) {
			seen = append(seen, m.ID)
		}
		st.ExpireMutes(t0.Add(5 * time.Minute))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{"mut_deploy"}) || !cur.Initialized {
		t.Errorf("the daemon's next write saw mutes %q (initialized %v), want mut_deploy and its own fields", seen, cur.Initialized)
	}
	var onDisk []string
	if err := EditMutes(ctx, path, func(st *State) error {
		for _, m := range st.Mutes {
			onDisk = append(onDisk, m.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(onDisk, ",") != "mut_deploy" {
		t.Errorf("mutes in the file after the daemon's expiry: %q", onDisk)
	}
}
