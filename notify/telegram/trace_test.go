package telegram

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/notify"
	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

// What follows an alert: a trace file only when the message could not
// show the whole error, never for a recovery, a digest or a short trace.
func TestTraceFileFollowsOnlyAnAlertThatLeftPartOut(t *testing.T) {
	long := notifytest.Failure("operation.failed/long/1")
	long.Errors[0].Message = strings.Repeat("x", maxMessageRunes+1)
	wide := notifytest.Failure("operation.failed/wide/1")
	wide.Errors[0].Trace = "#0 /app/" + strings.Repeat("a", maxFrameRunes) + ".php(1): f()\n#1 {main}"
	tests := []struct {
		name   string
		events []notify.Event
		want   int
	}{
		{name: "a short failure", events: []notify.Event{notifytest.Failure("operation.failed/op/1")}, want: 1},
		{name: "more frames than shown", events: []notify.Event{notifytest.CutTrace()}, want: 2},
		{name: "a message cut short", events: []notify.Event{long}, want: 2},
		{name: "a frame cut short", events: []notify.Event{wide}, want: 2},
		{name: "a 1 MiB hostile trace", events: []notify.Event{hostileFailure()}, want: 2},
		{name: "a recovery", events: []notify.Event{recovery("operation.failed/op/1")}, want: 1},
		{name: "a digest of long traces", events: []notify.Event{notifytest.CutTrace(), hostileFailure()}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTelegram(t)
			n := newNotifier(t, f)
			if _, err := n.Notify(context.Background(), tt.events); err != nil {
				t.Fatal(err)
			}
			got := f.messages()
			if len(got) != tt.want {
				t.Fatalf("%d messages, want %d", len(got), tt.want)
			}
			if got[0].document != nil {
				t.Error("the file came before the alert")
			}
			if tt.want == 2 && (got[1].document == nil || got[1].replyTo != got[0].id) {
				t.Errorf("the second message is not a file replying to the alert")
			}
		})
	}
}

// The alert is delivered once whatever becomes of its file: an upload
// that fails (429 with retry_after, 5xx, a refusal, no answer) is logged
// with where to read the trace, and Notify reports success, so the
// dispatcher never retries the call and sends the alert a second time.
func TestAFailedTraceFileNeverRepeatsTheAlert(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{name: "429", status: 429, body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 9","parameters":{"retry_after":9}}`, want: "retry_after=9s"},
		{name: "500", status: 500, body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`, want: "500"},
		{name: "too large", status: 413, body: `{"ok":false,"error_code":413,"description":"Request Entity Too Large"}`, want: "413"},
		{name: "ok false", status: 200, body: `{"ok":false,"description":"odd"}`, want: "ok false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTelegram(t)
			var logs testkit.Logs
			store := &notifytest.Threads{}
			n, err := New(Config{BotToken: testToken, ChatID: f.chat, APIURL: f.srv.URL}, nil, nil,
				slog.New(slog.NewTextHandler(&logs, nil)), WithThreadStore(store))
			if err != nil {
				t.Fatal(err)
			}
			f.answerNext(200, `{"ok":true,"result":{"message_id":501}}`) // the alert
			f.answerNext(tt.status, tt.body)                             // its file
			attempts := 0
			d := notify.NewDispatcher(map[string]notify.Notifier{"tg": countCalls{n, &attempts}}, notify.DispatcherOptions{
				Sleep: func(context.Context, time.Duration) error { return nil },
			})
			ev := notifytest.CutTrace()
			if out := d.Send(context.Background(), "tg", []notify.Event{ev}); !out.Delivered {
				t.Fatalf("the alert was not delivered: %v", out.Err)
			}
			if attempts != 1 {
				t.Errorf("Notify called %d times, want 1: a retry would send the alert again", attempts)
			}
			if _, ts, ok := store.Thread(ev.Key); !ok || ts != "501" {
				t.Errorf("the alert's message is remembered as %q, %v; want 501", ts, ok)
			}
			for _, want := range []string{"level=WARN", "its whole trace could not follow it", statusHint, ev.ID, tt.want} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log lacks %q:\n%s", want, logs.String())
				}
			}
			if strings.Contains(logs.String(), "secretTOKEN") {
				t.Errorf("the log shows the token")
			}
		})
	}
}

// A first message that fails sends nothing else, so the dispatcher's
// retry of the whole call sends the alert and its file once each.
func TestARetriedAlertSendsItsFileOnce(t *testing.T) {
	f := newFakeTelegram(t)
	n := newNotifier(t, f)
	f.answerNext(500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
	d := notify.NewDispatcher(map[string]notify.Notifier{"tg": n}, notify.DispatcherOptions{
		Sleep: func(context.Context, time.Duration) error { return nil },
	})
	if out := d.Send(context.Background(), "tg", []notify.Event{notifytest.CutTrace()}); !out.Delivered {
		t.Fatalf("not delivered: %v", out.Err)
	}
	got := f.messages()
	if len(got) != 2 || got[0].document != nil || got[1].document == nil || got[1].replyTo != got[0].id {
		t.Fatalf("%d messages, want the alert once and then its file replying to it", len(got))
	}
}

// Through the dispatcher at the channel's registered rate, 40 failures
// with long traces in a row keep a group within Telegram's 20 messages a
// minute, alerts and files together (the fake fails the test past it);
// every alert arrives, and the files past their share are logged.
func TestAlertsAndTraceFilesKeepAGroupWithinTwentyAMinute(t *testing.T) {
	f := newFakeTelegram(t)
	c := testkit.NewClock(t0)
	f.clock = c
	var logs testkit.Logs
	ct := Channel()
	cfg := ct.NewConfig().(*Config)
	cfg.BotToken, cfg.ChatID, cfg.APIURL = testToken, f.chat, f.srv.URL
	if err := ct.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	n, err := ct.New(cfg, notify.Deps{Name: "tg", Now: c.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	d := notify.NewDispatcher(map[string]notify.Notifier{"tg": n}, notify.DispatcherOptions{
		Now:           c.Now,
		Sleep:         func(_ context.Context, d time.Duration) error { c.Add(d); return nil },
		RatePerSecond: map[string]float64{"tg": ct.RatePerSecond},
	})
	for i := range 40 {
		ev := notifytest.CutTrace()
		ev.ID, ev.Key = fmt.Sprintf("evt_%d", i), fmt.Sprintf("operation.failed/op/%d", i)
		if out := d.Send(context.Background(), "tg", []notify.Event{ev}); !out.Delivered {
			t.Fatalf("alert %d: %v", i, out.Err)
		}
	}
	alerts, files := 0, 0
	for _, m := range f.messages() {
		if m.document != nil {
			files++
		} else {
			alerts++
		}
	}
	t.Logf("%d alerts, %d files, over %s", alerts, files, c.Now().Sub(t0))
	if alerts != 40 || files == 0 {
		t.Errorf("%d alerts and %d files, want 40 alerts and some files", alerts, files)
	}
	if skipped := strings.Count(logs.String(), "to keep the chat within"); skipped != 40-files {
		t.Errorf("%d skipped files logged, want %d", skipped, 40-files)
	}
}

// A trace beyond the file's own bound is cut after a whole line with a
// marker naming where the rest is; the file stays valid UTF-8, whatever
// characters sit at the cut.
func TestTraceFileIsBoundedAndStaysUTF8(t *testing.T) {
	for _, unit := range []string{"a\n", "😀", "é<&>\n", "\xff"} {
		s := strings.Repeat(unit, 2*maxDocument/len(unit))
		doc := cutDocument(s, maxDocument)
		if len(doc) > maxDocument || !utf8.Valid(doc) {
			t.Errorf("unit %q: %d bytes, valid UTF-8 %v", unit, len(doc), utf8.Valid(doc))
		}
		if !strings.HasSuffix(string(doc), statusHint+"\n") {
			t.Errorf("unit %q: the cut file does not say where the rest is", unit)
		}
	}
	ev := hostileFailure()
	ev.Errors[0].Trace = strings.Repeat("#1 /app/😀<b>.php(1): f()\n", maxDocument/20)
	doc, ok := traceDocument([]notify.Event{ev}, "")
	if !ok || len(doc) > maxDocument || !utf8.Valid(doc) {
		t.Errorf("the file of a %d-byte trace: %d bytes, valid UTF-8 %v", len(ev.Errors[0].Trace), len(doc), utf8.Valid(doc))
	}
}

// The caption and the file's name carry seqwatch's words and the event's
// id only, within the caption's 1024 characters, whatever the id holds.
func TestCaptionAndFileNameStayWithinTheirLimits(t *testing.T) {
	ev := notifytest.CutTrace()
	ev.ID = "evt_" + strings.Repeat("😀/../<b>@here", 200)
	if c := caption(ev); utf16Len(c) > maxCaption {
		t.Errorf("caption of %d characters", utf16Len(c))
	}
	if name := fileName(ev); !regexp.MustCompile(`^seqwatch-trace-evt_[A-Za-z0-9_-]{1,60}\.txt$`).MatchString(name) {
		t.Errorf("file name %q", name)
	}
}

// countCalls counts the Notify calls the dispatcher makes.
type countCalls struct {
	notify.Notifier
	n *int
}

func (c countCalls) Notify(ctx context.Context, events []notify.Event) (bool, error) {
	*c.n++
	return c.Notifier.Notify(ctx, events)
}
