package notify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testUser = "pager@example.com"
	testPass = "s3cret-smtp-Passw0rd"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 27, 9, 30, 5, 0, time.UTC) }

func emailConfig(s *smtpServer, mode string) EmailConfig {
	return EmailConfig{
		Host:               "127.0.0.1",
		Port:               s.Port,
		TLS:                mode,
		From:               "ticketpager <pager@example.com>",
		Timeout:            5 * time.Second,
		InsecureSkipVerify: mode != TLSNone,
	}
}

func newEmail(t *testing.T, c EmailConfig) *Email {
	t.Helper()
	e, err := NewEmail(c, WithClock(fixedNow))
	require.NoError(t, err)
	return e
}

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header  netmail.Header
	Subject string
	Text    string
	HTML    string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	p := parsedMail{Header: msg.Header, Subject: subject}

	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mediaType)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(part) // quoted-printable is decoded by multipart
		require.NoError(t, err)
		ct, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		require.NoError(t, err)
		switch ct {
		case "text/plain":
			p.Text = strings.ReplaceAll(string(body), "\r\n", "\n")
		case "text/html":
			p.HTML = strings.ReplaceAll(string(body), "\r\n", "\n")
		default:
			t.Fatalf("unexpected part %s", ct)
		}
	}
	require.NotEmpty(t, p.Text, "no text/plain part")
	require.NotEmpty(t, p.HTML, "no text/html part")
	return p
}

func TestEmailDeliveryWithoutTLS(t *testing.T) {
	srv := startSMTP(t, modePlain, nil)
	e := newEmail(t, emailConfig(srv, TLSNone))
	m := Message{ID: "delivery-42", To: ada, Items: []Item{createdItem(7)}}

	require.NoError(t, e.Send(context.Background(), m))

	msgs := srv.messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "pager@example.com", msgs[0].From)
	require.Equal(t, []string{"ada@example.com"}, msgs[0].To)
	require.False(t, msgs[0].TLS)

	got := parseMail(t, msgs[0].Data)
	wantSubject, wantText, wantHTML, err := Render(m)
	require.NoError(t, err)
	require.Equal(t, wantSubject, got.Subject)
	require.Equal(t, wantText, got.Text)
	require.Equal(t, wantHTML, got.HTML)

	h := got.Header
	require.Equal(t, "<ticketpager.delivery-42@example.com>", h.Get("Message-Id"))
	require.Equal(t, "7", h.Get("X-Ticketpager-Incident"))
	require.Equal(t, "auto-generated", h.Get("Auto-Submitted"))
	require.Equal(t, "<incident-7@example.com>", h.Get("References"))
	from, err := h.AddressList("From")
	require.NoError(t, err)
	require.Equal(t, []*netmail.Address{{Name: "ticketpager", Address: "pager@example.com"}}, from)
	to, err := h.AddressList("To")
	require.NoError(t, err)
	require.Equal(t, []*netmail.Address{{Name: "Ada Lovelace", Address: "ada@example.com"}}, to)
	date, err := h.Date()
	require.NoError(t, err)
	require.True(t, date.Equal(fixedNow()), "Date %s", date)

	accept, resolve := links(7)
	require.Contains(t, got.Text, "Accept:       "+accept+"\n")
	require.Contains(t, got.Text, "Resolve:      "+resolve+"\n")
	require.Contains(t, got.Text, "confirmation page")
	require.Contains(t, got.HTML, `<a href="`+accept+`"`)
	require.Contains(t, got.HTML, `<a href="`+resolve+`"`)
	require.Contains(t, got.HTML, "confirmation page")
}

func TestEmailRetryKeepsMessageID(t *testing.T) {
	srv := startSMTP(t, modePlain, nil)
	e := newEmail(t, emailConfig(srv, TLSNone))
	m := Message{ID: "d/1 <x>", To: ada, Items: []Item{escalatedItem(7, 2), acceptedItem(8, "Bob")}}
	require.NoError(t, e.Send(context.Background(), m))
	require.NoError(t, e.Send(context.Background(), m))
	msgs := srv.messages()
	require.Len(t, msgs, 2)
	a, b := parseMail(t, msgs[0].Data), parseMail(t, msgs[1].Data)
	require.Equal(t, "<ticketpager.d-1--x-@example.com>", a.Header.Get("Message-Id"))
	require.Equal(t, a.Header.Get("Message-Id"), b.Header.Get("Message-Id"))
	require.Equal(t, "7", a.Header.Get("X-Ticketpager-Incident"))
	require.Empty(t, a.Header.Get("References"), "a bundle of several incidents is not threaded")
	require.True(t, strings.HasPrefix(a.Subject, "[HIGH] 2 incident updates: "), a.Subject)
}

func TestEmailAuth(t *testing.T) {
	for _, mode := range []string{TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			sm := modeStartTLS
			if mode == TLSImplicit {
				sm = modeImplicit
			}
			srv := startSMTP(t, sm, func(s *smtpServer) { s.user, s.pass = testUser, testPass })

			t.Run("success", func(t *testing.T) {
				c := emailConfig(srv, mode)
				c.Username, c.Password = testUser, testPass
				require.NoError(t, newEmail(t, c).Send(context.Background(), Message{ID: "a1", To: ada, Items: []Item{createdItem(7)}}))
				msgs := srv.messages()
				require.Len(t, msgs, 1)
				require.Equal(t, testUser, msgs[0].AuthUser)
				require.True(t, msgs[0].TLS)
			})

			t.Run("wrong password", func(t *testing.T) {
				c := emailConfig(srv, mode)
				c.Username, c.Password = testUser, "wrong-"+testPass
				err := newEmail(t, c).Send(context.Background(), Message{ID: "a2", To: ada, Items: []Item{createdItem(7)}})
				require.Error(t, err)
				require.NotContains(t, err.Error(), c.Password)
				require.NotContains(t, err.Error(), testPass)
				require.ErrorContains(t, err, "535")
				require.NotErrorIs(t, err, ErrPermanent, "a wrong password is fixed by configuration, then retries succeed")
				require.Len(t, srv.messages(), 1, "nothing more delivered")
			})

			t.Run("no credentials", func(t *testing.T) {
				err := newEmail(t, emailConfig(srv, mode)).Send(context.Background(), Message{ID: "a3", To: ada, Items: []Item{createdItem(7)}})
				require.ErrorContains(t, err, "authenticate")
				require.NotErrorIs(t, err, ErrPermanent)
			})
		})
	}
}

func TestEmailStartTLS(t *testing.T) {
	srv := startSMTP(t, modeStartTLS, nil)

	require.NoError(t, newEmail(t, emailConfig(srv, TLSStartTLS)).Send(context.Background(), Message{ID: "s1", To: ada, Items: []Item{createdItem(7)}}))
	msgs := srv.messages()
	require.Len(t, msgs, 1)
	require.True(t, msgs[0].TLS, "the message went over TLS")
	parseMail(t, msgs[0].Data)

	t.Run("certificate is verified by default", func(t *testing.T) {
		c := emailConfig(srv, TLSStartTLS)
		c.InsecureSkipVerify = false
		err := newEmail(t, c).Send(context.Background(), Message{ID: "s2", To: ada, Items: []Item{createdItem(7)}})
		require.ErrorContains(t, err, "certificate")
		require.NotErrorIs(t, err, ErrPermanent)
		require.Len(t, srv.messages(), 1)
	})

	t.Run("STARTTLS is mandatory", func(t *testing.T) {
		plain := startSMTP(t, modePlain, nil)
		err := newEmail(t, emailConfig(plain, TLSStartTLS)).Send(context.Background(), Message{ID: "s3", To: ada, Items: []Item{createdItem(7)}})
		require.ErrorContains(t, err, "STARTTLS")
		require.NotErrorIs(t, err, ErrPermanent)
		require.Empty(t, plain.messages())
	})
}

func TestEmailImplicitTLS(t *testing.T) {
	srv := startSMTP(t, modeImplicit, nil)
	require.NoError(t, newEmail(t, emailConfig(srv, TLSImplicit)).Send(context.Background(), Message{ID: "i1", To: ada, Items: []Item{resolvedItem(7, "Bob")}}))
	msgs := srv.messages()
	require.Len(t, msgs, 1)
	require.True(t, msgs[0].TLS)
	got := parseMail(t, msgs[0].Data)
	require.Equal(t, `[HIGH] Incident #7 resolved by Bob: T20261127.0001: Mail server down`, got.Subject)

	t.Run("certificate is verified by default", func(t *testing.T) {
		c := emailConfig(srv, TLSImplicit)
		c.InsecureSkipVerify = false
		err := newEmail(t, c).Send(context.Background(), Message{ID: "i2", To: ada, Items: []Item{createdItem(7)}})
		require.ErrorContains(t, err, "certificate")
		require.NotErrorIs(t, err, ErrPermanent)
	})
}

func TestEmailServerDown(t *testing.T) {
	c := EmailConfig{Host: "127.0.0.1", Port: freePort(t), TLS: TLSNone, From: "pager@example.com", Timeout: 5 * time.Second}
	start := time.Now()
	err := newEmail(t, c).Send(context.Background(), Message{ID: "x", To: ada, Items: []Item{createdItem(7)}})
	require.Error(t, err)
	require.ErrorContains(t, err, "connection refused")
	require.NotErrorIs(t, err, ErrPermanent)
	require.Less(t, time.Since(start), 3*time.Second)
}

func TestEmailRecipientRejected(t *testing.T) {
	srv := startSMTP(t, modePlain, func(s *smtpServer) { s.reject = "nobody@example.com" })
	to := Recipient{UserID: 2, Name: "Nobody", Email: "nobody@example.com"}
	err := newEmail(t, emailConfig(srv, TLSNone)).Send(context.Background(), Message{ID: "r", To: to, Items: []Item{createdItem(7)}})
	require.ErrorIs(t, err, ErrPermanent)
	require.ErrorContains(t, err, "550")
	require.ErrorContains(t, err, "nobody@example.com")
	require.Empty(t, srv.messages())
}

func TestEmailInvalidRecipientIsPermanent(t *testing.T) {
	srv := startSMTP(t, modePlain, nil)
	e := newEmail(t, emailConfig(srv, TLSNone))
	for _, addr := range []string{"not an address", "ada@example.com\r\nBcc: eve@example.com", "@"} {
		err := e.Send(context.Background(), Message{ID: "v", To: Recipient{Email: addr}, Items: []Item{createdItem(7)}})
		require.ErrorIs(t, err, ErrPermanent, addr)
	}
	err := e.Send(context.Background(), Message{ID: "v", To: ada})
	require.ErrorIs(t, err, ErrPermanent, "no items")
	err = e.Send(context.Background(), Message{To: ada, Items: []Item{createdItem(7)}})
	require.ErrorIs(t, err, ErrPermanent, "no ID")
	require.Empty(t, srv.messages())
}

func TestEmailContextCancellation(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	srv := startSMTP(t, modePlain, func(s *smtpServer) {
		s.onData = func(r io.Reader) error {
			_, _ = io.Copy(io.Discard, r)
			close(entered)
			<-release // a server that never answers the end of DATA
			return errors.New("too late")
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server is closed

	c := emailConfig(srv, TLSNone)
	c.Timeout = 30 * time.Second // the context, not the timeout, must end the wait
	e := newEmail(t, c)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	start := time.Now()
	err := e.Send(ctx, Message{ID: "c", To: ada, Items: []Item{createdItem(7)}})
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrPermanent)
	require.Less(t, time.Since(start), 5*time.Second)

	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := e.Send(ctx, Message{ID: "c2", To: ada, Items: []Item{createdItem(7)}})
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		<-ctx.Done()
		err := e.Send(ctx, Message{ID: "c3", To: ada, Items: []Item{createdItem(7)}})
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestEmailConfigValidate(t *testing.T) {
	ok := EmailConfig{Host: "smtp.example.com", From: "ticketpager <pager@example.com>"}
	require.NoError(t, ok.Validate())

	cases := map[string]struct {
		edit func(*EmailConfig)
		want string
	}{
		"no host":       {func(c *EmailConfig) { c.Host = " " }, "SMTP host is empty"},
		"url as host":   {func(c *EmailConfig) { c.Host = "smtp://x" }, `SMTP host "smtp://x" is not a host name`},
		"bad port":      {func(c *EmailConfig) { c.Port = 70000 }, "SMTP port 70000 is not between 1 and 65535"},
		"bad tls":       {func(c *EmailConfig) { c.TLS = "ssl" }, `SMTP TLS mode "ssl" is not one of none, starttls, tls`},
		"no from":       {func(c *EmailConfig) { c.From = "" }, "SMTP from address is empty"},
		"bad from":      {func(c *EmailConfig) { c.From = "ticketpager" }, `SMTP from address "ticketpager" is not an email address`},
		"user only":     {func(c *EmailConfig) { c.Username = "u" }, "SMTP username is set but the password is empty"},
		"password only": {func(c *EmailConfig) { c.Password = testPass }, "SMTP password is set but the username is empty"},
		"auth without TLS": {func(c *EmailConfig) {
			c.TLS, c.Username, c.Password = "none", "u", testPass
		}, `need TLS mode "starttls" or "tls"`},
		"negative timeout": {func(c *EmailConfig) { c.Timeout = -time.Second }, "SMTP timeout -1s is negative"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), testPass)
			_, err = NewEmail(c)
			require.ErrorContains(t, err, tc.want)
		})
	}

	t.Run("defaults", func(t *testing.T) {
		for mode, port := range map[string]int{"": 587, "starttls": 587, "STARTTLS": 587, "tls": 465, "none": 25} {
			c := ok
			c.TLS = mode
			e, err := NewEmail(c)
			require.NoError(t, err)
			require.Equal(t, port, e.cfg.Port, mode)
			require.Equal(t, 15*time.Second, e.cfg.Timeout)
		}
	})
}

func TestEmailEnabled(t *testing.T) {
	var none *Email
	require.False(t, none.Enabled(ada))
	e, err := NewEmail(EmailConfig{Host: "smtp.example.com", From: "pager@example.com"})
	require.NoError(t, err)
	require.Equal(t, "EMAIL", e.Name())
	require.True(t, e.Enabled(ada))
	require.False(t, e.Enabled(Recipient{Name: "no mail"}))
}

func TestEmailRedactsPassword(t *testing.T) {
	e := &Email{cfg: EmailConfig{Password: testPass}}
	err := e.redact(errors.New("server said: bad password " + testPass))
	require.NotContains(t, err.Error(), testPass)
	require.Contains(t, err.Error(), "[redacted]")

	err = e.redact(permanent(errors.New("x " + testPass)))
	require.ErrorIs(t, err, ErrPermanent)
	require.NotContains(t, err.Error(), testPass)
}
