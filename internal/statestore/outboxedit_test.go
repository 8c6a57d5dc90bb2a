package statestore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/config"
	"github.com/seqwatch/seqwatch/internal/event"
	"github.com/seqwatch/seqwatch/internal/statestore"
	"github.com/seqwatch/seqwatch/state"
)

var editNow = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// editorWith writes a state file holding st and opens its editor, as
// seqwatch outbox does.
func editorWith(t *testing.T, st *state.State) *statestore.Editor {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	fs, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Save(st); err != nil {
		t.Fatal(err)
	}
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}
	yaml := "app: " + dir + "\nstate:\n  path: " + path + "\nchannels:\n  - name: hook\n    console: {}\n"
	cfg, err := config.Parse(filepath.Join(dir, "seqwatch.yaml"), []byte(yaml), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ed, err := statestore.OpenEditor(t.Context(), cfg.TopLevel())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ed.Close)
	return ed
}

func delivery(id, channel string) state.Delivery {
	return state.Delivery{Event: event.Event{ID: id, Kind: event.OperationFailed, Key: "failed:" + id}, Channel: channel, Attempts: 3}
}

// A state with one alert waiting to hook, one dead letter to hook and one
// to mail, and mail disabled by a 410 Gone.
func sampleState() *state.State {
	st := state.New()
	st.Outbox = []state.Delivery{delivery("evt_wait", "hook")}
	st.Dead = []state.Delivery{delivery("evt_dead", "hook"), delivery("evt_gone", "mail")}
	st.Disabled = map[string]state.DisabledChannel{"mail": {Since: editNow.Add(-time.Hour), Reason: "410 Gone"}}
	return st
}

func TestEditorChangesTheOutboxAndSaysWhatItDid(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(context.Context, *statestore.Editor) (statestore.Done, error)
		want      []string // the lines of what it did
		outbox    int      // alerts waiting after it
		dead      int      // dead letters after it
		failure   string   // "" when it changes the state
		unchanged bool
	}{
		{"retry all makes every alert due and names the disabled channel", func(ctx context.Context, e *statestore.Editor) (statestore.Done, error) {
			return e.Retry(ctx, []string{"all"}, "", map[string]string{"mail": ""}, editNow)
		}, []string{"3 alert(s) due again", "channel mail is disabled (its endpoint answered 410 Gone)"}, 3, 0, "", false},
		{"retry of one channel leaves the others", func(ctx context.Context, e *statestore.Editor) (statestore.Done, error) {
			return e.Retry(ctx, []string{"all"}, "hook", nil, editNow)
		}, []string{"2 alert(s) due again"}, 2, 1, "", false},
		{"drop removes for good", func(ctx context.Context, e *statestore.Editor) (statestore.Done, error) {
			return e.Drop(ctx, []string{"evt_dead", "evt_wait"}, "")
		}, []string{"2 alert(s) dropped for good"}, 0, 1, "", false},
		{"an unknown id changes nothing and names it", func(ctx context.Context, e *statestore.Editor) (statestore.Done, error) {
			return e.Drop(ctx, []string{"evt_dead", "evt_nope"}, "")
		}, nil, 1, 2, "no alert evt_nope in the outbox or the dead letters of ", true},
		{"an id of another channel is unknown for that channel", func(ctx context.Context, e *statestore.Editor) (statestore.Done, error) {
			return e.Retry(ctx, []string{"evt_gone"}, "hook", nil, editNow)
		}, nil, 1, 2, "no alert evt_gone for channel hook", true},
		{"enable counts the channel's dead letters, which stay", func(ctx context.Context, e *statestore.Editor) (statestore.Done, error) {
			return e.Enable(ctx, "mail", editNow)
		}, []string{"channel mail enabled", "its 1 dead letter(s) stay where they are: seqwatch outbox retry all --channel mail"}, 1, 2, "", false},
		{"enable of a channel not disabled names those that are", func(ctx context.Context, e *statestore.Editor) (statestore.Done, error) {
			return e.Enable(ctx, "hook", editNow)
		}, nil, 1, 2, "channel hook is not disabled in ", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ed := editorWith(t, sampleState())
			done, err := tc.edit(t.Context(), ed)
			if tc.failure != "" {
				if err == nil || !strings.Contains(err.Error(), tc.failure) || !strings.Contains(err.Error(), "(nothing was changed)") {
					t.Fatalf("error %v, want one with %q saying nothing was changed", err, tc.failure)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(done) != len(tc.want) {
				t.Fatalf("done %q, want %d line(s) %q", done, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(done[i], w) {
					t.Errorf("line %d %q, want it to say %q", i+1, done[i], w)
				}
			}
			l, err := ed.Outbox(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Outbox) != tc.outbox || len(l.Dead) != tc.dead {
				t.Errorf("after it: %d waiting and %d dead, want %d and %d", len(l.Outbox), len(l.Dead), tc.outbox, tc.dead)
			}
		})
	}
}

func TestEnableWithNoChannelDisabledSaysSo(t *testing.T) {
	ed := editorWith(t, state.New())
	_, err := ed.Enable(t.Context(), "hook", editNow)
	if err == nil || !strings.Contains(err.Error(), "and no channel is: there is nothing to enable") {
		t.Fatalf("error %v", err)
	}
}

func TestDoneWritesALineEach(t *testing.T) {
	var b strings.Builder
	if err := (statestore.Done{"one", "two"}).WriteText(&b); err != nil || b.String() != "one\ntwo\n" {
		t.Fatalf("%q, %v", b.String(), err)
	}
}
