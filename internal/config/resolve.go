package config

import (
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// Overrides are what a command line says about the application, each
// over what the configuration file says, which is over the application's
// .env.
type Overrides struct {
	// AppDir, DSN and Timezone are --app, --dsn and --timezone ("": not
	// given). With neither DSN nor database.url, $SEQWATCH_DSN is the
	// database.
	AppDir, DSN, Timezone string
	// MaxPending, StuckAfter and ScheduledStuckAfter are --max-pending,
	// --stuck-after and --scheduled-stuck-after (negative: not given).
	MaxPending          int
	StuckAfter          time.Duration
	ScheduledStuckAfter time.Duration
}

// Resolve is where the application is, and the thresholds to judge it
// by, from ac (nil: no configuration file), the overrides o and getenv.
func Resolve(ac *App, o Overrides, getenv func(string) string) (laravel.Source, check.Thresholds, error) {
	var settings laravel.Settings
	if ac != nil {
		// Only the parts that say where the application is matter here;
		// channel problems are for validate and run to report.
		settings = ac.Settings()
	}
	if o.AppDir != "" {
		settings.AppDir = o.AppDir
	}
	dsn := o.DSN
	if dsn == "" && settings.URL == "" {
		dsn = getenv("SEQWATCH_DSN")
	}
	if dsn != "" {
		settings.URL = dsn
	}
	if o.Timezone != "" {
		settings.Timezone = o.Timezone
	}
	src, err := laravel.Resolve(settings)
	if err != nil {
		return laravel.Source{}, check.Thresholds{}, err
	}
	th := check.DefaultThresholds()
	if ac != nil {
		th = ac.Thresholds.Check()
	}
	if o.MaxPending >= 0 {
		th.MaxPending = o.MaxPending
	}
	if o.StuckAfter >= 0 {
		th.StuckAfter = o.StuckAfter
	}
	if o.ScheduledStuckAfter >= 0 {
		th.ScheduledStuckAfter = o.ScheduledStuckAfter
	}
	return src, th, nil
}
