package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the prepared statement cache; queries built with a
// varying number of placeholders past it simply run unprepared.
const maxCachedStmts = 256

// pool is a database/sql pool that keeps its statements prepared. SQLite
// spends a large share of a small query parsing it, and the callout path runs
// the same few statements thousands of times a second.
type pool struct {
	*sql.DB
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool // seen inside a transaction, to prepare once it ends
}

func newPool(db *sql.DB) *pool {
	return &pool{DB: db, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// cached returns the prepared statement for query if there is one. Inside a
// transaction nothing can be prepared on the pool (its only connection may be
// the transaction's), so the query is noted and prepared after the commit.
func (p *pool) cached(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.stmts[query]
	if !ok && len(p.stmts)+len(p.pending) < maxCachedStmts {
		p.pending[query] = true
	}
	return st
}

// preparePending prepares the queries noted inside transactions.
func (p *pool) preparePending(ctx context.Context) {
	p.mu.Lock()
	var queries []string
	for q := range p.pending {
		queries = append(queries, q)
	}
	clear(p.pending)
	p.mu.Unlock()
	for _, q := range queries {
		p.stmt(ctx, q)
	}
}

// stmt returns the prepared statement for query, or nil when the cache is full
// or preparing failed (the caller then runs the query unprepared, which reports the error).
func (p *pool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.Lock()
	st, ok := p.stmts[query]
	full := len(p.stmts) >= maxCachedStmts
	p.mu.Unlock()
	if ok || full {
		return st
	}
	// Prepare without the lock: it may wait for the one write connection,
	// which a transaction holding it may need the lock to give back.
	st, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.stmts[query]; ok {
		st.Close()
		return prev
	}
	p.stmts[query] = st
	return st
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.DB.ExecContext(ctx, query, args...)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

func (p *pool) close() error {
	p.mu.Lock()
	for _, st := range p.stmts {
		st.Close()
	}
	p.stmts = map[string]*sql.Stmt{}
	p.mu.Unlock()
	return p.DB.Close()
}

// Tx is a write transaction whose queries use the prepared statements of the
// write pool. Tx.Tx is the plain *sql.Tx, for River's InsertTx.
type Tx struct {
	*sql.Tx
	pool   *pool
	driver string
}

// lockRow is the clause that locks the rows a SELECT reads until the
// transaction ends. SQLite needs none: its write transactions run one at a time.
func lockRow(q Querier) string {
	if tx, ok := q.(*Tx); ok && tx.driver == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.pool.cached(query); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.pool.cached(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.pool.cached(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
