package email

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/seqwatch/seqwatch/notify"
)

// Preview is the message Notify would send for events, as it would go
// over SMTP (headers and both parts), to the configured recipients.
func (n *Notifier) Preview(events []notify.Event) ([]notify.Request, error) {
	if len(events) == 0 {
		return nil, nil
	}
	rendered, err := render(n.cfg.SubjectPrefix, events, n.templates)
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	msg, err := n.buildMsg(rendered, events)
	if err != nil {
		return nil, fmt.Errorf("email: build message: %w", err)
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("email: writing the message: %w", err)
	}
	return []notify.Request{{Method: "SMTP", Target: n.addr + " to " + strings.Join(n.cfg.To, ", "), Body: b.Bytes()}}, nil
}
