package reader

import (
	"context"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
)

// DefaultTimeout bounds a command's read when src.Conn.Timeout does not
// say otherwise.
const DefaultTimeout = 60 * time.Second

// OpenWithin connects to src's database under a context that ends after
// src.Conn.Timeout (default DefaultTimeout), which bounds everything done
// with it; done disconnects and ends the context.
func OpenWithin(ctx context.Context, src laravel.Source) (context.Context, *DB, func(), error) {
	if src.Conn.Timeout <= 0 {
		src.Conn.Timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, src.Conn.Timeout)
	db, err := Open(ctx, src.Conn)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, db, func() { db.Close(); cancel() }, nil
}

// ReadOnce connects, reads one snapshot and disconnects, within
// src.Conn.Timeout (default DefaultTimeout): the database server is asked
// to give up slightly sooner, so that the error says what was waited on
// (a locked table, a slow statement, a server that does not answer).
func ReadOnce(ctx context.Context, src laravel.Source, now time.Time, opt ReadOptions) (*check.Snapshot, error) {
	ctx, db, done, err := OpenWithin(ctx, src)
	if err != nil {
		return nil, err
	}
	defer done()
	return Read(ctx, db, src, now, opt)
}
