package reader

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"
)

// Stats counts what a DB has asked of its database: statements that return
// rows, and the rows they returned. The tests hold the readers to bounds
// with it (rows fetched must follow problems, not history), and the daemon
// logs it per tick.
type Stats struct {
	Queries int64
	Rows    int64
	// Transactions are the transactions begun: what one read sees of
	// the database at one moment.
	Transactions int64
}

// Sub returns s - o.
func (s Stats) Sub(o Stats) Stats {
	return Stats{Queries: s.Queries - o.Queries, Rows: s.Rows - o.Rows, Transactions: s.Transactions - o.Transactions}
}

type counter struct{ queries, rows, txs atomic.Int64 }

func (c *counter) stats() Stats {
	return Stats{Queries: c.queries.Load(), Rows: c.rows.Load(), Transactions: c.txs.Load()}
}

// countingConnector wraps a driver's connector so that every query and
// every row fetched is counted at the driver boundary, below anything the
// readers do: a reader cannot fetch rows the count does not see.
type countingConnector struct {
	driver.Connector
	c *counter
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: cc.c}, nil
}

// dsnConnector is the connector of a driver that has no DriverContext.
type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (d dsnConnector) Connect(context.Context) (driver.Conn, error) { return d.drv.Open(d.dsn) }
func (d dsnConnector) Driver() driver.Driver                        { return d.drv }

// countingConn forwards every optional interface database/sql looks for,
// so wrapping changes no behaviour (pgx needs NamedValueChecker for arrays,
// the MySQL driver falls back to prepared statements).
type countingConn struct {
	driver.Conn
	c *counter
}

func (cn *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cn.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err != nil {
		return nil, err
	}
	cn.c.queries.Add(1)
	return &countingRows{Rows: rows, c: cn.c}, nil
}

func (cn *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cn.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	return e.ExecContext(ctx, query, args)
}

func (cn *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := cn.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = cn.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, conn: cn}, nil
}

func (cn *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.c.txs.Add(1)
	if b, ok := cn.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return cn.Conn.Begin() //nolint:staticcheck // the driver has nothing else
}

func (cn *countingConn) Ping(ctx context.Context) error {
	if p, ok := cn.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (cn *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cn.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *countingConn) IsValid() bool {
	if v, ok := cn.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (cn *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := cn.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countingStmt struct {
	driver.Stmt
	conn *countingConn
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	var rows driver.Rows
	var err error
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		rows, err = q.QueryContext(ctx, args)
	} else {
		vals := make([]driver.Value, len(args))
		for i, a := range args {
			vals[i] = a.Value
		}
		rows, err = s.Stmt.Query(vals) //nolint:staticcheck // the driver has nothing else
	}
	if err != nil {
		return nil, err
	}
	s.conn.c.queries.Add(1)
	return &countingRows{Rows: rows, c: s.conn.c}, nil
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	return s.Stmt.Exec(vals) //nolint:staticcheck // the driver has nothing else
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	// Without the wrapper, database/sql would ask the connection.
	return s.conn.CheckNamedValue(nv)
}

func (s *countingStmt) ColumnConverter(idx int) driver.ValueConverter {
	if c, ok := s.Stmt.(driver.ColumnConverter); ok { //nolint:staticcheck // forwarded for drivers that still use it
		return c.ColumnConverter(idx)
	}
	return driver.DefaultParameterConverter
}

type countingRows struct {
	driver.Rows
	c *counter
}

func (r *countingRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err == nil {
		r.c.rows.Add(1)
	}
	return err
}

// connectorFor returns the connector of a registered database/sql driver.
func connectorFor(driverName, dsn string) (driver.Connector, error) {
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	if dc, ok := drv.(driver.DriverContext); ok {
		return dc.OpenConnector(dsn)
	}
	return dsnConnector{dsn: dsn, drv: drv}, nil
}
