package docs

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite docs/slack-alert.png from the Slack channel's golden message, with Chromium")

// slackGolden is the message the README's picture shows: the Slack
// channel's golden webhook body for a failed operation.
const slackGolden = "../../notify/slack/testdata/failed.json.golden"

// A Block Kit message, as far as the picture needs it.
type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text"`
	Fields   []slackText `json:"fields"`
	Elements []slackText `json:"elements"`
}

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

var (
	slackDate   = regexp.MustCompile(`<!date\^[^|>]*\|([^>]*)>`)
	slackFence  = regexp.MustCompile("(?s)```(.*?)```")
	slackCode   = regexp.MustCompile("`([^`]+)`")
	slackBold   = regexp.MustCompile(`\*([^*\n]+)\*`)
	slackItalic = regexp.MustCompile(`(^|\s)_([^_\n]+)_`)
	// The emoji shortcodes the channel writes, as Slack shows them: the
	// machine that draws the picture may have no emoji font, so the one in
	// the picture is drawn (a siren), the others are their characters.
	slackEmoji = strings.NewReplacer(":rotating_light:", sirenSVG, ":white_check_mark:", "\u2705", ":hourglass:", "\u231B",
		":warning:", "\u26A0\uFE0F", ":bell:", "\U0001F514", ":electric_plug:", "\U0001F50C", ":inbox_tray:", "\U0001F4E5")
)

const sirenSVG = `<svg class="emoji" width="20" height="20" viewBox="0 0 20 20" aria-label=":rotating_light:">` +
	`<rect x="3" y="15" width="14" height="3" rx="1" fill="#555"/><path d="M5 15V10a5 5 0 0 1 10 0v5z" fill="#e0242c"/>` +
	`<circle cx="10" cy="10" r="1.6" fill="#fff"/>` +
	`<path d="M10 1v2M2.5 4l1.5 1.5M17.5 4 16 5.5" stroke="#e0242c" stroke-width="1.6" stroke-linecap="round"/></svg>`

// slackEntities undoes the three escapes Slack's mrkdwn uses.
var slackEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// mrkdwn renders the part of Slack's mrkdwn the channel writes as HTML:
// dates shown by their fallback text (Slack shows them in the reader's own
// zone), code blocks, code spans, bold and italic. Text is escaped for
// HTML after Slack's own escapes are undone, so it shows as Slack shows it.
func mrkdwn(s string) string {
	s = slackDate.ReplaceAllString(s, "$1")
	var b strings.Builder
	last := 0
	for _, m := range slackFence.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(inline(s[last:m[0]]))
		b.WriteString("<pre>" + html.EscapeString(slackEntities.Replace(s[m[2]:m[3]])) + "</pre>")
		last = m[1]
		if strings.HasPrefix(s[last:], "\n") {
			last++ // the line break after a block is the block's own
		}
	}
	b.WriteString(inline(s[last:]))
	return b.String()
}

func inline(s string) string {
	s = slackEmoji.Replace(html.EscapeString(slackEntities.Replace(s)))
	s = slackCode.ReplaceAllString(s, "<code>$1</code>")
	s = slackBold.ReplaceAllString(s, "<b>$1</b>")
	s = slackItalic.ReplaceAllString(s, "$1<i>$2</i>")
	return strings.ReplaceAll(s, "\n", "<br>")
}

func text(t slackText) (string, error) {
	switch t.Type {
	case "mrkdwn":
		return mrkdwn(t.Text), nil
	case "plain_text":
		return strings.ReplaceAll(slackEmoji.Replace(html.EscapeString(t.Text)), "\n", "<br>"), nil
	}
	return "", fmt.Errorf("a text object of type %q", t.Type)
}

// slackPage renders a Slack webhook body as an HTML page in the look of
// Slack's Block Kit: the picture is made from the message itself, and a
// block of a type it does not know is an error rather than left out.
func slackPage(body []byte) (string, error) {
	var msg slackMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#fff;font:15px/1.47 -apple-system,"Segoe UI","Noto Sans",Lato,sans-serif;color:#1d1c1d}
.msg{display:flex;gap:8px;padding:16px 20px;max-width:720px}
.avatar{flex:none;width:36px;height:36px;border-radius:6px;background:#4a154b;color:#fff;font-weight:700;display:flex;align-items:center;justify-content:center}
.who b{font-weight:900}.app{font-size:10px;background:#dddddd;color:#616061;border-radius:2px;padding:1px 3px;margin:0 4px;font-weight:700}.when{color:#616061;font-size:12px}
.emoji{vertical-align:-3px}.header{font-size:18px;font-weight:900;margin:6px 0 4px}.section{margin:6px 0}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:8px 16px;margin:6px 0}
code{font:12px Monaco,Menlo,Consolas,monospace;color:#e01e5a;background:#f6f6f6;border:1px solid #e0e0e0;border-radius:3px;padding:1px 3px}
pre{font:12px/1.5 Monaco,Menlo,Consolas,monospace;background:#f8f8f8;border:1px solid #e0e0e0;border-radius:4px;padding:8px;margin:4px 0;white-space:pre-wrap;word-break:break-all}
.context{color:#616061;font-size:12px;margin-top:8px}.context code{font-size:11px}
</style></head><body><div class="msg"><div class="avatar">sw</div><div class="body">
<div class="who"><b>seqwatch</b><span class="app">APP</span><span class="when">12:00</span></div>
`)
	for i, bl := range msg.Blocks {
		switch bl.Type {
		case "header", "section":
			if bl.Text != nil {
				s, err := text(*bl.Text)
				if err != nil {
					return "", fmt.Errorf("block %d: %w", i, err)
				}
				fmt.Fprintf(&b, "<div class=%q>%s</div>\n", bl.Type, s)
			}
			if len(bl.Fields) > 0 {
				b.WriteString(`<div class="fields">`)
				for _, f := range bl.Fields {
					s, err := text(f)
					if err != nil {
						return "", fmt.Errorf("block %d: %w", i, err)
					}
					b.WriteString("<div>" + s + "</div>")
				}
				b.WriteString("</div>\n")
			}
		case "context":
			b.WriteString(`<div class="context">`)
			for _, e := range bl.Elements {
				s, err := text(e)
				if err != nil {
					return "", fmt.Errorf("block %d: %w", i, err)
				}
				b.WriteString(s)
			}
			b.WriteString("</div>\n")
		case "divider":
			b.WriteString("<hr>\n")
		default:
			return "", fmt.Errorf("block %d: a block of type %q, which the picture does not draw", i, bl.Type)
		}
	}
	b.WriteString("</div></div></body></html>\n")
	return b.String(), nil
}

// The README's Slack picture is drawn from the channel's golden message,
// every block of it, with the exception's attempted mention and HTML
// showing as the inert text Slack shows. With -update Chromium redraws
// docs/slack-alert.png from it.
func TestSlackAlertPictureIsDrawnFromTheGoldenMessage(t *testing.T) {
	body, err := os.ReadFile(slackGolden)
	if err != nil {
		t.Fatal(err)
	}
	page, err := slackPage(body)
	if err != nil {
		t.Fatalf("%s: %v", slackGolden, err)
	}
	for _, want := range []string{
		`<div class="header">` + sirenSVG + " Operation failed</div>",
		"<b>Application</b><br>shop", "<b>Failed</b><br>2024-01-13 12:00:03 UTC",
		"&lt;!channel&gt; 2024_01_13_120000_FailedOperation failed: payment &amp; &lt;b&gt;refund&lt;/b&gt; evil",
		"<code>Illuminate\\Database\\QueryException</code>",
		"Foo-&gt;bar0()", "<i>… and 9177 more frames</i>", "event <code>01HN0000000000000000000001</code>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if _, err := slackPage([]byte(`{"blocks":[{"type":"rich_text"}]}`)); err == nil {
		t.Error("a block the picture cannot draw was left out without an error")
	}
	if !*update {
		shot, err := os.ReadFile("../../docs/slack-alert.png")
		if err != nil {
			t.Fatalf("docs/slack-alert.png: %v (go test ./internal/docs -run SlackAlert -update draws it)", err)
		}
		if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
			t.Fatalf("docs/slack-alert.png is not a PNG: %v (go test ./internal/docs -run SlackAlert -update draws it)", err)
		}
		return
	}
	bin := testkit.RequireBinary(t, "chromium", "chromium-browser", "google-chrome")
	dir := t.TempDir()
	in := filepath.Join(dir, "slack.html")
	if err := os.WriteFile(in, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "slack.png")
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+out, "--window-size=780,690", "file://"+in)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, msg)
	}
	shot, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if err := os.WriteFile("../../docs/slack-alert.png", shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote docs/slack-alert.png (%d bytes)", len(shot))
}
