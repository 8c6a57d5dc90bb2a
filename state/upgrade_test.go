package state_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/state"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The state files in testdata/state-vN.json were written by seqwatch at
// state version N (the daemon run once on the demo application, with
// webhooks that refused, rejected and answered 410 Gone, then a mute, a
// Slack thread id and a held event), and are never rewritten: they are
// what an operator's disk holds when a newer seqwatch is installed over an
// older one. Each must load, keep what it recorded, and be saved in the
// current format; testdata/state-vN.loaded.golden is what it becomes
// (go test ./state -run EarlierStateVersion -update rewrites those).
func TestEveryEarlierStateVersionLoadsAndUpgrades(t *testing.T) {
	for v := state.MinVersion; v <= state.Version; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			src := filepath.Join("testdata", fmt.Sprintf("state-v%d.json", v))
			orig, err := os.ReadFile(src)
			if err != nil {
				t.Fatalf("%v: every state version from MinVersion (%d) to Version (%d) needs a state file written by it, committed when the version after it is made", err, state.MinVersion, state.Version)
			}
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, orig, 0o600); err != nil {
				t.Fatal(err)
			}

			u, err := state.CheckFile(path)
			if err != nil {
				t.Fatalf("CheckFile: %v", err)
			}
			if u.From != v || u.To != state.Version || len(u.Steps) != state.Version-v || u.Needed() != (v != state.Version) {
				t.Errorf("CheckFile = %+v, want from %d to %d in %d step(s)", *u, v, state.Version, state.Version-v)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, orig) {
				t.Fatal("CheckFile changed the file")
			}

			fs, err := state.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fs.Close()
			st, err := fs.Load()
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			keepsWhatItRecorded(t, st)
			if err := fs.Save(st); err != nil {
				t.Fatalf("Save: %v", err)
			}
			saved, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if v == state.Version && !bytes.Equal(saved, orig) {
				t.Error("a state file of the current version was rewritten with other bytes by loading and saving it")
			}
			testkit.Golden(t, filepath.Join("testdata", fmt.Sprintf("state-v%d.loaded.golden", v)), saved, update)

			// What was saved loads again as the same state.
			again, err := fs.Load()
			if err != nil {
				t.Fatalf("Load after Save: %v", err)
			}
			b1, _ := state.Marshal(st)
			b2, _ := state.Marshal(again)
			if !bytes.Equal(b1, b2) {
				t.Error("the upgraded state does not load back as itself")
			}
		})
	}
}

// keepsWhatItRecorded checks that every part of the sample state survived:
// an upgrade step that dropped one would otherwise pass as long as the
// rest decoded.
func keepsWhatItRecorded(t *testing.T, st *state.State) {
	t.Helper()
	if st.Version != state.Version || !st.Initialized {
		t.Errorf("version %d initialized %v, want %d and true", st.Version, st.Initialized, state.Version)
	}
	counts := []struct {
		what      string
		got, want int
	}{
		{"open problems", len(st.Open), 3},
		{"seen rows", len(st.Seen), 3},
		{"outbox deliveries", len(st.Outbox), 1},
		{"dead letters", len(st.Dead), 2},
		{"disabled channels", len(st.Disabled), 1},
		{"Slack threads", len(st.Threads), 1},
		{"mutes", len(st.Mutes), 1},
		{"held events", len(st.Held), 1},
		{"event count (seq)", int(st.Seq), 4},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	if st.Read == nil {
		t.Error("the read mark is gone: the next tick would read everything again")
	}
	if len(st.Outbox) == 1 && (st.Outbox[0].Attempts == 0 || st.Outbox[0].LastError == "" || st.Outbox[0].Event.ID == "") {
		t.Errorf("the undelivered alert lost its attempts, error or id: %+v", st.Outbox[0])
	}
	for k, p := range st.Open {
		if p.Key != k || p.Event.ID == "" || p.OpenedAt.IsZero() {
			t.Errorf("open problem %s lost its key, event id or opening time: %+v", k, p)
		}
	}
}

func TestCheckFileOfAStateWrittenByANewerSeqwatchNamesBothVersions(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("testdata", fmt.Sprintf("state-v%d.json", state.Version)))
	if err != nil {
		t.Fatal(err)
	}
	newer := state.Version + 1
	data := bytes.Replace(orig, []byte(fmt.Sprintf(`"version": %d,`, state.Version)), []byte(fmt.Sprintf(`"version": %d,`, newer)), 1)
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = state.CheckFile(path)
	want := fmt.Sprintf("state file %s was written by a newer seqwatch (version %d); this seqwatch reads versions %d to %d",
		path, newer, state.MinVersion, state.Version)
	if err == nil || err.Error() != want || !errors.Is(err, state.ErrNewerVersion) {
		t.Fatalf("CheckFile = %v, want %q matching ErrNewerVersion", err, want)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Error("CheckFile changed the file")
	}
}

func TestCheckFileOfNoFileIsAFirstRun(t *testing.T) {
	u, err := state.CheckFile(filepath.Join(t.TempDir(), "state.json"))
	if u != nil || err != nil {
		t.Fatalf("CheckFile = %+v, %v; want nil, nil", u, err)
	}
}
