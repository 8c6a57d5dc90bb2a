package pgstate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seqwatch/seqwatch/state"
)

// acquireSQL takes, renews or fails to take the lease in one statement.
// The row is updated only when this holder has it (renewal: the token
// stays) or it has expired (takeover: the token grows). When the update
// does not apply, the second branch returns the row as it stands.
const acquireSQL = `
WITH got AS (
	INSERT INTO seqwatch_leases AS l (app, holder, token, expires_at, renewed_at)
	VALUES ($1, $2, 1, clock_timestamp() + $3::float8 * interval '1 millisecond', clock_timestamp())
	ON CONFLICT (app) DO UPDATE SET
		holder     = excluded.holder,
		token      = CASE WHEN l.holder = excluded.holder THEN l.token ELSE l.token + 1 END,
		expires_at = excluded.expires_at,
		renewed_at = excluded.renewed_at
	WHERE l.holder = excluded.holder OR l.expires_at < clock_timestamp()
	RETURNING holder, token, expires_at
)
SELECT holder, token, expires_at, true,
	(extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint
FROM got
UNION ALL
SELECT holder, token, expires_at, false,
	(extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint
FROM seqwatch_leases
WHERE app = $1 AND NOT EXISTS (SELECT FROM got)`

// Acquire takes the application's lease for ttl, or renews it, when this
// store holds it or it has expired; otherwise it reports who holds it.
// Call it at every tick, with a ttl of a few ticks. Expiry is judged by the
// database's clock.
//
// Its error matches ErrUnavailable when the database cannot be reached;
// the store then keeps the token it had, and Update decides, as always,
// by the lease row itself.
func (s *Store) Acquire(ctx context.Context, ttl time.Duration) (state.Lease, error) {
	if ttl <= 0 {
		return state.Lease{}, fmt.Errorf("lease for %q: ttl must be positive (got %s)", s.app, ttl)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var l state.Lease
	var ms int64
	// Two first acquisitions racing: the loser's ON CONFLICT sees the
	// winner's row, but its snapshot, taken before, may not, and then no
	// row comes back; the next try sees it.
	for try := 0; ; try++ {
		err := s.db.query(ctx, func(ctx context.Context) error {
			return s.db.pool.QueryRow(ctx, acquireSQL, s.app, s.holder, float64(ttl.Milliseconds())).
				Scan(&l.Holder, &l.Token, &l.ExpiresAt, &l.Leader, &ms)
		})
		if errors.Is(err, errNoRows) && try < 3 {
			continue
		}
		if err != nil {
			return state.Lease{}, s.db.fail(fmt.Sprintf("acquire lease for %q", s.app), err)
		}
		break
	}
	l.Remaining = time.Duration(ms) * time.Millisecond
	if l.Leader {
		s.token = l.Token
	} else {
		s.token = 0
	}
	return l, nil
}

// Release ends this store's lease at once, if it holds it, so a standby
// takes over at its next Acquire instead of waiting for the expiry. Call
// it on a clean shutdown, after the last Update. A store that does not
// hold the lease changes nothing.
func (s *Store) Release(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.db.query(ctx, func(ctx context.Context) error {
		_, err := s.db.pool.Exec(ctx,
			`UPDATE seqwatch_leases SET expires_at = clock_timestamp() WHERE app = $1 AND holder = $2 AND expires_at > clock_timestamp()`,
			s.app, s.holder)
		return err
	})
	if err != nil {
		return s.db.fail(fmt.Sprintf("release lease for %q", s.app), err)
	}
	s.token = 0
	return nil
}
