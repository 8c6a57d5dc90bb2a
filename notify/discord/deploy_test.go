package discord

import (
	"testing"

	"github.com/seqwatch/seqwatch/notify/internal/notifytest"
)

func TestDeployFinishedIsPostedWithItsSummary(t *testing.T) { notifytest.CheckDeployFinished(t, setup) }
