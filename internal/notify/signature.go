package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook delivery.
const (
	HeaderDelivery  = "X-Ticketpager-Delivery"
	HeaderEvent     = "X-Ticketpager-Event"
	HeaderTimestamp = "X-Ticketpager-Timestamp"
	HeaderSignature = "X-Ticketpager-Signature"
)

// DefaultSignatureTolerance is how far a webhook timestamp may be from the
// receiver's clock when VerifySignature is given no tolerance.
const DefaultSignatureTolerance = 5 * time.Minute

const signaturePrefix = "sha256="

// Errors returned by VerifySignature.
var (
	ErrSignatureMismatch  = errors.New("webhook signature does not match")
	ErrSignatureMalformed = errors.New("webhook signature is malformed")
	ErrTimestampInvalid   = errors.New("webhook timestamp is not a unix time in seconds")
	ErrTimestampStale     = errors.New("webhook timestamp is outside the tolerated window")
)

// Sign returns the value of the X-Ticketpager-Signature header:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Sign(secret []byte, timestamp string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature checks a webhook delivery as a receiver should: header is
// the X-Ticketpager-Signature header, timestamp the X-Ticketpager-Timestamp
// header, body the raw request body. It refuses timestamps further than
// tolerance from now, in either direction (DefaultSignatureTolerance when
// tolerance <= 0), and compares the signature in constant time.
func VerifySignature(secret []byte, header, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultSignatureTolerance
	}
	ts, err := parseTimestamp(timestamp)
	if err != nil {
		return err
	}
	// Sub saturates instead of overflowing, whatever now and ts are.
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w (%s from now, tolerance %s)", ErrTimestampStale, d.Truncate(time.Second), tolerance)
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: want %q followed by hex", ErrSignatureMalformed, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: want %d hex-encoded bytes", ErrSignatureMalformed, sha256.Size)
	}
	if !hmac.Equal(got, mac(secret, timestamp, body)) {
		return ErrSignatureMismatch
	}
	return nil
}

// parseTimestamp accepts only plain decimal digits (no sign, no spaces), so
// that the signed string and the parsed time cannot disagree.
func parseTimestamp(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, ErrTimestampInvalid
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrTimestampInvalid
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrTimestampInvalid
	}
	return ts, nil
}
