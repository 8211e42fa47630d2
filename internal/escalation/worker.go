package escalation

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// StepWorker runs StepArgs jobs.
type StepWorker struct {
	river.WorkerDefaults[StepArgs]
	E *Engine
}

// Work runs one escalation step.
func (w *StepWorker) Work(ctx context.Context, job *river.Job[StepArgs]) error {
	return w.E.Step(ctx, job.Args.IncidentID, job.Args.Step)
}

// DeliverWorker runs DeliverArgs jobs.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	E *Engine
}

// Work delivers one notification and its bundle.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.E.Deliver(ctx, job.Args.NotificationID)
}

// NextRetry backs off from 5 seconds to at most 5 minutes between attempts.
func (w *DeliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	d := 5 * time.Second << min(job.Attempt-1, 6)
	return w.E.Now().Add(min(d, 5*time.Minute))
}

// Timeout bounds one delivery attempt.
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return 45 * time.Second }
