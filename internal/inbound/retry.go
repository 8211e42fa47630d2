package inbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/riverqueue/river"

	"github.com/ticketpager/ticketpager/internal/callout"
	"github.com/ticketpager/ticketpager/internal/source"
	"github.com/ticketpager/ticketpager/internal/store"
)

// RetryArgs is the durable job that processes a queued callout again.
type RetryArgs struct {
	CalloutID int64 `json:"calloutId"`
}

// Kind names the job in River's table.
func (RetryArgs) Kind() string { return "callout_retry" }

// RetryWorker runs RetryArgs jobs.
type RetryWorker struct {
	river.WorkerDefaults[RetryArgs]
	P *Processor
}

// NextRetry backs off from seconds to at most every five minutes.
func (w *RetryWorker) NextRetry(job *river.Job[RetryArgs]) time.Time {
	return w.P.Now().Add(backoff(job.Attempt + 1))
}

// Timeout bounds one attempt.
func (w *RetryWorker) Timeout(*river.Job[RetryArgs]) time.Duration { return time.Minute }

// Work processes the callout again; an error makes River try again later.
func (w *RetryWorker) Work(ctx context.Context, job *river.Job[RetryArgs]) error {
	a, err := w.P.Retry(ctx, job.Args.CalloutID)
	if err != nil {
		return err
	}
	if a.Action == ActionQueued {
		return fmt.Errorf("callout %d still waiting for Autotask: %s", job.Args.CalloutID, a.Message)
	}
	return nil
}

// Retry processes a journaled callout again, unless it already has a final
// outcome. Past GiveUpAfter it is marked FAILED.
func (p *Processor) Retry(ctx context.Context, id int64) (Answer, error) {
	c, err := p.Store.Callout(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Answer{Action: ActionFailed}, nil // its source was deleted with its journal
	}
	if err != nil {
		return Answer{}, err
	}
	if c.Action != "" && c.Action != ActionQueued {
		return Answer{Action: c.Action, CalloutID: id}, nil
	}
	fail := func(msg string) (Answer, error) {
		a := Answer{Action: ActionFailed, HTTPStatus: http.StatusServiceUnavailable, CalloutID: id, Message: msg}
		return a, p.record(ctx, p.Store.Writer(), a, msg)
	}
	if p.Now().Sub(c.ReceivedAt) > GiveUpAfter {
		return fail(fmt.Sprintf("gave up after %s of retries; last error: %s", GiveUpAfter, c.Error))
	}
	src, err := p.Sources.Get(ctx, c.SourceID)
	if err != nil {
		return Answer{}, err
	}
	if src.Status != source.StatusActive {
		return fail("the alert source was deactivated before the callout could be processed")
	}
	ref := callout.Reference{TicketID: c.TicketID, TicketNumber: c.TicketNumber}
	if ref.TicketID == 0 && ref.TicketNumber == "" { // stranded before it was parsed
		query, _ := url.ParseQuery(c.Query)
		ref, err = callout.Parse(callout.Request{Method: c.Method, ContentType: c.ContentType, Query: query, Body: []byte(c.Body)})
		if err != nil {
			a := rejectParse(id, err)
			return a, p.record(ctx, p.Store.Writer(), a, "")
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return p.process(ctx, src, id, ref, true)
}

// SweepArgs is the periodic job that finds callouts stranded by a crash.
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "callout_sweep" }

// SweepWorker queues callouts that were journaled but never got an outcome,
// because the process stopped while handling them.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	P *Processor
}

// Work queues every stranded callout.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	_, err := w.P.Sweep(ctx)
	return err
}

// Sweep queues callouts journaled more than RescueAfter ago without an outcome.
func (p *Processor) Sweep(ctx context.Context) (int, error) {
	ids, err := p.Store.StrandedCallouts(ctx, p.Now().Add(-p.RescueAfter), 500)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := p.queue(ctx, id, Answer{CalloutID: id}, errors.New("the service stopped while handling it"), false); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
