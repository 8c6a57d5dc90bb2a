package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"image/png"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/seqwatch/seqwatch/internal/testkit"
	"github.com/seqwatch/seqwatch/internal/web"
)

var update = flag.Bool("update", false, "rewrite docs/status-page.png from the browser test")

// browser starts a real headless Chromium with a fresh profile and returns
// a tab context, and a function returning the console errors seen so far.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	bin := testkit.RequireBinary(t, "chromium", "chromium-browser", "google-chrome")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		// Without these Chromium waits on the network, which this machine
		// does not have.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1100, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })

	var mu sync.Mutex
	var errs []string
	// Subscribed before the first page loads: console calls, uncaught
	// exceptions and browser log entries (a CSP violation is one).
	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("cannot start %s: %v", bin, err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == "error" || m.Type == "assert" {
				mu.Lock()
				errs = append(errs, string(m.Type)+": "+m.String())
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}

// eval runs a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func TestTheStatusPageInARealBrowser(t *testing.T) {
	f := start(t, web.Config{Username: "ops", Password: "correct horse"}, nil)
	f.board.Set(sampleApp(t0))
	ctx, consoleErrors := browser(t)

	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:correct horse"))
	// Sent with every request, the meta refresh's included.
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(f.base+"/"), chromedp.WaitVisible(chromedp.CSS("table.failing"))); err != nil {
		t.Fatal(err)
	}
	title := eval[string](t, ctx, `document.title`)
	text := eval[string](t, ctx, `document.body.innerText`)
	scripts := eval[int](t, ctx, `document.querySelectorAll("script").length`)
	images := eval[int](t, ctx, `document.querySelectorAll("img").length`)
	t.Run("the failing operation's name and message are visible", func(t *testing.T) {
		for _, want := range []string{"2024_01_13_120000_FailedOperation", "Database connection lost", `Illuminate\Database\QueryException`, "CRITICAL"} {
			if !strings.Contains(text, want) {
				t.Errorf("page text lacks %q", want)
			}
		}
	})
	t.Run("hostile text shows as text and runs nothing", func(t *testing.T) {
		if strings.Contains(title, "pwned") {
			t.Errorf("a script from the data ran: title %q", title)
		}
		if scripts != 0 || images != 0 {
			t.Errorf("the data made elements: %d script, %d img", scripts, images)
		}
		for _, want := range []string{`<script>document.title="pwned"</script>`, `<img src=x onerror="document.title='pwned'">`, "<!channel>"} {
			if !strings.Contains(text, want) {
				t.Errorf("page text lacks the hostile text shown literally: %s", want)
			}
		}
		// The message's control and bidi characters: the text the
		// browser shows has none, and what they surrounded reads in order.
		html := eval[string](t, ctx, `document.documentElement.outerHTML`)
		for _, c := range forbidden {
			if strings.Contains(text, c) || strings.Contains(html, c) || strings.Contains(title, c) {
				t.Errorf("the page in the browser carries %q", c)
			}
		}
		if !strings.Contains(text, "exe.png") {
			t.Error(`"exe.png" does not read as written`)
		}
	})
	t.Run("the trace is behind a details element", func(t *testing.T) {
		if eval[bool](t, ctx, `document.querySelector("table.failing details").open`) {
			t.Error("the trace is open by default")
		}
	})
	t.Run("readable on a phone", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
			t.Fatal(err)
		}
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 391 {
			t.Errorf("the page is %dpx wide on a 390px phone screen", w)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the page updates itself after a new failure", func(t *testing.T) {
		app := sampleApp(t0)
		app.Failing = append(app.Failing, web.Failure{ID: "99", Name: "2024_06_01_000000_NewlyBroken", FailedAt: t0,
			Errors: []web.ErrorView{{Exception: "LogicException", Message: "a brand new failure", CreatedAt: t0}}})
		f.board.Set(app)
		// No reload from here: only the page's own meta refresh (1s) can
		// bring the new row in.
		// A poll inside the page does not survive the refresh, so the test
		// asks again from outside until the deadline.
		testkit.Eventually(t, 15*time.Second, "the new failure appearing without a reload", func() (bool, string) {
			seen, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.innerText.includes("2024_06_01_000000_NewlyBroken") && document.body.innerText.includes("a brand new failure")`))
			return err == nil && seen, fmt.Sprintf("seen %v, error %v", seen, err)
		})
	})
	if *update {
		f.board.Set(sampleApp(t0))
		if err := chromedp.Do(ctx, chromedp.Navigate(f.base+"/"), chromedp.WaitVisible(chromedp.CSS("table.failing"))); err != nil {
			t.Fatal(err)
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
			t.Fatalf("the screenshot is not a PNG: %v", err)
		}
		if err := os.WriteFile("../../docs/status-page.png", shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/status-page.png (%d bytes)", len(shot))
	}
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
