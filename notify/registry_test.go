package notify

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

type testConfig struct{ Secret string }

func TestRegistryLooksUpAndNamesItsTypes(t *testing.T) {
	build := func(*testConfig, Deps) (Notifier, error) { return nil, nil }
	tests := []struct {
		name        string
		reg         Registry
		lookup      string
		wantFound   bool
		wantChoices string
	}{
		{"empty", nil, "a", false, ""},
		{"one", Registry{DefineChannel("a", nil, nil, build)}, "a", true, "a:"},
		{"two", Registry{DefineChannel("a", nil, nil, build), DefineChannel("b", nil, nil, build)}, "b", true, "a: or b:"},
		{"three, unknown key", Registry{DefineChannel("a", nil, nil, build), DefineChannel("b", nil, nil, build), ConsoleChannel()}, "slack", false, "a:, b: or console:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.reg.Lookup(tt.lookup)
			if ok != tt.wantFound || (ok && got.Key != tt.lookup) {
				t.Errorf("Lookup(%q) = %q, %v", tt.lookup, got.Key, ok)
			}
			if c := tt.reg.Choices(); c != tt.wantChoices {
				t.Errorf("Choices() = %q, want %q", c, tt.wantChoices)
			}
		})
	}
}

// DefineChannel hands the typed functions the configuration NewConfig made,
// and a configuration of another type is an error, not a panic.
func TestDefineChannelPassesItsOwnConfiguration(t *testing.T) {
	var built *testConfig
	ct := DefineChannel("test",
		func(c *testConfig) error {
			if c.Secret == "" {
				return errors.New("test.secret: set it")
			}
			return nil
		},
		func(c *testConfig) []string { return []string{c.Secret} },
		func(c *testConfig, d Deps) (Notifier, error) { built = c; return NewConsole(d.Stdout), nil })

	cfg := ct.NewConfig()
	if err := ct.Validate(cfg); err == nil || err.Error() != "test.secret: set it" {
		t.Errorf("Validate(empty) = %v", err)
	}
	cfg.(*testConfig).Secret = "s3cret"
	if err := ct.Validate(cfg); err != nil {
		t.Errorf("Validate = %v", err)
	}
	if s := ct.Secrets(cfg); len(s) != 1 || s[0] != "s3cret" {
		t.Errorf("Secrets = %q", s)
	}
	if _, err := ct.New(cfg, Deps{}); err != nil || built != cfg {
		t.Errorf("New got %p, want %p (err %v)", built, cfg, err)
	}
	wrong := &struct{}{}
	if err := ct.Validate(wrong); err == nil {
		t.Error("Validate accepted a configuration of another type")
	}
	if n, err := ct.New(wrong, Deps{}); err == nil || n != nil {
		t.Errorf("New accepted a configuration of another type: %v", n)
	}
	if s := ct.Secrets(wrong); s != nil {
		t.Errorf("Secrets of another type = %q", s)
	}
}

func TestConsoleChannelWritesToDepsStdout(t *testing.T) {
	ct := ConsoleChannel()
	var out bytes.Buffer
	n, err := ct.New(ct.NewConfig(), Deps{Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), []Event{{Kind: Test, App: "shop", Key: "k"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "shop") {
		t.Errorf("console wrote %q", out.String())
	}
	if err := ct.Validate(ct.NewConfig()); err != nil || ct.Secrets(ct.NewConfig()) != nil {
		t.Errorf("console has no configuration to check: %v", err)
	}
}
