package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"
)

// TLS modes of EmailConfig.TLS.
const (
	TLSNone     = "none"     // plain SMTP, no TLS at all
	TLSStartTLS = "starttls" // mandatory STARTTLS: refuse to send if the server does not offer it
	TLSImplicit = "tls"      // implicit TLS (SMTPS), usually port 465
)

const defaultSMTPTimeout = 15 * time.Second

// EmailConfig is how to reach the SMTP server.
type EmailConfig struct {
	Host               string
	Port               int    // default 587 for starttls, 465 for tls, 25 for none
	TLS                string // "none", "starttls", "tls"; "" means "starttls"
	Username           string // optional; with Password -> SMTP AUTH
	Password           string
	From               string        // "ticketpager <pager@example.com>"
	Timeout            time.Duration // default 15s
	InsecureSkipVerify bool          // for tests only
}

// withDefaults fills in the TLS mode, port and timeout.
func (c EmailConfig) withDefaults() EmailConfig {
	c.Host = strings.TrimSpace(c.Host)
	c.TLS = strings.ToLower(strings.TrimSpace(c.TLS))
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		switch c.TLS {
		case TLSNone:
			c.Port = 25
		case TLSImplicit:
			c.Port = 465
		default:
			c.Port = 587
		}
	}
	if c.Timeout == 0 {
		c.Timeout = defaultSMTPTimeout
	}
	return c
}

// Validate checks c (with its defaults applied) and says what is wrong in
// words an operator can act on. It never repeats the password.
func (c EmailConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	switch {
	case c.Host == "":
		errs = append(errs, errors.New("SMTP host is empty"))
	case strings.ContainsAny(c.Host, " \t\r\n/"):
		errs = append(errs, fmt.Errorf("SMTP host %q is not a host name or address", c.Host))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("SMTP port %d is not between 1 and 65535", c.Port))
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("SMTP TLS mode %q is not one of none, starttls, tls", c.TLS))
	}
	if c.Username != "" && c.Password == "" {
		errs = append(errs, errors.New("SMTP username is set but the password is empty"))
	}
	if c.Username == "" && c.Password != "" {
		errs = append(errs, errors.New("SMTP password is set but the username is empty"))
	}
	if c.Username != "" && c.TLS == TLSNone {
		errs = append(errs, errors.New(`SMTP username and password need TLS mode "starttls" or "tls": ticketpager does not send a password unencrypted`))
	}
	if strings.TrimSpace(c.From) == "" {
		errs = append(errs, errors.New("SMTP from address is empty"))
	} else if a, err := netmail.ParseAddress(c.From); err != nil || !strings.Contains(a.Address, "@") {
		errs = append(errs, fmt.Errorf("SMTP from address %q is not an email address (want e.g. \"ticketpager <pager@example.com>\")", c.From))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("SMTP timeout %s is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// Email sends messages over SMTP, one connection per Send.
type Email struct {
	cfg    EmailConfig
	from   *netmail.Address
	domain string // of the from address, for Message-IDs
	now    func() time.Time
}

var _ Channel = (*Email)(nil)

// NewEmail validates c and returns the email channel.
func NewEmail(c EmailConfig, opts ...Option) (*Email, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	from, err := netmail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("SMTP from address %q is not an email address", c.From)
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	o := buildOptions(opts)
	return &Email{cfg: c, from: from, domain: messageIDPart(domain), now: o.now}, nil
}

// Name returns "EMAIL".
func (e *Email) Name() string { return ChannelEmail }

// Enabled reports whether the channel is configured and r has an email address.
func (e *Email) Enabled(r Recipient) bool { return e != nil && r.Email != "" }

// Send renders m and hands it to the SMTP server. A 5xx rejection of the
// recipient or an unusable recipient address is an ErrPermanent; everything
// else (server down, TLS or AUTH failures, 4xx answers, timeouts) is temporary.
// Cancelling ctx aborts the SMTP conversation at once.
func (e *Email) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send email: %w", err)
	}
	msg, err := e.message(m)
	if err != nil {
		return err
	}
	// sendCtx ends when Send returns, so the dialer's AfterFunc never
	// outlives this call.
	sendCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	client, err := e.client(sendCtx)
	if err != nil {
		return fmt.Errorf("send email: %w", e.redact(err))
	}
	err = client.DialAndSendWithContext(sendCtx, msg)
	if err == nil {
		return nil
	}
	return e.classify(ctx, m.To.Email, err)
}

// message builds the MIME message for m.
func (e *Email) message(m Message) (*mail.Msg, error) {
	if m.ID == "" {
		return nil, permanent(errors.New("send email: message has no ID"))
	}
	to, err := netmail.ParseAddress(m.To.Email)
	if err != nil || !strings.Contains(to.Address, "@") || strings.ContainsAny(to.Address, "\r\n") {
		return nil, permanent(fmt.Errorf("send email: recipient %q is not an email address", truncate(oneLine(m.To.Email), 100)))
	}
	if to.Name == "" {
		to.Name = truncate(oneLine(m.To.Name), 100)
	}
	subject, text, html, err := Render(m)
	if err != nil {
		return nil, permanent(fmt.Errorf("send email: %w", err))
	}

	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(e.from)
	msg.ToMailAddress(to)
	msg.Subject(subject)
	msg.SetDateWithValue(e.now())
	msg.SetMessageIDWithValue(e.messageID(m.ID))
	msg.SetUserAgent("ticketpager")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	first := m.Items[0].Incident.ID
	msg.SetGenHeader("X-Ticketpager-Incident", strconv.FormatInt(first, 10))
	if sameIncident(m.Items) {
		// Mail clients thread every message about one incident together.
		ref := fmt.Sprintf("<incident-%d@%s>", first, e.domain)
		msg.SetGenHeader(mail.HeaderReferences, ref)
	}
	msg.SetBodyString(mail.TypeTextPlain, text)
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	return msg, nil
}

func sameIncident(items []Item) bool {
	for _, it := range items[1:] {
		if it.Incident.ID != items[0].Incident.ID {
			return false
		}
	}
	return true
}

// messageID derives the Message-ID from the delivery ID, so a retried delivery
// carries the same Message-ID and receivers can drop duplicates.
func (e *Email) messageID(id string) string {
	return "ticketpager." + messageIDPart(id) + "@" + e.domain
}

// messageIDPart keeps the characters of an RFC 5322 dot-atom that need no
// quoting; anything else becomes "-".
func messageIDPart(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_', r == '+', r == '=':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		return "unknown"
	}
	return truncate(out, 200)
}

// client makes a go-mail client for one Send. It dials through dialer, which
// ties the connection to ctx: go-mail watches the context only while dialing,
// and closing the connection is the only way to interrupt a stalled SMTP
// conversation at once.
func (e *Email) client(ctx context.Context) (*mail.Client, error) {
	c := e.cfg
	tlsConfig := &tls.Config{
		ServerName:         c.Host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // for tests only, documented
	}
	opts := []mail.Option{
		mail.WithPort(c.Port),
		mail.WithTimeout(c.Timeout),
		mail.WithTLSConfig(tlsConfig),
		mail.WithDialContextFunc(e.dialer(ctx, tlsConfig)),
	}
	switch c.TLS {
	case TLSNone, TLSImplicit:
		// Implicit TLS is done by the dialer; go-mail must not try STARTTLS
		// on top of it.
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if c.Username != "" {
		// Choose the strongest mechanism the server offers. PLAIN and LOGIN
		// refuse to send credentials over an unencrypted connection (and
		// Validate refuses credentials without TLS anyway).
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(
				mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1, mail.SMTPAuthCramMD5,
				mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(c.Username),
			mail.WithPassword(c.Password),
		)
	}
	return mail.NewClient(c.Host, opts...)
}

func (e *Email) dialer(ctx context.Context, tlsConfig *tls.Config) mail.DialContextFunc {
	return func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		// Closing the raw connection unblocks any read or write, also
		// through a TLS layer added here or by STARTTLS later.
		var once sync.Once
		closeRaw := func() { once.Do(func() { _ = raw.Close() }) }
		context.AfterFunc(ctx, closeRaw)
		if e.cfg.TLS != TLSImplicit {
			return raw, nil
		}
		tc := tls.Client(raw, tlsConfig)
		if err := tc.HandshakeContext(dialCtx); err != nil {
			closeRaw()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		return tc, nil
	}
}

// classify turns a go-mail error into a temporary or permanent error without
// secrets.
func (e *Email) classify(ctx context.Context, rcpt string, err error) error {
	err = e.redact(err)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("send email to %s: %w (%v)", rcpt, ctxErr, err)
	}
	var se *mail.SendError
	if errors.As(err, &se) && se.Reason == mail.ErrSMTPRcptTo && !se.IsTemp() && se.ErrorCode() >= 500 {
		return permanent(fmt.Errorf("send email: server rejected recipient %s: %w", rcpt, err))
	}
	return fmt.Errorf("send email to %s via %s:%d: %w", rcpt, e.cfg.Host, e.cfg.Port, err)
}

// redact replaces an error whose text contains the SMTP password by one that
// does not (keeping ErrPermanent and context errors recognisable).
func (e *Email) redact(err error) error {
	if err == nil || e.cfg.Password == "" || !strings.Contains(err.Error(), e.cfg.Password) {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), e.cfg.Password, "[redacted]")
	switch {
	case errors.Is(err, ErrPermanent):
		return permanent(errors.New(msg))
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", msg, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", msg, context.DeadlineExceeded)
	}
	return errors.New(msg)
}
