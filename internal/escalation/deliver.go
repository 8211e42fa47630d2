package escalation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/ticketpager/ticketpager/internal/actionlink"
	"github.com/ticketpager/ticketpager/internal/notify"
	"github.com/ticketpager/ticketpager/internal/secret"
	"github.com/ticketpager/ticketpager/internal/store"
)

// staleClaim is how long a delivery may stay SENDING before another attempt
// takes it over (its process died): pages are sent at least once.
const staleClaim = 5 * time.Minute

// errThrottled carries how long to wait before the user may get the next message.
type errThrottled struct{ wait time.Duration }

func (e errThrottled) Error() string { return "throttled for " + e.wait.String() }

// Deliver sends a notification, bundled with every other pending notification
// of the same user and channel, unless the user got a message on that channel
// less than Throttle ago (then the job waits and the bundle grows).
func (e *Engine) Deliver(ctx context.Context, notificationID int64) error {
	var msg notify.Message
	var ch notify.Channel
	var prevSent time.Time
	var claimed []store.Notification
	err := e.Store.Tx(ctx, func(tx *store.Tx) error {
		n, err := store.GetNotification(ctx, tx, notificationID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := e.now()
		if n.Status != store.NotifyPending && n.Status != store.NotifySending {
			return nil // sent in a bundle, skipped, or failed for good
		}
		if ch = e.channel(n.Channel); ch == nil {
			return fmt.Errorf("notification %d: channel %s is not configured any more", n.ID, n.Channel)
		}
		if prevSent, err = store.LastSent(ctx, tx, n.UserID, n.Channel); err != nil {
			return err
		}
		if wait := prevSent.Add(Throttle).Sub(now); wait > 0 {
			return errThrottled{wait}
		}
		delivery := "d" + strconv.FormatInt(n.ID, 10) + "-" + secret.NewToken("")[:12]
		if claimed, err = store.ClaimNotifications(ctx, tx, n.UserID, n.Channel, delivery, now, now.Add(-staleClaim)); err != nil {
			return err
		}
		if len(claimed) == 0 {
			return nil
		}
		if msg, err = e.message(ctx, tx, delivery, n.UserID, claimed); err != nil {
			return err
		}
		if len(msg.Items) == 0 { // every page in it was for incidents handled meanwhile
			claimed = nil
			return store.FinishDelivery(ctx, tx, delivery, store.NotifySkipped, "", now)
		}
		return store.SetLastSent(ctx, tx, n.UserID, n.Channel, now)
	})
	var throttled errThrottled
	if errors.As(err, &throttled) {
		return river.JobSnooze(throttled.wait)
	}
	if err != nil || len(claimed) == 0 {
		return err
	}
	// A send once started is finished, even while the service shuts down:
	// cutting it off could deliver the message yet record a failure, and page twice.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	sendErr := ch.Send(sendCtx, msg)
	return e.finish(sendCtx, msg, ch.Name(), claimed, prevSent, sendErr)
}

// finish records a delivery's outcome in the notifications and incident logs.
func (e *Engine) finish(ctx context.Context, msg notify.Message, channel string, claimed []store.Notification, prevSent time.Time, sendErr error) error {
	now := e.now()
	status, kind, verb := store.NotifySent, KindNotified, "Notified"
	switch {
	case sendErr == nil:
	case errors.Is(sendErr, notify.ErrPermanent):
		status, kind, verb = store.NotifyFailed, KindNotifyFailed, "Could not notify"
	default:
		status, kind, verb = store.NotifyPending, KindNotifyRetrying, "Could not notify (will retry)"
	}
	errText := ""
	if sendErr != nil {
		errText = sendErr.Error()
	}
	err := e.Store.Tx(ctx, func(tx *store.Tx) error {
		if err := store.FinishDelivery(ctx, tx, msg.ID, status, errText, now); err != nil {
			return err
		}
		if status == store.NotifyPending { // free the throttle window for the retry
			if err := store.SetLastSent(ctx, tx, msg.To.UserID, channel, prevSent); err != nil {
				return err
			}
		}
		for _, n := range claimed {
			text := fmt.Sprintf("%s %s by %s (%s)", verb, msg.To.Name, channel, n.Event)
			if n.Rule > 0 {
				text = fmt.Sprintf("%s %s by %s (%s, rule %d)", verb, msg.To.Name, channel, n.Event, n.Rule)
			}
			if len(claimed) > 1 {
				text += fmt.Sprintf(", bundled in one message of %d", len(claimed))
			}
			if errText != "" {
				text += ": " + errText
			}
			if err := store.AddLog(ctx, tx, store.LogEntry{IncidentID: n.IncidentID, At: now, Kind: kind, Text: text}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if status == store.NotifyPending {
		return fmt.Errorf("deliver %s to user %d: %w", channel, msg.To.UserID, sendErr)
	}
	return nil
}

// message builds what the claimed notifications say. Pages for incidents that
// are no longer pending are skipped: nobody needs to be woken for them.
func (e *Engine) message(ctx context.Context, tx *store.Tx, delivery string, userID int64, claimed []store.Notification) (notify.Message, error) {
	u, err := store.GetUser(ctx, tx, userID)
	if err != nil {
		return notify.Message{}, err
	}
	to, err := e.recipient(u)
	if err != nil {
		return notify.Message{}, err
	}
	msg := notify.Message{ID: delivery, To: to}
	now := e.now()
	for _, n := range claimed {
		inc, err := store.GetIncident(ctx, tx, n.IncidentID)
		if err != nil {
			return notify.Message{}, err
		}
		ev := notify.Event(n.Event)
		if (ev == notify.EventCreated || ev == notify.EventEscalated) && inc.Status != "PENDING" {
			if err := store.SetNotificationStatus(ctx, tx, n.ID, store.NotifySkipped); err != nil {
				return notify.Message{}, err
			}
			continue
		}
		src, err := store.GetSource(ctx, tx, inc.SourceID)
		if err != nil {
			return notify.Message{}, err
		}
		item := notify.Item{Event: ev, At: n.CreatedAt, Rule: n.Rule, Actor: n.Actor, Incident: notify.Incident{
			ID: inc.ID, Status: inc.Status, Priority: inc.Priority, Summary: inc.Summary, Details: inc.Details,
			TicketNumber: inc.TicketNumber, TicketStatus: inc.TicketStatusLabel, AlertSourceName: src.Name,
			CreatedAt: inc.CreatedAt, URL: fmt.Sprintf("%s/api/v1/incidents/%d", e.BaseURL, inc.ID)}}
		if len(inc.Links) > 0 {
			item.Incident.TicketLink = inc.Links[0].Href
		}
		if ev == notify.EventCreated || ev == notify.EventEscalated {
			item.AcceptURL = e.BaseURL + "/actions/" + e.Links.Token(inc.ID, actionlink.Accept, userID, now)
			item.ResolveURL = e.BaseURL + "/actions/" + e.Links.Token(inc.ID, actionlink.Resolve, userID, now)
		}
		msg.Items = append(msg.Items, item)
	}
	return msg, nil
}
