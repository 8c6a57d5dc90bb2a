package notify

import (
	"testing"
	"time"
)

func TestHeadlineErrorIsTheNewestLaterOnATie(t *testing.T) {
	t0 := time.Date(2024, 1, 13, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		errs   []Error
		want   string
		wantOK bool
	}{
		{"none recorded", nil, "", false},
		{"one", []Error{{Message: "a", CreatedAt: t0}}, "a", true},
		{"newest wins wherever it is", []Error{{Message: "new", CreatedAt: t0.Add(time.Second)}, {Message: "old", CreatedAt: t0}}, "new", true},
		{"same time: the later in the list", []Error{{Message: "first", CreatedAt: t0}, {Message: "second", CreatedAt: t0}}, "second", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Event{Errors: tt.errs}.HeadlineError()
			if ok != tt.wantOK || got.Message != tt.want {
				t.Errorf("HeadlineError() = %q, %v; want %q, %v", got.Message, ok, tt.want, tt.wantOK)
			}
		})
	}
}
