package web_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/seqwatch/seqwatch/internal/web"
)

// controls is database text that would move a terminal's cursor, ring its
// bell, overwrite its line, reverse the text that follows (so that
// "exe.png" reads "gnp.exe") or hide a character.
const controls = "\x1b[2J\x1b]0;owned\x07 bell\a cr\r \u202eexe.png\u202c zero\u200bwidth"

// forbidden are the characters no view may carry.
var forbidden = []string{"\x1b", "\a", "\r", "\u202e", "\u202c", "\u200b"}

// fill sets every string reachable from v (a pointer) to s, giving every
// slice one element first, so that the document has each of its fields.
func fill(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.Pointer:
		fill(v.Elem(), s)
	case reflect.String:
		v.SetString(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := range v.Len() {
			fill(v.Index(i), s)
		}
	}
}

// strs calls f with every string of a decoded JSON document.
func strs(doc any, f func(string)) {
	switch x := doc.(type) {
	case string:
		f(x)
	case []any:
		for _, e := range x {
			strs(e, f)
		}
	case map[string]any:
		for k, e := range x {
			f(k)
			strs(e, f)
		}
	}
}

// TestEveryStringOfTheStatusIsCleaned fills every string of an
// application's status, whatever its field, with control and bidi
// characters, and reads the real page and the API over HTTP: neither
// carries one (text.Clean, applied once where the views take the
// document), and the text around them is still there.
func TestEveryStringOfTheStatusIsCleaned(t *testing.T) {
	f := start(t, web.Config{}, nil)
	var app web.AppStatus
	fill(reflect.ValueOf(&app), "shop"+controls)
	app.Name = "shop"
	f.board.Set(app)

	page := get(t, f.base+"/", "", "")
	if page.code != 200 {
		t.Fatalf("page: %d", page.code)
	}
	for _, c := range forbidden {
		if n := strings.Count(page.body, c); n > 0 {
			t.Errorf("the page carries %q %d times", c, n)
		}
	}
	if !strings.Contains(page.body, "exe.png") || !strings.Contains(page.body, "zerowidth") {
		t.Error("the cleaning lost the text around the controls")
	}

	api := get(t, f.base+"/api/v1/status", "", "")
	var doc any
	if err := json.Unmarshal([]byte(api.body), &doc); err != nil {
		t.Fatalf("API: %v", err)
	}
	n := 0
	strs(doc, func(s string) {
		n++
		for _, c := range forbidden {
			if strings.Contains(s, c) {
				t.Errorf("the API carries %q in %q", c, s)
			}
		}
	})
	if n < 30 {
		t.Errorf("the API document has only %d strings: the fill missed fields", n)
	}
}
