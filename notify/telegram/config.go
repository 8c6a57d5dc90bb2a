package telegram

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/seqwatch/seqwatch/notify"
)

// DefaultAPIURL is the Bot API's base URL; a self-hosted Bot API server
// (telegram-bot-api) is given in api_url.
const DefaultAPIURL = "https://api.telegram.org"

// Config configures one Telegram channel: a bot posting to one chat, or to
// one topic of a forum group.
type Config struct {
	// BotToken is the token @BotFather gave the bot (123456789:AA…). It is
	// a secret, and it travels in the request's path: give it as ${VAR}
	// or bot_token_file.
	BotToken notify.Secret `yaml:"bot_token"`
	// ChatID is the chat the bot posts to: a group's or channel's numeric
	// id (-1001234567890; quote it in YAML) or a public channel's
	// @username. The bot must be a member (an administrator of a channel).
	ChatID string `yaml:"chat_id"`
	// MessageThreadID posts into one topic of a forum group (0: none).
	MessageThreadID int64 `yaml:"message_thread_id"`
	// APIURL is the Bot API's base URL (default DefaultAPIURL); messages
	// go to APIURL/bot<token>/sendMessage.
	APIURL string `yaml:"api_url"`
	// AllowHTTP permits a plain http:// api_url to a host that is not a
	// loopback address (a self-hosted Bot API server on a trusted
	// network).
	AllowHTTP bool `yaml:"allow_http"`
	// Timeout bounds each request (default notify.DefaultHTTPTimeout).
	Timeout time.Duration `yaml:"timeout"`
}

var (
	tokenShape    = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	numericChat   = regexp.MustCompile(`^-?[0-9]+$`)
	channelHandle = regexp.MustCompile(`^@[A-Za-z][A-Za-z0-9_]{3,31}$`)
)

// Validate reports every problem with the configuration, each naming its
// key and what to do, and fills in the defaults. It never prints the
// token.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch tok := c.BotToken.Reveal(); {
	case tok == "":
		add("telegram.bot_token: required; give the token @BotFather sent when the bot was made (123456789:AA…), as ${TELEGRAM_BOT_TOKEN} or bot_token_file")
	case !tokenShape.MatchString(tok):
		add("telegram.bot_token: not a bot token (digits, a colon, then letters, digits, - and _); copy it again from @BotFather, alone on its line")
	}
	switch id := c.ChatID; {
	case id == "":
		add("telegram.chat_id: required; give the chat's numeric id (\"-1001234567890\", quoted) or a public channel's @username")
	case numericChat.MatchString(id):
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			add("telegram.chat_id: %s is too large for a chat id; copy the chat's id again", id)
		}
	case !channelHandle.MatchString(id):
		add("telegram.chat_id: must be a numeric chat id (\"-1001234567890\") or a channel's @username (got %q)", id)
	}
	if c.MessageThreadID < 0 {
		add("telegram.message_thread_id: must be a topic's id, a positive number (got %d); remove it to post outside topics", c.MessageThreadID)
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	} else if err := validateBase(c.APIURL, c.AllowHTTP); err != nil {
		add("telegram.api_url: %v", err)
	}
	switch {
	case c.Timeout < 0:
		add("telegram.timeout: must be positive (got %s); remove it for the default of %s", c.Timeout, notify.DefaultHTTPTimeout)
	case c.Timeout == 0:
		c.Timeout = notify.DefaultHTTPTimeout
	}
	return errors.Join(errs...)
}

// validateBase checks the base URL: the shared URL rules, and no query,
// fragment or bot path (seqwatch adds /bot<token>/sendMessage).
func validateBase(raw string, allowHTTP bool) error {
	if err := notify.ValidateURL(raw, allowHTTP, DefaultAPIURL); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err // unreachable after ValidateURL
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("has a query or fragment; give the base URL only, such as " + DefaultAPIURL)
	}
	if strings.Contains(u.Path, "/bot") {
		return errors.New("contains a /bot path; give the base URL only, such as " + DefaultAPIURL + " (the token goes in bot_token)")
	}
	return nil
}

// Channel describes the telegram: channel type of seqwatch.yaml. Telegram
// lets a bot send about 20 messages a minute to one group, so that is its
// default rate; every Notify call is one message.
func Channel() notify.ChannelType {
	t := notify.DefineChannel("telegram", (*Config).Validate,
		func(c *Config) []string {
			tok := c.BotToken.Reveal()
			return []string{tok, "bot" + tok}
		},
		func(c *Config, d notify.Deps) (notify.Notifier, error) {
			var opts []Option
			if d.Threads != nil {
				opts = append(opts, WithThreadStore(d.Threads(d.Name)))
			}
			n, err := New(*c, d.Client, d.Now, d.Logger, opts...)
			if err != nil {
				return nil, err
			}
			n.templates = d.Templates
			return n, nil
		})
	// Telegram takes about 20 messages a minute to a group; alerts get
	// 15 of them and trace files (see budget.go) at most the other 5.
	t.RatePerSecond = float64(alertsPerMinute) / 60
	return t
}
