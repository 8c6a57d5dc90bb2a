package notify

import (
	"fmt"
	"strings"
	"testing"
)

func TestRoutesChannels(t *testing.T) {
	tests := []struct {
		name   string
		routes Routes
		kind   Kind
		want   []string
	}{
		{"no routes route nothing", nil, OperationFailed, nil},
		{"a route naming the kind matches", Routes{{Kinds: []Kind{OperationFailed}, Channels: []string{"slack"}}}, OperationFailed, []string{"slack"}},
		{"a route naming other kinds does not match", Routes{{Kinds: []Kind{PendingThreshold}, Channels: []string{"slack"}}}, OperationFailed, nil},
		{"a route with no kinds matches all", Routes{{Channels: []string{"email"}}}, SourceUnreachable, []string{"email"}},
		{"star matches all", Routes{{Kinds: []Kind{AnyKind}, Channels: []string{"webhook"}}}, Digest, []string{"webhook"}},
		{
			"channels are a de-duplicated union in config order",
			Routes{
				{Kinds: []Kind{OperationFailed}, Channels: []string{"slack", "email"}},
				{Kinds: []Kind{PendingThreshold}, Channels: []string{"pager"}},
				{Kinds: []Kind{AnyKind}, Channels: []string{"webhook", "slack"}},
			},
			OperationFailed, []string{"slack", "email", "webhook"},
		},
		{"default routes send every kind to every channel", DefaultRoutes([]string{"slack", "email", "slack"}), Reminder, []string{"email", "slack"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.routes.Channels(tt.kind)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Channels(%s) = %v, want %v", tt.kind, got, tt.want)
			}
		})
	}
}

func TestRoutesValidate(t *testing.T) {
	known := map[string]bool{"slack": true, "email": true}
	tests := []struct {
		name    string
		routes  Routes
		wantErr []string // substrings; none means valid
	}{
		{"no routes are valid", nil, nil},
		{"known kinds, star and channels are valid", Routes{
			{Kinds: []Kind{OperationFailed, DeferredFailed}, Channels: []string{"slack"}},
			{Kinds: []Kind{AnyKind}, Channels: []string{"email", "slack"}},
			{Channels: []string{"email"}},
		}, nil},
		{"unknown channel names the route, the value and the configured channels", Routes{
			{Channels: []string{"slack"}},
			{Kinds: []Kind{OperationFailed}, Channels: []string{"slak"}},
		}, []string{`routes[1].channels: unknown channel "slak"`, "configured: email, slack"}},
		{"unknown kind names the route, the value and the valid kinds", Routes{
			{Kinds: []Kind{"operation.fail"}, Channels: []string{"slack"}},
		}, []string{`routes[0].events: unknown event kind "operation.fail"`, "operation.failed", "*"}},
		{"a route without channels is an error", Routes{{Kinds: []Kind{OperationFailed}}}, []string{"routes[0].channels: must name at least one channel"}},
		{"every problem is reported", Routes{
			{Kinds: []Kind{"nope"}, Channels: []string{"pager"}},
		}, []string{`"nope"`, `"pager"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.routes.Validate(known)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestAllKindsAreDistinctAndReturnedFresh(t *testing.T) {
	a := AllKinds()
	seen := map[Kind]bool{}
	for _, k := range a {
		if seen[k] || k == AnyKind {
			t.Errorf("kind %q repeated or reserved", k)
		}
		seen[k] = true
	}
	a[0] = "changed"
	if AllKinds()[0] == "changed" {
		t.Error("AllKinds shares its slice between calls")
	}
}

func TestRoutesForKeepsTheEventsRoutedToTheChannel(t *testing.T) {
	routes := Routes{
		{Kinds: []Kind{OperationFailed, OperationRecovered}, Channels: []string{"pager"}},
		{Kinds: []Kind{AnyKind}, Channels: []string{"chat"}},
	}
	events := []Event{{ID: "1", Kind: OperationFailed}, {ID: "2", Kind: OperationStuck}, {ID: "3", Kind: OperationRecovered}}
	ids := func(evs []Event) string {
		var out []string
		for _, ev := range evs {
			out = append(out, ev.ID)
		}
		return strings.Join(out, ",")
	}
	for channel, want := range map[string]string{"pager": "1,3", "chat": "1,2,3", "mail": ""} {
		if got := ids(routes.For(channel, events)); got != want {
			t.Errorf("For(%s) = %q, want %q", channel, got, want)
		}
	}
}
